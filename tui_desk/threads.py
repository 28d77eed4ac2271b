"""Which conversation a new message belongs to.

Email: by In-Reply-To/References (our own replies' Message-IDs included), then by the
ticket tag in the subject ("[#123]"), then by same customer and normalised subject
within 14 days. Chat: the room's conversation unless it was solved or closed.
"""

from __future__ import annotations

import datetime as dt
import re

from .model import ParsedMessage
from .store.db import stamp

SUBJECT_WINDOW = dt.timedelta(days=14)
_TICKET = re.compile(r"\[#(\d{1,12})\]")
# reply/forward prefixes in the languages customers write in
_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|antw|odp|tr|rif|r|enc|res|回复|回覆|转发|答复|返信|転送)\s*(\[\d+\])?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def ticket_tag(conversation_id: int) -> str:
    """The tag our replies carry in their subject."""
    return f"[#{conversation_id}]"


def subject_key(subject: str) -> str:
    """Subject without reply prefixes, ticket tag, case and extra spaces."""
    text = _TICKET.sub(" ", subject or "")
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
    return " ".join(text.lower().split())


def find_conversation(store, channel: str, msg: ParsedMessage, customer_id: int | None) -> int | None:
    """The conversation `msg` continues, or None for a new one."""
    if msg.thread_key is not None:
        return store.conversation_by_thread_key(channel, msg.thread_key)
    ids = [i for i in [msg.in_reply_to, *reversed(msg.references)] if i]
    if ids:
        found = store.conversation_by_message_ids(ids)
        if found:
            return found
    for tag in _TICKET.findall(msg.subject or ""):
        found = store.conversation_exists(int(tag))
        if found:
            return found
    key = subject_key(msg.subject)
    if customer_id is not None and key:
        return store.conversation_by_subject(customer_id, key, stamp(msg.received_at - SUBJECT_WINDOW))
    return None


def reply_subject(subject: str, conversation_id: int) -> str:
    """"Re: <subject> [#id]" on one line: earlier prefixes and tags dropped, case kept."""
    text = _TICKET.sub(" ", " ".join((subject or "").split()))
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
    text = " ".join(text.split())
    return f"Re: {text} {ticket_tag(conversation_id)}" if text else f"Re: {ticket_tag(conversation_id)}"
