"""The roster file: strict checks, the shipped demo roster, rotations seeded once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tui_desk.config import from_dict
from tui_desk.errors import ConfigError
from tui_desk.oncall import roster
from tui_desk.oncall.service import Oncall

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "demo" / "oncall.toml"


def test_shipped_roster_loads():
    found = roster.load(SHIPPED)
    assert set(found.people) == {"ana", "bo", "chen", "dara"}
    assert found.people["chen"].contact == "command" and found.people["bo"].timezone == "Europe/Stockholm"
    assert [r.name for r in found.rotations] == ["support"]


@pytest.mark.parametrize("text,key", [
    ('[people.ana]\nemail = "a@example.org"\nphone = "123"\n', "people.ana.phone"),
    ('[people.ana]\ncontact = "command"\n', "people.ana.notify_cmd"),
    ('[people.ana]\nemail = "a@example.org"\ntimezone = "Moon/Base"\n', "people.ana.timezone"),
    ('[people.Ana]\nemail = "a@example.org"\n', "people.Ana"),
    ('[people.ana]\nemail = "a@example.org"\ncontact = "pager"\n', "people.ana.contact"),
    ('[people.ana]\ncontact = "matrix"\n', "people.ana.matrix"),
    ('[people.ana]\ncontact = "matrix"\nmatrix = "ana@example.org"\n', "people.ana.matrix"),
])
def test_roster_mistakes_name_the_key(tmp_path, text, key):
    file = tmp_path / "oncall.toml"
    file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        roster.load(file)
    assert caught.value.key == key


def test_roster_rotations_are_created_once(store):
    config = from_dict({"oncall": {"roster": str(SHIPPED)}, "agent": {"name": "lead"},
                        "desk": {"timezone": "Europe/Berlin"}})
    desk = Oncall(store, config, now=dt.datetime(2026, 12, 2, 3, tzinfo=dt.timezone.utc))
    (rot,) = desk.rotations()
    assert rot.members == ("ana", "bo", "chen", "dara") and rot.only == "after-hours"
    assert desk.who(None, None, None)[0]["who"] == "dara"
    assert desk.status() == "on call: Dara O'Neill until Mon 09:00"
    store.oncall_remove_rotation("support", "lead")
    again = Oncall(store, config)
    with pytest.raises(Exception, match="no rotations yet"):
        again.rotations()  # removed on purpose: not seeded again
