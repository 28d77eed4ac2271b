"""Raw RFC 5322 bytes → ParsedMessage. Never raises: what cannot be read is flagged.

The structure is read with the lenient compat32 parser (several times faster than
policy.default and tolerant of real-world breakage); headers are decoded one by one
with RFC 2047 handling, so a broken header costs that header only. The header block
is read on its own first: whatever fails below it (a broken part, a hostile nesting),
the sender, subject, date and ids are kept and the conversation can be answered.
A part that cannot be read costs that part only; nesting deeper than MAX_DEPTH is kept
whole as one opaque attachment (the tree itself is read in parse/structure.py).
"""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.parser
import email.utils
import base64
import binascii
import hashlib
import quopri
import re
from collections.abc import Iterator
from email.message import Message

from .auto import automatic_reason, marks_from_headers, message_class
from ..model import Attachment, ParsedMessage
from .html import html_to_text
from .charset import decode
from .defects import defect_text
from .structure import (HEADER_END, HEADERS_ONLY, MAX_DEPTH, NESTED_NAME, SURROGATE, Opaque, header_block, opaque,
                        read_structure, readable_structure)
from .text import calendar_summary, split_reply
from ..textsafe import valid_msgid

_MSGID = re.compile(r"<[^<>\s]+>")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_UNSAFE_ADDRESS = re.compile(r"[\s\x00-\x1f\x7f<>]")
# the plainest sender header: ASCII words, single spaces, an address of the usual characters
_SIMPLE_SENDER = re.compile(r"([A-Za-z0-9]+(?: [A-Za-z0-9]+)*) <([A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)>")
KEPT_HEADERS = ("from", "to", "cc", "reply-to", "date", "subject", "message-id", "in-reply-to",
                "references", "auto-submitted", "precedence", "list-id", "x-autoreply",
                "x-autorespond", "return-path", "content-type", "x-tui-desk-loop")


def parse_email(raw: bytes, received_at: dt.datetime) -> ParsedMessage:
    """Parse one email; the result always carries `raw` and lists its `problems`."""
    try:
        return _parse(raw, received_at)
    except Exception as exc:  # any bug or pathological input: keep the message, raw
        return _salvage(raw, received_at, f"unparseable ({type(exc).__name__}); shown raw")


def _salvage(raw: bytes, received_at: dt.datetime, problem: str) -> ParsedMessage:
    """The raw message shown as text, with whatever of its sender, subject, date and
    Message-ID can still be read, each on its own."""
    problems = [problem]
    text, _ = decode(raw, None)
    name = address = subject = ""
    message_id = None
    created = received_at
    try:
        first = _first_headers(HEADERS_ONLY.parsebytes(header_block(raw)))
    except Exception:
        first = {}
    try:
        name, address = _sender(first.get("reply-to") or first.get("from"), problems)
    except Exception:
        pass
    try:
        subject = decode_words(first.get("subject", ""), problems, "subject")
    except Exception:
        pass
    try:
        message_id = _first_id(first.get("message-id"))
    except Exception:
        pass
    try:
        created = _date(first.get("date"), received_at, problems)
    except Exception:
        pass
    automatic, loop_class = marks_from_headers(raw)
    return ParsedMessage(
        external_id=message_id or content_id(raw), kind="email", sender_address=address, sender_name=name,
        received_at=received_at, created_at=created, text=text, subject=subject, message_id=message_id,
        automatic=automatic, loop_class=loop_class, problems=sorted(set(problems)), raw=raw,
    )


