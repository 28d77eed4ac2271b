"""Read side of the FAQ: how often each template was used, and what customers asked
that an agent answered by hand (what the FAQ could answer next)."""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database

TEXT_KEPT = 400  # characters of a first message that the suggestions compare


@dataclass(frozen=True)
class FirstMessage:
    """The opening message of a conversation that agents answered without a template."""

    conversation_id: int
    subject: str
    text: str
    """Its first TEXT_KEPT characters."""
    received_at: str


class FaqQueryMixin:
    d: Database

    def template_use_counts(self) -> dict[str, int]:
        """Template id → how many replies were sent from it (cancelled ones are gone)."""
        rows = self.d.all("SELECT template_id, count(*) FROM messages WHERE template_id IS NOT NULL"
                          " AND direction = 'out' GROUP BY template_id")
        return {r[0]: r[1] for r in rows}

    def hand_answered_first_messages(self, since: str | None = None, limit: int = 5000) -> list[FirstMessage]:
        """The customer's first message of each conversation since `since` (newest first,
        at most `limit`) that an agent answered, with no reply in it from a template.
        Automatic mail (out-of-office, bounces, bulk) does not open a question."""
        rows = self.d.all(
            "SELECT c.id, c.subject, substr(f.text, 1, ?) AS text, f.received_at FROM conversations c"
            " JOIN messages f ON f.id = (SELECT i.id FROM messages i WHERE i.conversation_id = c.id"
            "   AND i.direction = 'in' AND i.automatic IS NULL AND i.class = 'human'"
            "   ORDER BY i.received_at, i.id LIMIT 1)"
            " WHERE c.merged_into IS NULL AND c.created_at >= ?"
            " AND EXISTS (SELECT 1 FROM messages o WHERE o.conversation_id = c.id AND o.direction = 'out'"
            "   AND o.automatic IS NULL)"
            " AND NOT EXISTS (SELECT 1 FROM messages t WHERE t.conversation_id = c.id AND t.direction = 'out'"
            "   AND t.template_id IS NOT NULL)"
            " ORDER BY c.created_at DESC, c.id DESC LIMIT ?", (TEXT_KEPT, since or "", limit))
        return [FirstMessage(r[0], r[1] or "", r[2] or "", r[3]) for r in rows]
