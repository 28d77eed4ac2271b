"""Nearest past customer messages by TF-IDF cosine: what the template suggester learns
from. Pure: no I/O, no store.

Words are the full-text index's (`desk_segment`: Chinese, Japanese and Thai split per
character, here with each pair of neighbouring characters added, since a pair carries
most of the meaning), folded to lower case; greetings, numbers and the commonest words
of the desk's languages are left out (the FAQ suggestions' list).

The index keeps, per word, its documents by weight, longest list cut at MAX_POSTINGS:
a query walks at most that many entries per word it has, so its cost does not grow
with the history (100,000 messages answer in a few milliseconds). Documents added
after the build are appended with the weights of the moment, until `stale` says a
rebuild is due.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from operator import itemgetter

from rapidfuzz import utils

from ..faq.suggest import COMMON, _GREETING
from ..store.segment import segment

MAX_POSTINGS = 1500
"""Documents kept per word (the heaviest): bounds a query's cost."""
NEIGHBOURS = 30
"""How many nearest messages vote."""


def terms(text: str) -> list[str]:
    """The words the suggester compares, in order (repeats kept: they weigh)."""
    words = utils.default_process(segment(text or "")).split()
    out: list[str] = []
    run: list[str] = []  # consecutive single unspaced characters (Chinese, Japanese, Thai)

    def pairs() -> None:
        out.extend(a + b for a, b in zip(run, run[1:]))
        run.clear()

    for word in words:
        if len(word) == 1 and not word.isascii():
            run.append(word)
            out.append(word)
            continue
        pairs()
        if (len(word) > 2 or not word.isascii()) and not word.isdigit() and word not in COMMON \
                and not _GREETING.fullmatch(word):
            out.append(word)
    pairs()
    return out


def _weights(counts: Counter, idf: dict[str, float], unseen: float = 0.0) -> dict[str, float]:
    """(1 + log tf) · idf, of unit length; a word without an idf weighs `unseen` (a
    query's new words make it less like everything, they cannot match anything)."""
    raw = {w: (1.0 + math.log(n)) * idf.get(w, unseen) for w, n in counts.items()}
    norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
    return {w: v / norm for w, v in raw.items()}


class SimilarIndex:
    """Past customer messages, each labelled with the template that answered it."""

    def __init__(self, docs: Iterable[tuple[str, str]] = ()) -> None:
        """`docs`: (label, text) pairs."""
        self.labels: list[str] = []
        self.uses: Counter = Counter()
        """Label → how many documents carry it."""
        self._counts: list[Counter] = []
        self.df: Counter = Counter()
        self.idf: dict[str, float] = {}
        self.postings: dict[str, list[tuple[int, float]]] = {}
        self.built = 0
        """How many documents the last rebuild weighed."""
        self._weighed = False
        self.add(docs)
        self.rebuild()

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def stale(self) -> bool:
        """Whether enough was appended since the build that weights should be worked out again."""
        return len(self.labels) > self.built * 1.25 + 50

    def add(self, docs: Iterable[tuple[str, str]]) -> None:
        """Append documents: searchable at once with the current weights."""
        for label, text in docs:
            counts = Counter(terms(text))
            self.labels.append(label)
            self.uses[label] += 1
            self._counts.append(counts)
            self.df.update(counts.keys())
            if self._weighed:
                self._post(len(self.labels) - 1, counts)

    def _post(self, doc: int, counts: Counter) -> None:
        n = len(self.labels)
        for word in counts:
            if word not in self.idf:
                self.idf[word] = math.log(1.0 + n / self.df[word])
        for word, weight in _weights(counts, self.idf).items():
            self.postings.setdefault(word, []).append((doc, weight))

    def rebuild(self) -> None:
        """Weights from the whole collection; every word's list cut to its heaviest."""
        n = len(self.labels)
        self.idf = {w: math.log(1.0 + n / df) for w, df in self.df.items()}
        postings: dict[str, list[tuple[int, float]]] = {}
        for doc, counts in enumerate(self._counts):
            for word, weight in _weights(counts, self.idf).items():
                postings.setdefault(word, []).append((doc, weight))
        for word, entries in postings.items():
            if len(entries) > MAX_POSTINGS:
                entries.sort(key=itemgetter(1), reverse=True)
                del entries[MAX_POSTINGS:]
        self.postings = postings
        self.built = n
        self._weighed = True

    def nearest(self, text: str, k: int = NEIGHBOURS, skip: int | None = None) -> list[tuple[str, float]]:
        """(label, cosine similarity) of the `k` nearest documents, nearest first;
        `skip`: a document left out (a backtest asks about a message of the index)."""
        query = _weights(Counter(terms(text)), self.idf, math.log(1.0 + len(self.labels)))
        scores: dict[int, float] = {}
        get = scores.get
        for word, qw in query.items():
            for doc, weight in self.postings.get(word, ()):
                scores[doc] = get(doc, 0.0) + qw * weight
        if skip is not None:
            scores.pop(skip, None)
        best = heapq.nlargest(k, scores.items(), key=itemgetter(1))
        return [(self.labels[doc], score) for doc, score in best]


def votes(neighbours: Sequence[tuple[str, float]], similar: float) -> dict[str, tuple[float, int]]:
    """Label → (its share of the neighbours' weight, 0–1; how many are at least `similar`)."""
    total = sum(s * s for _, s in neighbours) or 1.0
    out: dict[str, tuple[float, int]] = {}
    for label, score in neighbours:
        share, count = out.get(label, (0.0, 0))
        out[label] = (share + score * score / total, count + (score >= similar))
    return out
