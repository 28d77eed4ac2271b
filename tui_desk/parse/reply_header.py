"""The newest reply of a mail window, as mail-parser-reply reads it, at a fraction of its cost.

`EmailReplyParser.read(text).latest_reply` cuts the text at every quote header its
regex finds and runs signature and disclaimer regexes over each piece; only the first
piece is the latest reply, and the signature and disclaimer results never reach it.
This reads the same normalised text with the same header regex, but stops at the
first header with text before it, and tries the regex only where a header can start
(a line start or a line break) instead of at every character. tests/unit/test_reply_header.py
holds it to `read()` on real-looking mail in the languages we hand it.
"""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import GENERIC_MAIL_SEPARATOR, MAIL_LANGUAGES, OUTLOOK_MAIL_SEPARATOR
from mailparser_reply.parser import EmailMessage

# read() glues an underscore line to the text before it; it passes re.MULTILINE where
# re.sub takes its count, so it does so at most 8 times
_GLUED_SEPARATOR = re.compile(f"([^\n]){OUTLOOK_MAIL_SEPARATOR}")
_GLUE_COUNT = 8
_SEPARATOR_LENGTH = 32  # [_-]{32,}: fewer such characters in all, nothing to glue
# header patterns that can only match from a line start ("^…") or a line break
# ("(?:^|\n|…)"); a language with any other kind is read with a scan at every position
_ANCHORED = ("^", "((?:(?:^|\\n|\\n(?:> ?)*)")
_readers: dict[tuple[str, ...], tuple[re.Pattern, bool]] = {}


def latest_reply(window: str, languages: tuple[str, ...]) -> str:
    """`EmailReplyParser(languages).read(window).latest_reply`, stripped ("" for None)."""
    header_regex, anchored = _reader(languages)
    if header_regex.groups < 2:  # read() flattens findall's tuples: only the same with 2+ groups
        return (EmailReplyParser(languages=list(languages)).read(window).latest_reply or "").strip()
    text = _normalised(window)
    position = 0
    # as read(): every non-empty group of every match is a header, found again with
    # str.find after the previous one; the first non-empty stretch before one is the reply
    for match in (_line_matches(header_regex, text) if anchored else header_regex.finditer(text)):
        for header in match.groups():
            if not header:
                continue
            found = text.find(header, position + 1 if position > 0 else position)
            content = text[position:found].strip()
            position = found if found >= 0 else 0
            if content:
                return content
    return text[position:].strip()


def _reader(languages: tuple[str, ...]) -> tuple[re.Pattern, bool]:
    """(the header regex read() uses for these languages, whether it is anchored)."""
    known = _readers.get(languages)
    if known is None:
        kept = EmailReplyParser(languages=list(languages)).languages  # read() drops unknown ones
        message = EmailMessage(text="", languages=list(kept))  # adds English, as read() does
        patterns = [GENERIC_MAIL_SEPARATOR]
        for language in message.languages:
            for key in ("wrote_header", "from_header"):
                value = MAIL_LANGUAGES.get(language, {}).get(key)
                patterns += value if isinstance(value, list) else [value or ""]
        anchored = all(_anchored(p) for p in patterns if p)
        known = _readers[languages] = (message.HEADER_REGEX, anchored)
    return known


def _normalised(window: str) -> str:
    """The text read() works on: CRLF → LF, each line stripped, separators glued."""
    text = "\n".join([line.strip() for line in window.replace("\r\n", "\n").split("\n")])
    if text.count("_") + text.count("-") >= _SEPARATOR_LENGTH:
        text = _GLUED_SEPARATOR.sub("\\1\n", text, count=_GLUE_COUNT)
    return text


def _line_matches(header_regex: re.Pattern, text: str):
    """What header_regex.finditer(text) yields, for a regex whose matches all start at a
    line start or a line break: tried only at those places, in order."""
    position = 0  # where the next match may start (finditer goes on from a match's end)
    for start in _line_places(text):
        if start < position:
            continue
        match = header_regex.match(text, start)
        if match:
            yield match
            position = max(match.end(), start + 1)


def _line_places(text: str):
    """0, then each line break and the line start after it, ascending, once each."""
    yield 0
    last = 0
    at = text.find("\n")
    while at >= 0:
        if at > last:
            yield at
        yield at + 1
        last = at + 1
        at = text.find("\n", at + 1)


def _anchored(pattern: str) -> bool:
    """True if `pattern` starts as in _ANCHORED (not made optional) and has no "|"
    outside its groups (which would let a branch start anywhere)."""
    prefix = next((a for a in _ANCHORED if pattern.startswith(a)), None)
    if prefix is None or pattern[len(prefix):len(prefix) + 1] in ("?", "*", "{"):  # an optional anchor is none
        return False
    depth, in_class, escaped = 0, False, False
    for at, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]" or pattern[at - 1] == "["
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return False
    return True
