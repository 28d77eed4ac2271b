"""What every command shares: the global options, config and store access, output.

Light on purpose (every command imports it): the config and the store are imported
when first used. Tables and plain lines print without rich (commands/plain.py); rich
is imported only for what only it draws (the report tables and charts).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ..errors import DeskError, UsageError
from ..textsafe import one_line, safe_json

if TYPE_CHECKING:
    from .. import config as config_mod
    from .plain import PlainTable
    from ..store import Store


class LazyConsole:
    """A rich Console made on first use (rich costs ~30 ms to import), and only for what
    needs it: a PlainTable, and plain text printed with markup=False (and at most a
    style), are written directly."""

    def __init__(self, **settings) -> None:
        self._settings = settings
        self._console = None

    def print(self, *objects, markup: bool | None = None, style: str | None = None, **settings) -> None:
        from .plain import PlainTable, styled  # --help, --json and `show` never print through here
        stream = sys.stderr if self._settings.get("stderr") else sys.stdout
        if len(objects) == 1 and isinstance(objects[0], PlainTable) and not settings and style is None:
            objects[0].print(stream)
        elif objects and markup is False and not settings and style in (None, "bold", "dim") \
                and all(isinstance(o, str) for o in objects):
            stream.write(styled(" ".join(objects), style, stream) + "\n")
        else:
            self.__getattr__("print")(*objects, markup=markup, style=style, **settings)

    def __getattr__(self, name: str):
        if self._console is None:
            from rich.console import Console
            self._console = Console(**self._settings)
        return getattr(self._console, name)


out = LazyConsole(highlight=False, soft_wrap=False)
err = LazyConsole(stderr=True, highlight=False, soft_wrap=True)


@dataclass
class Options:
    """Global options (`tui-desk --config … --db … COMMAND`)."""

    config_path: str | None = None
    db_path: str | None = None
    _config: config_mod.Config | None = field(default=None, repr=False)

    def config(self) -> config_mod.Config:
        if self._config is None:
            from .. import config as config_mod
            self._config = config_mod.load(self.config_path)
            for warning in self._config.warnings:  # once per command, on stderr (cron mails it)
                error_line(f"tui-desk: {warning}")
        return self._config

    def database(self) -> Path:
        return self.config().database_path(self.db_path)

    def store(self) -> Store:
        from ..store import Store
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


def json_value(value: object) -> str:
    """What --json writes for a value json has no form for. An instant is always UTC,
    YYYY-MM-DDTHH:MM:SS.mmmZ (README), the store's own format: one spelling everywhere."""
    if isinstance(value, dt.datetime):
        from ..store.stamps import stamp
        return stamp(value)
    return str(value)


def print_json(data: object) -> None:
    # plain print: Rich would read "[...]" in customer text as markup
    print(safe_json(data, default=json_value))


def table(*columns: str) -> PlainTable:
    """A table to fill with `add_row(cell(...), ...)` and print with `out.print`."""
    from .plain import PlainTable
    return PlainTable(*columns)


def cell(value: object) -> str:
    """A table cell from untrusted text: cleaned onto one line. A PlainTable never reads
    it as markup; for a rich table, wrap it in rich's Text (commands/reports.py)."""
    return one_line("" if value is None else str(value))


def one_of(option: str, value: str, valid: Iterable[str], what: str) -> str:
    """`value` if it is one of `valid`; else a usage error (exit 2) that lists them.
    Every option that names a status, channel, agent, tag or format goes through here,
    so a typo is never answered with an empty list as if it were true."""
    valid = list(dict.fromkeys(valid))
    if value in valid:
        return value
    shown = ", ".join(valid[:30]) + (f" and {len(valid) - 30} more" if len(valid) > 30 else "")
    raise UsageError(f"{option}: unknown {what} {value!r} (valid: {shown or 'none yet'})")


def known_name(option: str, value: str | None, category: str, config: config_mod.Config, store: Store) -> str | None:
    """A channel, agent or tag named on the command line, checked against the config and
    the database ('me' as an agent is `[agent] name`; on-call roster people are agents
    too). None stays None (no filter)."""
    if value is None:
        return None
    if category == "agent" and value == "me":
        return config.agent.name
    configured = {"channel": [c.name for c in config.channels], "agent": _team(config), "tag": []}[category]
    if value in configured or store.name_in_use(category, value):
        return value
    if category == "agent":
        configured += _roster_names(config, store)
        if value in configured:
            return value
    return one_of(option, value, sorted(set(configured) | set(store.names_in_use(category))), category)


def _team(config: config_mod.Config) -> list[str]:
    """The agents the config names: [agent], [[agents]] and the groups' members."""
    from ..rules.spec import all_groups, team
    try:
        groups = all_groups(config)
    except DeskError:  # a broken rules file: `rules check` says so
        groups = config.groups
    return sorted(team(config, groups))


def _roster_names(config: config_mod.Config, store: Store) -> list[str]:
    """The on-call roster's ids and full names (none if there is no roster, or it is broken:
    `config check` and the oncall commands report that)."""
    from ..oncall.service import Oncall  # only when a name was not found: the roster is a file to read
    try:
        people = Oncall(store, config).roster
    except DeskError:
        return []
    return [n for who, person in people.items() for n in (who, person.name) if n]


def since_time(text: str | None) -> dt.datetime | None:
    """--since given as a date (2026-03-01, UTC) or an age (7d, 4w, 3m); None for none."""
    if not text:
        return None
    units = {"d": 1, "w": 7, "m": 30}
    if text[:-1].isdigit() and text[-1] in units:
        return dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=int(text[:-1]) * units[text[-1]])
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise UsageError(f"--since: {text!r} is neither a date like 2026-03-01 nor an age like 7d, 4w, 3m") from None


def summary(r: dict) -> dict:
    """A conversation row as `--json` shows it (list, show, and the commands that change one)."""
    return {
        "id": r["id"], "channel": r["channel"], "subject": r["subject"], "status": r["status"],
        "priority": r["priority"], "assignee": r["assignee"], "tags": r["tags"],
        "customer": {"id": r["customer_id"], "name": r["customer_name"], "address": r["customer_address"]},
        "created_at": r["created_at"], "last_message_at": r["last_message_at"],
        "last_inbound_at": r["last_inbound_at"], "first_response_at": r["first_response_at"],
        "messages": r["message_count"], "version": r["version"],
    }