def content_id(raw: bytes) -> str:
    """The id of a message without a usable Message-ID."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _parse(raw: bytes, received_at: dt.datetime) -> ParsedMessage:
    head = HEADERS_ONLY.parsebytes(header_block(raw))
    readable_structure(head)
    problems: list[str] = []
    first = _first_headers(head)
    header = lambda name: decode_words(first[name], problems, name) if name in first else ""  # noqa: E731

    name, address = _sender(first.get("from"), problems)
    # web forms and some shops send "via Form <forms@…>" with the customer in Reply-To:
    # the customer is whoever a reply goes to
    reply_name, reply_address = _sender(first["reply-to"], problems) if first.get("reply-to") else ("", "")
    if reply_address and reply_address != address:
        name, address = reply_name or name, reply_address
    if not address:
        problems.append("no sender address")
    subject = header("subject")
    message_id = _first_id(first.get("message-id"))
    created = _date(first.get("date"), received_at, problems)
    try:  # below the header block: a failure here costs the body, never the headers
        msg = read_structure(raw, head)
        problems.extend(defect_text(d) for d in msg.defects)
        text, html, attachments = _body(msg, problems)
    except Exception as exc:
        msg = head
        problems.append(f"body unparseable ({type(exc).__name__}); shown raw")
        end = HEADER_END.search(raw)
        text, _ = decode(raw[end.end():] if end else b"", None)
        html, attachments = None, []
    new_text, quoted = split_reply(text)
    # the newest 50 are plenty to find a thread; a hostile header may list thousands
    references = [r for r in _MSGID.findall(_one_line(first.get("references") or ""))
                  if valid_msgid(r)][-50:]
    raw_ids = " ".join(_one_line(str(first.get(k) or "")) for k in ("message-id", "in-reply-to", "references"))
    if any(not valid_msgid(r) for r in _MSGID.findall(raw_ids)):
        problems.append("unsafe Message-ID dropped from threading")
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
        subject=subject,
        message_id=message_id,
        in_reply_to=_first_id(first.get("in-reply-to")),
        references=references,
        headers={k: header(k) for k in KEPT_HEADERS if k in first},
        attachments=attachments,
        automatic=automatic_reason(msg, address, subject),
        loop_class=message_class(msg, address, subject),
        problems=sorted(set(problems)),
        raw=raw,
    )


def _first_headers(msg: Message) -> dict[str, str]:
    """Lower-cased name → the first occurrence of each header, as received, 8-bit bytes
    recovered as text.

    compat32 keeps undecodable header bytes as surrogates and `msg.get` would turn
    them into U+FFFD; real mail has raw UTF-8 and Latin-1 in headers, so the bytes
    are taken back and decoded (UTF-8, else detected)."""
    first: dict[str, str] = {}
    for key, value in msg.raw_items():
        key = key.lower()
        if key in first:
            continue
        if isinstance(value, email.header.Header):
            value = str(value)
        if SURROGATE.search(value):
            value, _ = decode(value.encode("ascii", "surrogateescape"), None)
        first[key] = value
    return first


def decode_words(value: str, problems: list[str], name: str = "header") -> str:
    """RFC 2047 encoded words decoded one by one: a broken word stays as written, the
    rest of the header still decodes. The result is one line."""
    if "=?" not in value:
        return _one_line(value)
    out: list[str] = []
    position = 0
    previous_was_word = False
    for match in _WORD.finditer(value):
        between = value[position:match.start()]
        if not (previous_was_word and not between.strip()):  # space between two words is dropped
            out.append(between)
        charset, encoding, data = match.group(1), match.group(2).lower(), match.group(3)
        try:
            if encoding == "b":
                raw = base64.b64decode(data + "=" * (-len(data) % 4), validate=False)
            else:
                raw = quopri.decodestring(data.replace("_", " ").encode("ascii", "replace"), header=True)
            text, problem = decode(raw, charset.split("*")[0])
            if problem:
                problems.append(f"{name}: {problem}")
            out.append(text)
            previous_was_word = True
        except (ValueError, binascii.Error, UnicodeError):
            problems.append(f"{name}: undecodable word")
            out.append(match.group(0))
            previous_was_word = False
        position = match.end()
    out.append(value[position:])
    return _one_line("".join(out))


def _one_line(value: str) -> str:
    # a decoded header may hold CR/LF ("Re: hi\r\nBcc: ..."): a header is one line
    return _SPACE.sub(" ", value).strip()


def _sender(value: str | None, problems: list[str]) -> tuple[str, str]:
    """(display name, lower-cased address) of the first real address. The address is
    taken from the header as written; only then is the name decoded, so an encoded
    name like "=?utf-8?q?a=0D=0ABcc=3A_x=40y?=" cannot smuggle in another address."""
    if not value:
        return "", ""
    simple = _SIMPLE_SENDER.fullmatch(value)
    if simple:  # "Mike Jones <mike@x.example>": what getaddresses gives, without its parser
        return simple.group(1), simple.group(2).lower()
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:
        pairs = []
    for name, address in pairs:
        address = address.strip()
        if "@" in address and not _UNSAFE_ADDRESS.search(address):
            return decode_words(name, problems, "from"), address.lower()
    return decode_words(value, problems, "from"), ""


def _first_id(value) -> str | None:
    if value is None:
        return None
    found = _MSGID.findall(_one_line(str(value)))
    return found[0] if found and valid_msgid(found[0]) else None


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


def _parts(msg: Message, problems: list[str]) -> Iterator[Message]:
    """The leaf parts, depth first, without descending into attached messages (a
    forwarded mail is one attachment, not more body text); a multipart deeper than
    MAX_DEPTH is one opaque attachment (a hostile nesting costs nothing more)."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        readable_structure(part)
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list) and part.get_content_maintype() == "multipart":
            if depth >= MAX_DEPTH:
                problems.append(f"nested deeper than {MAX_DEPTH} levels: kept as {NESTED_NAME}")
                yield opaque(_entity_bytes(part))
                continue
            stack.extend((child, depth + 1) for child in reversed(payload))
        else:
            if isinstance(part, Opaque):  # cut off by _bounded_message
                problems.append(f"nested deeper than {MAX_DEPTH} levels: kept as {NESTED_NAME}")
            yield part


