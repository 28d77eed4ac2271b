"""The loop guard's class of an inbound message: auto, bulk, bounce, self, agent or human.

Every inbound message gets exactly one class before any rule runs, and automatic replies
go only to `human` messages, so two desks (or a desk and an auto-responder) cannot talk to
each other forever. The order matters: our own mail coming back is `self` even though it
carries Auto-Submitted; a bounce is a bounce even when it also looks automatic.
"""

from __future__ import annotations

import re
from email.message import Message

from ..parse.auto import report_type

LOOP_HEADER = "X-Tui-Desk-Loop"
CLASSES = ("auto", "bulk", "bounce", "self", "agent", "human")

_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|postmaster)([+.\-_].*)?@", re.I)
_AUTO_HEADERS = ("x-autoreply", "x-autorespond")
_BULK = ("bulk", "list", "junk")
# Outlook's out-of-office sets X-Auto-Response-Suppress or this subject, often no Auto-Submitted
_OUTLOOK_OOF = re.compile(r"^\s*(automatic reply|auto(matische)? ?(reply|antwort)|out of (the )?office)\s*:", re.I)


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip(" <>").lower() if "@" in value else ""


def classify(msg: Message, address: str, subject: str = "", *, own_domains: frozenset[str] = frozenset(),
             agents: frozenset[str] = frozenset()) -> str:
    """The loop guard's class of `msg`, sent from `address` (one of CLASSES)."""
    names = {name.lower() for name in msg.keys()}
    get = lambda name: str(msg.get(name) or "").strip() if name in names else ""  # noqa: E731
    if get(LOOP_HEADER.lower()) or (own_domains and _domain(get("message-id")) in own_domains):
        return "self"
    report = report_type(msg)
    # an abuse report (ARF) is a machine's report on mail we sent, like a delivery report
    if get("return-path") == "<>" or _BOUNCE_SENDER.match(address or "") \
            or report in ("delivery-status", "feedback-report"):
        return "bounce"
    auto = get("auto-submitted").lower()
    if (auto and not auto.startswith("no")) or any(get(name) for name in _AUTO_HEADERS) \
            or (subject and _OUTLOOK_OOF.match(subject)) or report is not None:
        return "auto"
    if get("precedence").lower() in _BULK or get("list-id") or get("list-unsubscribe"):
        return "bulk"
    if (address or "").strip().lower() in agents:
        return "agent"
    return "human"


def may_auto_reply(klass: str, address: str, *, force: bool = False) -> str | None:
    """Why an automatic message to this sender must not go out, or None when it may.

    `force` (a rule's force_reply) passes the class check only; no-reply and bounce
    addresses are never answered, and the caps still apply elsewhere.
    """
    local = (address or "").split("@", 1)[0].lower()
    if re.fullmatch(r"(no-?reply|do-?not-?reply|mailer-daemon|postmaster)([+.\-_].*)?", local):
        return f"no-reply address {address}"
    if klass != "human" and not force:
        return f"message class is {klass}"
    return None
