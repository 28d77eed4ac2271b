"""Read side of template suggestions: which template agents sent in answer to which
customer words (what the suggester learns from), and what a conversation asks now."""

from __future__ import annotations

from dataclasses import dataclass

from .db import Database

TEXT_KEPT = 600
"""Characters of each customer message the suggester reads."""
ASKED_MESSAGES = 3
"""At most this many customer messages (the latest) make up what was asked."""


@dataclass(frozen=True)
class Answered:
    """One template reply an agent sent, and what the customer had written before it."""

    message_id: int
    template_id: str
    asked: str
    """The customer's messages since the previous reply (the subject too before the first one)."""


@dataclass(frozen=True)
class Asking:
    """What a conversation asks now."""

    channel: str
    asked: str
    """The customer's latest messages with no reply between them (the subject too when
    nobody replied before them)."""
    customer_texts: tuple[str, ...]
    """The customer's latest messages, for the language they write in."""


def _asked_sql(alias: str, before: str) -> str:
    """The customer's words in conversation `alias`.id at or before `before`, after the
    previous reply, as one text (SQL expression)."""
    previous = (f"(SELECT max(o.received_at) FROM messages o WHERE o.conversation_id = {alias}.conversation_id"
                f" AND o.direction = 'out' AND o.received_at < {before})")
    return (f"(SELECT group_concat(t, char(10)) FROM (SELECT substr(i.text, 1, {TEXT_KEPT}) AS t FROM messages i"
            f" WHERE i.conversation_id = {alias}.conversation_id AND i.direction = 'in' AND i.automatic IS NULL"
            f" AND i.received_at <= {before} AND i.received_at > coalesce({previous}, '')"
            f" ORDER BY i.received_at DESC, i.id DESC LIMIT {ASKED_MESSAGES}))"), previous


class SuggestQueryMixin:
    d: Database

    def template_answers(self, after_id: int = 0, limit: int = 100_000) -> list[Answered]:
        """Template replies written by agents (automatic ones are nobody's choice), with
        message id above `after_id`, oldest first, at most `limit`."""
        asked, previous = _asked_sql("m", "m.received_at")
        rows = self.d.all(
            f"SELECT m.id, m.template_id, CASE WHEN {previous} IS NULL THEN c.subject ELSE '' END, {asked}"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.template_id IS NOT NULL AND m.direction = 'out' AND m.automatic IS NULL AND m.id > ?"
            " ORDER BY m.id LIMIT ?", (after_id, limit))
        return [Answered(r[0], r[1], f"{r[2]}\n{r[3] or ''}".strip()) for r in rows if r[3] or r[2]]

    def template_answers_mark(self) -> tuple[int, int]:
        """(highest message id, highest event id): both read from the end of their table,
        so a look costs nothing; when neither moved, the answers are as they were."""
        row = self.d.one("SELECT (SELECT coalesce(max(id), 0) FROM messages), (SELECT coalesce(max(id), 0) FROM events)")
        return (row[0], row[1]) if row else (0, 0)

    def replies_taken_back_since(self, event_id: int) -> int:
        """How many replies were taken back (undo) in the events after `event_id`."""
        return self.d.scalar("SELECT count(*) FROM events WHERE id > ? AND kind = 'reply_cancelled'", (event_id,)) or 0

    def asking(self, conversation_id: int) -> Asking | None:
        """What the conversation asks now (None when there is no such conversation)."""
        row = self.d.one("SELECT channel, subject FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            return None
        recent = self.d.all(
            f"SELECT substr(text, 1, {TEXT_KEPT}), direction FROM messages WHERE conversation_id = ?"
            " AND (direction = 'out' OR (direction = 'in' AND automatic IS NULL))"
            " ORDER BY received_at DESC, id DESC LIMIT 20", (conversation_id,))
        asked, replied = [], False
        for text, direction in recent:  # newest first: the customer's latest run of messages
            if direction == "out":
                if asked:
                    replied = True
                    break
                continue  # the agent answered last: what they answered is still the question
            if len(asked) < ASKED_MESSAGES:
                asked.append(text or "")
        customer = tuple(t or "" for t, direction in recent if direction == "in")[:5]
        words = "\n".join(reversed(asked))
        return Asking(row[0], words if replied else f"{row[1] or ''}\n{words}".strip(), customer)
