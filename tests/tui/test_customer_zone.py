"""A customer's time zone: learnt from their mails' Date offsets, set by an agent on the
card (never overwritten by a learnt one), and used for the next opening in their words."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.helpers.mail import deliver, make_email, make_maildir
from tests.helpers.tui import frozen_app, open_conversation, settle
from tests.helpers.desk import conversation_id
from tui_desk import config as config_mod, sync
from tui_desk.errors import UsageError
from tui_desk.hours import zone_for_offset
from tui_desk.store import Store
from tui_desk.templates.library import Template
from tui_desk.templates.render import render, variables_for


@pytest.mark.parametrize("offset, expected", [
    (9 * 60, "Etc/GMT-9"), (-5 * 60, "Etc/GMT+5"), (0, None), (330, "Asia/Kolkata"), (345, "Asia/Kathmandu"),
    (-210, "America/St_Johns"), (17, None), (15 * 60, None),
])
def test_an_offset_stands_for_a_zone(offset, expected):
    assert zone_for_offset(dt.timedelta(minutes=offset)) == expected


def _sync_mail(tmp_path, store, date: str, n: int) -> None:
    maildir = tmp_path / "mail"
    if not maildir.exists():
        make_maildir(maildir)
    deliver(maildir, make_email(date=date, message_id=f"<z{n}@customer.example>", subject=f"q{n}"))
    conf = config_mod.from_dict({"channels": [{"name": "mail", "kind": "maildir", "path": str(maildir)}]},
                                tmp_path / "config.toml")
    sync.run(conf, store)


def only_customer(store) -> int:
    [customer] = store.customers_list()
    return customer["id"]


def zone_of(store) -> str | None:
    return store.customer(only_customer(store))["timezone"]


def test_the_zone_is_learnt_from_mail_and_an_agents_choice_stands(tmp_path, store):
    _sync_mail(tmp_path, store, "Mon, 02 Mar 2026 10:00:00 +0000", 0)
    assert zone_of(store) is None  # +0000 says nothing
    _sync_mail(tmp_path, store, "Mon, 02 Mar 2026 10:00:00 +0900", 1)
    assert zone_of(store) == "Etc/GMT-9"
    _sync_mail(tmp_path, store, "Mon, 02 Mar 2026 10:00:00 +1000", 2)
    assert zone_of(store) == "Etc/GMT-10"  # a learnt zone follows the mail (daylight saving, travel)
    customer = only_customer(store)
    store.set_customer_timezone(customer, "Australia/Sydney", "ana")
    _sync_mail(tmp_path, store, "Mon, 02 Mar 2026 10:00:00 +0900", 3)
    assert zone_of(store) == "Australia/Sydney"
    with pytest.raises(UsageError, match="unknown timezone"):
        store.set_customer_timezone(customer, "Mars/Olympus", "ana")
    store.set_customer_timezone(customer, None, "ana")
    assert zone_of(store) is None


@pytest.mark.parametrize("language, expected", [
    ("en", "Monday 09:00 (America/Chicago)"), ("de", "Montag 09:00 (America/Chicago)"),
    ("zh", "星期一 09:00 (America/Chicago)"), ("", "Monday 09:00 (America/Chicago)"),
])
def test_the_next_opening_is_written_in_the_templates_language_and_the_customers_zone(tmp_path, language, expected):
    conf = config_mod.from_dict({"desk": {"timezone": "America/Chicago", "business_hours": ["mon-fri 09:00-17:00"]}},
                                tmp_path / "config.toml")
    saturday = dt.datetime(2026, 3, 7, 12, tzinfo=dt.timezone.utc)
    variables = variables_for(conf, {"id": 1}, {"timezone": "America/Chicago"}, agent="ana", now=saturday)
    template = Template("ack", "Ack", "Back {{ desk.next_opening }}.", Path("ack.md"), language=language)
    assert render(template, variables).text == f"Back {expected}."
    far = variables_for(conf, {"id": 1}, {"timezone": "Asia/Tokyo"}, agent="ana", now=saturday)
    assert render(template, far).text.endswith("23:00 (Asia/Tokyo).")  # Monday 09:00 in Chicago



@pytest.mark.anyio
async def test_an_agent_sets_the_zone_on_the_card(desk, db_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        await pilot.press("T")
        await settle(pilot)
        with Store.open(db_path) as store:
            customer = store.conversation(cid)["customer_id"]
            before = store.customer(customer)["timezone"]
        app.screen.query_one("Input").value = "Nowhere/Else"
        await pilot.press("enter")
        await settle(pilot)
        with Store.open(db_path) as store:  # refused, said so, nothing changed
            assert store.customer(customer)["timezone"] == before
        await pilot.press("T")
        await settle(pilot)
        app.screen.query_one("Input").value = "America/Chicago"
        await pilot.press("enter")
        await settle(pilot, 6)
        with Store.open(db_path) as store:
            assert store.customer(customer)["timezone"] == "America/Chicago"
        card = " ".join(str(s.render()) for s in app.screen.query("CustomerCard Static"))
        assert "local time" in card
