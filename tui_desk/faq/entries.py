"""The FAQ's entries: templates with faq = true, rendered for customers, most used first.

Each entry is its template rendered by `render_for_site`: `faq` is true, and anything
that needs a conversation (the customer's name, the agent, a fill-in slot) is refused,
so what reaches the site is the template's own text and the desk's name. One problem in
one template stops the whole build: a half-published FAQ is worse than yesterday's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..config import LANGUAGE_TAG, Config
from ..errors import UsageError
from ..templates import Template, TemplateLibrary
from ..templates.faqlinks import FaqLinks
from ..templates.render import desk_values, entry_language, faq_pages, render_for_site

ENTRY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A template id that can be an entry's anchor (the part after # in its link)."""


@dataclass(frozen=True)
class Entry:
    """One question and its answer, as the site shows it."""

    id: str
    language: str
    question: str
    text: str
    """The answer: the template rendered for the site (links to entries as marks, see faqlinks)."""
    keywords: tuple[str, ...]
    tags: tuple[str, ...]
    uses: int
    """Replies sent from the template: the order of the entries."""


class FaqBuildError(UsageError):
    """Templates that cannot be published as they are; the message names each file and fix."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        listed = "; ".join(f"{name}: {p}" for name, found in sorted(problems.items()) for p in found)
        super().__init__(f"cannot build the FAQ: {listed}")


def published(templates: list[Template]) -> list[Template]:
    return [t for t in templates if t.faq]


def collect(config: Config, library: TemplateLibrary, uses: dict[str, int]) -> tuple[list[Entry], dict[str, str]]:
    """(the entries, most used first; {file name: problem} of unreadable template files,
    which are left out). Raises FaqBuildError naming every template that cannot be
    published, and UsageError when none is marked faq = true."""
    templates, broken = library.scan()
    chosen = published(templates)
    if not chosen:
        raise UsageError(f"no template in {library.folder} has faq = true: mark the ones customers should"
                         ' find, each with a question = "…" (docs/faq.md)')
    pages = faq_pages(config, templates)
    links = FaqLinks(config.faq.base_url, pages, site=True)
    desk = desk_values(config)
    problems: dict[str, list[str]] = {}
    entries = []
    for t in chosen:
        found = []
        language = entry_language(t, config.faq.language)
        if not LANGUAGE_TAG.fullmatch(language):
            found.append(f'language {language!r} is not a language tag such as "en" or "zh-Hant"')
        if not ENTRY_ID.fullmatch(t.id):
            found.append("the file name becomes the entry's link: use letters, digits, '-', '_' and '.' only")
        result = render_for_site(t, desk, links)
        found.extend(result.problems)
        if not result.problems and not result.text.strip():
            found.append("its FAQ text is empty (is all of it inside {% if not faq %}?)")
        if found:
            problems[t.path.name] = found
            continue
        entries.append(Entry(id=t.id, language=language, question=t.question, text=result.text,
                             keywords=t.keywords, tags=t.tags, uses=uses.get(t.id, 0)))
    if problems:
        raise FaqBuildError(problems)
    entries.sort(key=lambda e: (-e.uses, e.question.casefold(), e.id))
    return entries, broken
