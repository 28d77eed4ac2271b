"""Template suggestions: the 3 templates most likely to answer a conversation, learnt
from the desk's own history, each with its reason.

    for s in suggest(config, store, library, conversation_id):
        s.template, s.score, s.reason       # score 0–1; "answered 14 similar messages"

**History.** Every template reply an agent sent (edited or not; automatic ones are no
one's choice) is a labelled example: the customer's words before it → the template.
The 30 past messages nearest to what the conversation asks now (TF-IDF cosine,
`similar.SimilarIndex`) vote for the templates that answered them, by similarity².

**Fallback.** A template's own words count too: its keywords, title and tags found in
the message (whole words; per character in Chinese, Japanese and Thai), and, weaker,
the share of the message's words its text uses. A template never used yet is found
by these alone.

**What is offered.** Only templates for people (`auto = false`), fitting the
conversation's channel. When the customer writes in a language (survey.language) some
offered template is written in, templates in other languages are left out; templates
without a language fit every customer.

The index is built once per database and process (in a worker in the console) and
takes new replies in as they are sent: a suggestion itself reads two small queries.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import Config
from ..errors import NotFound
from ..store import Store
from ..survey.language import detect
from .library import Template, TemplateLibrary
from .similar import SimilarIndex, terms, votes

SHOWN = 3
HISTORY_WEIGHT = 0.75
"""The history's share of a score; the template's own words make the rest."""
SIMILAR = 0.3
"""Cosine similarity from which a past message counts as similar (in the reason)."""
MIN_SCORE = 0.05
"""Below this a template is not suggested at all."""


@dataclass(frozen=True)
class Suggestion:
    """One suggested template."""

    template: Template
    score: float
    """0–1: the history's vote share and the template's own words, mixed."""
    reason: str
    """Why, for the agent: "answered 14 similar messages", "its keywords: refund"."""

    def as_json(self) -> dict:
        return {"template": self.template.id, "score": round(self.score, 3), "reason": self.reason}


class _Cache:
    """One history index per database file, shared by the threads of this process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.indexes: dict[Path, tuple[tuple[int, int], int, SimilarIndex]] = {}

    def index(self, store: Store) -> SimilarIndex:
        mark = store.template_answers_mark()
        with self.lock:
            key = Path(store.path).resolve()
            cached = self.indexes.get(key)
            if cached and cached[0] == mark:
                return cached[2]
            if cached and mark[0] > cached[1] and mark[1] > cached[0][1]:  # only new replies since
                index = cached[2]
                index.add((a.template_id, a.asked) for a in store.template_answers(cached[1]))
                if index.stale:
                    index.rebuild()
            else:  # first look, or a reply was taken back: read it all again
                index = SimilarIndex((a.template_id, a.asked) for a in store.template_answers())
            self.indexes[key] = (mark, mark[0], index)
            return index


_CACHE = _Cache()


def history_index(store: Store) -> SimilarIndex:
    """The desk's history, indexed (built at the first call, then kept up to date)."""
    return _CACHE.index(store)


def offered(templates: list[Template], channel: str, channel_kind: str, language: str) -> list[Template]:
    """The templates that may be suggested here (see the module's docstring)."""
    fitting = [t for t in templates if not t.auto and t.fits(channel, channel_kind)]
    if language and any(t.language == language for t in fitting):
        fitting = [t for t in fitting if t.language in ("", language)]
    return fitting


def _own_words(template: Template, asked: str, asked_terms: set[str]) -> tuple[float, str]:
    """How much the message speaks of the template's own words (0–1), and the reason."""
    folded = " " + " ".join(terms(asked)) + " "
    hits = []
    for phrase in (*template.keywords, *template.tags, template.title):
        words = terms(phrase)
        if words and all(f" {w} " in folded for w in words) and phrase not in hits:
            hits.append(phrase)
    if hits:
        return min(1.0, 0.5 * len(hits)), "its keywords: " + ", ".join(hits[:3])
    body = set(terms(template.body))
    shared = len(asked_terms & body) / len(asked_terms) if asked_terms else 0.0
    return 0.5 * shared, "its text uses your customer's words"


def rank(index: SimilarIndex, asked: str, candidates: list[Template], limit: int = SHOWN) -> list[Suggestion]:
    """The best `limit` of `candidates` for what was asked. Pure (the index is read only)."""
    asked_terms = set(terms(asked))
    if not asked_terms:
        return []
    ids = {t.id for t in candidates}
    neighbours = [(label, score) for label, score in index.nearest(asked) if label in ids]
    voted = votes(neighbours, SIMILAR)
    out = []
    for t in candidates:
        share, similar = voted.get(t.id, (0.0, 0))
        own, own_reason = _own_words(t, asked, asked_terms)
        if index.uses[t.id]:
            score = HISTORY_WEIGHT * share + (1 - HISTORY_WEIGHT) * own
        else:  # never used yet: its own words are all there is to go on
            score = 0.6 * own
        if score < MIN_SCORE:
            continue
        if similar:
            reason = f"answered {similar} similar message{'s' if similar != 1 else ''}"
        elif share:
            reason = "answered messages a little like this one"
        else:
            reason = own_reason
        out.append(Suggestion(t, score, reason))
    out.sort(key=lambda s: (-s.score, s.template.title.lower()))
    return out[:limit]


@dataclass
class Offer:
    """What may be offered in one conversation, and the suggestions among it."""

    candidates: list[Template]
    """Every template that may be offered here (see `offered`)."""
    suggested: list[Suggestion]


def offer(config: Config, store: Store, library: TemplateLibrary, conversation_id: int,
          limit: int = SHOWN) -> Offer:
    """The templates that may be offered in the conversation and the best `limit` of them."""
    asking = store.asking(conversation_id)
    if asking is None:
        raise NotFound(f"no conversation {conversation_id}")
    kind = next((c.kind for c in config.channels if c.name == asking.channel), "")
    candidates = offered(library.templates(), asking.channel, kind, detect(list(asking.customer_texts)))
    return Offer(candidates, rank(history_index(store), asking.asked, candidates, limit))


def suggest(config: Config, store: Store, library: TemplateLibrary, conversation_id: int,
            limit: int = SHOWN) -> list[Suggestion]:
    """The templates most likely to answer the conversation, best first (at most `limit`)."""
    return offer(config, store, library, conversation_id, limit).suggested
