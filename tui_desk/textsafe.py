"""Untrusted text made safe to show: no terminal escapes, no bidi tricks.

Customer text is stored as received; it is cleaned only when shown. Rich and Textual
must also be given `Text` objects (never markup strings) built from cleaned text.
"""

from __future__ import annotations

import json
import re

# C0 controls except tab and newline, DEL, C1 controls (0x9b is a one-byte CSI),
# bidi embeddings/overrides/isolates, and the line/paragraph separators
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
# whole escape sequences go, so their parameters don't linger as text: CSI (ESC [ or
# the one-byte 0x9b), OSC (ESC ] or 0x9d, up to BEL or ST) and two-byte ESC sequences
_ESCAPE_SEQUENCE = re.compile(
    r"(\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(\x1b\]|\x9d)[^\x07\x1b\x9c]*(\x07|\x1b\\|\x9c)?|\x1b[@-Z\\-_]"
)


def clean(text: str | None) -> str:
    """Multi-line text without escape sequences or control characters."""
    if not text:
        return ""
    text = _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n"))
    return _UNSAFE.sub("", text)


def one_line(text: str | None) -> str:
    """Clean text on a single line (subjects, names in lists)."""
    return " ".join(clean(text).split())


def header_text(text: str | None) -> str:
    """Text for a header we write (a subject, a display name): one line, and no "=?".
    The email package reads "=?charset?b?…?=" inside a value as an encoded word and
    writes out what it decodes to, CR LF included: a customer's subject or name holding
    one literally would become headers (a Bcc) of our reply. "= ?" reads the same."""
    return one_line(text).replace("=?", "= ?")


def safe_json(data: object, default=str) -> str:
    """JSON for a terminal or a pipe: readable Unicode, but every control and bidi
    character escaped (json only escapes C0 by itself). `default` turns what json cannot
    write (a datetime...) into text."""
    text = json.dumps(data, ensure_ascii=False, indent=2, default=default)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# RFC 5322 msg-id: "<" dot-atom-text "@" (dot-atom-text / no-fold-literal) ">", printable
# ASCII only. An encoded word ("=?") is refused too: the email package decodes it when a
# header is written, and a decoded CR LF would become headers (or a body) of ours.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_STRICT_MSGID = re.compile(rf"<{_ATOM}(?:\.{_ATOM})*@(?:{_ATOM}(?:\.{_ATOM})*|\[[\x21-\x5a\x5e-\x7e]*\])>")
MAX_MSGID = 250


def valid_msgid(value: str | None) -> bool:
    """Whether `value` is one safe Message-ID token (strict syntax, capped length)."""
    return (bool(value) and len(value) <= MAX_MSGID and "=?" not in value
            and _STRICT_MSGID.fullmatch(value) is not None)


_MSGID_CANDIDATE = re.compile(r"<[^<>\s]+>")


def msgids(header: str | None) -> list[str]:
    """The safe Message-IDs in a References-like header value, in order (unsafe ones dropped)."""
    return [m for m in _MSGID_CANDIDATE.findall(header or "") if valid_msgid(m)]
