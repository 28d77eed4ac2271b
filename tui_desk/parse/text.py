"""Turning bytes and HTML into readable text, and splitting quoted history off.

Decoding trusts a charset label only when it decodes cleanly; otherwise
charset-normalizer guesses. HTML becomes text through inscriptis (tables and lists
keep their layout). Reply parsing uses mail-parser-reply on the part of the text
around the first quote marker, so long mails stay cheap.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer
from inscriptis import get_text
from mailparser_reply import EmailReplyParser

_REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "da", "pl", "cs", "zh", "ja", "ko"]
_reply_parser: EmailReplyParser | None = None

# cheap pre-check: lines where quoted history or a signature may begin
_QUOTE_MARK = re.compile(
    r"^(>|-- ?$|_{5,}|-{3,} ?(Original|Forwarded|Ursprüngliche|Message d'origine)|"
    r"(From|Von|De|Van|Från|Od|发件人|差出人|보낸 사람)\s*:|On .*|Am .*|Le .*|El .*)"
    r"|(wrote|schrieb|a écrit|escribió|scrisse|skrev|napisał|写道|書きました|님이 작성)\s*:?\s*$",
    re.MULTILINE,
)
_WINDOW_LINES = 40


def decode(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Bytes → text. Returns (text, problem) where problem says when the label was wrong."""
    if label:
        name = label.strip().strip('"').lower()
        try:
            codecs.lookup(name)
        except LookupError:
            return _guess(data), f"unknown charset {label!r}"
        try:
            return data.decode(name), None
        except UnicodeDecodeError:
            return _guess(data), f"text is not {label!r}"
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return _guess(data), None if data.isascii() else "no charset label"


def _guess(data: bytes) -> str:
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    """Readable text from HTML (never raises: falls back to the markup stripped of tags)."""
    try:
        return get_text(html).strip()
    except Exception:  # inscriptis on malformed markup: keep something readable
        return re.sub(r"<[^>]*>", " ", html).strip()


def split_reply(text: str) -> tuple[str, str]:
    """(new text, quoted history and signature). The whole text stays recoverable."""
    match = _QUOTE_MARK.search(text)
    if match is None:
        return text.strip(), ""
    head_end = text.rfind("\n", 0, match.start())
    lines_after = text[match.start():].split("\n", _WINDOW_LINES)
    window = text[:match.start()] + "\n".join(lines_after[:_WINDOW_LINES])
    try:
        latest = _parser().read(window).latest_reply or ""
    except Exception:  # the reply parser is heuristics; a failure only means "no split"
        return text.strip(), ""
    latest = latest.strip()
    if not latest:
        latest = text[: max(head_end, 0)].strip()
        if not latest:
            return text.strip(), ""
    cut = text.find(latest[-50:]) + len(latest[-50:]) if latest[-50:] in text else len(latest)
    return latest, text[cut:].strip()


def _parser() -> EmailReplyParser:
    global _reply_parser
    if _reply_parser is None:
        _reply_parser = EmailReplyParser(languages=_REPLY_LANGUAGES)
    return _reply_parser
