"""Template suggestions: the 3 templates most likely to answer a conversation, learnt
from the desk's own history, each with its reason.

    for s in suggest(config, store, library, conversation_id):
        s.template, s.score, s.reason       # score 0–1; "answered 14 similar messages"

**History.** Every template reply an agent sent (edited or not; automatic ones are no
one's choice) is a labelled example: the customer's words before it → the template.
The 30 past messages nearest to what the conversation asks now (TF-IDF cosine,
`similar.SimilarIndex`) vote for the templates that answered them, by similarity².

**Fallback.** A template's own words count too: its keywords, title and tags found in
the message as phrases (per character in Chinese, Japanese and Thai; a longer phrase
weighs more), else, weaker, the share of the message's words its text uses. A template never used yet is found
by these alone.

**What is offered.** Only templates for people (`auto = false`), fitting the
conversation's channel, and not in the `manual` stage (templates.stages). When the
customer writes in a language (survey.language), a template in another language is left
out if the same answer exists in theirs (the same id with the language as suffix:
"order-status" and "order-status-de"), and the rest in other languages count a little
less; templates without a language fit all.

The index is built once per database and process (in a worker in the console) and
takes new replies in as they are sent: a suggestion itself reads two small queries.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import utils

from ..config import Config
from ..errors import NotFound
from ..store import Store
from ..store.segment import segment
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
BODY_WEIGHT = 0.25
"""The most a template's text (not its keywords) can count of its own-words score."""
OTHER_LANGUAGE = 0.8
"""A template in another language than the customer's counts this much of its score."""


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
            if cached and not store.replies_taken_back_since(cached[0][1]):  # only new replies, if any
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


def family(template: Template) -> str:
    """The template's id without its language suffix: "order-status-de" and
    "order-status" are one answer in two languages."""
    suffix = f"-{template.language}" if template.language else ""
    return template.id[:-len(suffix)] if suffix and template.id.endswith(suffix) else template.id


SCRIPTS = {"zh": re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]"),
           "ja": re.compile(r"[\u3040-\u30FF\u4E00-\u9FFF]"), "ko": re.compile(r"[\uAC00-\uD7AF]"),
           "th": re.compile(r"[\u0E00-\u0E7F]")}
"""Languages with a script of their own: their templates need the customer to write in it."""


def offered(templates: list[Template], channel: str, channel_kind: str, language: str,
            text: str = "") -> list[Template]:
    """The templates that may be offered here: for people (not `auto`), fitting the
    channel, none in a script the customer's `text` does not use (Chinese, Japanese,
    Korean, Thai), and none in another language than the customer's when the same
    answer exists in theirs (see `family`)."""
    fitting = [t for t in templates if not t.auto and t.fits(channel, channel_kind)
               and (t.language not in SCRIPTS or SCRIPTS[t.language].search(text))]
    if not language:
        return fitting
    theirs = {family(t) for t in fitting if t.language == language}
    return [t for t in fitting if t.language in ("", language) or family(t) not in theirs]


def folded(text: str) -> str:
    """Lower case, punctuation out, CJK and Thai per character, padded with spaces: a
    phrase is found as f" {folded(phrase).strip()} " in it."""
    return " " + " ".join(utils.default_process(segment(text or "")).split()) + " "


def _own_words(template: Template, asked_folded: str, asked_terms: set[str]) -> tuple[float, str]:
    """How much the message speaks of the template's own words (0–1), and the reason:
    its keywords, tags or title found as phrases (a longer phrase weighs more), else
    (weaker) the share of the message's words its text uses."""
    hits, weight = [], 0.0
    for phrase in dict.fromkeys((*template.keywords, *template.tags, template.title)):
        words = folded(phrase).split()
        if words and f" {' '.join(words)} " in asked_folded:
            hits.append(phrase)
            weight += 1.0 + 0.5 * (len(words) - 1)
    if hits:
        return min(1.0, weight / 2), "its keywords: " + ", ".join(hits[:3])
    body = set(terms(template.body))
    shared = len(asked_terms & body) / len(asked_terms) if asked_terms else 0.0
    return BODY_WEIGHT * shared, "its text uses the customer's words"


def rank(index: SimilarIndex, asked: str, candidates: list[Template], limit: int = SHOWN,
         language: str = "", skip: int | None = None) -> list[Suggestion]:
    """The best `limit` of `candidates` for what was asked by a customer writing in
    `language` (its templates are preferred). Pure (the index is read only); `skip`:
    an indexed message left out (the gate's backtest asks about the index's own)."""
    asked_terms = set(terms(asked))
    if not asked_terms:
        return []
    asked_folded = folded(asked)
    ids = {t.id for t in candidates}
    neighbours = [(label, score) for label, score in index.nearest(asked, skip=skip) if label in ids]
    voted = votes(neighbours, SIMILAR)
    closest: dict[str, float] = {}
    for label, similarity in neighbours:
        closest[label] = max(closest.get(label, 0.0), similarity)
    out = []
    for t in candidates:
        share, similar = voted.get(t.id, (0.0, 0))
        # a share of faint neighbours is no evidence: a short history has neighbours for anything
        share *= min(1.0, closest.get(t.id, 0.0) / SIMILAR)
        own, own_reason = _own_words(t, asked_folded, asked_terms)
        if index.uses[t.id]:
            score = HISTORY_WEIGHT * share + (1 - HISTORY_WEIGHT) * own
        else:  # never used yet: its own words are all there is to go on
            score = 0.6 * own
        if language and t.language and t.language != language:
            score *= OTHER_LANGUAGE
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
    language = detect(list(asking.customer_texts))
    candidates = offered(library.templates(), asking.channel, kind, language, asking.asked)
    suggestable = unsuggested(candidates, store.template_stages())
    return Offer(candidates, rank(history_index(store), asking.asked, suggestable, limit, language))


def unsuggested(candidates: list[Template], stages: dict[str, str]) -> list[Template]:
    """The candidates without those the team put in the `manual` stage (picked by hand only)."""
    return [t for t in candidates if stages.get(t.id) != "manual"]


def suggest(config: Config, store: Store, library: TemplateLibrary, conversation_id: int,
            limit: int = SHOWN) -> list[Suggestion]:
    """The templates most likely to answer the conversation, best first (at most `limit`)."""
    return offer(config, store, library, conversation_id, limit).suggested
