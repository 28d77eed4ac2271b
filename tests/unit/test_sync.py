"""Sync through the real pull → parse → thread → store path, with local channels."""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import signal
import subprocess
import sys

import pytest

from tui_desk import config as config_mod, sync
from tui_desk.errors import LockedError
from tui_desk.store import Store

from tests.conftest import ROOT
from tests.helpers import store_api
from tests.helpers.mail import deliver, make_email, make_maildir


@pytest.fixture
def desk(tmp_path):
    """A config with a Maildir and a JSONL channel, and a store."""
    maildir = make_maildir(tmp_path / "mail")
    chat = tmp_path / "chat.jsonl"
    chat.write_text("")
    conf = config_mod.from_dict({"channels": [
        {"name": "mail", "kind": "maildir", "path": str(maildir)},
        {"name": "chat", "kind": "jsonl", "path": str(chat)},
    ]}, tmp_path / "config.toml")
    with Store.open(tmp_path / "desk.db") as store:
        yield conf, store, maildir, chat


def counts(store: Store) -> tuple[int, int]:
    return (len(store_api.conversation_ids(store)), len(store_api.messages(store)))


def chat_line(**fields) -> str:
    base = {"conversation": "room-1", "sender_id": "@ana:chat.example", "sender_name": "Ana",
            "text": "hi", "time": "2026-03-02T10:00:00+00:00"}
    return json.dumps({**base, **fields}, ensure_ascii=False) + "\n"


def test_syncing_the_same_maildir_twice_adds_nothing(desk):
    conf, store, maildir, _ = desk
    for i in range(12):
        deliver(maildir, make_email(subject=f"Question {i}", sender=f"c{i}@x.example"))
    first = sync.run(conf, store)
    assert first.channels["mail"].as_json() == {"fetched": 12, "new": 12, "duplicates": 0, "conflicts": 0, "errors": 0, "quarantined": 0, "error": None, "warnings": []}
    second = sync.run(conf, store)
    assert second.channels["mail"].as_json() == {"fetched": 0, "new": 0, "duplicates": 0, "conflicts": 0, "errors": 0, "quarantined": 0, "error": None, "warnings": []}
    # a mail client moving files to cur/ and flagging them changes nothing either
    for path in (maildir / "new").iterdir():
        os.rename(path, maildir / "cur" / (path.name + ":2,S"))
    assert sync.run(conf, store).channels["mail"].fetched == 0
    assert counts(store) == (12, 12)


def test_a_copy_of_a_message_is_a_duplicate(desk):
    conf, store, maildir, _ = desk
    raw = make_email(message_id="<same@x>")
    deliver(maildir, raw, "a.host")
    deliver(maildir, raw, "b.host")
    result = sync.run(conf, store)
    assert (result.channels["mail"].new, result.channels["mail"].duplicates) == (1, 1)


def test_a_crash_mid_sync_loses_nothing_and_duplicates_nothing(desk, monkeypatch):
    conf, store, maildir, _ = desk
    from tui_desk.channels import maildir as maildir_channel
    monkeypatch.setattr(maildir_channel, "BATCH", 5)
    for i in range(23):
        deliver(maildir, make_email(subject=f"Q{i}", sender=f"c{i}@x.example"))
    real = store.add_inbound
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 13:  # in the middle of the third batch
            raise KeyboardInterrupt("power cut")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "add_inbound", dying)
    with pytest.raises(KeyboardInterrupt):
        sync.run(conf, store)
    assert counts(store) == (10, 10), "two whole batches committed, the third rolled back"
    monkeypatch.setattr(store, "add_inbound", real)
    result = sync.run(conf, store)
    assert result.channels["mail"].new == 13 and result.channels["mail"].duplicates == 0
    assert counts(store) == (23, 23)


def test_broken_mime_is_stored_raw_and_flagged(desk):
    conf, store, maildir, _ = desk
    broken = (b"From: Broken <broken@x.example>\r\nSubject: =?x-unknown?Q?bad?=\r\n"
              b"Content-Type: multipart/mixed; boundary=\"zzz\"\r\n\r\n--zzz\r\n"
              b"Content-Type: text/plain; charset=x-unknown-8bit-foo\r\n\r\ncaf\xe9 ol\xe9\r\n")
    deliver(maildir, broken)
    assert sync.run(conf, store).channels["mail"].new == 1
    message = store.messages(1)[0]
    assert message["problems"], "flagged"
    assert "caf" in message["text"]
    assert store.raw(message["id"]) == broken, "raw bytes kept exactly"


def test_garbage_is_stored_not_dropped(desk):
    conf, store, maildir, _ = desk
    deliver(maildir, b"\x00\xff\xfe not an email at all \x1b[2J")
    deliver(maildir, b"")
    assert sync.run(conf, store).channels["mail"].new == 2
    assert counts(store)[1] == 2


