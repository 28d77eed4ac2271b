"""The roster: people who can be on call and how to reach them ([oncall] roster file).

A TOML file with one table per person, keyed by the short id used in rotations, and
optionally `[[rotations]]` to create when the database has none yet:

    [people.ana]
    name = "Ana Lima"
    email = "ana@example.com"
    timezone = "America/Sao_Paulo"
    contact = "email"            # "email" | "matrix" | "command"
    matrix = "@ana:example.org"
    notify_cmd = "notify-send on-call"

Checked as strictly as the config: unknown keys, wrong types and unknown zones are
errors naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..configload import build
from ..errors import ConfigError
from ..hours import zone

PERSON_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,39}$")
MATRIX_ID = re.compile(r"^@[^:\s]+:[^\s]+$")


@dataclass
class Person:
    """One person of the roster."""

    name: str = ""
    """Full name, shown next to the short id."""
    email: str = ""
    """Where an email page goes."""
    timezone: str = ""
    """The person's IANA zone: their nights and weekends, and their default viewing zone."""
    contact: Literal["email", "matrix", "command"] = "email"
    """How `oncall page` reaches them."""
    matrix: str = ""
    """Matrix user id, e.g. "@ana:example.org"."""
    notify_cmd: str = ""
    """A command given the page on standard input (contact = "command")."""
    id: str = field(default="", metadata={"toml": False})


@dataclass
class RotationSeed:
    """A [[rotations]] entry: created in the database the first time on-call is used
    (a database that has never had a rotation), so a shipped roster works at once."""

    name: str
    members: list[str]
    timezone: str
    length: str = "1w"
    handoff: str = "mon 09:00"
    start: str = ""
    """First day; empty means the day the rotation is created."""
    only: Literal["always", "after-hours"] = "always"


@dataclass
class _File:
    people: dict[str, Person] = field(default_factory=dict)
    rotations: list[RotationSeed] = field(default_factory=list)


@dataclass
class Roster:
    """People by id and the rotations the file proposes."""

    people: dict[str, Person]
    rotations: list[RotationSeed]


def load(path: Path) -> Roster:
    """The roster file; ConfigError for a missing or malformed file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, "roster file not found ([oncall] roster)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read roster: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    parsed: _File = build(_File, data, path, "", channel_kinds={})
    for pid, person in parsed.people.items():
        if not PERSON_ID.match(pid):
            raise ConfigError(path, f"people.{pid}", "ids are lowercase letters, digits, '.', '_' or '-'")
        person.id = pid
        if person.timezone:
            try:
                zone(person.timezone)
            except ValueError as exc:
                raise ConfigError(path, f"people.{pid}.timezone", str(exc)) from None
        needed = {"email": "email", "matrix": "matrix", "command": "notify_cmd"}[person.contact]
        if not getattr(person, needed):
            raise ConfigError(path, f"people.{pid}.{needed}", f'required when contact = "{person.contact}"')
        if person.matrix and not MATRIX_ID.match(person.matrix):
            raise ConfigError(path, f"people.{pid}.matrix", f"not a Matrix user id like @ana:example.org: "
                                                              f"{person.matrix!r}")
    return Roster(parsed.people, parsed.rotations)
