"""Subjects: the ticket tag our replies carry ("[#123]"), the key a subject is matched
by, and a reply's subject. Plain text work, below every layer that needs it (threading,
the mail channels, templates)."""

from __future__ import annotations

import re

TICKET = re.compile(r"\[#(\d{1,12})\]")
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
    text = TICKET.sub(" ", subject or "")
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
    return " ".join(text.lower().split())


def reply_subject(subject: str, conversation_id: int) -> str:
    """"Re: <subject> [#id]" on one line: earlier prefixes and tags dropped, case kept."""
    text = TICKET.sub(" ", " ".join((subject or "").split()))
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
    text = " ".join(text.split())
    return f"Re: {text} {ticket_tag(conversation_id)}" if text else f"Re: {ticket_tag(conversation_id)}"
