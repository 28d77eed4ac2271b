"""Writing the FAQ site: one page per language, a stylesheet, the search script and
its index. Plain files that work from any web server or straight from disk (file://):
no external scripts or fonts, and the search index sits inside each page.

The folder written to must be empty or hold an earlier build (named in its
`.tui-desk-faq` file); the files of the earlier build are replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from ..errors import UsageError
from ..templates.faqlinks import page_file
from . import strings
from .answer import answer_html, plain_text
from .entries import Entry

MANIFEST = ".tui-desk-faq"
ASSETS = ("faq.css", "search.js")
INDEX = "search-index.json"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    page: str


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


_ENV = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)


def languages_of(entries: list[Entry], preferred: str) -> list[Language]:
    """Every language with entries: `preferred` first when it has any, else the one with
    the most, then the others by code."""
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.language] = counts.get(entry.language, 0) + 1
    first = preferred if preferred in counts else max(sorted(counts), key=lambda c: counts[c])
    order = [first] + sorted(c for c in counts if c != first)
    return [Language(c, strings.name(c), page_file(c)) for c in order]


def search_index(entries: list[Entry], languages: list[Language]) -> dict:
    """What the search looks through: every entry of every language, in page order."""
    by_code = {lang.code: lang for lang in languages}
    questions = {e.id: e.question for e in entries}
    ordered = sorted(entries, key=lambda e: [lang.code for lang in languages].index(e.language))
    return {
        "languages": {lang.code: lang.name for lang in languages},
        "entries": [{"id": e.id, "lang": e.language, "page": by_code[e.language].page, "question": e.question,
                     "text": plain_text(e.text, lambda i: ("", questions.get(i, i))),
                     "keywords": list(e.keywords), "tags": list(e.tags)} for e in ordered],
    }


def _script_json(data: dict) -> Markup:
    """JSON that cannot end its <script> element early (no "<", ">" or "&" in it)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def page(language: Language, entries: list[Entry], languages: list[Language], desk: str, index: Markup) -> str:
    """One language's page."""
    where = {e.id: e for e in entries}

    def link(entry_id: str) -> tuple[str, str]:
        target = where[entry_id]  # faqlinks only lets a template name a published entry
        href = f"#{target.id}" if target.language == language.code else f"{page_file(target.language)}#{target.id}"
        return href, target.question

    shown = [{"id": e.id, "question": e.question, "html": answer_html(e.text, link)}
             for e in entries if e.language == language.code]
    return _ENV.from_string(_asset("page.html")).render(
        lang=language.code, dir=strings.direction(language.code), words=strings.words(language.code),
        languages=languages, desk=desk, entries=shown, index=index)


def write_site(out_dir: Path, entries: list[Entry], *, desk: str, preferred: str) -> list[Path]:
    """Write the site into `out_dir`; returns the files written (index.html first)."""
    if not entries:
        raise UsageError("the FAQ has no entries")
    _make_room(out_dir)
    languages = languages_of(entries, preferred)
    index = search_index(entries, languages)
    embedded = _script_json(index)
    files: dict[str, str] = {}
    for language in languages:
        files[language.page] = page(language, entries, languages, desk, embedded)
    files = {"index.html": files[languages[0].page], **files}
    for name in ASSETS:
        files[name] = _asset(name)
    files[INDEX] = json.dumps(index, ensure_ascii=False, indent=1) + "\n"
    written = []
    for name, text in files.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (out_dir / MANIFEST).write_text("".join(f"{name}\n" for name in files), encoding="utf-8")
    return written


def _make_room(out_dir: Path) -> None:
    """Create `out_dir`, or clear an earlier build from it; refuse a folder of other files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir} is a file, not a folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / MANIFEST
    if manifest.exists():
        for name in manifest.read_text(encoding="utf-8").split():
            if "/" not in name and name not in (".", ".."):
                (out_dir / name).unlink(missing_ok=True)
    others = sorted(p.name for p in out_dir.iterdir() if p.name != MANIFEST)
    if others:
        shown = ", ".join(others[:5]) + (" …" if len(others) > 5 else "")
        raise UsageError(f"{out_dir} holds other files ({shown}): build the FAQ into an empty folder"
                         " or into the folder of an earlier build")