def test_threading_by_reference_subject_and_ticket_tag(desk):
    conf, store, maildir, _ = desk
    deliver(maildir, make_email(subject="Broken zipper", message_id="<a1@x>"))
    deliver(maildir, make_email(subject="Re: Broken zipper", message_id="<a2@x>", in_reply_to="<a1@x>",
                                sender="Someone Else <other@x.example>"))
    deliver(maildir, make_email(subject="RE: AW: broken   ZIPPER", message_id="<a3@x>"))
    deliver(maildir, make_email(subject="Invoice please", message_id="<b1@x>"))
    deliver(maildir, make_email(subject="Re: something [#1]", message_id="<c1@x>", sender="third@x.example"))
    sync.run(conf, store)
    rows = {r["subject"]: r["message_count"] for r in store.conversations()}
    assert rows == {"Broken zipper": 4, "Invoice please": 1}


def test_jsonl_lines_appended_later_are_picked_up(desk):
    conf, store, _, chat = desk
    chat.write_text(chat_line(id="c1", text="hello") + chat_line(id="c2", text="anyone?"))
    assert sync.run(conf, store, only="chat").channels["chat"].new == 2
    with chat.open("a") as handle:
        handle.write(chat_line(id="c3", text="ok 谢谢"))
        handle.write('{"id": "partial", "conver')  # still being written
    result = sync.run(conf, store, only="chat")
    assert (result.channels["chat"].new, result.channels["chat"].fetched) == (1, 1)
    assert [m["text"] for m in store.messages(1)] == ["hello", "anyone?", "ok 谢谢"]


def test_jsonl_rewritten_file_is_read_again_without_duplicates(desk):
    conf, store, _, chat = desk
    chat.write_text(chat_line(id="c1") + chat_line(id="c2", text="x"))
    sync.run(conf, store, only="chat")
    chat.unlink()  # rotated: the new file starts with an older line
    chat.write_text(chat_line(id="c2", text="x") + chat_line(id="c3", text="new"))
    result = sync.run(conf, store, only="chat").channels["chat"]
    assert (result.new, result.duplicates) == (1, 1)
    with chat.open("a") as handle:  # and the next append continues from there
        handle.write(chat_line(id="c4", text="newer"))
    result = sync.run(conf, store, only="chat").channels["chat"]
    assert (result.new, result.duplicates, result.fetched) == (1, 0, 1)


def test_jsonl_bad_line_is_stored_and_flagged(desk):
    conf, store, _, chat = desk
    chat.write_text("this is not json\n" + chat_line(id="ok"))
    assert sync.run(conf, store, only="chat").channels["chat"].new == 2
    flagged = [m for c in store.conversations() for m in store.messages(c["id"]) if m["problems"]]
    assert len(flagged) == 1 and flagged[0]["text"] == "this is not json"


def test_chat_room_starts_a_new_conversation_after_solved(desk):
    conf, store, _, chat = desk
    chat.write_text(chat_line(id="c1"))
    sync.run(conf, store, only="chat")
    store.set_status(1, "solved", "ana")
    with chat.open("a") as handle:
        handle.write(chat_line(id="c2", text="one more thing", time="2026-03-03T10:00:00+00:00"))
    sync.run(conf, store, only="chat")
    assert [c["message_count"] for c in store.conversations()] == [1, 1]


def test_a_failing_channel_does_not_stop_the_others(desk, tmp_path):
    conf, store, maildir, _ = desk
    conf.channels.append(config_mod.MaildirChannel(name="gone", kind="maildir", path=str(tmp_path / "nowhere")))
    deliver(maildir, make_email())
    result = sync.run(conf, store)
    assert not result.ok
    assert result.channels["mail"].new == 1
    assert result.channels["gone"].errors == 1 and "gone" in result.channels["gone"].error


def test_one_sync_at_a_time(desk):
    conf, store, _, _ = desk
    with store.sync_lock():
        with pytest.raises(LockedError):
            sync.run(conf, store)


def run_cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=120)


