"""An answer's text as HTML: paragraphs, lists and links, everything else escaped.

Template bodies are plain text written for email and chat: blank lines part paragraphs,
lines starting with "- " or "1. " are list items. Nothing in the text is read as HTML;
web addresses and `faq.url()` marks become links.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from markupsafe import Markup

from ..templates.faqlinks import LINK_MARK_RE

_BULLET = re.compile(r"\s*[-*•]\s+(.*)")
_NUMBER = re.compile(r"\s*\d{1,3}[.)]\s+(.*)")
# an address ends before trailing punctuation that belongs to the sentence
_INLINE = re.compile(LINK_MARK_RE.pattern + r"|(https?://[^\s<>\"']*[^\s<>\"'.,;:!?)\]])")

Link = Callable[[str], tuple[str, str]]
"""Entry id → (href, link text)."""


def plain_text(text: str, link: Link) -> str:
    """The answer as text (for the search index): link marks become the linked question."""
    return LINK_MARK_RE.sub(lambda m: link(m.group(1))[1], text)


def answer_html(text: str, link: Link) -> Markup:
    """The answer as an HTML fragment."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        out.extend(_block(block.split("\n"), link))
    return Markup("\n".join(out))


def _block(lines: list[str], link: Link) -> list[str]:
    """Runs of paragraph lines, bullet items and numbered items, each as its element."""
    runs: list[tuple[str, list[str]]] = []
    for line in lines:
        if not line.strip():
            continue
        bullet, number = _BULLET.fullmatch(line), _NUMBER.fullmatch(line)
        block = "ul" if bullet else "ol" if number else "p"
        item = (bullet or number).group(1) if (bullet or number) else line.strip()
        if block == "p" and runs and runs[-1][0] != "p" and line[:1].isspace():
            runs[-1][1][-1] += " " + item  # an indented line continues the list item above it
        elif runs and runs[-1][0] == block:
            runs[-1][1].append(item)
        else:
            runs.append((block, [item]))
    html = []
    for block, items in runs:
        if block == "p":
            html.append("<p>" + "<br>\n".join(inline(i, link) for i in items) + "</p>")
        else:
            html.append(f"<{block}>" + "".join(f"<li>{inline(i, link)}</li>" for i in items) + f"</{block}>")
    return html


def inline(text: str, link: Link) -> str:
    """One line: escaped text, with addresses and entry links as <a> elements."""
    out, pos = [], 0
    for found in _INLINE.finditer(text):
        out.append(escape(text[pos:found.start()]))
        if found.group(1) is not None:
            href, label = link(found.group(1))
        else:
            href = label = found.group(2)
        out.append(f'<a href="{escape(href)}">{escape(label)}</a>')
        pos = found.end()
    out.append(escape(text[pos:]))
    return "".join(out)
