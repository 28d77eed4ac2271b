"""The FAQ site: templates with faq = true published as static pages (entries.py picks
and renders them, answer.py makes their HTML, site.py writes the files), and the
questions the FAQ does not answer yet (suggest.py). No Textual, no network."""

from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..store import Store
from ..templates import TemplateLibrary
from .entries import Entry, FaqBuildError, collect
from .site import write_site


def build(config: Config, store: Store, out_dir: Path) -> tuple[list[Entry], list[Path], dict[str, str]]:
    """Build the site into `out_dir`: (entries, files written, unreadable template files
    left out). FaqBuildError / UsageError when it cannot be built; nothing is written then."""
    entries, broken = collect(config, TemplateLibrary.for_config(config), store.template_use_counts())
    files = write_site(out_dir, entries, desk=config.desk.name, preferred=config.faq.language)
    return entries, files, broken


__all__ = ["Entry", "FaqBuildError", "build", "collect", "write_site"]
