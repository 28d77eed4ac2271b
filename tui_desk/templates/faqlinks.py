"""`faq` in a template: whether it is being rendered for the FAQ site, and links to entries.

In a reply `faq` is false, so `{% if faq %}…{% else %}…{% endif %}` keeps the site's
wording out of replies (and the agent's wording off the site). `{{ faq.url("return-label") }}`
is the address of that entry on the published site (`[faq] base_url`); on the site
itself it becomes a link to the entry. `faq.base_url` is the configured address (empty
when there is none), for templates that only link when the FAQ is published.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from urllib.parse import quote

import jinja2

# on the site, faq.url() leaves this mark in the text; the page builder turns it into a link
# (private-use characters: plain template text has no reason to contain them)
LINK_MARK = "\ue000{}\ue001"
LINK_MARK_RE = re.compile("\ue000([^\ue000\ue001]*)\ue001")


def page_file(language: str) -> str:
    """The FAQ page of one language, relative to the site's folder."""
    return f"{language}.html"


class NotOnSite(jinja2.UndefinedError):
    """Something a template asked for that the FAQ site cannot have (a conversation's
    variable, a fill-in slot) or a link that cannot be made; the message says which."""


class FaqLinks:
    """The `faq` variable. `pages`: template id → its FAQ page file (only templates with
    `faq = true`); None accepts any id (a trial render whose ids are checked elsewhere)."""

    def __init__(self, base_url: str = "", pages: Mapping[str, str] | None = None, *, site: bool = False) -> None:
        self.base_url = base_url
        self._pages = pages
        self._site = site

    def __bool__(self) -> bool:
        return self._site

    def __str__(self) -> str:
        raise NotOnSite('faq is not text: {% if faq %} tests for the FAQ site, faq.url("id") links to an entry')

    def url(self, name: object = "") -> str:
        name = str(name)
        if self._pages is not None and name not in self._pages:
            raise NotOnSite(f'faq.url("{name}"): there is no template {name!r} with faq = true')
        if self._site:
            return LINK_MARK.format(name)
        if not self.base_url:
            raise NotOnSite('faq.url needs [faq] base_url in the config (the address the FAQ site is published at);'
                            ' or put the link inside {% if faq.base_url %}…{% endif %}')
        page = self._pages[name] if self._pages is not None else page_file("en")
        return f"{self.base_url.rstrip('/')}/{page}#{quote(name, safe='')}"


class LazyPages(Mapping):
    """Template id → FAQ page, read from the templates only when a template links to
    one (most renders never do, and the picker renders often)."""

    def __init__(self, load: Callable[[], dict[str, str]]) -> None:
        self._load = load
        self._pages: dict[str, str] | None = None

    def _get(self) -> dict[str, str]:
        if self._pages is None:
            self._pages = self._load()
        return self._pages

    def __getitem__(self, key: str) -> str:
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class SiteGroup:
    """A variable group on the FAQ site: the values the site may show, and a clear
    refusal for every other one (a customer's name has no place on a public page)."""

    def __init__(self, label: str, values: dict[str, object], why: str) -> None:
        self._label = label
        self._values = values
        self._why = why

    def _refuse(self, name: str):
        raise NotOnSite(f"{self._label}.{name} {self._why}")

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._values:
            return self._values[name]
        self._refuse(name)

    __getitem__ = __getattr__

    def __bool__(self) -> bool:
        if self._values:
            return True
        raise NotOnSite(f"{self._label} {self._why}")

    def __str__(self) -> str:
        raise NotOnSite(f"{self._label} {self._why}")


NEEDS_CONVERSATION = "needs a conversation, and a FAQ page has none: keep it inside {% if not faq %}…{% endif %}"


def site_ask(label: object = "value") -> str:
    """`ask()` on the FAQ site: there is no agent to answer it."""
    raise NotOnSite(f'ask("{label}") needs an agent\'s answer, and a FAQ page has none:'
                    " keep it inside {% if not faq %}…{% endif %}")
