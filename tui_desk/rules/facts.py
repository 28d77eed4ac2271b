"""The fields a condition can test, worked out from what the store says of an event."""

from __future__ import annotations

import datetime as dt

from ..config import Config
from ..hours import BusinessHours
from ..model import ParsedMessage
from ..store import parse_stamp
from .spec import RECEIVED


def sender_facts(address: str | None) -> dict:
    """`from` and `from.domain` of a sender's address (lower case)."""
    address = (address or "").lower()
    return {"from": address, "from.domain": address.rpartition("@")[2] if "@" in address else ""}


def derive(raw: dict, config: Config, hours: BusinessHours, now: dt.datetime) -> dict:
    """Condition fields (see spec.FIELDS) from `Store.rule_facts`.

    `age` is the time since the conversation began; `waiting`, the time since its last
    message either way (how long the customer has waited for us while it is open, how
    long we have waited for them while it is pending)."""
    at = parse_stamp(raw["received_at"]) if raw.get("received_at") else now
    last = parse_stamp(raw["last_message_at"]) if raw.get("last_message_at") else now
    kinds = {c.name: c.kind for c in config.channels}
    return {
        "channel": raw["channel"],
        "channel.kind": kinds.get(raw["channel"], ""),
        **sender_facts(raw.get("author_address")),
        "to": raw["to_header"] or "",
        "subject": raw.get("message_subject") or raw.get("subject") or "",
        "text": raw.get("text") or "",
        "customer.tags": raw["customer_tags"],
        "conversation.tags": raw["tags"],
        "priority": raw["priority"],
        "status": raw["status"],
        "assignee": raw["assignee"] or "",
        "group": raw["group_name"] or "",
        "hours": "open" if hours.is_open(at) else "closed",
        "class": raw.get("class") or "human",
        "attachments": raw["attachments"],
        "age": (now - parse_stamp(raw["created_at"])).total_seconds(),
        "waiting": max((now - last).total_seconds(), 0.0),
        RECEIVED: at,
    }


def from_message(msg: ParsedMessage, channel: str, config: Config, hours: BusinessHours,
                 now: dt.datetime) -> dict:
    """Condition fields of a message not stored (`rules test --file`): a new conversation."""
    kinds = {c.name: c.kind for c in config.channels}
    return {
        "channel": channel, "channel.kind": kinds.get(channel, ""), **sender_facts(msg.sender_address),
        "to": msg.headers.get("to", ""),
        "subject": msg.subject, "text": msg.text, "customer.tags": [], "conversation.tags": [],
        "priority": "normal", "status": "new", "assignee": "", "group": "",
        "hours": "open" if hours.is_open(msg.received_at) else "closed", "class": msg.loop_class,
        "attachments": [a.filename for a in msg.attachments], "age": 0.0, "waiting": 0.0,
        RECEIVED: msg.received_at,
    }