def test_cli_sync_json_shape_and_exit_codes(tmp_path):
    maildir = make_maildir(tmp_path / "mail")
    deliver(maildir, make_email())
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n'
                    f'[[channels]]\nname = "gone"\nkind = "maildir"\npath = "{tmp_path / "nowhere"}"\n')
    done = run_cli("--config", str(conf), "--db", str(tmp_path / "d.db"), "sync", "--json")
    assert done.returncode == 1, "one channel failed"
    data = json.loads(done.stdout)
    assert set(data) == {"channels", "outbox", "rules", "pages", "surveys", "seconds"}
    assert data["rules"] == {"events": 0, "fired": 0, "applied": 0, "suppressed": 0, "demoted": []}
    assert data["surveys"] == {"queued": 0, "skipped": 0, "answers": 0}
    assert data["channels"]["mail"] == {"fetched": 1, "new": 1, "duplicates": 0, "conflicts": 0, "errors": 0, "quarantined": 0,
                                        "error": None, "warnings": []}
    assert data["channels"]["gone"]["errors"] == 1
    assert data["channels"]["gone"]["error"].startswith("channel gone: ")  # which channel failed, and why
    assert data["outbox"] == {"sent": 0, "failed": 0, "uncertain": 0}
    assert "channel gone:" in done.stderr and "Traceback" not in done.stderr
    quiet = run_cli("--config", str(conf), "--db", str(tmp_path / "d.db"), "sync", "--channel", "mail", "--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    # another sync holding the lock: exit 75 for cron to retry next minute
    with Store.open(tmp_path / "d.db") as store, store.sync_lock():
        locked = run_cli("--config", str(conf), "--db", str(tmp_path / "d.db"), "sync", "--channel", "mail")
    assert locked.returncode == 75 and "another sync" in locked.stderr


def _index_rows(store: Store) -> list[tuple]:  # schema test: raw SQL on purpose (the index itself)
    """Every (term, message external id, column, position) in the full-text index."""
    store.d.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms USING fts5vocab(main, messages_fts, instance)")
    return sorted(tuple(r) for r in store.d.all(
        "SELECT v.term, m.external_id, v.col, v.offset FROM temp.fts_terms v JOIN messages m ON m.id = v.doc"))


def test_sync_indexes_a_batch_exactly_as_the_insert_trigger_does(desk, tmp_path):  # schema test: raw SQL on purpose
    conf, store, maildir, chat = desk
    bodies = ["Where is my parcel? Tracking says nothing.", "您好，我想申请退款，订单号是 12345。",
              "สวัสดีครับ ผมต้องการคืนเงิน", "Zipper broke after two weeks, refund please."]
    for i, body in enumerate(bodies * 3):
        deliver(maildir, make_email(subject=f"Case {i} 退款", body=body, sender=f"c{i % 5}@x.example"))
    chat.write_text("".join(chat_line(text=f"chat {i} 订单", sender_id=f"@c{i}:x") for i in range(5)))
    sync.run(conf, store)
    synced = _index_rows(store)
    with Store.open(tmp_path / "by-trigger.db") as other:  # the same messages, row by row through the trigger
        other.d.conn.execute("PRAGMA foreign_keys=OFF")  # messages only: their conversations do not matter here
        with other.d.tx():
            for row in store.d.all("SELECT * FROM messages ORDER BY id"):
                other.d.conn.execute(
                    "INSERT INTO messages (id, conversation_id, channel, direction, subject, text, external_id,"
                    " created_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row["id"], row["conversation_id"], row["channel"], row["direction"], row["subject"],
                     row["text"], row["external_id"], row["created_at"], row["received_at"]))
        assert synced == _index_rows(other) and len(synced) > 100
    assert len(store.search("退款")) == 12 and len(store.search("订单")) == 5 + 3  # chats, Chinese mails
    store.d.conn.execute("INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')")


@pytest.mark.parametrize("point", ["after-commit", "mid-transaction"])
@pytest.mark.parametrize("how", ["KILL", "TERM", "HUP", "INT"])
def test_a_killed_sync_leaves_no_worker_holding_the_lock(tmp_path, point, how):
    """Batches of 500 are parsed in worker processes forked while the lock is held:
    whatever ends the sync, the next one runs at once, and nothing is lost or doubled."""
    maildir = make_maildir(tmp_path / "mail")
    for n in range(1100):
        deliver(maildir, make_email(subject=f"order {n}", message_id=f"<k{n}@customer.example>"), name=f"m{n:05d}")
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    db = str(tmp_path / "d.db")
    killed = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "killsync.py"), "--config", str(conf),
                             "--db", db, "sync", "--quiet"], capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, "KILL_AT": point, "KILL_BATCH": "1", "KILL_SIGNAL": how})
    if how == "KILL":
        assert killed.returncode == -9, killed.stderr
    else:  # ended at once, with one line: Ctrl-C, a stop or a hang-up alike
        assert (killed.returncode, killed.stderr) == (130, "tui-desk: interrupted\n")
    rerun = run_cli("--config", str(conf), "--db", db, "sync", "--quiet")
    assert rerun.returncode == 0, rerun.stderr  # never 75: no orphaned worker holds the flock
    with Store.open(tmp_path / "d.db") as store:
        assert counts(store) == (1100, 1100)


