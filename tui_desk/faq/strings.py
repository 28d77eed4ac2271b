"""The site's own words in each language it knows (English for any other), and the
name of each language in itself, for the language switcher."""

from __future__ import annotations

NAMES = {
    "en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "it": "Italiano", "nl": "Nederlands",
    "pt": "Português", "sv": "Svenska", "da": "Dansk", "nb": "Norsk", "fi": "Suomi", "pl": "Polski",
    "cs": "Čeština", "tr": "Türkçe", "ru": "Русский", "uk": "Українська", "el": "Ελληνικά", "ar": "العربية",
    "he": "עברית", "zh": "中文", "zh-Hans": "简体中文", "zh-Hant": "繁體中文", "ja": "日本語", "ko": "한국어",
    "th": "ไทย", "vi": "Tiếng Việt", "id": "Bahasa Indonesia", "hi": "हिन्दी",
}
RIGHT_TO_LEFT = {"ar", "he", "fa", "ur"}

_EN = {
    "title": "Frequently asked questions",
    "skip": "Skip to the questions",
    "languages": "Languages",
    "questions": "Questions",
    "search": "Search the questions",
    "found": "{n} found",
    "none": "Nothing found. Try other words, or write to us.",
}
WORDS = {
    "en": _EN,
    "de": {"title": "Häufige Fragen", "skip": "Zu den Fragen springen", "languages": "Sprachen",
           "questions": "Fragen", "search": "Fragen durchsuchen", "found": "{n} gefunden",
           "none": "Nichts gefunden. Versuchen Sie andere Wörter, oder schreiben Sie uns."},
    "fr": {"title": "Questions fréquentes", "skip": "Aller aux questions", "languages": "Langues",
           "questions": "Questions", "search": "Chercher dans les questions", "found": "{n} trouvé(s)",
           "none": "Rien trouvé. Essayez d'autres mots, ou écrivez-nous."},
    "es": {"title": "Preguntas frecuentes", "skip": "Ir a las preguntas", "languages": "Idiomas",
           "questions": "Preguntas", "search": "Buscar en las preguntas", "found": "{n} encontradas",
           "none": "No se encontró nada. Pruebe con otras palabras o escríbanos."},
    "zh": {"title": "常见问题", "skip": "跳到问题", "languages": "语言", "questions": "问题",
           "search": "搜索问题", "found": "找到 {n} 条", "none": "没有找到。请换个词试试，或直接联系我们。"},
    "ja": {"title": "よくある質問", "skip": "質問へ移動", "languages": "言語", "questions": "質問",
           "search": "質問を検索", "found": "{n} 件", "none": "見つかりませんでした。別の言葉で試すか、お問い合わせください。"},
    "th": {"title": "คำถามที่พบบ่อย", "skip": "ไปที่คำถาม", "languages": "ภาษา", "questions": "คำถาม",
           "search": "ค้นหาคำถาม", "found": "พบ {n} รายการ", "none": "ไม่พบ ลองใช้คำอื่น หรือติดต่อเรา"},
}


def words(language: str) -> dict[str, str]:
    """The site's words for `language` ("zh-Hant" falls back to "zh", then English)."""
    return WORDS.get(language) or WORDS.get(language.split("-")[0]) or _EN


def name(language: str) -> str:
    return NAMES.get(language) or NAMES.get(language.split("-")[0]) or language


def direction(language: str) -> str:
    return "rtl" if language.split("-")[0] in RIGHT_TO_LEFT else "ltr"
