"""The imap channel against a real, private Dovecot: first, incremental and no-change
sync, UIDVALIDITY change, kill -9 mid-sync, server stopped mid-sync, refused login,
unreachable server, several folders, and `sync --watch` with IDLE."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.dovecot import dovecot, mailbox, own_dovecot, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email
from tui_desk import config as config_mod
from tui_desk import sync
from tui_desk.channels import imap
from tui_desk.store import Store

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parents[1]
TUI_DESK = [sys.executable, "-c", "from tui_desk.cli import main; main()"]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """Reconnect waits shortened in-process (the behaviour is the same, the test faster)."""
    monkeypatch.setattr(imap, "BACKOFF", (0.01, 0.05, 0.1))


def load(tmp_path: Path, box, **extra) -> config_mod.Config:
    path = toml_config(tmp_path / "config.toml", [box.config(**extra)], database=tmp_path / "desk.db")
    return config_mod.load(path)


def stored(store: Store) -> list[tuple]:
    return sorted((m.external_id, m.message_id) for m in store.channel_messages("support"))


def assert_matches_server(store: Store, box, folder: str = "INBOX") -> None:
    """No loss, no duplicate: the stored messages are exactly the server's."""
    rows = stored(store)
    assert len(rows) == len(box.uids(folder))
    assert len({r[0] for r in rows}) == len(rows)
    assert {r[1] for r in rows if r[1]} == set(box.message_ids(folder)) - {""}


def deliver(box, count: int, start: int = 0, folder: str = "INBOX") -> None:
    box.deliver_many((make_email(subject=f"Question {i}", body=f"Message number {i}.",
                                 message_id=f"<m{i}.{box.user}@customer.example>")
                      for i in range(start, start + count)), folder)


def test_first_incremental_and_no_change_sync(tmp_path, store, mailbox):
    deliver(mailbox, 24)
    mailbox.deliver(b"From: a@customer.example\r\nSubject: no id\r\n\r\nno Message-ID here\r\n")
    config = load(tmp_path, mailbox, batch_size=10)

    first = sync.run(config, store)
    assert first.ok and first.channels["support"].new == 25
    assert_matches_server(store, mailbox)
    state = store.sync_state("support")
    assert state["INBOX:uid"] == str(max(mailbox.uids()))
    flags = mailbox.server.doveadm("fetch", "-u", mailbox.user, "flags", "mailbox", "INBOX", "ALL")
    assert "\\Seen" not in flags  # BODY.PEEK: people's mail clients see no change

    deliver(mailbox, 5, start=100)
    second = sync.run(config, store)
    assert (second.channels["support"].fetched, second.channels["support"].new) == (5, 5)
    assert_matches_server(store, mailbox)

    third = sync.run(config, store)
    assert third.ok and third.channels["support"].fetched == 0
    assert len(stored(store)) == 30


def test_large_batches_are_parsed_in_worker_processes(tmp_path, store, mailbox):
    deliver(mailbox, sync.POOL_THRESHOLD + 10)
    result = sync.run(load(tmp_path, mailbox, batch_size=sync.POOL_THRESHOLD + 10), store)
    assert result.ok, result.channels
    assert_matches_server(store, mailbox)


def test_mark_seen_sets_the_flag(tmp_path, store, mailbox):
    deliver(mailbox, 2)
    assert sync.run(load(tmp_path, mailbox, mark_seen=True), store).channels["support"].new == 2
    flags = mailbox.server.doveadm("fetch", "-u", mailbox.user, "flags", "mailbox", "INBOX", "ALL")
    assert flags.count("\\Seen") == 2


def test_uidvalidity_change_rescans_without_duplicates(tmp_path, store, mailbox):
    deliver(mailbox, 12)
    mailbox.deliver(b"From: a@customer.example\r\nSubject: no id\r\n\r\nhashed by content\r\n")
    config = load(tmp_path, mailbox, batch_size=5)
    sync.run(config, store)
    old = store.sync_state("support")["INBOX:uidvalidity"]

    mailbox.set_uidvalidity(int(old) + 1000)
    deliver(mailbox, 2, start=50)
    result = sync.run(config, store).channels["support"]
    assert (result.fetched, result.new, result.duplicates) == (15, 2, 13)
    assert store.sync_state("support")["INBOX:uidvalidity"] == str(int(old) + 1000)
    assert_matches_server(store, mailbox)


def _run_killed(config_path: Path, point: str, batch: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "KILL_AT": point, "KILL_BATCH": str(batch)}
    return subprocess.run([sys.executable, str(HERE / "helpers" / "killsync.py"), "--config", str(config_path),
                           "sync", "--quiet"], env=env, capture_output=True, text=True, timeout=120, cwd=HERE.parent)


