"""A reply that could never be delivered (no usable address, no chat room) is refused
when it is written (exit 2, nothing queued), instead of failing at every later sync."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import store_api
from tests.helpers.mail import deliver, make_maildir
from tui_desk import channels, config as config_mod
from tui_desk.store import Store

from tests.conftest import ROOT

NO_ADDRESS = [
    b"undisclosed-recipients:;",
    b"Ana <ana at example.com>",
    b"a@b@c",
    b"",
]


def mail_from(sender: bytes, n: int) -> bytes:
    return (b"From: " + sender + b"\r\nTo: support@desk.example\r\nSubject: help " + str(n).encode()
            + b"\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\nMessage-ID: <noaddr-" + str(n).encode()
            + b"@cust.example>\r\n\r\nPlease help.\r\n")


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


@pytest.fixture
def desk(tmp_path):
    maildir = make_maildir(tmp_path / "mail")
    for n, sender in enumerate(NO_ADDRESS, 1):
        deliver(maildir, mail_from(sender, n))
    deliver(maildir, mail_from(b"Mike <mike@customer.example>", 99))
    conf = tmp_path / "config.toml"
    conf.write_text(f'[agent]\nname = "tester"\n[templates]\nundo_seconds = 0\n'
                    f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    base = ("--config", str(conf), "--db", str(tmp_path / "d.db"))
    assert run_cli(*base, "sync").returncode == 0
    return base, tmp_path / "d.db"


def outbox_count(db) -> int:
    with Store.open(db) as store:
        return len(store.outbox_items(limit=100_000))


def conversation_of(db, subject: str) -> int:
    with Store.open(db) as store:
        [found] = [c["id"] for c in store_api.conversations(store) if c["subject"] == subject]
        return found


def test_reply_without_a_usable_address_is_refused_with_exit_2(desk):
    base, db = desk
    for n in range(1, len(NO_ADDRESS) + 1):
        cid = conversation_of(db, f"help {n}")
        for extra in ((), ("--now", "--json")) if n == 1 else ((),):
            done = run_cli(*base, "reply", str(cid), "--text", "On it.", *extra)
            assert done.returncode == 2, (n, extra, done.stdout, done.stderr)
            assert f"cannot reply to conversation {cid}:" in done.stderr and "nothing was queued" in done.stderr
            assert "address" in done.stderr and "Traceback" not in done.stderr
    assert outbox_count(db) == 0
    cid = conversation_of(db, "help 1")
    assert run_cli(*base, "reply", str(cid), "--note", "--text", "no address: asked sales").returncode == 0
    # the one with an address still goes out, and the next syncs are clean
    done = run_cli(*base, "reply", str(conversation_of(db, "help 99")), "--text", "Shipped.", "--now")
    assert done.returncode == 0, done.stderr
    for _ in range(2):
        again = run_cli(*base, "sync", "--json")
        assert again.returncode == 0, again.stderr
        assert json.loads(again.stdout)["outbox"] == {"sent": 0, "failed": 0, "uncertain": 0}


def test_template_reply_without_a_usable_address_is_refused_too(desk):
    base, db = desk
    cid = conversation_of(db, "help 1")
    listed = json.loads(run_cli(*base, "templates", "list", "--json").stdout)
    template = next(t["id"] for t in listed if not t.get("slots"))
    done = run_cli(*base, "reply", str(cid), "--template", template)
    assert done.returncode == 2, done.stderr
    assert "no email address to reply to" in done.stderr
    assert outbox_count(db) == 0


def test_each_channel_kind_says_what_it_needs(tmp_path):
    conf = config_mod.from_dict({"channels": [
        {"name": "imap", "kind": "imap", "host": "127.0.0.1", "username": "u", "password": "p"},
        {"name": "maildir", "kind": "maildir", "path": str(tmp_path)},
        {"name": "chat", "kind": "jsonl", "path": str(tmp_path / "c.jsonl")},
        {"name": "matrix", "kind": "matrix", "homeserver": "http://127.0.0.1:1", "user_id": "@d:x",
         "access_token": "t"},
    ]}, tmp_path / "config.toml")
    for name in ("imap", "maildir"):
        channel = conf.channel(name)
        assert channels.reply_problem(channel, "ana@example.com", None) is None
        assert channels.reply_problem(channel, "", None) == "no email address to reply to"
        for bad in ("a@b@c", "@c", "x@", "undisclosed-recipients:;", "a b@c", "a@c\r\nBcc: v@evil"):
            assert "not a usable email address" in channels.reply_problem(channel, bad, None), bad
    for name in ("chat", "matrix"):
        channel = conf.channel(name)
        assert channels.reply_problem(channel, "", "!room:x") is None
        assert channels.reply_problem(channel, "@ana:x", None) == "no chat room to reply in"


# -- the console: the composer and the one-keystroke template path ---------------------

from tests.helpers.tui import anyio_backend, frozen_app, open_conversation, settle  # noqa: E402,F401
from tests.helpers.desk import build_desk  # noqa: E402
from tui_desk import sync  # noqa: E402
from tui_desk.tui.screens.composer import ComposerScreen  # noqa: E402


@pytest.fixture
def console_desk(tmp_path, db_path):
    config = build_desk(tmp_path, db_path)
    deliver(tmp_path / "mail", mail_from(b"undisclosed-recipients:;", 1))
    with Store.open(db_path) as store:
        sync.run(config, store)
    return config


def notices(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


@pytest.mark.anyio
async def test_console_digit_and_composer_refuse_a_reply_without_address(console_desk, db_path):
    cid = conversation_of(db_path, "help 1")
    app = frozen_app(console_desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        await pilot.press("1")  # the pinned template, one keystroke
        await settle(pilot)
        assert outbox_count(db_path) == 0
        assert any(n.startswith("Not sent:") and "no email address to reply to" in n for n in notices(app))
        app.clear_notifications()
        await pilot.press("r")
        await settle(pilot)
        await pilot.press(*"On it")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert outbox_count(db_path) == 0
        assert isinstance(app.screen, ComposerScreen), "the draft stays open"
        assert any(n.startswith("Not sent:") and "no email address to reply to" in n for n in notices(app))


def test_a_channel_this_config_lacks_is_not_judged(desk):
    """An agent's console may run without the channels (cron's sync, with its own
    config, delivers): the reply is queued, not refused."""
    _, db = desk
    from tui_desk import outbox
    with Store.open(db) as store:
        [cid] = [c["id"] for c in store_api.conversations(store) if c["subject"] == "help 1"]
        assert outbox.reply_problem(config_mod.Config(), store, cid) is None
        assert outbox.queue_reply(store, cid, "hi", agent="ana", config=config_mod.Config()).outbox_id


def test_an_automatic_rule_reply_is_held_back_without_a_usable_address(tmp_path):
    from tests.unit import test_rules as rules_tests
    conf = rules_tests.make_config(tmp_path, rules_tests.ACK)
    deliver(tmp_path / "mail", mail_from(b"a@b@c", 1))  # read as the address "@c"
    deliver(tmp_path / "mail", mail_from(b"Mike <mike@customer.example>", 2))
    with Store.open(tmp_path / "desk.db") as store:
        assert sync.run(conf, store).ok
        assert [store.outbox_item(o["id"])["recipient"] for o in store.outbox_items()] == ["mike@customer.example"]
        [held] = rules_tests.events(store, "action.suppressed")
        assert held["reason"] == "not a usable email address: '@c'"
        assert sync.run(conf, store).ok, "and no later sync fails on it"
