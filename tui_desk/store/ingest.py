"""Storing what sync pulled: customers, conversations, messages, attachments.

Called inside the batch transaction of `sync`; never commits on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING

from ..hours import LEARNT_PREFIX
from .db import Database
from .stamps import now, stamp

if TYPE_CHECKING:  # the message model and hashlib (OpenSSL, ~2.5 ms) only where sync needs them
    from ..model import ParsedMessage

# statuses a customer's new message moves back to open
_REOPENS = ("pending", "snoozed", "solved")

OTHER_COPY_TEXT = 2000
"""How much of a differing copy's text its `other_copy` event keeps (the rest stays in the mailbox)."""


class IngestMixin:
    """Write side of sync. Needs `self.d` (Database) and `self.files` (attachment dir)."""

    d: Database
    files: Path
    _unindexed: list[int] | None = None
    """Inside indexing_at_end: the messages added but not yet in the full-text index."""

    @contextlib.contextmanager
    def indexing_at_end(self) -> Iterator[None]:
        """Messages added inside are put in the full-text index at the end, by one
        statement, instead of by the insert trigger. Within a transaction FTS5 keeps new
        terms in memory until a statement opens a savepoint (any statement that fires a
        trigger does), and then writes them out as a new index segment: indexing row by
        row made one segment per message, and merging them doubled the cost of a sync
        batch. Nothing inside may update or delete the messages it adds."""
        self._unindexed = []
        try:
            yield
            if self._unindexed:
                self.d.execute(
                    "INSERT INTO messages_fts (rowid, subject, text) SELECT id, desk_segment(subject),"
                    " desk_indexed(id, text) FROM messages WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(self._unindexed),),
                )
        finally:
            self._unindexed = None
            self.d.segmented.clear()

    # -- duplicates -------------------------------------------------------------------

    def duplicate(self, channel: str, msg: ParsedMessage) -> str | None:
        """None for a new message; "copy" if it is already stored (same external id on
        the channel, or the same Message-ID: a re-delivered copy, a rescan after
        UIDVALIDITY changed); "conflict" if a mail with other bytes came under a stored
        Message-ID. It is not stored, but recorded once as an `other_copy` event on the
        conversation holding the stored one, so it does not vanish without a trace."""
        for external_id in (msg.external_id, *msg.alias_ids):
            row = self.d.one("SELECT id FROM messages WHERE channel = ? AND external_id = ?", (channel, external_id))
            if row:
                same_id = msg.by_email and bool(msg.message_id) and external_id == msg.message_id
                return "conflict" if same_id and self._other_copy(row[0], msg) else "copy"
        if msg.message_id and msg.message_id != msg.external_id:
            row = self.d.one("SELECT id FROM messages WHERE message_id = ? AND channel = ?", (msg.message_id, channel))
            if row:
                return "conflict" if msg.by_email and self._other_copy(row[0], msg) else "copy"
        return None

    def _other_copy(self, stored_id: int, msg: ParsedMessage) -> bool:
        """Record `msg` as another copy of stored message `stored_id` if its bytes differ
        (line endings aside) and that copy was not recorded before; True if recorded.
        Our own replies have no raw bytes stored: their copies coming back are not news."""
        row = self.d.one(
            "SELECT m.conversation_id, m.text, r.raw FROM messages m JOIN message_raw r ON r.message_id = m.id"
            " WHERE m.id = ?", (stored_id,),
        )
        if row is None:
            return False
        digest = _digest(msg.raw)
        if digest == _digest(row["raw"]):
            return False
        conversation_id = self._live(row["conversation_id"])
        if self.d.one(
            "SELECT 1 FROM events WHERE conversation_id = ? AND kind = 'other_copy' AND data ->> 'sha256' = ?",
            (conversation_id, digest),
        ):
            return False
        same_text = msg.text == row["text"]
        data = {"message_id": msg.message_id, "stored_message": stored_id, "sha256": digest, "size": len(msg.raw),
                "from": msg.sender_address, "subject": msg.subject[:200], "received_at": stamp(msg.received_at),
                "same_text": same_text}
        if not same_text:
            data["text"] = msg.text[:OTHER_COPY_TEXT]
        self.d.execute(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, 'other_copy', 'sync', ?, ?)",
            (conversation_id, now(), json.dumps(data, ensure_ascii=False)),
        )
        return True

    # -- threading lookups (used by tui_desk.threads) ----------------------------------

    def conversation_by_message_ids(self, ids: list[str]) -> int | None:
        """The conversation holding the newest of these Message-IDs (ours or theirs)."""
        for message_id in ids:
            row = self.d.one(
                "SELECT conversation_id FROM messages WHERE message_id = ? ORDER BY id DESC LIMIT 1", (message_id,)
            )
            if row:
                return self._live(row[0])
        return None

    def conversation_exists(self, conversation_id: int) -> int | None:
        row = self.d.one("SELECT id FROM conversations WHERE id = ?", (conversation_id,))
        return self._live(row[0]) if row else None

    def conversation_by_subject(self, customer_id: int, subject_key: str, since: str) -> int | None:
        """The customer's latest conversation with this normalised subject, active since `since`."""
        row = self.d.one(
            "SELECT id FROM conversations WHERE customer_id = ? AND subject_key = ? AND last_message_at >= ?"
            " AND merged_into IS NULL AND status != 'closed' ORDER BY last_message_at DESC LIMIT 1",
            (customer_id, subject_key, since),
        )
        return row[0] if row else None

    def conversation_by_thread_key(self, channel: str, thread_key: str) -> int | None:
        """The room's conversation that is still going (not solved or closed)."""
        row = self.d.one(
            "SELECT id, status FROM conversations WHERE channel = ? AND thread_key = ? AND merged_into IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (channel, thread_key),
        )
        if row and row["status"] not in ("solved", "closed"):
            return row["id"]
        return None

    def _live(self, conversation_id: int) -> int:
        """Follow merges to the conversation that holds the history now."""
        for _ in range(100):  # merge chains are short; the bound guards against a cycle
            row = self.d.one("SELECT merged_into FROM conversations WHERE id = ?", (conversation_id,))
            if not row or row[0] is None:
                return conversation_id
            conversation_id = row[0]
        return conversation_id

    # -- customers ------------------------------------------------------------------

    def customer_for(self, kind: str, address: str, name: str, zone: str | None = None,
                     email: str | None = None) -> int:
        """The customer owning this identity, created on first sight. `zone`: learnt from
        this message (hours.zone_for_offset); it replaces none but another learnt one,
        never a zone an agent set. `email`: the address a chat profile gives (exact
        evidence): the identity joins that address's customer, recorded and undoable."""
        customer_id = self._customer_for(kind, address, name, zone, email)
        if not email or email == address:
            return customer_id  # identities always belong to a live record: merges move them
        self._link_by_email(customer_id, kind, address, name, email)
        return self.live_customer(customer_id)

    def _link_by_email(self, customer_id: int, kind: str, address: str, name: str, email: str) -> None:
        owner = self.d.scalar("SELECT customer_id FROM identities WHERE kind = 'email' AND address = ?", (email,))
        evidence = f"the {kind} profile {address} gives the email address {email}"
        if owner is None:
            self.add_identity(customer_id, "email", email, "sync", display_name=name, evidence=evidence)
        elif self.live_customer(owner) != self.live_customer(customer_id):
            self.merge_customers(self.live_customer(owner), self.live_customer(customer_id), "sync", evidence)

    def _customer_for(self, kind: str, address: str, name: str, zone: str | None, email: str | None) -> int:
        row = self.d.one(
            "SELECT identities.customer_id, customers.name, customers.timezone FROM identities JOIN customers"
            " ON customers.id = identities.customer_id WHERE kind = ? AND address = ?",
            (kind, address),
        )
        if row:
            if name and not row["name"]:
                self.d.execute("UPDATE customers SET name = ? WHERE id = ?", (name, row[0]))
            if zone and row["timezone"] != zone and (not row["timezone"] or row["timezone"].startswith(LEARNT_PREFIX)):
                self.d.execute("UPDATE customers SET timezone = ? WHERE id = ?", (zone, row[0]))
            return row[0]
        owner = self.d.scalar("SELECT customer_id FROM identities WHERE kind = 'email' AND address = ?",
                              (email,)) if email else None
        if owner is not None:  # a new chat identity whose profile names a known address: one person
            customer_id = self.live_customer(owner)
            self.d.execute(
                "INSERT INTO identities (customer_id, kind, address, display_name) VALUES (?, ?, ?, ?)",
                (customer_id, kind, address, name))
            self.add_event(None, "identity_linked", "sync", {
                "customer": customer_id, "kind": kind, "address": address,
                "evidence": f"the {kind} profile {address} gives the email address {email}"})
            return customer_id
        customer_id = self.d.insert(
            "INSERT INTO customers (name, timezone, created_at) VALUES (?, ?, ?)", (name, zone, now())
        )
        self.d.execute(
            "INSERT INTO identities (customer_id, kind, address, display_name) VALUES (?, ?, ?, ?)",
            (customer_id, kind, address, name),
        )
        return customer_id

    # -- messages ---------------------------------------------------------------------

    def add_inbound(self, channel: str, msg: ParsedMessage, customer_id: int | None,
                    conversation_id: int | None, subject_key: str, *, reopen: bool = True) -> tuple[int, int]:
        """Store one pulled message into `conversation_id`, or a new conversation when None.
        `reopen` False: a person's message leaves the status alone (a survey's score).
        Returns (conversation_id, message_id)."""
        at = stamp(msg.received_at)
        created = conversation_id is None
        if created:
            conversation_id = self._new_conversation(channel, msg, customer_id, subject_key, at)
            status, version = "new", 1
        else:
            row = self.d.one(
                "SELECT status, version + EXISTS (SELECT 1 FROM messages WHERE conversation_id = :id)"
                " FROM conversations WHERE id = :id", {"id": conversation_id},
            )
            status, version = row[0], row[1]
        # conversation_version given here (what the messages_conversation_version trigger
        # would compute), so the trigger does not rewrite the just-inserted row
        sql = (
            "INSERT INTO messages (conversation_id, channel, direction, customer_id, author, author_address,"
            " subject, text, quoted, html, headers, external_id, message_id, in_reply_to, created_at,"
            " received_at, problems, automatic, conversation_version, class)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        )
        params = (conversation_id, channel, msg.direction, customer_id if msg.direction == "in" else None,
                  msg.sender_name, msg.sender_address, msg.subject, msg.text, msg.quoted, msg.html,
                  json.dumps(msg.headers, ensure_ascii=False), msg.external_id, msg.message_id, msg.in_reply_to,
                  stamp(msg.created_at), at, json.dumps(msg.problems) if msg.problems else None, msg.automatic,
                  version, msg.loop_class)
        if self._unindexed is None:
            message_id = self.d.insert(sql, params)
        else:
            message_id = self.d.insert_unindexed(sql, params)
            self._unindexed.append(message_id)
            if msg.segmented_text is not None:
                self.d.segmented[message_id] = msg.segmented_text
        self.d.execute("INSERT INTO message_raw (message_id, raw) VALUES (?, ?)", (message_id, msg.raw))
        for attachment in msg.attachments:
            self._add_attachment(message_id, attachment)
        if not created:
            self._touch(conversation_id, msg, at, status if reopen else "")
        return conversation_id, message_id

    def _new_conversation(self, channel: str, msg: ParsedMessage, customer_id: int | None,
                          subject_key: str, at: str) -> int:
        """A conversation starting with `msg` (its counters already include it)."""
        subject = msg.subject or _first_line(msg.text)
        person = msg.direction == "in" and msg.automatic is None
        conversation_id = self.d.insert(
            "INSERT INTO conversations (channel, customer_id, subject, subject_key, thread_key, status,"
            " created_at, last_message_at, last_inbound_at, first_response_at, message_count)"
            " VALUES (?, ?, ?, ?, ?, 'new', ?, ?, ?, ?, 1)",
            (channel, customer_id, subject, subject_key, msg.thread_key, at, at,
             at if person else None, at if msg.direction == "out" else None),
        )
        self.d.execute(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, 'created', 'sync', ?, ?)",
            (conversation_id, now(), json.dumps({"channel": channel})),
        )
        return conversation_id

    def _touch(self, conversation_id: int, msg: ParsedMessage, at: str, status: str) -> None:
        """Bump activity times and the version; a person's message reopens a waiting conversation."""
        person = msg.direction == "in" and msg.automatic is None
        self.d.execute(
            "UPDATE conversations SET last_message_at = max(last_message_at, :at),"
            " last_inbound_at = CASE WHEN :person THEN max(coalesce(last_inbound_at, ''), :at)"
            "   ELSE last_inbound_at END,"
            " first_response_at = CASE WHEN :reply AND first_response_at IS NULL THEN :at ELSE first_response_at END,"
            " message_count = message_count + 1, version = version + 1 WHERE id = :id",
            {"at": at, "person": person, "reply": msg.direction == "out", "id": conversation_id},
        )
        if person and status in _REOPENS:
            self.d.execute(
                "UPDATE conversations SET status = 'open', snoozed_until = NULL, solved_at = NULL WHERE id = ?",
                (conversation_id,),
            )
            self.d.execute(
                "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, 'status', 'customer', ?, ?)",
                (conversation_id, now(), json.dumps({"from": status, "to": "open", "why": "customer wrote"})),
            )

    def _add_attachment(self, message_id: int, attachment) -> None:
        if attachment.source and not attachment.data:
            # metadata only: fetched on demand (store.attachment_fetched fills size and sha256)
            self.d.execute(
                "INSERT INTO attachments (message_id, filename, content_type, size, sha256, source)"
                " VALUES (?, ?, ?, ?, '', ?)",
                (message_id, attachment.filename, attachment.content_type, attachment.size or 0, attachment.source),
            )
            return
        import hashlib
        digest = hashlib.sha256(attachment.data).hexdigest()
        target = self.files / digest[:2] / digest
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(attachment.data)
            os.replace(partial, target)  # whole file or none, even if we die mid-write
        self.d.execute(
            "INSERT INTO attachments (message_id, filename, content_type, size, sha256) VALUES (?, ?, ?, ?, ?)",
            (message_id, attachment.filename, attachment.content_type, len(attachment.data), digest),
        )

    # -- sync state -------------------------------------------------------------------

    def sync_state(self, channel: str) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.d.all("SELECT key, value FROM sync_state WHERE channel = ?", (channel,))}

    def save_sync_state(self, channel: str, state: dict[str, str]) -> None:
        self.d.executemany(
            "INSERT INTO sync_state (channel, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (channel, key) DO UPDATE SET value = excluded.value",
            [(channel, k, v) for k, v in state.items()],
        )

    def source_keys(self, channel: str) -> set[str]:
        """Keys of the items a local channel has already stored."""
        return {r[0] for r in self.d.execute("SELECT key FROM source_items WHERE channel = ?", (channel,))}

    def stored_keys(self, channel: str) -> "StoredKeys":
        """`source_keys`, read when first asked (sync hands it to every channel; a Maildir
        that has not changed never asks, and 100,000 keys take ~50 ms to read)."""
        return StoredKeys(lambda: self.source_keys(channel))

    def add_source_keys(self, channel: str, keys: list[str]) -> None:
        self.d.executemany(
            "INSERT OR IGNORE INTO source_items (channel, key) VALUES (?, ?)", [(channel, k) for k in keys]
        )


class StoredKeys(AbstractSet):
    """A set of source keys, loaded on first use."""

    def __init__(self, load) -> None:
        self._load, self._keys = load, None

    def keys(self) -> set[str]:
        if self._keys is None:
            self._keys = self._load()
        return self._keys

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __iter__(self):
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


def _digest(raw: bytes) -> str:
    """SHA-256 of raw mail with CRLF read as LF (IMAP and Maildir differ only in that)."""
    import hashlib  # here, not at the top: a read command never loads OpenSSL
    return hashlib.sha256(raw.replace(b"\r\n", b"\n")).hexdigest()


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:120]
    return ""
