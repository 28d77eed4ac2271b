"""The bottom layer: the records that cross layers (what parsing produces, what a chat
channel reports as changed). Imports nothing from tui_desk, so every layer may use it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

LOOP_HEADER = "X-Tui-Desk-Loop"
"""Marks every automatic message a desk sends, with the desk's own domain: seen coming
back it is our own (`self`); from another desk, it is `auto` (parse.auto reads it,
channels.mailout writes it)."""


@dataclass
class Attachment:
    """A file that came with a message; stored content-addressed by sha256."""

    filename: str
    content_type: str
    data: bytes
    source: str | None = None
    """Where to fetch the content on demand when `data` is empty (a Matrix mxc:// URI)."""
    size: int | None = None
    """The size the sender announced, for a file not fetched yet."""


@dataclass
class ParsedMessage:
    """A message ready for threading and storage. Built by parse; never raises there."""

    external_id: str
    """Unique per channel: the Message-ID, a chat event id, or sha256 of the raw bytes."""
    kind: str
    """Identity kind of the sender: "email", "chat", "matrix"."""
    sender_address: str
    """Email address or chat handle; lower-cased for email."""
    sender_name: str
    received_at: dt.datetime
    """When the channel got it (delivery time); conversation clocks run on this."""
    created_at: dt.datetime
    """When the sender says it was written (Date header, chat timestamp)."""
    text: str = ""
    """The new text, quoted history and signature split off."""
    quoted: str = ""
    """What was split off `text` (quoted history, signature)."""
    html: str | None = None
    subject: str = ""
    direction: str = "in"
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    thread_key: str | None = None
    """Chat: the room or conversation key that groups messages."""
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    automatic: str | None = None
    """Why this is machine-sent (auto-reply, bounce, bulk); None for a person."""
    loop_class: str = "human"
    """The loop guard's class: auto, bulk, bounce, self, agent or human (tui_desk.rules.guard)."""
    problems: list[str] = field(default_factory=list)
    """What could not be parsed cleanly; the raw bytes are kept either way."""
    raw: bytes = b""
    segmented_text: str | None = None
    """`text` as the full-text index sees it (store.db.segment: CJK and Thai spaced out),
    when a sync parse worker made it already; None: the writer makes it."""
    rule_results: tuple[bool, ...] | None = None
    """The sync's message conditions tested on this message by a parse worker
    (rules.spec.message_results); None: the writer tests them."""
    sender_email: str | None = None
    """An email address the chat profile itself gives for the sender (a JSONL "email"
    field): exact evidence that links this chat identity to that address's customer."""
    alias_ids: list[str] = field(default_factory=list)
    """Other external ids this message may already be stored under (our own chat reply,
    stored by the outbox under its transaction id before the channel named it)."""

    @property
    def by_email(self) -> bool:
        """Sent as email (its Message-ID names it), not as a chat message."""
        return self.kind == "email"


@dataclass
class Change:
    """A chat message edited or deleted after it was sent. The store keeps the
    original text beside the new one; a change to a message it never saw is ignored."""

    external_id: str
    """The edited or deleted message's id on the channel."""
    at: dt.datetime
    by: str
    """Who changed it (sender address); an edit counts only from the original sender."""
    text: str | None = None
    """The new text of an edit; None for a deletion."""
    redacted: bool = False
