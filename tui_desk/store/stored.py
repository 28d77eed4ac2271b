"""What a channel has stored: its messages as sync knows them again (by the channel's own
id for each item), and the desk's totals, for checking a sync against its source."""

from __future__ import annotations

import json
from typing import NamedTuple

from .db import Database


class StoredMessage(NamedTuple):
    """One stored message, as its channel delivered it."""

    id: int
    conversation_id: int
    external_id: str
    """The channel's own id of the item (an IMAP UID key, a Matrix event id, a Message-ID)."""
    message_id: str | None
    """The Message-ID header, for email."""
    direction: str


class StoredMixin:
    d: Database

    def channel_messages(self, channel: str) -> list[StoredMessage]:
        """Every message stored from (or sent through) `channel`, in the order stored."""
        return [StoredMessage(*r) for r in self.d.tuples(
            "SELECT id, conversation_id, external_id, message_id, direction FROM messages"
            " WHERE channel = ? ORDER BY id", (channel,))]

    def message_by_mail_id(self, message_id: str) -> StoredMessage | None:
        """The newest message stored under this Message-ID header, where it is now."""
        row = self.d.one("SELECT id, conversation_id, external_id, message_id, direction FROM messages"
                         " WHERE message_id = ? ORDER BY id DESC LIMIT 1", (message_id,))
        return StoredMessage(*row) if row else None

    def history(self, prefix: str = "", *, desk_wide: bool = False) -> list[dict]:
        """The audit trail, oldest first: every event whose kind starts with `prefix`;
        `desk_wide`: only those of no one conversation (customer links and merges, on-call)."""
        rows = self.d.all(
            "SELECT id, conversation_id, kind, actor, at, data FROM events WHERE substr(kind, 1, ?) = ?"
            + (" AND conversation_id IS NULL" if desk_wide else "") + " ORDER BY id", (len(prefix), prefix))
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]
