"""Reading a reply to the survey as a score from 1 to 5, and the comment after it.

Pure: text in, `Answer` or None out. A reply counts as a score only when its own text
(quoted history and signature cut off here too, since chat text is never split) starts
with one: a digit 1–5 ("4", "5/5", "4 stars"), stars ("⭐⭐⭐⭐", "★★★☆☆"), a face or a
thumb (😀🙂😐🙁😡 👍👎), or a word of the demo's languages ("great", "gut", "好", "差").
Anything else is None: the message is an ordinary one and reopens the conversation.

Misreading an ordinary message as a score would hide a customer's problem (a score
of 3 with a comment does not reopen), so what is unclear is no score: "2 boxes
arrived broken", "5pm", "1.5", "good morning", "ok so I still have a question".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

COMMENT_CHARS = 2000
"""The longest comment kept in the event (the message itself keeps everything)."""


@dataclass(frozen=True)
class Answer:
    score: int
    """1 (worst) to 5 (best)."""
    comment: str = ""
    """What the customer wrote after the score ("" when nothing)."""


# -- cutting off what is not the customer's own new text ------------------------------

_QUOTE_LINE = re.compile(r"^\s*>")
# history that runs to the end: Outlook's separator or header block, a forwarded mail
_HISTORY_START = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|原始邮件|"
    r"Forwarded message)|_{10,}|(From|Von|De|Van|Från|Od|Da|发件人|差出人)\s*[:：].*@)", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"^\s*(On|Am|Le|El|Il|Op|Den)\s.*(wrote|schrieb|a écrit|escribió|scrisse|schreef|skrev)[^:：]*[:：]?\s*$"
    r"|(写道|書きました|님이 작성)\s*[:：]?\s*$", re.IGNORECASE)
_SIGNATURE_START = re.compile(
    r"^\s*(--\s*|—\s*|sent from my\b.*|von meinem\b.*gesendet|envoyé de mon\b.*|enviado desde mi\b.*|"
    r"发自我的.*|get outlook for\b.*|sent from (outlook|mail|yahoo)\b.*)$", re.IGNORECASE)


def own_text(text: str) -> str:
    """The customer's own lines: quoted (">") lines and "On … wrote:" left out (an
    answer written below the quote still counts), up to a signature or a history block."""
    kept = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if _HISTORY_START.match(line) or _SIGNATURE_START.match(line):
            break
        if not _QUOTE_LINE.match(line) and not _ATTRIBUTION.search(line):
            kept.append(line)
    return "\n".join(kept).strip()


# -- the score at the start -------------------------------------------------------

_PREFIX = re.compile(r"(score|rating|note|bewertung|punkte|评分|打分|评价)\s*[:：=]?\s*", re.IGNORECASE)
# a digit read as a score: alone, out of 5, or with stars/points after it
_DIGIT = re.compile(
    r"([1-5])(?:\s*(?:/|out of|von|sur|de|of)\s*5(?![0-9])|\s*(?:stars?|sterne?|étoiles?|estrellas?|points?|punkte?"
    r"|星|分|颗星)(?![^\W\d_]))?", re.IGNORECASE)
# after a bare digit, what shows it is a number of something or a time, not a score
_NOT_AFTER_DIGIT = re.compile(
    r"\s*([0-9]|[.,:][0-9]|/\s*[0-9]|-\s*[0-9]|[%€$£x×]|(st|nd|rd|th|pm|am|h|min|kg|cm|mm|m|g|l)\b)", re.IGNORECASE)
_QUANTITY_WORDS = frozenset("""
    day days week weeks hour hours minute minutes month months year years time times item items box boxes
    piece pieces pcs order orders package packages parcel parcels pair pairs more other of or and to euro euros
    dollar dollars bucks question questions things thing left weitere tage tag woche wochen stunden stunde minuten
    monat monate jahr jahre mal stück pakete paket bestellungen bestellung jours jour semaines heures fois colis
    días día semanas horas veces paquetes
""".split())
_QUANTITY_CJK = ("天", "个", "件", "次", "小时", "周", "月", "年", "位", "号", "日", "点")

_STAR_FILLED = "⭐★🌟"
_STARS = re.compile(r"([⭐🌟★]\ufe0f?\s*){1,10}(☆\s*)*")
_FACES = {
    "😀": 5, "😃": 5, "😄": 5, "😁": 5, "🤩": 5, "😍": 5, "🥰": 5, "❤": 5, "💯": 5, "👍": 5, "👌": 4,
    "🙂": 4, "😊": 4, "☺": 4,
    "😐": 3, "😶": 3, "😑": 3, "🤷": 3,
    "🙁": 2, "☹": 2, "😕": 2, "😞": 2, "😟": 2, "😒": 2,
    "😡": 1, "😠": 1, "🤬": 1, "😤": 1, "👎": 1, "😭": 1,
}
_EMOJI_TAIL = re.compile(r"[\ufe0f\u200d\U0001F3FB-\U0001F3FF\u2640\u2642]*")

# words, longest first within a language so "sehr gut" wins over "gut"
_WORDS = {
    5: ["excellent", "amazing", "awesome", "perfect", "fantastic", "outstanding", "brilliant", "superb",
        "very good", "really good", "great", "super",
        "ausgezeichnet", "hervorragend", "sehr gut", "perfekt", "toll", "prima", "spitze", "klasse",
        "parfait", "génial", "très bien", "très bon", "excelente", "perfecto", "muy bien", "muy bueno",
        "非常好", "很好", "太好了", "非常满意", "很棒", "好评", "五星", "最高", "とても良い"],
    4: ["good", "gut", "bien", "bon", "bueno", "满意", "好", "不错", "良い", "よかった"],
    3: ["not bad", "so-so", "so so", "mediocre", "geht so", "passabel", "moyen", "bof", "一般", "还行", "还可以", "普通"],
    2: ["not good", "not great", "poor", "bad", "nicht gut", "schlecht", "mangelhaft", "mauvais", "pas bien", "nul",
        "malo", "mal", "不好", "不满意", "差", "悪い"],
    1: ["very bad", "really bad", "terrible", "awful", "horrible", "horrendous", "worst", "useless",
        "sehr schlecht", "furchtbar", "schrecklich", "miserabel", "katastrophal", "très mauvais", "catastrophique",
        "pésimo", "fatal", "很差", "非常差", "太差了", "太差", "差评", "非常不满意", "最悪"],
}
# "ok" and the like acknowledge as often as they rate: they count only alone
_ALONE_WORDS = {3: ["ok", "okay", "okey", "fine", "alright", "average", "passt", "geht", "mittel", "ça va", "correct",
                     "regular", "normal", "vale"]}
# "good morning", "great news": a greeting or a turn of phrase, not a rating
_NOT_AFTER_WORD = frozenset("""
    morning afternoon evening day night news question questions luck job to that one point morgen tag abend
    nacht frage nachricht idee soir matin jour journée question tarde día noche
