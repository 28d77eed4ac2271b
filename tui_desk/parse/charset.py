"""Bytes → text when the charset label is missing, unknown or wrong.

A label is trusted when the bytes decode under it, with two exceptions real mail needs:
an ISO-8859-1 label is read as Windows-1252 (as browsers do: Outlook's curly quotes
are labelled Latin-1), and bytes that are valid UTF-8 under a single-byte label are
UTF-8 (legacy text is practically never valid UTF-8 by chance).

Without a usable label, the few single-byte charsets most mail without one is written
in are each tried and the most plausible reading wins (`plausibility`): no symbols
where letters belong, no word that mixes Latin and Cyrillic letters, no "пРИВЕТ"
casing, no Latin word made of accented letters only. charset-normalizer only gets a
say when none of those reads cleanly (Greek, CJK, ...): on a short mail that is mostly
English it ranks cp866 and cp1125 above Windows-1251 (Nina Petrova's signature in the
demo became "╤ярёшсю, ═шэр").
"""

from __future__ import annotations

import codecs
import re
import unicodedata

# tried in this order; on a tie the earlier wins (the more common in mail today)
CANDIDATES = ("cp1252", "cp1251", "koi8_r", "cp866")
_SHOWN_NAME = {"cp1252": "windows-1252", "cp1251": "windows-1251", "cp1250": "windows-1250",
               "koi8_r": "koi8-r", "utf_8": "utf-8"}
# signs real text carries outside ASCII besides punctuation, digits and currency...
_TEXT_SIGNS = set("°©®™№±×÷")
# ...and those that mostly come from reading bytes in the wrong charset
_MOJIBAKE_SIGNS = set("¤¦¬¨¯´¸†‡‰")
_NON_ASCII_TOKEN = re.compile(r"\S*[^\x00-\x7f]\S*")
_SAMPLE_TOKENS = 2000  # enough to decide; a long mail costs no more


def decode(data: bytes, label: str | None) -> tuple[str, str | None]:
    """Bytes → text. Returns (text, problem); problem says when the label was missing,
    unknown or wrong, and how the text was read instead."""
    if label:
        name = label.strip().strip('"').lower()
        try:
            codec = codecs.lookup(name).name
        except LookupError:
            text, used = guess(data)
            return text, f"unknown charset {label!r}; read as {used}"
        if codec in ("iso8859-1", "latin-1", "latin_1") and re.search(rb"[\x80-\x9f]", data):
            name = "cp1252"  # C1 controls never belong in text: these are Windows-1252 quotes
        try:
            text = data.decode(name)
        except UnicodeDecodeError:
            text, used = guess(data)
            return text, f"text is not {label!r}; read as {used}"
        if not data.isascii() and _single_byte(name) and _is_utf8(data):
            return data.decode("utf-8"), f"labelled {label!r} but is UTF-8"
        return text, None
    if _is_utf8(data):
        return data.decode("utf-8"), None
    text, used = guess(data)
    return text, f"no charset label; read as {used}"


def guess(data: bytes) -> tuple[str, str]:
    """(text, the charset it was read as) for bytes without a usable label."""
    if _is_utf8(data):
        return data.decode("utf-8"), "utf-8"
    readings = _readings(data, CANDIDATES)
    best = min(readings, key=lambda r: r[0], default=None)
    if best is None or best[0] > 0:
        others = [r for r in _readings(data, _normalizer_suggestions(data)) if r[2] not in CANDIDATES]
        best = min([*([best] if best else []), *others], key=lambda r: r[0], default=None)
    if best is None:
        return data.decode("utf-8", errors="replace"), "utf-8 (damaged)"
    _, text, encoding = best
    return text, _SHOWN_NAME.get(encoding, encoding.replace("_", "-"))


def plausibility(text: str) -> int:
    """How wrong a reading looks: 0 for clean text, more for every sign of mojibake."""
    penalty = 0
    for count, token in enumerate(_NON_ASCII_TOKEN.finditer(text)):
        if count >= _SAMPLE_TOKENS:
            break
        penalty += _token_penalty(token.group(0))
    return penalty


def _token_penalty(token: str) -> int:
    penalty = 0
    letters = []
    for c in token:
        if c.isalpha():
            letters.append(c)
        elif not c.isascii() and not _text_sign(c):
            penalty += 3  # box drawing, control characters, "¬"
    scripts = {_script(c) for c in letters} - {"other"}
    if len(scripts) > 1:
        penalty += 3  # "GrьЯe", "cafй": Latin and Cyrillic in one word
    if any(a.islower() and b.isupper() and not (a.isascii() and b.isascii()) for a, b in zip(letters, letters[1:])):
        penalty += 2  # "пРИВЕТ", "яОЮЯХАН"
    non_ascii = sum(not c.isascii() for c in letters)
    if non_ascii >= 2 and non_ascii == len(letters):
        if scripts == {"latin"}:
            penalty += 2  # "Ñïàñèáî": Latin words are mostly plain letters
        elif all(c.isupper() for c in letters):
            penalty += 1  # lowercase words read in the other Cyrillic charset come out in capitals
    elif scripts == {"latin"} and non_ascii >= 3 and non_ascii > len(letters) - non_ascii:
        penalty += 2
    return penalty


def _text_sign(c: str) -> bool:
    if c in _MOJIBAKE_SIGNS:
        return False
    return c in _TEXT_SIGNS or unicodedata.category(c)[0] in "PNMZ" or unicodedata.category(c) == "Sc"


def _script(c: str) -> str:
    if c.isascii():
        return "latin"
    name = unicodedata.name(c, "")
    for script in ("LATIN", "CYRILLIC", "GREEK"):
        if name.startswith(script):
            return script.lower()
    return "other"


def _readings(data: bytes, encodings) -> list[tuple[int, str, str]]:
    """(penalty, text, encoding) for each encoding the bytes decode under."""
    out = []
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        out.append((plausibility(text), text, encoding))
    return out


def _normalizer_suggestions(data: bytes) -> list[str]:
    import charset_normalizer  # imported on first need: most mail is labelled right

    return [match.encoding for match in list(charset_normalizer.from_bytes(data))[:5]]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _single_byte(name: str) -> bool:
    # one character per byte: "é" in UTF-8 reads as two characters
    return len(b"\xc3\xa9".decode(name, errors="replace")) == 2
