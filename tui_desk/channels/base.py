"""The channel interface: every channel kind pulls items and sends replies.

`pull()` yields batches; sync stores each batch in one transaction together with the
batch's `state` and `source_keys`, so a channel's position only advances once what it
pulled is committed. A crash between batches loses nothing and duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..model import Change, ParsedMessage


@dataclass
class Item:
    """One pulled item, not yet parsed (sync parses, possibly in worker processes)."""

    format: str
    """"email" (RFC 5322 bytes) or "chat-line" (one JSONL line); "parsed" when the
    channel parsed it itself (`parsed` is then set)."""
    raw: bytes
    received_at: dt.datetime
    parsed: ParsedMessage | None = None


@dataclass
class Batch:
    items: list[Item]
    state: dict[str, str] = field(default_factory=dict)
    """Channel position to save with this batch (e.g. last UID, file offset)."""
    source_keys: list[str] = field(default_factory=list)
    """Keys of the source items now stored (local channels remember files this way)."""
    changes: list[Change] = field(default_factory=list)
    """Edits and deletions of messages pulled before (chat); applied after `items`."""
    quarantined: list["Quarantined"] = field(default_factory=list)
    """Items given up on after repeated failures: recorded with this batch, no longer asked for."""
    warnings: list[str] = field(default_factory=list)
    """Something the operator should know that is not a failure (a folder read again)."""


@dataclass
class Quarantined:
    """A source item the channel failed to fetch too often and now skips."""

    key: str
    """Names the item within the channel (e.g. "INBOX UID 3 (UIDVALIDITY 1700000000)")."""
    reason: str
    """The last failure, one line."""
    tries: int


class Channel(Protocol):
    """What sync and the outbox need of a channel."""

    name: str
    message_ids: bool
    """True for email kinds: the outbox generates a Message-ID before the first try."""
    long_poll: float
    """Seconds a pull may wait for something new before answering empty (`sync --watch`);
    0 for a quick look. Channels that cannot wait ignore it."""

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        """New items since `state`; `seen` holds source keys already stored."""
        ...

    def send(self, outbound: "Outbound") -> str:
        """Deliver one reply; returns the channel's id for it (stored as the message's
        external id, so the next pull recognises it). Must be idempotent: called again
        with `maybe_sent` for the same reply after a crash, it finds the first copy
        (by `txn_id` or `mail_id`) instead of sending a second one."""
        ...

    def reply_problem(self, to_address: str, thread_key: str | None) -> str | None:
        """Why a reply to this recipient (address, or chat room) cannot be sent here, or
        None; a static method, asked before a reply is queued (see `reply_problem`)."""
        ...

    # optional: the capabilities below (DeliveryRecorder: for a reply left "uncertain",
    # "sent" or "not sent" when the channel can prove it, None when a person has to
    # check; channels.imap reads the Sent folder).

    def close(self) -> None:
        ...


# What a channel can do, asked of its class (`channels.supports`) or of an open channel
# (`isinstance`): callers ask for a capability, never for a kind.

@runtime_checkable
class Puller(Protocol):
    """Pulls new items for sync."""

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]: ...


@runtime_checkable
class Sender(Protocol):
    """Delivers replies (see `Channel.send`)."""

    def send(self, outbound: "Outbound") -> str: ...


@runtime_checkable
class Watcher(Protocol):
    """Holds connections that wake `sync --watch` when something arrives (IMAP IDLE)."""

    def watcher(self, wake: threading.Event, stop: threading.Event,
                report: Callable[[str], None] | None = None) -> list[threading.Thread]: ...


@runtime_checkable
class LongPoller(Protocol):
    """Can wait inside a pull for something new (`long_poll` seconds; Matrix /sync)."""

    long_poll: float


@runtime_checkable
class Downloader(Protocol):
    """Fetches an attachment recorded by reference: (content, content type)."""

    def download(self, source: str) -> tuple[bytes, str]: ...


@runtime_checkable
class DeliveryRecorder(Protocol):
    """Can tell whether an "uncertain" reply went out ("sent", "not sent", or None)."""

    def delivery_record(self, outbound: "Outbound") -> str | None: ...


@runtime_checkable
class LocalSource(Protocol):
    """Reads local files: says without a network why they cannot be read, or None."""

    def local_problem(self) -> str | None: ...


@runtime_checkable
class DirectMessenger(Protocol):
    """Messages one person directly and reads their answers (on-call pages)."""

    def send_direct(self, user_id: str, text: str, txn_id: str) -> tuple[str, str]: ...

    def replies_after(self, room: str, event_id: str) -> list[tuple[str, str]]: ...


def room_problem(to_address: str, thread_key: str | None) -> str | None:
    """Chat kinds reply in the conversation's room: why there is none to reply in, or None."""
    return None if thread_key else "no chat room to reply in"


@dataclass
class Outbound:
    """One reply to deliver, as the outbox hands it to a channel's `send`."""

    outbox_id: int
    txn_id: str
    """Unique per reply; chat channels use it as the transaction id (idempotent send)."""
    conversation_id: int
    thread_key: str | None
    """Chat: the room or conversation the reply goes to."""
    agent: str
    text: str
    subject: str
    """The conversation's subject (email builds "Re: … [#id]" from it)."""
    to_address: str
    to_name: str
    created_at: dt.datetime
    mail_id: str | None = None
    """Email: our Message-ID, stored on the message row before sending."""
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    maybe_sent: bool = False
    """A previous try may have delivered it (a crash between send and mark): look for
    the first copy before sending again."""
    automatic: bool = False
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    """Email: more recipients; Bcc only on the envelope, never in a header."""
    files: list[tuple[str, str, Path]] = field(default_factory=list)
    """Email: (file name, content type, stored file) sent with the reply as MIME parts."""
    """Sent by a rule, not a person: it says so (Auto-Submitted, m.notice), so that no
    auto-responder answers it and no loop starts."""
    data_begins: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    """Called by email kinds just before SMTP DATA: the outbox commits "uncertain" there,
    so an interruption from then on is never retried automatically."""
    transmitted: Callable[[str], None] | None = field(default=None, repr=False, compare=False)
    """Called with the external id the moment the reply has left, before slower
    bookkeeping (filing a copy in Sent): the outbox marks it sent there, so a crash
    in the bookkeeping cannot send it a second time."""

