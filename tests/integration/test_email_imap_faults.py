"""IMAP servers that fail part of the way, against the real Dovecot: a FETCH answered
NO (through a loopback proxy that injects it), a UID left out of a FETCH answer, and a
folder recreated with the same UIDVALIDITY. No gap may stay silent: what was not
stored is that channel's error, asked for again, and quarantined after a few tries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.dovecot import dovecot, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.imapproxy import FaultyImap
from tests.helpers.mail import deliver as deliver_file
from tests.helpers.mail import make_email, make_maildir
from tui_desk import config as config_mod
from tui_desk import sync
from tui_desk.channels import imap
from tui_desk.outbox import queue_reply
from tui_desk.store import Store

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
TUI_DESK = [sys.executable, "-c", "from tui_desk.cli import main; main()"]


@pytest.fixture
def proxy(dovecot):
    faulty = FaultyImap(dovecot.port)
    yield faulty
    faulty.close()


def mails(box, count: int, start: int = 0) -> list[bytes]:
    return [make_email(subject=f"Question {i}", body=f"Message number {i}.",
                       message_id=f"<m{i}.{box.user}@customer.example>") for i in range(start, start + count)]


def load(tmp_path: Path, *channels: dict) -> config_mod.Config:
    return config_mod.load(toml_config(tmp_path / "config.toml", list(channels), database=tmp_path / "desk.db"))


def stored_ids(store: Store, channel: str = "support") -> set[str]:
    return {m.message_id for m in store.channel_messages(channel)}


def cli(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*TUI_DESK, "--config", str(config), *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_a_refused_fetch_is_that_channels_error_and_the_rest_goes_on(tmp_path, dovecot, proxy):
    support, other = dovecot.add_user(), dovecot.add_user()
    support.deliver_many(mails(support, 5))
    other.deliver_many(mails(other, 3))
    local = make_maildir(tmp_path / "local")
    deliver_file(local, make_email(subject="Local question", message_id="<local@customer.example>"))
    proxy.refuse.add(3)
    path = toml_config(tmp_path / "config.toml", [
        support.config(port=proxy.port), other.config(name="other"),
        {"name": "local", "kind": "maildir", "path": str(local)},
    ], database=tmp_path / "desk.db")
    assert cli(path, "sync", "--channel", "local").returncode == 0
    with Store.open(tmp_path / "desk.db") as store:
        conversation = store.conversations()[0]["id"]
        queue_reply(store, conversation, "We are on it.", agent="ana")

    done = cli(path, "sync", "--json")
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    failed = result["channels"]["support"]
    assert "UID 3" in failed["error"] and "SERVERBUG" in failed["error"]
    assert failed["new"] == 4  # the messages around the refused one are stored
    assert result["channels"]["other"]["new"] == 3 and result["channels"]["other"]["error"] is None
    assert result["outbox"] == {"sent": 1, "failed": 0, "uncertain": 0}
    assert "internal error" not in done.stderr
    assert done.stderr.strip().splitlines() == [failed["error"]]
    with Store.open(tmp_path / "desk.db") as store:
        assert stored_ids(store) == {f"<m{i}.{support.user}@customer.example>" for i in (0, 1, 3, 4)}
        assert len(stored_ids(store, "other")) == 3


@pytest.mark.parametrize("fault", ["refuse", "omit", "nil"])
def test_a_message_failing_three_syncs_is_quarantined_and_no_longer_asked_for(tmp_path, dovecot, proxy, fault):
    box = dovecot.add_user()
    box.deliver_many(mails(box, 5))
    getattr(proxy, fault).add(3)  # the server's third message: UID 3
    config = load(tmp_path, box.config(port=proxy.port))
    with Store.open(tmp_path / "desk.db") as store:
        for run in (1, 2):
            result = sync.run(config, store)
            outcome = result.channels["support"]
            assert not result.ok
            assert f"UID 3 not fetched (try {run} of {imap.MAX_TRIES}" in outcome.error
            assert store.quarantined() == []
        assert len(stored_ids(store)) == 4
        assert [3] in [sorted(r) for r in proxy.requested]  # asked for again, alone

        third = sync.run(config, store).channels["support"]
        assert third.quarantined == 1 and "UID 3 quarantined after 3 tries" in third.error
        validity = box.status()["uidvalidity"]
        [item] = store.quarantined()
        assert (item.channel, item.key, item.tries) == ("support", f"INBOX UID 3 (UIDVALIDITY {validity})", 3)

        box.deliver_many(mails(box, 1, start=10))
        asked = len(proxy.requested)
        fourth = sync.run(config, store)
        assert fourth.ok and fourth.channels["support"].new == 1
        assert all(3 not in uids for uids in proxy.requested[asked:])
        assert len(stored_ids(store)) == 5

    listed = cli(tmp_path / "config.toml", "sync", "--quarantined", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["key"] == f"INBOX UID 3 (UIDVALIDITY {validity})" and row["tries"] == 3
    assert {"refuse": "SERVERBUG", "omit": "left it out", "nil": "without its bytes"}[fault] in row["reason"]
    text = cli(tmp_path / "config.toml", "sync", "--quarantined")
    assert "INBOX UID 3" in text.stdout
    assert len(json.loads(cli(tmp_path / "config.toml", "sync", "--quarantined", "--channel", "support",
                              "--json").stdout)) == 1
    unknown = cli(tmp_path / "config.toml", "sync", "--quarantined", "--channel", "elsewhere")
    assert unknown.returncode == 2 and "unknown channel 'elsewhere'" in unknown.stderr


def test_an_omitted_uid_is_asked_for_again_and_stored(tmp_path, dovecot, proxy):
    """SEARCH says 1-5, FETCH answers OK without 3: the position may not pass over it."""
    box = dovecot.add_user()
    box.deliver_many(mails(box, 5))
    proxy.omit.add(3)
    config = load(tmp_path, box.config(port=proxy.port))
    with Store.open(tmp_path / "desk.db") as store:
        first = sync.run(config, store)
        assert not first.ok and "UID 3 not fetched" in first.channels["support"].error
        assert len(stored_ids(store)) == 4

        proxy.omit.clear()
        second = sync.run(config, store)
        assert second.ok and second.channels["support"].new == 1
        assert stored_ids(store) == set(box.message_ids())


def test_a_server_refusing_every_fetch_counts_no_tries(tmp_path, dovecot, proxy):
    """Not one message's fault: retried at every sync, never quarantined."""
    box = dovecot.add_user()
    box.deliver_many(mails(box, 4))
    proxy.refuse.update(range(1, 5))
    config = load(tmp_path, box.config(port=proxy.port))
    with Store.open(tmp_path / "desk.db") as store:
        for _ in range(imap.MAX_TRIES + 1):
            result = sync.run(config, store)
            assert "gave no message of folder 'INBOX'" in result.channels["support"].error
        assert store.quarantined() == []
        proxy.refuse.clear()
        assert sync.run(config, store).channels["support"].new == 4