""".split())
_NOT_AFTER_CJK = ("的", "久", "像", "吗", "么", "意思", "多", "不", "点", "了吗")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def read_answer(text: str) -> Answer | None:
    """The score (and comment) a reply starts with, or None when it starts with none."""
    mine = unicodedata.normalize("NFKC", own_text(text))  # "５" and "／" read as 5 and /
    body = _PREFIX.sub("", mine, count=1) if _PREFIX.match(mine) else mine
    body = body.lstrip(" *_(\"'“„«")
    if not body:
        return None
    found = _digit(body) or _stars(body) or _face(body) or _word(body)
    if found is None:
        return None
    score, rest = found
    return Answer(score, _comment(rest))


def _digit(body: str) -> tuple[int, str] | None:
    match = _DIGIT.match(body)
    if match is None:
        return None
    rest = body[match.end():]
    if match.end() == 1:  # a bare digit: make sure it is not a count, a time or a bigger number
        if _NOT_AFTER_DIGIT.match(rest):
            return None
        word = rest.strip().split(maxsplit=1)[0].lower().strip(".,!?;:") if rest.strip() else ""
        if word in _QUANTITY_WORDS or rest.lstrip().startswith(_QUANTITY_CJK):
            return None
        if rest[:1] and _LETTER.match(rest[:1]):  # "5x", "4th", "2nd"
            return None
    return int(match.group(1)), rest


def _stars(body: str) -> tuple[int, str] | None:
    match = _STARS.match(body)
    if match is None:
        return None
    count = sum(1 for ch in match.group(0) if ch in _STAR_FILLED)
    return min(count, 5), body[match.end():]


def _face(body: str) -> tuple[int, str] | None:
    first = body[0]
    if first not in _FACES:
        return None
    scores = []
    position = 0
    while position < len(body) and body[position] in _FACES:  # "👍👍" or "🙂🙂": one score
        scores.append(_FACES[body[position]])
        position += 1
        position = _EMOJI_TAIL.match(body, position).end()
        while position < len(body) and body[position] == " " and position + 1 < len(body) \
                and body[position + 1] in _FACES:
            position += 1
    if len(set(scores)) != 1:  # 😀😡 says nothing clear
        return None
    return scores[0], body[position:]


def _word(body: str) -> tuple[int, str] | None:
    lowered = body.lower()
    for table, alone in ((_WORDS, False), (_ALONE_WORDS, True)):
        best: tuple[int, int] | None = None  # (length, score): the longest word wins
        for score, words in table.items():
            for word in words:
                if lowered.startswith(word) and _ends_word(lowered, len(word), word) and \
                        (best is None or len(word) > best[0]):
                    best = (len(word), score)
        if best is None:
            continue
        length, score = best
        rest = body[length:] if len(lowered) == len(body) else lowered[length:]
        if alone and _LETTER.search(rest):
            return None
        if _phrase_goes_on(rest, body[:length]):
            return None
        return score, rest
    return None


def _ends_word(lowered: str, end: int, word: str) -> bool:
    """The word is whole: CJK words need no space after them, others do."""
    if end >= len(lowered):
        return True
    if not word.isascii() and not word[-1].isalpha() or _cjk(word[-1]):
        return True
    return not _LETTER.match(lowered[end]) and lowered[end] not in "-'"


def _phrase_goes_on(rest: str, word: str) -> bool:
    """"good morning", "great news", "好的": the word starts something else."""
    if _cjk(word[-1]):
        return rest.startswith(_NOT_AFTER_CJK)
    following = rest.strip().split(maxsplit=1)
    if not following or rest[:1] not in (" ", "\t"):
        return False
    return following[0].lower().strip(".,!?;:") in _NOT_AFTER_WORD


def _cjk(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _comment(rest: str) -> str:
    text = rest.strip().lstrip(".,;:!?-–—)*_\"'”»|/ \t\n。，！、：").strip()
    if not any(ch.isalnum() for ch in text):  # "*4*", "5!!": only the score's decoration
        return ""
    return text[:COMMENT_CHARS]
