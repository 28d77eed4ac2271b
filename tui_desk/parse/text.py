"""Splitting quoted history off (bytes to text: parse/charset.py; HTML: parse/html.py).

Reply parsing reads the part of the text around the first
quote marker the way mail-parser-reply does (parse/reply_header.py), so long mails
stay cheap.
"""

from __future__ import annotations

import re


# The reply parser's cost grows with each language it tries, so it gets English plus
# the language whose quote header we spotted ("schrieb" → de, "写道" → zh, ...).
_MARKER_LANGUAGE = {
    "von": "de", "am": "de", "schrieb": "de", "ursprüngliche": "de",
    "de": "fr", "le": "fr", "a écrit": "fr", "message d'origine": "fr",
    "el": "es", "escribió": "es", "scrisse": "it", "van": "nl", "skrev": "sv", "från": "sv",
    "od": "pl", "napisał": "pl", "发件人": "zh", "写道": "zh", "差出人": "ja", "書きました": "ja",
    "보낸 사람": "ko", "님이 작성": "ko",
}

# cheap pre-check: lines where quoted history or a signature may begin...
_LINE_START_MARK = re.compile(
    r"^(>|-- ?$|_{5,}|-{3,} ?(Original|Forwarded|Ursprüngliche|Message d'origine)|"
    r"(From|Von|De|Van|Från|Od|发件人|差出人|보낸 사람)\s*[:：]|On .*|Am .*|Le .*|El .*)",
    re.MULTILINE,
)
# ...and words that end a quote header line ("… wrote:"); found with str.find, which
# is far cheaper than a regex alternation tried at every position of a long mail
_LINE_END_WORDS = ("wrote", "schrieb", "a écrit", "escribió", "scrisse", "skrev", "napisał",
                   "写道", "書きました", "님이 작성")
_LINE_END_REST = re.compile(r"[ \t]*[:：]?[ \t]*\r?$", re.MULTILINE)
_WINDOW_LINES = 40
_CONTEXT_LINES = 8
# the reply parser's regexes grow with line length; past this the split is made at
# the first quote marker without it (a 100,000-character line costs 0.2 s otherwise)
_WINDOW_CHARS = 20_000


def split_reply(text: str) -> tuple[str, str]:
    """(new text, quoted history and signature). The whole text stays recoverable.

    The reply parser is costly on long mail, so it only sees a window of lines around
    the first place where quoting may begin; everything before the window is new text.
    Where it finds no quote header (it reads none in Chinese, Japanese, Korean or
    Spanish, nor Swedish or Polish ones with the name after the verb), a run of ">"
    lines that ends the mail is still the history (_split_trailing_quote)."""
    new_text, quoted = _split_by_reply_parser(text)
    if quoted:
        return new_text, quoted
    return _split_trailing_quote(text) or (new_text, quoted)


def _split_by_reply_parser(text: str) -> tuple[str, str]:
    found = _first_marker(text)
    if found is None:
        return text.strip(), ""
    marker_at, marker = found
    line_start = text.rfind("\n", 0, marker_at) + 1
    window_start = line_start
    for _ in range(_CONTEXT_LINES):  # a few lines before: greetings, "On … wrote:" wrapped
        if window_start == 0:
            break
        window_start = text.rfind("\n", 0, window_start - 1) + 1
    window_end = len(text)
    position = line_start
    for _ in range(_WINDOW_LINES):
        position = text.find("\n", position + 1)
        if position < 0:  # fewer lines left: the window runs to the end (its last line too)
            window_end = len(text)
            break
        window_end = position
    window = text[window_start:window_end]
    if len(window) > _WINDOW_CHARS:
        head = text[:line_start].strip()
        return (head, text[line_start:].strip()) if head else (text.strip(), "")
    from .reply_header import latest_reply  # imported on first need: the reply parser loads slowly

    try:
        latest = latest_reply(window, _languages(marker))
    except Exception:  # the reply parser is heuristics; a failure only means "no split"
        return text.strip(), ""
    tail = latest[-60:]
    found = window.find(tail) if tail else -1
    if found < 0:
        return text.strip(), ""
    cut = window_start + found + len(tail)
    new_text = text[:cut].strip()
    if not new_text:
        return text.strip(), ""
    return new_text, text[cut:].strip()


def _split_trailing_quote(text: str) -> tuple[str, str] | None:
    """(new text, history) when the mail ends with ">" lines (blank lines between them
    allowed): they, and the attribution line above them ("… 写道：", "El … escribió:",
    "Den … skrev Support <s@x>:"), are the history. None when the mail does not end so,
    or has nothing before the quote. Only the end counts: a ">" line the customer
    answers below (an inline reply) is no history."""
    end = len(text.rstrip())
    last_line = text[text.rfind("\n", 0, end) + 1:end]
    if not last_line.lstrip().startswith(">"):  # most mail: decided without splitting lines
        return None
    lines = text[:end].split("\n")
    above = len(lines) - 1  # walks up to the last line that is neither blank nor quoted
    first_quote = above
    while above >= 0 and (not lines[above].strip() or lines[above].lstrip().startswith(">")):
        if lines[above].strip():
            first_quote = above
        above -= 1
    start = first_quote
    if above >= 0 and _is_attribution(lines[above]):
        start = above
        # "On Wed, 7 Jan 2026 at 09:00, Northwind Support" wrapped onto the line above
        if above > 0 and _ATTRIBUTION_START.match(lines[above - 1]) and not _ATTRIBUTION_START.match(lines[above]):
            start = above - 1
    new_text = "\n".join(lines[:start]).strip()
    if not new_text:
        return None
    return new_text, "\n".join(lines[start:]).strip()


