"""Matrix room events → messages and changes (pure: no network, no store).

- m.room.message (m.text, m.notice, m.emote) → a message; m.notice is what bots send,
  so it is marked automatic and does not reopen a conversation.
- m.image / m.file / m.audio / m.video → a message with an attachment recorded by its
  mxc:// URI (name, type, announced size); the content is fetched when someone opens it.
- an edit (m.relates_to rel_type m.replace) → a Change with the new text;
  m.room.redaction → a Change deleting the message.
- m.room.member events keep the display names that become customer names.
- m.room.encrypted → a flagged placeholder: tui-desk does not do end-to-end encryption.
"""

from __future__ import annotations

import datetime as dt
import json

from ..model import Attachment, Change, ParsedMessage

TEXT_TYPES = ("m.text", "m.notice", "m.emote")
FILE_TYPES = ("m.image", "m.file", "m.audio", "m.video")


def event_time(event: dict) -> dt.datetime:
    """The event's origin_server_ts as an aware datetime (now when it is missing)."""
    ts = event.get("origin_server_ts")
    if isinstance(ts, (int, float)) and ts > 0:
        return dt.datetime.fromtimestamp(ts / 1000.0, dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def localpart(user_id: str) -> str:
    return user_id[1:].split(":", 1)[0] if user_id.startswith("@") else user_id


class Names:
    """Display names of a room's members, as of the event being read."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def learn(self, event: dict) -> None:
        """Take the display name from an m.room.member state event."""
        if event.get("type") != "m.room.member" or not isinstance(event.get("state_key"), str):
            return
        content = event.get("content") or {}
        name = content.get("displayname")
        if isinstance(name, str) and name.strip():
            self.names[event["state_key"]] = name.strip()[:200]

    def of(self, user_id: str) -> str:
        return self.names.get(user_id) or localpart(user_id)


def convert(event: dict, room_id: str, names: Names, own_user_id: str) -> ParsedMessage | Change | None:
    """One timeline event as a message, a change, or None (state, reactions, ...)."""
    event_type = event.get("type")
    sender = event.get("sender")
    event_id = event.get("event_id")
    if not isinstance(sender, str) or not isinstance(event_id, str):
        return None
    if event_type == "m.room.member":
        names.learn(event)
        return None
    at = event_time(event)
    if event_type == "m.room.redaction":
        target = event.get("redacts") or (event.get("content") or {}).get("redacts")
        return Change(external_id=target, at=at, by=sender, redacted=True) if isinstance(target, str) else None
    if event_type not in ("m.room.message", "m.room.encrypted", "m.sticker"):
        return None
    content = event.get("content")
    if not isinstance(content, dict):
        content = {}
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.replace":
        new = content.get("m.new_content")
        target = relates.get("event_id")
        if isinstance(new, dict) and isinstance(target, str):
            return Change(external_id=target, at=at, by=sender, text=_body(new))
        return None
    if not content:
        return None  # deleted before we saw it: nothing left to keep
    msg = ParsedMessage(
        external_id=event_id, kind="matrix", sender_address=sender, sender_name=names.of(sender),
        received_at=at, created_at=at, thread_key=room_id,
        direction="out" if sender == own_user_id else "in",
        raw=json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode(),
    )
    unsigned = event.get("unsigned")
    if msg.direction == "out" and isinstance(unsigned, dict) and isinstance(unsigned.get("transaction_id"), str):
        msg.alias_ids.append(unsigned["transaction_id"])  # our outbox's reply, stored under its txn id
    if event_type == "m.room.encrypted":
        msg.text = "(an end-to-end encrypted message: tui-desk cannot read encrypted rooms)"
        msg.problems.append("encrypted event: not decrypted")
        return msg
    msgtype = content.get("msgtype") if event_type == "m.room.message" else "m.image"
    if msgtype in FILE_TYPES:
        _file(msg, content, msgtype)
    else:
        msg.text = _body(content)
        if msgtype == "m.emote":
            msg.text = f"* {msg.sender_name} {msg.text}"
        elif msgtype == "m.notice":
            msg.automatic = "matrix notice (sent by a bot)"
            msg.loop_class = "auto"
        elif msgtype not in TEXT_TYPES:
            msg.problems.append(f"unknown msgtype {str(msgtype)[:60]!r}; shown as text")
    html = content.get("formatted_body")
    if content.get("format") == "org.matrix.custom.html" and isinstance(html, str):
        msg.html = html
    return msg


def _body(content: dict) -> str:
    body = content.get("body")
    return body if isinstance(body, str) else ""


def _file(msg: ParsedMessage, content: dict, msgtype: str) -> None:
    """A file message: metadata now, content on demand."""
    info = content.get("info") if isinstance(content.get("info"), dict) else {}
    body = _body(content)
    filename = content.get("filename") if isinstance(content.get("filename"), str) else body
    filename = filename or msgtype.removeprefix("m.")
    url = content.get("url")
    size = info.get("size") if isinstance(info.get("size"), int) else None
    mimetype = info.get("mimetype") if isinstance(info.get("mimetype"), str) else "application/octet-stream"
    caption = body if isinstance(content.get("filename"), str) and body and body != filename else ""
    msg.text = caption or f"[{msgtype.removeprefix('m.')}: {filename}]"
    if isinstance(url, str) and url.startswith("mxc://"):
        msg.attachments.append(Attachment(filename=filename[:255], content_type=mimetype[:100], data=b"",
                                          source=url, size=size))
    else:  # an encrypted file (content.file) or a broken event: say so, keep the raw event
        msg.problems.append("file without a plain mxc:// url (encrypted or malformed); not fetchable")