def _entity_bytes(part: Message) -> bytes:
    try:
        return part.as_bytes()
    except Exception:  # RecursionError, or a header compat32 cannot write back
        return b""


def _body(msg: Message, problems: list[str]) -> tuple[str, str | None, list[Attachment]]:
    """(text, html, attachments): text/plain preferred; HTML-only rendered to text;
    calendar invitations summarised; everything else stored as an attachment."""
    found: dict[str, str] = {}
    extra: list[str] = []
    attachments: list[Attachment] = []
    for part in _parts(msg, problems):
        try:
            _read_part(part, problems, found, extra, attachments)
        except Exception as exc:  # one unreadable part costs that part: kept as it came
            problems.append(f"part unreadable ({type(exc).__name__}): kept as an attachment")
            attachments.append(Attachment("part.bin", "application/octet-stream", _entity_bytes(part)))
    plain, html = found.get("text/plain"), found.get("text/html")
    if plain is None and html is not None:
        body = html_to_text(html)
    else:
        body = (plain or "").replace("\r\n", "\n")
    summaries = "\n".join(e for e in extra if e)
    if summaries and summaries not in body:
        body = f"{body}\n\n{summaries}" if body.strip() else summaries
    return body, html, attachments


def _read_part(part: Message, problems: list[str], found: dict[str, str], extra: list[str],
               attachments: list[Attachment]) -> None:
    """One leaf part into the first text (`found`, by type), the summaries or the attachments."""
    ctype = part.get_content_type()
    disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
    filename = _filename(part, problems)
    if ctype.startswith("multipart/"):
        ctype = "text/plain"  # a multipart without usable boundary: its body is all we have
    if ctype.startswith("message/"):
        data = part.as_bytes() if part.is_multipart() else (part.get_payload(decode=True) or b"")
        if ctype == "message/rfc822" and part.is_multipart():
            data = part.get_payload(0).as_bytes()
        attachments.append(Attachment(filename or _default_name(ctype), ctype, data))
        return
    if filename or disposition == "attachment" or ctype not in ("text/plain", "text/html"):
        payload = part.get_payload(decode=True) or b""
        attachments.append(Attachment(filename or _default_name(ctype), ctype, payload))
        if ctype == "text/calendar":
            extra.append(calendar_summary(payload))
        return
    payload = part.get_payload(decode=True)
    if payload is None:
        return
    text, problem = decode(payload, part.get_content_charset(None))
    if problem:
        problems.append(problem)
    found.setdefault(ctype, text)


def _default_name(ctype: str) -> str:
    return {"text/calendar": "invite.ics", "message/rfc822": "message.eml",
            "application/ms-tnef": "winmail.dat"}.get(ctype, "")


def _filename(part: Message, problems: list[str]) -> str:
    if part.get("content-disposition") is None and "name" not in str(part.get("content-type", "")).lower():
        return ""  # no header that could name a file (most text parts): skip the parameter parsing
    try:
        name = part.get_filename() or ""
        if "=?" in name:  # RFC 2047 inside a parameter: not standard, but common
            name = str(email.header.make_header(email.header.decode_header(name)))
        return _one_line(name)
    except Exception:
        problems.append("attachment name undecodable")
        return ""
