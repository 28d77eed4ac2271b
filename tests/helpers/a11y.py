"""HTML checks for the FAQ site: parse errors by html5lib's strict parser (the HTML
standard's parsing rules), and basic accessibility: lang attributes, one h1, headings
in order, a label for every field, links with text, unique ids, named landmarks."""

from __future__ import annotations

import html5lib
from html5lib.html5parser import ParseError


def parse(text: str):
    """The document as an ElementTree (no namespaces); raises ParseError on any parse error."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(text)


def validation_errors(text: str) -> list[str]:
    try:
        parse(text)
    except ParseError as exc:
        return [str(exc)]
    return []


def _text(element) -> str:
    return "".join(element.itertext()).strip()


def accessibility_problems(text: str) -> list[str]:
    doc = parse(text)
    problems = []
    if not doc.get("lang"):
        problems.append("<html> has no lang attribute")
    if doc.find("head/title") is None or not _text(doc.find("head/title")):
        problems.append("no <title>")
    if doc.find("head/meta[@name='viewport']") is None:
        problems.append("no viewport meta: phones would show it zoomed out")
    levels = [int(e.tag[1]) for e in doc.iter() if e.tag in ("h1", "h2", "h3", "h4", "h5", "h6")]
    if levels.count(1) != 1:
        problems.append(f"expected one h1, found {levels.count(1)}")
    for before, after in zip(levels, levels[1:]):
        if after > before + 1:
            problems.append(f"heading h{after} follows h{before}: a level is skipped")
    if levels and levels[0] != 1:
        problems.append("the first heading is not h1")
    labelled = {e.get("for") for e in doc.iter("label")}
    for field in [*doc.iter("input"), *doc.iter("select"), *doc.iter("textarea")]:
        if field.get("type") == "hidden":
            continue
        if field.get("id") not in labelled and not field.get("aria-label"):
            problems.append(f"field {field.get('id') or field.get('name')!r} has no label")
    for link in doc.iter("a"):
        if not _text(link) and not link.get("aria-label"):
            problems.append(f"link to {link.get('href')!r} has no text")
    for image in doc.iter("img"):
        if image.get("alt") is None:
            problems.append(f"image {image.get('src')!r} has no alt text")
    ids = [e.get("id") for e in doc.iter() if e.get("id")]
    problems.extend(f"id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1}))
    navs = list(doc.iter("nav"))
    if len(navs) > 1 and any(not n.get("aria-label") for n in navs):
        problems.append("several <nav> landmarks, not all named by aria-label")
    if doc.find(".//main") is None:
        problems.append("no <main> landmark")
    for element in doc.iter():
        if element.tag == "a" and element.get("hreflang") and element.get("lang") != element.get("hreflang"):
            problems.append(f"language link {_text(element)!r} is not marked with its own lang")
    return problems
