"""The loop guard: every inbound message's class, and whether an automatic message may
answer it.

Classes: auto, bulk, bounce, self, agent, human. Automatic replies go only to `human`
messages, so two desks (or a desk and an auto-responder) cannot talk to each other
forever; the caps per recipient (checked by the rules runner) stop the rest.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message

CLASSES = ("auto", "bulk", "bounce", "self", "agent", "human")
__all__ = ["CLASSES", "LOOP_HEADER", "classify", "may_auto_reply", "refine"]

_NO_REPLY = re.compile(r"(no-?reply|do-?not-?reply|mailer-daemon|postmaster)([+.\-_].*)?")


def refine(klass: str, message_id: str | None, address: str, *, loop: str = "",
           own_domains: frozenset[str] = frozenset(), agents: frozenset[str] = frozenset()) -> str:
    """The class from the headers, made `self` for our own loop header or Message-ID
    domain, and `agent` for a teammate's address."""
    if own_domains and (loop.strip().lower() in own_domains or _domain(message_id or "") in own_domains):
        return "self"
    if klass == "human" and (address or "").strip().lower() in agents:
        return "agent"
    return klass


def classify(msg: Message, address: str, subject: str = "", *, own_domains: frozenset[str] = frozenset(),
             agents: frozenset[str] = frozenset()) -> str:
    """The loop guard's class of `msg`, sent from `address` (one of CLASSES)."""
    from ..parse.auto import LOOP_HEADER, message_class  # (the email package: only to classify mail)
    return refine(message_class(msg, address, subject), str(msg.get("message-id") or ""), address,
                  loop=str(msg.get(LOOP_HEADER) or ""), own_domains=own_domains, agents=agents)


def may_auto_reply(klass: str, address: str, *, force: bool = False) -> str | None:
    """Why an automatic message to this sender must not go out, or None when it may.

    `force` (a rule's force_reply) passes the class check only; no-reply and bounce
    addresses are never answered, and the caps still apply.
    """
    local = (address or "").split("@", 1)[0].lower()
    if klass != "human" and not force:
        return f"message class is {klass}"
    if not address:
        return "no address to answer"
    if _NO_REPLY.fullmatch(local):
        return f"no-reply address {address}"
    return None


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip(" <>").lower() if "@" in value else ""


def __getattr__(name: str):
    if name == "LOOP_HEADER":  # re-exported, from the parser imported only when asked
        from ..parse.auto import LOOP_HEADER
        return LOOP_HEADER
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