def _is_attribution(line: str) -> bool:
    """A line that introduces a quote: "… wrote:" and its translations, or any line
    ending in a colon that holds an address or a date ("2026年3月2日(月) 9:00 Support <s@x>:")."""
    line = line.strip()
    return bool(_ATTRIBUTION.search(line)) or (line.endswith((":", "：")) and _ATTRIBUTION_HINT.search(line) is not None)


def _first_marker(text: str) -> tuple[int, str] | None:
    """(position, marker text) of the earliest place quoting may begin, or None."""
    match = _LINE_START_MARK.search(text)
    best = (match.start(), match.group(0)) if match else None
    for word in _LINE_END_WORDS:
        at = text.find(word)
        while at >= 0 and (best is None or at < best[0]):
            if _LINE_END_REST.match(text, at + len(word)):
                best = (at, word)
                break
            at = text.find(word, at + 1)
    return best


def _languages(marker: str) -> tuple[str, ...]:
    lowered = marker.strip().lower()
    for word, language in _MARKER_LANGUAGE.items():
        if lowered.startswith(word) or lowered.rstrip(": ：").endswith(word):
            return ("en", language)
    return ("en",)


def calendar_summary(data: bytes) -> str:
    """One readable line per event of an iCalendar invitation ("" if unreadable)."""
    try:
        from icalendar import Calendar  # imported on first invite: most mail has none

        calendar = Calendar.from_ical(data)
        method = str(calendar.get("method") or "").upper()
        label = {"REQUEST": "Invitation", "CANCEL": "Cancelled", "REPLY": "Answer to invitation"}.get(
            method, "Calendar event")
        lines = []
        for event in calendar.walk("VEVENT")[:10]:
            start = event.get("dtstart")
            when = start.dt.isoformat(sep=" ") if start is not None and hasattr(start.dt, "isoformat") else ""
            summary = " ".join(str(event.get("summary") or "").split())
            lines.append(f"[{label}] {summary}" + (f", {when}" if when else ""))
        return "\n".join(lines)
    except Exception:  # a broken invite is still stored as an attachment
        return ""


# -- quote blocks inside a message's text (for display) ---------------------------------

# "On … wrote:", "Am … schrieb …:", "El … escribió:", "… 写道：", "…のメール：": the line
# that introduces a ">" quote (a bottom-posted reply keeps it above the quote)
_ATTRIBUTION = re.compile(
    r"(wrote|schrieb[^:：]*|a écrit|escribió|scrisse|skrev|napisał|写道|書きました|のメール|님이 작성)\s*[:：]?\s*$",
    re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Am|Le|El|Il|Op|Den|W dniu)\s")
_ATTRIBUTION_HINT = re.compile(r"[@\d]")  # an address, or a date or time
# Outlook's history: a separator line, or a From: line with Sent:/Date:/To: soon after
_OUTLOOK_SEPARATOR = re.compile(r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|"
                                r"Mensaje original|原始邮件|Forwarded message)\s*-{2,}|_{10,})\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\**(From|Von|De|Van|Från|Od|Da|发件人|差出人|보낸 사람)\s*\**\s*[:：]", re.IGNORECASE)
_OUTLOOK_FIELD = re.compile(r"^\s*\**(Sent|Date|To|Subject|Gesendet|Datum|An|Betreff|Envoyé|Enviado|Fecha|Para|"
                            r"À|Objet|Asunto|Skickat|Till|Ämne|发送时间|日期|收件人|主题|送信日時|宛先|件名)\s*\**\s*[:：]",
                            re.IGNORECASE)


def quote_blocks(text: str) -> list[tuple[bool, str]]:
    """`text` cut into (is_quote, piece) blocks, in order, for folding at display time.

    A quote is a run of ">" lines (with the "On … wrote:" line before it, and blank
    lines inside it), or an Outlook history block ("-----Original Message-----", or a
    From: line followed by Sent:/To:/Subject: lines) which runs to the end of the text.
    Joining the pieces gives back the text's lines; nothing is dropped."""
    lines = text.split("\n")
    quote = [False] * len(lines)
    for i, line in enumerate(lines):
        if _OUTLOOK_SEPARATOR.match(line) or (
                _OUTLOOK_FROM.match(line) and any(_OUTLOOK_FIELD.match(n) for n in lines[i + 1:i + 4])):
            for j in range(i, len(lines)):
                quote[j] = True
            break
        if line.lstrip().startswith(">"):
            quote[i] = True
    for i, line in enumerate(lines):  # the attribution line, and blank lines between quote lines
        if quote[i]:
            continue
        after = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
        if after is None or not quote[after]:
            continue
        before = next((j for j in range(i - 1, -1, -1) if lines[j].strip()), None)
        if not line.strip() and before is not None and quote[before]:
            quote[i] = True
        elif _ATTRIBUTION.search(line) and lines[after].lstrip().startswith(">"):
            start = i  # "On Wed, 7 Jan 2026 …" wrapped onto the line above
            if before is not None and i - before == 1 and _ATTRIBUTION_START.match(lines[before]) \
                    and not _ATTRIBUTION_START.match(line):
                start = before
            for j in range(start, after):
                quote[j] = True
    blocks: list[tuple[bool, list[str]]] = []
    for line, is_quote in zip(lines, quote):
        if blocks and blocks[-1][0] == is_quote:
            blocks[-1][1].append(line)
        else:
            blocks.append((is_quote, [line]))
    return [(is_quote, "\n".join(piece)) for is_quote, piece in blocks]
