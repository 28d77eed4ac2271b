"""One line of a JSONL chat export → ParsedMessage.

A line is {"conversation", "sender_id", "sender_name", "text", "time"} plus optional
"id", "direction" ("in" by default) and "email" (the address the chat profile gives:
it links the visitor to that address's customer). A line that is not such an object is still
stored, raw and flagged, as its own conversation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from ..model import ParsedMessage

REQUIRED = ("conversation", "sender_id", "text", "time")


def parse_chat_line(line: bytes, received_at: dt.datetime) -> ParsedMessage:
    """Parse one line (without its newline)."""
    digest = "sha256:" + hashlib.sha256(line).hexdigest()
    problems: list[str] = []
    try:
        item = json.loads(line)
        if not isinstance(item, dict):
            raise ValueError("not a JSON object")
        missing = [k for k in REQUIRED if not isinstance(item.get(k), str)]
        if missing:
            raise ValueError(f"missing or not text: {', '.join(missing)}")
    except (ValueError, UnicodeDecodeError) as exc:
        return ParsedMessage(
            external_id=digest, kind="chat", sender_address="", sender_name="",
            received_at=received_at, created_at=received_at,
            text=line.decode("utf-8", errors="replace"), thread_key=digest,
            problems=[f"unreadable chat line: {exc}"], raw=line,
        )
    created = _time(item["time"], received_at, problems)
    direction = item.get("direction", "in")
    if direction not in ("in", "out"):
        problems.append(f"unknown direction {direction!r}; taken as in")
        direction = "in"
    return ParsedMessage(
        external_id=str(item.get("id") or digest),
        kind="chat",
        sender_address=item["sender_id"],
        sender_name=str(item.get("sender_name") or ""),
        received_at=created,
        created_at=created,
        text=item["text"],
        direction=direction,
        thread_key=item["conversation"],
        sender_email=_email(item.get("email"), problems),
        problems=problems,
        raw=line,
    )


def _time(value: str, fallback: dt.datetime, problems: list[str]) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"unreadable time {value!r}")
        return fallback
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _email(value: object, problems: list[str]) -> str | None:
    """The profile's email address, when it is one (one @, no spaces or controls)."""
    if value is None or value == "":
        return None
    text = value.strip().lower() if isinstance(value, str) else ""
    local, _, domain = text.partition("@")
    if not local or "." not in domain or "@" in domain or any(c.isspace() or ord(c) < 32 for c in text) \
            or len(text) > 254:
        problems.append(f"not an email address: {str(value)[:80]!r}; the visitor is not linked by it")
        return None
    return text
