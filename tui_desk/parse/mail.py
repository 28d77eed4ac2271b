"""Raw RFC 5322 bytes → ParsedMessage. Never raises: what cannot be read is flagged.

The structure is read with the lenient compat32 parser (several times faster than
policy.default and tolerant of real-world breakage); headers are decoded one by one
with RFC 2047 handling, so a broken header costs that header only. Any failure falls
back to keeping the raw bytes with a problem note and a best-effort text.
"""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.utils
import hashlib
import re
from email.message import Message

from .model import Attachment, ParsedMessage
from .text import decode, html_to_text, split_reply

_MSGID = re.compile(r"<[^<>\s]+>")
_SPACE = re.compile(r"\s+")
KEPT_HEADERS = ("from", "to", "cc", "reply-to", "date", "subject", "message-id", "in-reply-to",
                "references", "auto-submitted", "precedence", "list-id", "x-autoreply",
                "x-autorespond", "return-path", "content-type")
_NO_REPLY = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?)([+-.].*)?@", re.I)


def parse_email(raw: bytes, received_at: dt.datetime) -> ParsedMessage:
    """Parse one email; the result always carries `raw` and lists its `problems`."""
    try:
        return _parse(raw, received_at)
    except Exception as exc:  # any bug or pathological input: keep the message, raw
        text, _ = decode(raw, None)
        return ParsedMessage(
            external_id=content_id(raw), kind="email", sender_address="", sender_name="",
            received_at=received_at, created_at=received_at, text=text,
            problems=[f"unparseable ({type(exc).__name__}); shown raw"], raw=raw,
        )


def content_id(raw: bytes) -> str:
    """The id of a message without a usable Message-ID."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _parse(raw: bytes, received_at: dt.datetime) -> ParsedMessage:
    msg = email.message_from_bytes(raw)
    problems: list[str] = [type(d).__name__ for d in msg.defects]
    header = lambda name: header_text(msg, name, problems)  # noqa: E731

    name, address = _sender(header("from"))
    # web forms and some shops send "via Form <forms@…>" with the customer in Reply-To:
    # the customer is whoever a reply goes to
    reply_name, reply_address = _sender(header("reply-to")) if msg.get("reply-to") else ("", "")
    if reply_address and reply_address != address:
        name, address = reply_name or name, reply_address
    if not address:
        problems.append("no sender address")
    message_id = _first_id(msg.get("message-id"))
    created = _date(msg.get("date"), received_at, problems)
    text, html, attachments = _body(msg, problems)
    new_text, quoted = split_reply(text)
    references = _MSGID.findall(_one_line(str(msg.get("references") or "")))
    return ParsedMessage(
        external_id=message_id or content_id(raw),
        kind="email",
        sender_address=address,
        sender_name=name,
        received_at=received_at,
        created_at=created,
        text=new_text,
        quoted=quoted,
        html=html,
        subject=header("subject"),
        message_id=message_id,
        in_reply_to=_first_id(msg.get("in-reply-to")),
        references=references,
        headers={k: header(k) for k in KEPT_HEADERS if msg.get(k) is not None},
        attachments=attachments,
        automatic=automatic_reason(msg, address),
        problems=sorted(set(problems)),
        raw=raw,
    )


def header_text(msg: Message, name: str, problems: list[str]) -> str:
    """A header decoded (RFC 2047) to one line of text; "" when absent."""
    value = msg.get(name)
    if value is None:
        return ""
    try:
        if isinstance(value, email.header.Header):
            value = str(value)
        parts = email.header.decode_header(value)
        out = []
        for chunk, charset in parts:
            if isinstance(chunk, bytes):
                text, problem = decode(chunk, charset)
                if problem:
                    problems.append(f"{name}: {problem}")
                out.append(text)
            else:
                out.append(chunk)
        return _one_line("".join(out))
    except Exception:
        problems.append(f"{name}: undecodable")
        return _one_line(str(value))


def _one_line(value: str) -> str:
    # a decoded header may hold CR/LF ("Re: hi\r\nBcc: ..."): a header is one line
    return _SPACE.sub(" ", value).strip()


def _sender(value: str) -> tuple[str, str]:
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        pairs = []
    for name, address in pairs:
        if "@" in address:
            return name.strip(), address.strip().lower()
    return value.strip(), ""


def _first_id(value) -> str | None:
    if value is None:
        return None
    found = _MSGID.findall(_one_line(str(value)))
    return found[0] if found else None


def _date(value, received_at: dt.datetime, problems: list[str]) -> dt.datetime:
    if value is None:
        problems.append("no Date header")
        return received_at
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.timezone.utc)
        return parsed
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append("unreadable Date header")
        return received_at


def _body(msg: Message, problems: list[str]) -> tuple[str, str | None, list[Attachment]]:
    """(text, html, attachments): text/plain preferred; HTML-only rendered to text."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
        filename = part.get_filename()
        if filename or disposition == "attachment" or not ctype.startswith("text/"):
            payload = part.get_payload(decode=True) or b""
            attachments.append(Attachment(_filename(part, problems), ctype, payload))
            continue
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        text, problem = decode(payload, part.get_content_charset())
        if problem:
            problems.append(problem)
        if ctype == "text/plain" and plain is None:
            plain = text
        elif ctype == "text/html" and html is None:
            html = text
    if plain is None and html is not None:
        return html_to_text(html), html, attachments
    return (plain or "").replace("\r\n", "\n"), html, attachments


def _filename(part: Message, problems: list[str]) -> str:
    try:
        name = part.get_filename() or ""
        if "=?" in name:  # RFC 2047 inside a parameter: not standard, but common
            name = str(email.header.make_header(email.header.decode_header(name)))
        return _one_line(name)
    except Exception:
        problems.append("attachment name undecodable")
        return ""


def automatic_reason(msg: Message, address: str) -> str | None:
    """Why a message was sent by a machine, or None: nothing automatic may answer these."""
    auto = str(msg.get("auto-submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto.split(';')[0]}"
    if msg.get("x-autoreply") or msg.get("x-autorespond"):
        return "auto-reply header"
    precedence = str(msg.get("precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"precedence: {precedence}"
    if msg.get("list-id") or msg.get("list-unsubscribe"):
        return "mailing list"
    if msg.get_content_type() == "multipart/report" or msg.get_content_type() == "message/delivery-status":
        return "delivery report"
    if _NO_REPLY.match(address or ""):
        return "no-reply sender"
    return None
