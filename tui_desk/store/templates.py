"""Read side of template use: what the picker learns from, and what stats measure.

A use is an outgoing message row with `template_id` set (written by the outbox with a
'template_used' event); cancelled replies are removed, so they never count.
"""

from __future__ import annotations

from .db import Database

TEXT_KEPT = 600  # characters of a customer message the picker compares


class TemplateQueryMixin:
    d: Database

    def last_inbound_text(self, conversation_id: int) -> str:
        """The customer's latest message in the conversation (person, not an auto-reply)."""
        return self.d.scalar(
            "SELECT text FROM messages WHERE conversation_id = ? AND direction = 'in' AND automatic IS NULL"
            " ORDER BY received_at DESC, id DESC LIMIT 1", (conversation_id,)) or ""

    def answered_before(self, limit: int = 500) -> list[tuple[str, str]]:
        """(template id, the customer message it answered) for the latest `limit` uses."""
        rows = self.d.all(
            "SELECT m.template_id, (SELECT substr(i.text, 1, ?) FROM messages i WHERE i.conversation_id ="
            "   m.conversation_id AND i.direction = 'in' AND i.received_at <= m.received_at"
            "   ORDER BY i.received_at DESC, i.id DESC LIMIT 1) AS asked"
            " FROM messages m WHERE m.template_id IS NOT NULL AND m.direction = 'out'"
            " ORDER BY m.received_at DESC LIMIT ?", (TEXT_KEPT, limit))
        return [(r[0], r[1]) for r in rows if r[1]]

    def template_uses(self, since: str | None = None, template_id: str | None = None,
                      automatic_like: str | None = None) -> list[dict]:
        """Every template reply since `since` with what followed it: the customer's
        message before it, the next customer message, the next agent reply, the first
        solve, the first satisfaction score after it (all stamps; None if none).
        `template_id`: only its uses; `automatic_like`: only replies whose `automatic`
        is LIKE it (the automatic stage's own)."""
        rows = self.d.all(
            "SELECT m.id AS message_id, m.template_id, m.conversation_id, m.author AS agent, m.received_at AS at, m.automatic,"
            " (SELECT max(i.received_at) FROM messages i WHERE i.conversation_id = m.conversation_id"
            "   AND i.direction = 'in' AND i.automatic IS NULL AND i.received_at <= m.received_at) AS asked_at,"
            " (SELECT min(i.received_at) FROM messages i WHERE i.conversation_id = m.conversation_id"
            "   AND i.direction = 'in' AND i.automatic IS NULL AND i.received_at > m.received_at) AS next_in_at,"
            " (SELECT min(o.received_at) FROM messages o WHERE o.conversation_id = m.conversation_id"
            "   AND o.direction = 'out' AND o.received_at > m.received_at) AS next_out_at,"
            " (SELECT min(e.at) FROM events e WHERE e.conversation_id = m.conversation_id AND e.kind = 'status'"
            "   AND json_extract(e.data, '$.to') = 'solved' AND e.at >= m.received_at) AS solved_at,"
            " (SELECT json_extract(e.data, '$.score') FROM events e WHERE e.conversation_id = m.conversation_id"
            "   AND e.kind = 'satisfaction' AND e.at > m.received_at ORDER BY e.at LIMIT 1) AS satisfaction"
            " FROM messages m WHERE m.template_id IS NOT NULL AND m.direction = 'out' AND m.received_at >= :since"
            " AND (:t IS NULL OR m.template_id = :t) AND (:a IS NULL OR m.automatic LIKE :a)"
            " ORDER BY m.received_at", {"since": since or "", "t": template_id, "a": automatic_like})
        return [dict(r) for r in rows]
