"""What every command shares: the global options, config and store access, output."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import config as config_mod
from ..store import Store
from ..textsafe import one_line, safe_json

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class Options:
    """Global options (`tui-desk --config … --db … COMMAND`)."""

    config_path: str | None = None
    db_path: str | None = None
    _config: config_mod.Config | None = field(default=None, repr=False)

    def config(self) -> config_mod.Config:
        if self._config is None:
            self._config = config_mod.load(self.config_path)
            for warning in self._config.warnings:  # once per command, on stderr (cron mails it)
                error_line(f"tui-desk: {warning}")
        return self._config

    def database(self) -> Path:
        return self.config().database_path(self.db_path)

    def store(self) -> Store:
        return Store.open(self.database())


def options(ctx: typer.Context) -> Options:
    root = ctx.find_root()
    if not isinstance(root.obj, Options):
        root.obj = Options()
    return root.obj


def error_line(message: str) -> None:
    """One line on stderr, never wrapped (Rich wraps at 80 columns when not on a
    terminal, and cron mail or a test reading stderr wants one line per error).
    Cleaned: a channel's error may quote a server's text."""
    sys.stderr.write(one_line(message) + "\n")
    sys.stderr.flush()


def print_json(data: object) -> None:
    # plain print: Rich would read "[...]" in customer text as markup
    print(safe_json(data))


def table(*columns: str) -> Table:
    grid = Table(*columns, box=None, header_style="bold", pad_edge=False)
    return grid


def cell(value: object) -> Text:
    """A table cell from untrusted text: cleaned, and never read as markup."""
    return Text(one_line("" if value is None else str(value)))
