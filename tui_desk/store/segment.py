"""Text as the full-text index sees it, the same on every backend.

Chinese, Japanese kana and Thai are written without spaces between words; a tokenizer
that splits on spaces (FTS5's unicode61, PostgreSQL's 'simple' configuration) would
make a whole sentence one token. Indexing each such character as its own token, and
querying words as phrases, finds words inside text.
"""

from __future__ import annotations

import re

# Compiled when first needed (~1.2 ms: a read command with ASCII words never needs it).
_UNSPACED_CHARS = r"[\u0E00-\u0E7F\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF66-\uFF9F]+"
_unspaced: re.Pattern | None = None


def segment(text: str | None) -> str:
    """Text as the full-text index sees it (registered in SQLite as desk_segment)."""
    global _unspaced
    if not text or text.isascii():  # isascii: C speed, most mail
        return text or ""
    if _unspaced is None:
        _unspaced = re.compile(_UNSPACED_CHARS)
    if not _unspaced.search(text):
        return text
    return _unspaced.sub(_spaced, text)


def _spaced(match: re.Match) -> str:
    return " " + " ".join(match.group()) + " "  # one call per run of such characters
