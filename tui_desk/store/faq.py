"""Read side of the FAQ: how often each template was used, and what customers asked
that an agent answered by hand (what the FAQ could answer next)."""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database

TEXT_KEPT = 400  # characters of a first message that the suggestions compare


@dataclass(frozen=True)
class FirstMessage:
    """How a conversation that agents answered without a template began."""

    conversation_id: int
    subject: str
    text: str
    """The customer's messages before the first reply, TEXT_KEPT characters of each."""
    created_at: str


class FaqQueryMixin:
    d: Database

    def template_use_counts(self) -> dict[str, int]:
        """Template id → how many replies were sent from it (cancelled ones are gone)."""
        rows = self.d.all("SELECT template_id, count(*) FROM messages WHERE template_id IS NOT NULL"
                          " AND direction = 'out' GROUP BY template_id")
        return {r[0]: r[1] for r in rows}

    def hand_answered_first_messages(self, since: str | None = None, limit: int = 2000) -> list[FirstMessage]:
        """What the customer wrote before the first agent reply (at most 5 messages:
        a chat often opens with "hi" and asks next), for each conversation since `since`
        (newest first, at most `limit`) that an agent answered with no template reply in
        it (an automatic one, such as the after-hours acknowledgement, answers nothing). Automatic mail (out-of-office, bounces, bulk) asks nothing and is left out."""
        rows = self.d.all(
            "WITH answered AS (SELECT c.id, c.subject, c.created_at, (SELECT min(o.received_at) FROM messages o"
            "   WHERE o.conversation_id = c.id AND o.direction = 'out' AND o.automatic IS NULL) AS replied_at"
            "   FROM conversations c WHERE c.merged_into IS NULL AND c.created_at >= ?"
            "   AND NOT EXISTS (SELECT 1 FROM messages t WHERE t.conversation_id = c.id AND t.direction = 'out'"
            "     AND t.template_id IS NOT NULL AND t.automatic IS NULL))"
            " SELECT a.id, a.subject, a.created_at, (SELECT group_concat(q.text, char(10)) FROM"
            "   (SELECT substr(i.text, 1, ?) AS text FROM messages i WHERE i.conversation_id = a.id"
            "     AND i.direction = 'in' AND i.automatic IS NULL AND i.class = 'human' AND i.received_at <= a.replied_at"
            "     ORDER BY i.received_at, i.id LIMIT 5) q) AS asked"
            " FROM answered a WHERE a.replied_at IS NOT NULL ORDER BY a.created_at DESC, a.id DESC LIMIT ?",
            (since or "", TEXT_KEPT, limit))
        return [FirstMessage(r[0], r[1] or "", r[3], r[2]) for r in rows if r[3]]