def test_a_recreated_folder_with_the_same_uidvalidity_and_uidnext_gone_back(tmp_path, mailbox):
    """After a full sync (last UID 115), INBOX is made again with the same UIDVALIDITY
    and 20 mails (UIDNEXT 21): all are read; the two we had are recognised."""
    no_id = b"From: a@customer.example\r\nSubject: no id\r\n\r\nrecognised by its bytes\r\n"
    old = mails(mailbox, 114)
    mailbox.deliver_many([*old, no_id])
    path = toml_config(tmp_path / "config.toml", [mailbox.config(batch_size=50)], database=tmp_path / "desk.db")
    assert cli(path, "sync").returncode == 0
    validity = mailbox.status()["uidvalidity"]

    mailbox.recreate([old[7], no_id, *mails(mailbox, 18, start=500)])
    assert mailbox.status() == {"uidvalidity": validity, "uidnext": 21, "messages": 20}
    done = cli(path, "sync", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)["channels"]["support"]
    assert (outcome["fetched"], outcome["new"], outcome["duplicates"]) == (20, 18, 2)
    [warning] = outcome["warnings"]
    assert "recreated with the same UIDVALIDITY" in warning and "UIDNEXT 21" in warning
    assert f"warning: channel support: {warning}" in done.stderr
    with Store.open(tmp_path / "desk.db") as store:
        assert stored_ids(store) >= set(mailbox.message_ids()) - {""}
        assert len(store.channel_messages("support")) == 115 + 18

    again = json.loads(cli(path, "sync", "--json").stdout)["channels"]["support"]
    assert (again["fetched"], again["warnings"]) == (0, [])


def test_a_recreated_folder_that_outgrew_the_old_one(tmp_path, store, mailbox):
    """UIDNEXT alone cannot tell (16 > 11): the message at the last stored UID is another."""
    mailbox.deliver_many(mails(mailbox, 10))
    config = load(tmp_path, mailbox.config())
    assert sync.run(config, store).channels["support"].new == 10

    mailbox.recreate(mails(mailbox, 15, start=100))
    assert mailbox.status()["uidnext"] == 16
    outcome = sync.run(config, store).channels["support"]
    assert (outcome.new, outcome.duplicates) == (15, 0)
    assert "the message at UID 10 is not the one stored from there" in outcome.warnings[0]
    assert stored_ids(store) >= set(mailbox.message_ids()) - {""}
