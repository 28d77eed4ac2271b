"""The `tui-desk` command tree, loaded one command at a time.

Importing every command group (and the services behind each) cost ~0.4 s on every call,
most of it modules the command never uses. `tui_desk/cli.py` therefore names each top-level
command in a table (`Lazy` rows: name → module, attribute, one-line help); `LazyGroup`
imports a row's module only when that command runs or its own help is shown. `--help`
lists every command from the table's help lines without importing any of them (a test
compares that listing with the one the loaded commands give).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

from . import coerce

coerce.install()  # option values without pydantic

# the settings the root app gives each of its commands (tui_desk/cli.py passes the same)
SETTINGS = dict(pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)


class Lazy(NamedTuple):
    """One top-level command: where it lives, and its line in `tui-desk --help`."""

    module: str
    """e.g. "tui_desk.commands.oncall"."""
    attribute: str
    """A `typer.Typer` (a command group) or a function (a single command) in `module`."""
    help: str
    """The first sentence of its help, as `--help` lists it (checked by a test)."""


def build(name: str, lazy: Lazy) -> TyperCommand | TyperGroup:
    """The click command for one row, converted exactly as `add_typer`/`command` would."""
    target = getattr(importlib.import_module(lazy.module), lazy.attribute)
    holder = typer.Typer(**SETTINGS)
    holder.callback()(lambda: None)  # a callback makes the holder a group, whatever it holds
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    return typer.main.get_group(holder).commands[name]


class LazyCommands(MutableMapping):
    """A group's `commands` that knows every name but builds a command on first access."""

    def __init__(self, table: dict[str, Lazy], loaded: MutableMapping | None = None) -> None:
        self.table = table
        self.loaded: dict = dict(loaded or {})

    def __getitem__(self, name: str):
        if name not in self.loaded:
            if name not in self.table:
                raise KeyError(name)
            self.loaded[name] = build(name, self.table[name])
        return self.loaded[name]

    def __setitem__(self, name: str, command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self.loaded.pop(name)
        self.table.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.table, *self.loaded]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self.table, *self.loaded]))

    def __contains__(self, name: object) -> bool:
        return name in self.table or name in self.loaded


class LazyGroup(TyperGroup):
    """The root group: `commands` is a LazyCommands over `TABLE` (set by tui_desk/cli.py)."""

    table: dict[str, Lazy] = {}

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.table, self.commands)

    def list_commands(self, ctx) -> list[str]:
        return list(self.commands)  # the names only: nothing is imported

    def format_commands(self, ctx, formatter) -> None:
        """As TyperGroup lists them, but from the table's help lines: `--help` imports
        no command group (a command already loaded answers for itself)."""
        commands = self.commands
        shown = {name: commands.loaded.get(name) or TyperCommand(name=name, help=self.table[name].help)
                 for name in commands}
        original, self.commands = self.commands, shown
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.commands = original
