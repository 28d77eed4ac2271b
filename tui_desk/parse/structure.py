"""Raw mail bytes → the compat32 Message tree, bounded: the header block on its own, a
fast path for plain single-part mail, and a level-by-level read (MAX_DEPTH levels at
most) for a nesting the feed parser cannot follow."""

from __future__ import annotations

import email
import email.parser
import re
from email.message import Message

from .charset import decode

HEADER_END = re.compile(rb"\r?\n\r?\n")
HEADERS_ONLY = email.parser.BytesHeaderParser()
SURROGATE = re.compile("[\udc80-\udcff]")
MAX_DEPTH = 50
"""Multipart levels read; a deeper subtree is one opaque attachment (NESTED_NAME)."""
NESTED_NAME = "nested-parts.eml"
# the part headers the structure is read from: 8-bit bytes in them are decoded first
_STRUCTURE_HEADERS = ("content-type", "content-disposition", "content-transfer-encoding")


def header_block(raw: bytes) -> bytes:
    """The top header block (with the blank line ending it), or all of `raw` without one."""
    end = HEADER_END.search(raw)
    return raw if end is None else raw[:end.end()]


def read_structure(raw: bytes, head: Message) -> Message:
    """The compat32 parse of `raw`, whose header block `head` is already read. A
    single-part mail with clean headers skips the feed parser's line-by-line walk over
    its body (most of the parse time of a long mail): the body is set as the payload of
    `head`, exactly what the full parse would have set. Anything unusual takes the full
    parse; one nested too deep for it (RecursionError) is read level by level."""
    end = HEADER_END.search(raw)
    if (end is not None and not head.defects and not head.get_payload()
            and head.get_content_maintype() not in ("multipart", "message")):
        head.set_payload(raw[end.end():].decode("ascii", "surrogateescape"))
        return head
    try:
        return email.message_from_bytes(raw)
    except RecursionError:
        return bounded_message(raw, 0)


def bounded_message(raw: bytes, depth: int) -> Message:
    """`raw` read one multipart level at a time, MAX_DEPTH levels at most: what lies
    deeper is one opaque part. Only for mail the feed parser cannot read."""
    if depth >= MAX_DEPTH:
        return opaque(raw)
    end = HEADER_END.search(raw)
    msg = HEADERS_ONLY.parsebytes(raw[:end.end()] if end else raw)
    body = raw[end.end():] if end else b""
    readable_structure(msg)
    boundary = msg.get_boundary() if msg.get_content_maintype() == "multipart" else None
    pieces = split_parts(body, boundary) if boundary else None
    if pieces is None:
        msg.set_payload(body.decode("ascii", "surrogateescape"))
        return msg
    msg.set_payload([bounded_message(piece, depth + 1) for piece in pieces])
    return msg


def split_parts(body: bytes, boundary: str) -> list[bytes] | None:
    """The parts of a multipart body between its delimiter lines; None without any."""
    delimiter = re.compile(rb"^--" + re.escape(boundary.encode("utf-8", "surrogateescape"))
                           + rb"(--)?[ \t]*\r?$", re.M)
    pieces: list[bytes] = []
    start = None
    for found in delimiter.finditer(body):
        if start is not None:  # the line break before a delimiter belongs to it
            piece = body[start:found.start()]
            pieces.append(piece[:-2] if piece.endswith(b"\r\n") else piece[:-1] if piece.endswith(b"\n") else piece)
        if found.group(1):
            break
        start = found.end() + 1  # past the line's \n (the match ends before it)
    return pieces if start is not None else None


class Opaque(Message):
    """A subtree nested too deep, kept as it came: one attachment, never read as text."""


def opaque(data: bytes) -> Message:
    part = Opaque()
    part["Content-Type"] = "application/octet-stream"
    part["Content-Disposition"] = f'attachment; filename="{NESTED_NAME}"'
    part.set_payload(data.decode("ascii", "surrogateescape"))
    return part


def readable_structure(part: Message) -> None:
    """Content-Type/-Disposition/-Transfer-Encoding with raw 8-bit bytes (an unencoded
    "résumé.pdf") come back from compat32 as Header objects, on which its own
    get_filename and get_content_type fail: the bytes are decoded (UTF-8, else
    detected) and the header set again as text."""
    done: set[str] = set()
    for key, value in part.raw_items():
        name = key.lower()
        if name in _STRUCTURE_HEADERS and name not in done and isinstance(value, str) and SURROGATE.search(value):
            done.add(name)
            text, _ = decode(value.encode("ascii", "surrogateescape"), None)
            part.replace_header(key, " ".join(text.split()))