@pytest.mark.parametrize("point", ["after-commit", "mid-transaction"])
def test_kill_9_mid_sync_then_rerun_equals_an_uninterrupted_run(tmp_path, mailbox, point):
    deliver(mailbox, 60)
    path = toml_config(tmp_path / "config.toml", [mailbox.config(batch_size=7)], database=tmp_path / "desk.db")
    killed = _run_killed(path, point, batch=3)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with Store.open(tmp_path / "desk.db") as store:
        partial = len(stored(store))
        assert partial == (21 if point == "after-commit" else 14)  # the open transaction is gone whole
    rerun = subprocess.run([*TUI_DESK, "--config", str(path), "sync", "--quiet"], capture_output=True, text=True,
                           timeout=120, cwd=HERE.parent)
    assert rerun.returncode == 0, rerun.stderr
    with Store.open(tmp_path / "desk.db") as store:
        assert_matches_server(store, mailbox)
        assert len(store_api.conversation_ids(store)) == 60


def test_kill_9_at_an_arbitrary_moment(tmp_path, mailbox):
    deliver(mailbox, 400)
    path = toml_config(tmp_path / "config.toml", [mailbox.config(batch_size=5)], database=tmp_path / "desk.db")
    proc = subprocess.Popen([*TUI_DESK, "--config", str(path), "sync", "--quiet"], cwd=HERE.parent,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = tmp_path / "desk.db"
    for _ in range(3000):  # until some batches are in (bounded: 30 s)
        if proc.poll() is not None:
            break
        try:
            # a read-only peek: it never creates the database the sync is making
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:  # raw SQL on purpose
                if conn.execute("SELECT count(*) FROM messages").fetchone()[0] > 20:
                    break
        except sqlite3.Error:
            pass
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    rerun = subprocess.run([*TUI_DESK, "--config", str(path), "sync", "--quiet"], capture_output=True, text=True,
                           timeout=120, cwd=HERE.parent)
    assert rerun.returncode == 0, rerun.stderr
    with Store.open(db) as store:
        assert_matches_server(store, mailbox)


def test_server_stopped_mid_sync(tmp_path, store, own_dovecot):
    box = own_dovecot.add_user()
    deliver(box, 40)
    config = load(tmp_path, box, batch_size=10)
    calls = []

    def stop_server(channel: str, fetched: int) -> None:
        calls.append(fetched)
        if len(calls) == 1:
            own_dovecot.stop()

    result = sync.run(config, store, progress=stop_server)
    outcome = result.channels["support"]
    assert not result.ok
    assert outcome.error.startswith("channel support: ")
    assert "127.0.0.1" in outcome.error and "\n" not in outcome.error
    kept = len(stored(store))
    assert 10 <= kept < 40  # what was committed stays

    own_dovecot.start()
    again = sync.run(config, store)
    assert again.ok
    assert_matches_server(store, box)


def test_wrong_password_is_one_clear_line_and_exit_1(tmp_path, mailbox):
    deliver(mailbox, 1)
    entry = mailbox.config(password="not-the-password")
    path = toml_config(tmp_path / "config.toml", [entry], database=tmp_path / "desk.db")
    done = subprocess.run([*TUI_DESK, "--config", str(path), "sync"], capture_output=True, text=True,
                          timeout=120, cwd=HERE.parent)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"channel support: login refused for '{mailbox.user}' at 127.0.0.1:")
    assert "not-the-password" not in done.stderr + done.stdout


def test_unreachable_server(tmp_path, store, mailbox):
    from tests.helpers.dovecot import free_port

    config = load(tmp_path, mailbox)
    config.channels[0].port = free_port()  # nothing listens there
    result = sync.run(config, store)
    error = result.channels["support"].error
    assert error.startswith("channel support: cannot reach IMAP server 127.0.0.1:")
    assert "refused" in error.lower()


def test_several_folders_and_a_missing_one(tmp_path, store, mailbox):
    deliver(mailbox, 3)
    deliver(mailbox, 2, start=10, folder="Billing")
    result = sync.run(load(tmp_path, mailbox, folders=["INBOX", "Billing"]), store)
    assert result.ok and result.channels["support"].new == 5
    state = store.sync_state("support")
    assert {"INBOX:uid", "Billing:uid"} <= set(state)

    missing = sync.run(load(tmp_path, mailbox, folders=["INBOX", "Nope"]), store)
    assert missing.channels["support"].error.startswith("channel support: cannot open folder 'Nope'")


def test_watch_stores_new_mail_within_seconds(tmp_path, store, mailbox):
    config = load(tmp_path, mailbox)
    stop = threading.Event()
    passes = []

    def run() -> None:  # a store per thread: SQLite connections stay in their thread
        with Store.open(tmp_path / "desk.db") as own:
            sync.watch(config, own, poll=3600, stop=stop, on_result=passes.append)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        for _ in range(1000):  # the first pass (bounded wait)
            if passes:
                break
            time.sleep(0.01)
        deliver(mailbox, 1, start=900)
        found = 0
        for _ in range(3000):  # IDLE wakes the next pass long before the hour-long interval
            found = len(store_api.messages(store))
            if found:
                break
            time.sleep(0.01)
        assert found == 1
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
