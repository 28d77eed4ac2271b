"""Which conversation a new message belongs to.

Email: by In-Reply-To/References (our own replies' Message-IDs included), then by the
ticket tag in the subject ("[#123]"), then by same customer and normalised subject
within 14 days. Chat: the room's conversation unless it was solved or closed.
"""

from __future__ import annotations

import datetime as dt

from .model import ParsedMessage
from .store.stamps import stamp
from .subjects import TICKET, reply_subject, subject_key, ticket_tag

__all__ = ["SUBJECT_WINDOW", "find_conversation", "reply_subject", "subject_key", "ticket_tag"]

SUBJECT_WINDOW = dt.timedelta(days=14)


def find_conversation(store, channel: str, msg: ParsedMessage, customer_id: int | None) -> int | None:
    """The conversation `msg` continues, or None for a new one."""
    if msg.thread_key is not None:
        return store.conversation_by_thread_key(channel, msg.thread_key)
    ids = [i for i in [msg.in_reply_to, *reversed(msg.references)] if i]
    if ids:
        found = store.conversation_by_message_ids(ids)
        if found:
            return found
    for tag in TICKET.findall(msg.subject or ""):
        found = store.conversation_exists(int(tag))
        if found:
            return found
    key = subject_key(msg.subject)
    if customer_id is not None and key:
        return store.conversation_by_subject(customer_id, key, stamp(msg.received_at - SUBJECT_WINDOW))
    return None
