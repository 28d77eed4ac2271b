"""The picker's ranking: fuzzy search plus what the conversation is about. Pure: no I/O.

A template's score for a typed query mixes three things (each 0–100):
- **query**: each typed word matched against the words of title, tags and keywords,
  and (weighted down) of the start of the body: a prefix counts 100, a typo its
  rapidfuzz ratio; the template's query score is the mean over the typed words;
- **message**: how many of the template's title words, tags and keywords occur
  (fuzzily) in the customer's last message;
- **history**: how similar the customer's last message is to messages this template
  answered before (token_set_ratio against past uses).
message and history form the context score, computed once when the picker opens;
each keystroke only runs the query match. With an empty query the context alone
ranks: that order gives the digit suggestions.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from .library import Template

QUERY_WEIGHT = 0.75
MIN_QUERY = 55.0  # below this a template does not match what was typed
BODY_CHARS = 400
BODY_WEIGHT = 0.85  # a hit in the body counts a little less than in title/tags/keywords
TERM_MATCH = 85.0  # fuzzy word match: "refunds" ~ "refund"
HISTORY_MIN = 50.0
_STOP = frozenset("the and for you your our with from that this have are was not can how what when".split())


@dataclass(frozen=True)
class Ranked:
    template: Template
    score: float
    query: float
    context: float


def message_scores(message: str, templates: Iterable[Template]) -> dict[str, float]:
    """Template id → how much the customer's message speaks of the template's terms."""
    words = set(utils.default_process(message).split())
    if not words:
        return {}
    pool = sorted(words)
    out: dict[str, float] = {}
    for t in templates:
        terms = {w for w in utils.default_process(" ".join((t.title, *t.tags, *t.keywords))).split()
                 if len(w) > 2 and w not in _STOP}
        hits = sum(1 for term in terms if term in words or process.extractOne(
            term, pool, scorer=fuzz.ratio, processor=None, score_cutoff=TERM_MATCH))
        if hits:
            out[t.id] = 100.0 * hits / (hits + 1)
    return out


def history_scores(message: str, answered: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Template id → best similarity between `message` and a message it answered before."""
    text = utils.default_process(message)
    if not text:
        return {}
    out: dict[str, float] = {}
    for template_id, asked in answered:
        score = fuzz.token_set_ratio(text, utils.default_process(asked))
        if score >= HISTORY_MIN and score > out.get(template_id, 0.0):
            out[template_id] = score
    return out


def context_scores(message: str, templates: Sequence[Template],
                   answered: Sequence[tuple[str, str]] = ()) -> dict[str, float]:
    """The context score per template: the stronger of message and history counts most."""
    by_message = message_scores(message, templates)
    by_history = history_scores(message, answered)
    out = {}
    for t in templates:
        a, b = by_message.get(t.id, 0.0), by_history.get(t.id, 0.0)
        if a or b:
            out[t.id] = 0.6 * max(a, b) + 0.4 * min(a, b)
    return out


class Picker:
    """Ranks one fixed set of templates for one conversation, keystroke after keystroke.

    Words are indexed once (word → templates, for title/tags/keywords and for the body);
    a keystroke matches each typed word against the vocabulary only (prefix, or
    rapidfuzz ratio for typos), so its cost does not grow with the length of bodies."""

    def __init__(self, templates: Sequence[Template], *, context: dict[str, float] | None = None,
                 channel: str = "", channel_kind: str = "", suggested: Sequence[tuple[str, str]] = (),
                 digits: dict[str, int] | None = None) -> None:
        self.templates = [t for t in templates if not channel or t.fits(channel, channel_kind)]
        self.context = context or {}
        self.reasons = dict(suggested)
        """Suggested template id → why (suggest.Suggestion.reason), best first."""
        self.digits = digits
        """Template id → the digit that sends it here (None: the pinned keys)."""
        self._index: dict[str, dict[int, float]] = {}  # word → template index → field weight
        for i, t in enumerate(self.templates):
            for word in utils.default_process(t.body[:BODY_CHARS]).split():
                self._index.setdefault(word, {})[i] = BODY_WEIGHT
            for word in utils.default_process(" ".join((t.title, *t.tags, *t.keywords))).split():
                self._index.setdefault(word, {})[i] = 1.0
        self._vocabulary = list(self._index)
        self._ctx = [self.context.get(t.id, 0.0) for t in self.templates]
        self._hits: dict[str, dict[int, float]] = {}  # typed word → hits; earlier words recur as one types on

    def _cached_hits(self, typed: str) -> dict[int, float]:
        if typed not in self._hits:
            if len(self._hits) > 256:
                self._hits.clear()
            self._hits[typed] = self._word_hits(typed)
        return self._hits[typed]

    def _word_hits(self, typed: str) -> dict[int, float]:
        """Template index → best match (0–100) of one typed word in that template."""
        matches = {w: 100.0 for w in self._vocabulary if w.startswith(typed)}
        if len(typed) >= 3:
            for word, score, _ in process.extract(typed, self._vocabulary, scorer=fuzz.ratio, processor=None,
                                                  limit=None, score_cutoff=TERM_MATCH - 10):
                matches.setdefault(word, score)
        hits: dict[int, float] = {}
        for word, score in matches.items():
            for i, weight in self._index[word].items():
                if score * weight > hits.get(i, 0.0):
                    hits[i] = score * weight
        return hits

    def rank(self, query: str = "", limit: int | None = None) -> list[Ranked]:
        """Best first. An empty query ranks by context (then pinned digit, then title)."""
        typed = utils.default_process(query).split()
        if not typed:
            ranked = [Ranked(t, self.context.get(t.id, 0.0), 0.0, self.context.get(t.id, 0.0)) for t in self.templates]
            first = {tid: n for n, tid in enumerate(self.reasons)}  # the suggestions, in their order
            ranked.sort(key=lambda r: (first.get(r.template.id, len(first)), -r.score, r.template.key or 10,
                                       r.template.title.lower()))
            return ranked[:limit]
        # one- and two-letter words ("is", "my") only count when nothing longer was typed
        words = [w for w in typed if len(w) > 2] or typed
        totals: dict[int, float] = {}
        for n, word in enumerate(words):
            hits = self._cached_hits(word)
            if n == 0:
                totals = hits
            else:
                totals = {i: total + hits.get(i, 0.0) for i, total in totals.items()}
        n = len(words)
        ctx = self._ctx
        w = QUERY_WEIGHT
        scored = [(w * total / n + (1 - w) * ctx[i], i, total / n) for i, total in totals.items()
                  if total >= MIN_QUERY * n]
        # only the shown rows become objects: a keystroke over thousands stays cheap
        if limit is not None and limit < len(scored):
            scored = heapq.nlargest(limit, scored, key=lambda x: (x[0], -x[1]))
        ranked = [Ranked(self.templates[i], score, q, ctx[i]) for score, i, q in scored]
        ranked.sort(key=lambda r: (-r.score, r.template.title.lower()))
        return ranked


def rank(query: str, templates: Sequence[Template], *, last_message: str = "",
         answered: Sequence[tuple[str, str]] = (), channel: str = "", limit: int | None = None) -> list[Ranked]:
    """One-shot ranking (the Picker class keeps the context between keystrokes)."""
    context = context_scores(last_message, templates, answered)
    return Picker(templates, context=context, channel=channel).rank(query, limit)