def test_a_parse_worker_killed_out_of_memory_is_that_channels_error(tmp_path):
    """A worker ended by the OOM killer (SIGKILL) breaks the pool: that run gives the mail
    channel a clear error in JSON (exit 1, no traceback), the chat channel after it still
    syncs, and the next run stores every message exactly once."""
    maildir = make_maildir(tmp_path / "mail")
    for n in range(500):  # over the pool threshold: parsed in worker processes
        body = "POISON" if n == 250 else f"order {n}"
        deliver(maildir, make_email(subject=f"order {n}", body=body, message_id=f"<o{n}@customer.example>"),
                name=f"m{n:05d}")
    chat = tmp_path / "chat.jsonl"
    chat.write_text(chat_line(text="still here?"))
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n'
                    f'[[channels]]\nname = "chat"\nkind = "jsonl"\npath = "{chat}"\n')
    db = str(tmp_path / "d.db")
    broken = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "oomsync.py"), "--config", str(conf),
                             "--db", db, "sync", "--json"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert broken.returncode == 1, broken.stderr
    assert "Traceback" not in broken.stderr and "internal error" not in broken.stdout
    channels = json.loads(broken.stdout)["channels"]
    assert "a parse worker died" in channels["mail"]["error"]
    assert channels["chat"] == {**channels["chat"], "new": 1, "errors": 0, "error": None}
    rerun = run_cli("--config", str(conf), "--db", db, "sync", "--quiet")
    assert rerun.returncode == 0, rerun.stderr
    with Store.open(db) as store:
        stored = store.channel_messages("mail")
        assert len(stored) == 500 and len(store.channel_messages("chat")) == 1
        assert sorted(m.message_id for m in stored) == sorted(f"<o{n}@customer.example>" for n in range(500))
        assert len({m.external_id for m in stored}) == 500


KILL_TRIALS = 20


def _kill_trials(tmp_path, conf, how: str, seed: int) -> list[str]:
    """KILL_TRIALS syncs killed with SIG`how` at seeded random moments, each followed by
    a sync that must run at once and leave every message stored exactly once."""
    rng = random.Random(seed)  # the moments vary between trials, not between runs
    failures = []
    for trial in range(KILL_TRIALS):
        db = str(tmp_path / f"{how}-{trial}.db")
        started = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "--config", str(conf), "--db", db,
                                    "sync", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            started.wait(timeout=rng.uniform(0.3, 2.5))  # Python start-up, then somewhere in the batches
        except subprocess.TimeoutExpired:
            started.send_signal(getattr(signal, "SIG" + how))
        _, stderr = started.communicate(timeout=120)
        if b"Traceback" in stderr:
            failures.append(f"{how} trial {trial}: traceback {stderr[-1500:]!r}")
        rerun = run_cli("--config", str(conf), "--db", db, "sync", "--quiet")
        if rerun.returncode != 0:
            failures.append(f"{how} trial {trial}: the next sync exited {rerun.returncode}: {rerun.stderr}")
            continue
        with Store.open(db) as store:
            if counts(store) != (450, 450):
                failures.append(f"{how} trial {trial}: {counts(store)} stored")
    return failures


def test_a_sync_killed_at_random_moments_always_lets_the_next_one_run(tmp_path):
    """The issue's trial: SIGKILL, SIGTERM and SIGHUP at random moments, 20 times each
    (one batch of 450, parsed in worker processes); the three signals run side by side."""
    maildir = make_maildir(tmp_path / "mail")
    for n in range(450):
        deliver(maildir, make_email(subject=f"order {n}", message_id=f"<r{n}@customer.example>"), name=f"m{n:05d}")
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        results = pool.map(lambda args: _kill_trials(tmp_path, conf, *args), [("KILL", 1), ("TERM", 2), ("HUP", 3)])
        failures = [f for found in results for f in found]
    assert failures == []


def test_a_finished_sync_gives_the_signals_back(tmp_path):
    """A SIGTERM that lands after the work (during interpreter shutdown, as in one CI run)
    must not raise inside the exit hooks: the sync's handlers live only while it syncs."""
    from typer.testing import CliRunner

    from tui_desk.cli import app

    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{make_maildir(tmp_path / "mail")}"\n')
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
    outcome = CliRunner().invoke(app, ["--config", str(conf), "--db", str(tmp_path / "d.db"), "sync", "--quiet"])
    assert outcome.exit_code == 0, outcome.output
    assert {signum: signal.getsignal(signum) for signum in before} == before


def test_quiet_sync_is_silent_when_another_holds_the_lock(tmp_path):
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{make_maildir(tmp_path / "mail")}"\n')
    with Store.open(tmp_path / "d.db") as store, store.sync_lock():
        locked = run_cli("--config", str(conf), "--db", str(tmp_path / "d.db"), "sync", "--quiet")
    assert (locked.returncode, locked.stdout, locked.stderr) == (75, "", "")
