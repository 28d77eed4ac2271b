"""Which language a customer writes in, from their own messages (for the survey's text).

A small, explainable guess: the script first (Han → zh, kana → ja, Hangul → ko), then
the commonest short words of the European languages the demo speaks. "" when unsure.
"""

from __future__ import annotations

import re

_WORDS = {
    "en": "the and is you my to for it not with have this of was thanks please order",
    "de": "der die das und ist ich nicht mit sie ein eine zu bitte danke meine bestellung haben für",
    "fr": "le la les et est je pas avec vous une pour merci mon ma commande bonjour",
    "es": "el la los y es que no con usted una para gracias mi pedido hola por",
    "nl": "de het en is ik niet met een voor bedankt mijn bestelling",
}
_SETS = {lang: frozenset(words.split()) for lang, words in _WORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect(texts: list[str]) -> str:
    """The language of these texts (ISO 639-1), or "" when they do not say clearly."""
    text = " ".join(texts)[:20_000]
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
    hangul = sum(1 for ch in text if "\uac00" <= ch <= "\ud7af")
    if kana >= 2:
        return "ja"
    if hangul >= 2:
        return "ko"
    if han >= 2:
        return "zh"
    counts = dict.fromkeys(_SETS, 0)
    for token in _TOKEN.findall(text.lower()):
        for lang, words in _SETS.items():
            if token in words:
                counts[lang] += 1
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    (best, top), (_, second) = ranked[0], ranked[1]
    return best if top >= 2 and top > second else ""
