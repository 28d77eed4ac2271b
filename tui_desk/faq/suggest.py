"""What to write next: questions customers keep asking that agents answer by hand and
the FAQ does not cover yet, grouped into clusters of similar questions with counts.

A question is how a conversation began (the customer's messages before the first agent
reply) where no reply in it came from a template. It is **covered** when it (with its
subject) contains a keyword of a FAQ entry, or all the words of the entry's question.
The rest are grouped greedily: a question joins the first cluster whose first question
it resembles (rapidfuzz token_set_ratio ≥ SIMILAR over the words of the messages, the
subject only when they have none; greetings, numbers, short and common words left out;
Chinese, Japanese and Thai count per character), else it starts a cluster of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils

from ..store import Store
from ..store.segment import segment
from ..store.faq import FirstMessage
from ..templates import Template

SIMILAR = 72
"""How alike two questions must be to be one cluster (0–100)."""
_WORD = re.compile(r"\w+")
_GREETING = re.compile(r"^(h+i+|hel+o+|hey+|hal+o+|thx|ty)$")
# words every question has, which would make any two look alike (en, de, fr, es)
COMMON = frozenset("""
the and you your yours can could would should will with for are was were have has had this that these those
there here what when where which who how why please thanks thank hello dear regards question help still
yes also its not but from our get got just about any all some one does did doing been being into out very
much many more most than then them they their she his her him our ours mine myself been okay sorry
und der die das ich sie ist ein eine einen mit für bitte danke hallo guten tag nicht auch kann wie was
les des est une pour vous que qui bonjour merci avec dans pas sur
los las una para por que hola gracias con del muy
""".split())


@dataclass
class Cluster:
    """Questions that look alike; `example` is the first one seen (the newest)."""

    example: FirstMessage
    key: str
    conversations: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.conversations)

    def as_json(self) -> dict:
        return {"count": self.count, "subject": self.example.subject, "example": self.example.text,
                "conversations": self.conversations}


def key_text(text: str) -> str:
    """What clusters compare: each word once, lower case, no punctuation, CJK and Thai
    split per character; greetings, numbers, common and one- or two-letter words left out."""
    words = utils.default_process(segment(text)).split()
    kept = (w for w in words if (len(w) > 2 or not w.isascii()) and not w.isdigit()
            and w not in COMMON and not _GREETING.fullmatch(w))
    return " ".join(dict.fromkeys(kept))


def covered(question: str, entries: list[Template]) -> bool:
    """Whether a FAQ entry already answers it: one of its keywords occurs in the
    question, or every word of its own question does."""
    folded = " ".join(_WORD.findall(question.casefold()))
    words = set(folded.split())
    for entry in entries:
        for keyword in entry.keywords:
            phrase = " ".join(_WORD.findall(keyword.casefold()))
            if phrase and (phrase in folded if not phrase.isascii() else f" {phrase} " in f" {folded} "):
                return True
        asked = set(_WORD.findall(entry.question.casefold()))
        if asked and asked <= words:
            return True
    return False


def suggest(store: Store, templates: list[Template], *, since: str | None = None, min_count: int = 2,
            limit: int = 10) -> list[Cluster]:
    """The `limit` largest clusters of at least `min_count` uncovered questions, largest first."""
    entries = [t for t in templates if t.faq]
    clusters: list[Cluster] = []
    keys: list[str] = []
    for asked in store.hand_answered_first_messages(since):
        question = f"{asked.subject}\n{asked.text}"
        if covered(question, entries):
            continue
        key = key_text(asked.text) or key_text(asked.subject)
        if not key:
            continue  # nothing but greetings and numbers
        best = process.extractOne(key, keys, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR) if keys else None
        if best is None:
            clusters.append(Cluster(asked, key, [asked.conversation_id]))
            keys.append(key)
        else:
            clusters[best[2]].conversations.append(asked.conversation_id)
    chosen = [c for c in clusters if c.count >= min_count]
    chosen.sort(key=lambda c: -c.count)  # stable: equal counts keep the newest first
    return chosen[:limit]
