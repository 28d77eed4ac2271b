"""A mail with other bytes under a Message-ID already stored is not stored again, but
recorded (an `other_copy` event, a `conflicts` count); byte-identical copies stay silent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import store_api
from tests.helpers.dovecot import dovecot, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import config as config_mod, sync
from tui_desk.store import Store

from tests.conftest import ROOT

ORIGINAL = make_email(message_id="<same@cust.example>", body="My order 1001 never arrived.")
OTHER = make_email(message_id="<same@cust.example>", body="Please cancel order 2002 instead.")


@pytest.fixture
def desk(tmp_path):
    maildir = make_maildir(tmp_path / "mail")
    conf = config_mod.from_dict({"channels": [{"name": "mail", "kind": "maildir", "path": str(maildir)}]},
                                tmp_path / "config.toml")
    with Store.open(tmp_path / "desk.db") as store:
        yield conf, store, maildir


def other_copies(store: Store) -> list[dict]:
    return [e for e in store.events(1) if e["kind"] == "other_copy"]


def test_a_different_mail_under_a_stored_message_id_leaves_a_record(desk):
    conf, store, maildir = desk
    deliver(maildir, ORIGINAL)
    assert sync.run(conf, store).channels["mail"].new == 1
    deliver(maildir, OTHER)
    result = sync.run(conf, store).channels["mail"]
    assert (result.new, result.duplicates, result.conflicts) == (0, 1, 1)
    assert result.as_json()["conflicts"] == 1
    assert len(store_api.messages(store)) == 1, "still one message per Message-ID"
    [event] = other_copies(store)
    assert event["data"]["message_id"] == "<same@cust.example>"
    assert event["data"]["same_text"] is False
    assert "cancel order 2002" in event["data"]["text"]
    assert event["data"]["size"] == len(OTHER)


def test_identical_copies_stay_silent_and_a_copy_is_recorded_once(desk):
    conf, store, maildir = desk
    deliver(maildir, ORIGINAL)
    sync.run(conf, store)
    deliver(maildir, ORIGINAL)  # a redelivery, byte for byte
    deliver(maildir, ORIGINAL.replace(b"\n", b"\r\n"))  # the same mail with CRLF (as IMAP gives it)
    result = sync.run(conf, store).channels["mail"]
    assert (result.duplicates, result.conflicts) == (2, 0)
    assert other_copies(store) == []
    deliver(maildir, OTHER)
    deliver(maildir, OTHER)  # the differing copy twice: one record
    result = sync.run(conf, store).channels["mail"]
    assert (result.duplicates, result.conflicts) == (2, 1)
    deliver(maildir, OTHER)
    assert sync.run(conf, store).channels["mail"].conflicts == 0
    assert len(other_copies(store)) == 1


def test_headers_only_difference_is_recorded_as_same_text(desk):
    conf, store, maildir = desk
    deliver(maildir, ORIGINAL)
    sync.run(conf, store)
    deliver(maildir, b"Received: from relay.example by mx.example; Mon, 2 Mar 2026 10:00:00 +0000\n" + ORIGINAL)
    assert sync.run(conf, store).channels["mail"].conflicts == 1
    [event] = other_copies(store)
    assert event["data"]["same_text"] is True and "text" not in event["data"]


def run_cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120)


def test_sync_json_counts_it_and_conversations_show_tells_it(tmp_path):
    maildir = make_maildir(tmp_path / "mail")
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    base = ("--config", str(conf), "--db", str(tmp_path / "d.db"))
    deliver(maildir, ORIGINAL)
    assert json.loads(run_cli(*base, "sync", "--json").stdout)["channels"]["mail"]["conflicts"] == 0
    deliver(maildir, OTHER.replace(b"Please cancel", b"Please \x1b[2J cancel"))
    done = run_cli(*base, "sync", "--json")
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["channels"]["mail"]
    assert (counts["new"], counts["duplicates"], counts["conflicts"]) == (0, 1, 1)
    shown = run_cli(*base, "conversations", "show", "1")
    assert shown.returncode == 0, shown.stderr
    assert "other copy" in shown.stdout and "<same@cust.example>" in shown.stdout
    assert "cancel order 2002" in shown.stdout and "\x1b" not in shown.stdout
    events = json.loads(run_cli(*base, "conversations", "show", "1", "--json").stdout)["events"]
    assert [e["kind"] for e in events].count("other_copy") == 1


@pytest.mark.integration
def test_imap_rescan_is_silent_but_a_different_body_is_recorded(tmp_path, mailbox):
    """Real Dovecot: a UIDVALIDITY change reads the folder again (identical bytes: silent);
    a new mail reusing a stored Message-ID with another body is recorded."""
    path = toml_config(tmp_path / "config.toml", [mailbox.config()], database=tmp_path / "desk.db")
    conf = config_mod.load(path)
    mailbox.deliver_many([ORIGINAL, make_email(message_id="<second@cust.example>")])
    with Store.open(tmp_path / "desk.db") as store:
        assert sync.run(conf, store).channels["support"].new == 2
        mailbox.set_uidvalidity(4242)
        mailbox.deliver(OTHER)
        result = sync.run(conf, store).channels["support"]
        assert (result.new, result.duplicates, result.conflicts) == (0, 3, 1)
        events = store.history("other_copy")
        assert len(events) == 1 and "cancel order 2002" in events[0]["data"]["text"]
