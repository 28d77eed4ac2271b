"""Template files: Markdown with TOML front matter between `+++` lines; the file name is the id.

    +++
    title = "Where is my order"
    tags = ["shipping"]
    keywords = ["tracking", "parcel", "delivery"]
    key = 1                 # pinned to the digit 1 (optional)
    channels = ["email"]    # "email", "chat", channel names or kinds (optional: all)
    language = "en"
    auto = false            # may rules send it by themselves
    faq = true              # published by `tui-desk faq build` (optional)
    question = "Where is my order?"   # its title on the FAQ site (needed with faq = true)
    handoff = "Reply to reach a person."  # the last line of its automatic replies (optional)
    +++
    Hi {{ customer.first_name | default("there") }}, ...

`TemplateLibrary` re-reads a file only when its size or mtime changed, so an edited
file takes effect at the next look without restarting anything.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..channel_kinds import MEDIUM
from ..config import Config

FIELDS = {"title": str, "tags": list, "keywords": list, "key": int, "channels": list, "language": str, "auto": bool,
          "faq": bool, "question": str, "handoff": str}
SKIPPED = {"readme.md"}


@dataclass(frozen=True)
class Template:
    """One reply template."""

    id: str
    title: str
    body: str
    path: Path
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    key: int | None = None
    """The digit (1–9) it is pinned to, if any."""
    channels: tuple[str, ...] = ()
    """Where it fits: "email" or "chat", or channel names or kinds; empty means everywhere."""
    language: str = ""
    auto: bool = False
    faq: bool = False
    """Published on the FAQ site (`tui-desk faq build`), under `question`."""
    question: str = ""
    """The customer's question the template answers: the entry's heading on the FAQ site."""
    handoff: str = ""
    """The "reply to reach a person" line its automatic replies end with (empty: the config's)."""

    def fits(self, channel_name: str, channel_kind: str = "") -> bool:
        return not self.channels or bool({channel_name, channel_kind, MEDIUM.get(channel_kind)} & set(self.channels))


class TemplateError(ValueError):
    """A template file that cannot be read; the message names the problem."""


def parse_template(path: Path, text: str) -> Template:
    """Read one template file's text; TemplateError says what is wrong."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "+++":
        raise TemplateError("does not start with a +++ front matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "+++")
    except StopIteration:
        raise TemplateError("front matter is not closed by a +++ line") from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"front matter is not valid TOML: {exc}") from None
    for name, value in meta.items():
        if name not in FIELDS:
            raise TemplateError(f"unknown front matter key {name!r} (known: {', '.join(FIELDS)})")
        kind = FIELDS[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TemplateError(f"front matter {name!r} should be {kind.__name__}, got {value!r}")
        if kind is list and not all(isinstance(v, str) for v in value):
            raise TemplateError(f"front matter {name!r} should be a list of strings")
    if not str(meta.get("title", "")).strip():
        raise TemplateError("front matter has no title")
    key = meta.get("key")
    if key is not None and not 1 <= key <= 9:
        raise TemplateError(f"key must be a digit from 1 to 9, got {key}")
    if meta.get("faq") and not str(meta.get("question", "")).strip():
        raise TemplateError('faq = true needs a question (e.g. question = "Where is my order?"): the entry\'s heading')
    body = "\n".join(lines[end + 1:]).strip("\n")
    if not body.strip():
        raise TemplateError("the body is empty")
    return Template(
        id=path.stem, title=meta["title"].strip(), body=body, path=path,
        tags=tuple(meta.get("tags", ())), keywords=tuple(meta.get("keywords", ())), key=key,
        channels=tuple(meta.get("channels", ())), language=meta.get("language", ""), auto=meta.get("auto", False),
        faq=meta.get("faq", False), question=" ".join(meta.get("question", "").split()),
        handoff=" ".join(meta.get("handoff", "").split()),
    )


def templates_dir(config: Config) -> Path:
    """[templates] dir (relative to the config file), else the shipped samples."""
    if not config.templates.dir:
        return paths.shipped_data() / "templates"
    folder = Path(config.templates.dir).expanduser()
    if not folder.is_absolute() and config.path is not None:
        folder = config.path.parent / folder
    return folder


class TemplateLibrary:
    """The templates of one folder, re-read as files change."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._cache: dict[Path, tuple[tuple[int, int], Template | TemplateError]] = {}

    @classmethod
    def for_config(cls, config: Config) -> "TemplateLibrary":
        return cls(templates_dir(config))

    def scan(self) -> tuple[list[Template], dict[str, str]]:
        """(templates sorted by id, {file name: problem}) as the folder is now."""
        found: dict[Path, tuple[tuple[int, int], Template | TemplateError]] = {}
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except FileNotFoundError:
            entries = []
        for entry in entries:
            if not entry.name.endswith(".md") or entry.name.startswith((".", "_")) or entry.name.lower() in SKIPPED:
                continue
            path = Path(entry.path)
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue
            stamp = (info.st_mtime_ns, info.st_size)
            cached = self._cache.get(path)
            if cached and cached[0] == stamp:
                found[path] = cached
                continue
            try:
                parsed: Template | TemplateError = parse_template(path, path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                parsed = TemplateError("not UTF-8 text")
            except OSError as exc:
                parsed = TemplateError(f"cannot read: {exc.strerror}")
            except TemplateError as exc:
                parsed = exc
            found[path] = (stamp, parsed)
        self._cache = found
        templates = [t for _, t in found.values() if isinstance(t, Template)]
        problems = {p.name: str(t) for p, (_, t) in found.items() if isinstance(t, TemplateError)}
        return templates, problems

    def templates(self) -> list[Template]:
        """The readable templates (broken files are left out; `check` lists them)."""
        return self.scan()[0]

    def get(self, template_id: str) -> Template | None:
        return next((t for t in self.templates() if t.id == template_id), None)

    def pinned(self) -> dict[int, Template]:
        """Digit → template pinned to it (the first by id when two claim one digit)."""
        out: dict[int, Template] = {}
        for t in self.templates():
            if t.key is not None:
                out.setdefault(t.key, t)
        return out
