"""Chat specifics of the store: edits and deletions of stored messages, and files
recorded by reference that are fetched on demand.

An edit or deletion never loses what the customer first wrote: the first text is kept
in `original_text` (and the raw event in message_raw); `text` shows the current one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .db import Database

from .stamps import now, stamp

if TYPE_CHECKING:  # the message model is sync's: read commands never load it
    from ..model import Change


class ChatMixin:
    """Needs `self.d` (Database) and `self.files` (attachment dir)."""

    d: Database
    files: Path

    def apply_change(self, channel: str, change: Change) -> bool:
        """Apply one edit or deletion (inside the caller's transaction). False when the
        message is not stored, or an edit comes from someone other than its sender."""
        row = self.d.one(
            "SELECT id, conversation_id, text, author_address, redacted FROM messages"
            " WHERE channel = ? AND external_id = ?", (channel, change.external_id))
        if row is None:
            return False
        at = stamp(change.at)
        if change.redacted:
            if row["redacted"]:
                return False
            self.d.execute(
                "UPDATE messages SET redacted = 1, original_text = coalesce(original_text, text), text = '',"
                " edited_at = ? WHERE id = ?", (at, row["id"]))
            kind = "message_redacted"
        else:
            # Matrix servers do not check who sends an edit; clients must (spec: m.replace)
            if row["author_address"] != change.by or row["redacted"] or change.text is None:
                return False
            if change.text == row["text"]:
                return False
            self.d.execute(
                "UPDATE messages SET original_text = coalesce(original_text, text), text = ?, edited_at = ?"
                " WHERE id = ?", (change.text, at, row["id"]))
            kind = "message_edited"
        self.d.execute("UPDATE conversations SET version = version + 1 WHERE id = ?", (row["conversation_id"],))
        self.d.execute(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, ?, ?, ?, ?)",
            (row["conversation_id"], kind, change.by or "sync", now(), json.dumps({"message_id": row["id"]})),
        )
        return True

    def chat_message(self, channel: str, external_id: str) -> dict | None:
        """A chat message by its event id, with the text an edit or a redaction replaced."""
        row = self.d.one("SELECT id, conversation_id, text, original_text, redacted, edited_at FROM messages"
                         " WHERE channel = ? AND external_id = ?", (channel, external_id))
        return dict(row) if row else None

    def attachment(self, attachment_id: int) -> dict | None:
        """One attachment row with its message's channel; `path` is set once its content is stored."""
        row = self.d.one(
            "SELECT a.*, m.channel FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = ?",
            (attachment_id,))
        if row is None:
            return None
        found = dict(row)
        found["path"] = str(self.files / row["sha256"][:2] / row["sha256"]) if row["sha256"] else None
        return found

    def attachment_fetched(self, attachment_id: int, data: bytes, content_type: str | None = None) -> Path:
        """Store the content of an attachment recorded by reference; returns its file."""
        import hashlib  # (loading OpenSSL costs ~4 ms: only when an attachment is stored)
        digest = hashlib.sha256(data).hexdigest()
        target = self.files / digest[:2] / digest
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            os.replace(partial, target)
        with self.d.tx() as conn:
            conn.execute(
                "UPDATE attachments SET sha256 = ?, size = ?, content_type = coalesce(?, content_type) WHERE id = ?",
                (digest, len(data), content_type, attachment_id))
        return target
