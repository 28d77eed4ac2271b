"""A reply interrupted after SMTP DATA began never reaches the customer twice.

Real aiosmtpd (which drops the connection, answers after the client's timeout, or
SIGKILLs the sending `tui-desk outbox flush` around its 250) and real Dovecot (the Sent
folder). Each test counts the copies the SMTP server received, then delivers again,
past every lease, backoff and check delay: never a second copy. A reply that may have
been sent is "uncertain", shown as such, and settled by the Sent folder when it can
prove either way, else by a person (`outbox retry` / `outbox cancel`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.dovecot import dovecot, free_port, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email
from tui_desk import config as config_mod
from tui_desk import sync
from tui_desk.channels.imap import UNCONFIRMED
from tui_desk.outbox import UNCERTAIN_HINT, deliver_due, queue_reply

ROOT = Path(__file__).resolve().parents[2]
# past the lease (10 min), the first backoffs and the check delay (1 h) of the outbox
MUCH_LATER = dt.timedelta(hours=3)
# the client's smtp_timeout, and how long the server holds back its 250 past it: the
# timeout stays long enough for the steps before DATA on a loaded machine
TIMEOUT, STALL = 3, 5.0


class Misbehaving:
    """An SMTP server that counts every message it received in full, and misbehaves
    once, in the way `mode` says, at the moment the client waits for its 250."""

    def __init__(self) -> None:
        self.copies: list[bytes] = []
        self.mode = "ok"
        self.delay = 0.0
        self.victim: subprocess.Popen | None = None
        self.files_in_sent = None
        """Set to a callable(bytes): the server files its own copy in Sent (as many do)."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.copies.append(envelope.content)
        if self.files_in_sent:
            self.files_in_sent(envelope.content)
        mode, self.mode = self.mode, "ok"
        if mode == "drop":  # the connection dies before the 250
            server.transport.abort()
        elif mode == "stall":  # the 250 comes, but after the client gave up
            await asyncio.sleep(self.delay)
        elif mode == "kill-before":  # the sender dies while waiting for the 250
            _kill(self.victim)
        elif mode == "kill-after":  # the sender dies `delay` seconds after the 250 left
            asyncio.get_running_loop().call_later(self.delay, _kill, self.victim)
        return "250 OK"


def _kill(process: subprocess.Popen | None) -> None:
    for _ in range(500):  # bounded: the sender is started just before it connects
        if process is not None:
            break
        time.sleep(0.01)
    try:
        os.kill(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # it had already finished
        pass


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=True)

    handler = Misbehaving()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


def desk(tmp_path, box, server, **extra):
    path = toml_config(tmp_path / "config.toml",
                       [box.config(smtp_host="127.0.0.1", smtp_port=server.port, **extra)],
                       database=tmp_path / "desk.db",
                       desk={"support_address": "support@desk.example", "name": "Desk Support"})
    return config_mod.load(path)


def a_reply(config, store, box, text="Your refund is on its way.") -> int:
    box.deliver(make_email(subject="Refund?", message_id=f"<q{time.monotonic_ns()}@customer.example>"))
    assert sync.run(config, store).ok
    conversation = max(store_api.conversation_ids(store))
    return queue_reply(store, conversation, text, agent="ana").outbox_id


def cli(config, *args: str, helper: str = "", env: dict | None = None, server: Misbehaving | None = None):
    """`tui-desk --config … ARGS` in a process of its own (the server may kill it)."""
    script = ROOT / "tests" / "helpers" / helper if helper else ROOT / "cli.py"
    process = subprocess.Popen([sys.executable, str(script), "--config", str(config.path), *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env={**os.environ, **(env or {})})
    if server is not None:
        server.victim = process
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def again(config, store, server) -> None:
    """Deliver again (what `outbox flush` runs): now, then hours later (every lease,
    backoff and check delay passed)."""
    deliver_due(config, store)
    deliver_due(config, store, dt.datetime.now(dt.timezone.utc) + MUCH_LATER)
    deliver_due(config, store, dt.datetime.now(dt.timezone.utc) + 3 * MUCH_LATER)


def sent_flags(box, folder: str = "Sent") -> list[str]:
    """The flags of each message in `folder`, as Dovecot sees them."""
    out = box.server.doveadm("fetch", "-u", box.user, "flags", "mailbox", folder, "ALL")
    return [line.split(":", 1)[1].strip() for line in out.splitlines() if line.lower().startswith("flags:")]


def state(store, outbox_id: int) -> str:
    return store.outbox_item(outbox_id)["state"]


# -- each window: one copy at most --------------------------------------------------------

@pytest.mark.integration
@pytest.mark.parametrize("sent_folder", ["Sent", ""])
def test_a_connection_dropped_after_data_is_uncertain_and_never_sent_again(tmp_path, store, mailbox, smtp_server,
                                                                          sent_folder):
    config = desk(tmp_path, mailbox, smtp_server, sent_folder=sent_folder)
    reply = a_reply(config, store, mailbox)
    smtp_server.mode = "drop"
    result = deliver_due(config, store)
    assert (result.sent, result.failed, result.uncertain) == (0, 0, 1), result.errors
    assert UNCERTAIN_HINT in result.errors[0] and f"outbox retry|cancel {reply}" in result.errors[0]
    assert len(smtp_server.copies) == 1 and state(store, reply) == "uncertain"

    again(config, store, smtp_server)
    assert len(smtp_server.copies) == 1 and state(store, reply) == "uncertain"
    rc, out, _ = cli(config, "outbox", "list")
    assert rc == 0 and "uncertain" in out and "may have been sent: check" in out
    if sent_folder:  # its copy waits in Sent, marked as not confirmed
        assert UNCONFIRMED.decode() in sent_flags(mailbox)[0]


@pytest.mark.integration
def test_a_250_after_the_clients_timeout_is_never_sent_again(tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server, smtp_timeout=TIMEOUT)
    reply = a_reply(config, store, mailbox)
    smtp_server.mode, smtp_server.delay = "stall", STALL
    started = time.monotonic()
    result = deliver_due(config, store)
    assert result.uncertain == 1 and "may have been sent" in result.errors[0], result.errors
    assert state(store, reply) == "uncertain"
    time.sleep(max(0.0, STALL + 0.5 - (time.monotonic() - started)))  # the late 250 has come and gone
    again(config, store, smtp_server)
    assert len(smtp_server.copies) == 1 and state(store, reply) == "uncertain"


@pytest.mark.integration
@pytest.mark.parametrize("moment, delay", [("kill-before", 0), ("kill-after", 0), ("kill-after", 0.001),
                                           ("kill-after", 0.003), ("kill-after", 0.01), ("kill-after", 0.05)])
def test_a_kill_around_the_250_never_gives_a_second_copy(tmp_path, store, mailbox, smtp_server, moment, delay):
    config = desk(tmp_path, mailbox, smtp_server)
    reply = a_reply(config, store, mailbox)
    smtp_server.mode, smtp_server.delay = moment, delay
    rc, _, err = cli(config, "outbox", "flush", server=smtp_server)
    assert len(smtp_server.copies) == 1
    assert rc in (0, -signal.SIGKILL), err
    assert state(store, reply) in ("uncertain", "sent")
    if moment == "kill-before":
        assert state(store, reply) == "uncertain"

    again(config, store, smtp_server)
    assert len(smtp_server.copies) == 1
    assert state(store, reply) in ("uncertain", "sent")
    assert len(mailbox.message_ids("Sent")) == 1  # one copy in Sent too


# -- the Sent folder settles what it can prove ---------------------------------------------

@pytest.mark.integration
def test_the_sent_folder_proves_an_uncertain_reply_went_out(tmp_path, store, mailbox, smtp_server):
    # the server files its own copy in Sent as it takes the message, then its 250 comes
    # too late: the copy it filed (without our keyword) proves the reply went out
    config = desk(tmp_path, mailbox, smtp_server, smtp_timeout=TIMEOUT)
    reply = a_reply(config, store, mailbox)
    smtp_server.files_in_sent = lambda raw: mailbox.deliver(raw, "Sent")
    smtp_server.mode, smtp_server.delay = "stall", STALL
    assert deliver_due(config, store).uncertain == 1
    smtp_server.files_in_sent = None
    assert state(store, reply) == "uncertain"

    result = deliver_due(config, store, dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=1))
    assert (result.sent, result.failed, result.uncertain) == (0, 0, 0), result.errors
    assert state(store, reply) == "sent" and len(smtp_server.copies) == 1
    kinds = [e["data"] for e in store.events(store.outbox_item(reply)["conversation_id"]) if e["kind"] == "reply_sent"]
    assert kinds and "confirmed" in kinds[-1]["why"]
    again(config, store, smtp_server)
    assert len(smtp_server.copies) == 1


@pytest.mark.integration
def test_a_kill_while_filing_the_copy_is_proven_unsent_and_sent_once(tmp_path, store, mailbox, smtp_server):
    # killed as the APPEND to Sent is about to go: "uncertain" is committed, but no copy
    # is in Sent, and the copy goes before DATA: so it never began to go out
    config = desk(tmp_path, mailbox, smtp_server)
    reply = a_reply(config, store, mailbox)
    rc, _, err = cli(config, "outbox", "flush", helper="killsend.py", env={"KILL_AT": "append"})
    assert rc == -signal.SIGKILL, err
    assert smtp_server.copies == [] and state(store, reply) == "uncertain"
    assert mailbox.message_ids("Sent") == []
    assert deliver_due(config, store).sent == 0  # its lease holds: the sender may still be alive

    result = deliver_due(config, store, dt.datetime.now(dt.timezone.utc) + MUCH_LATER)  # the lease is over
    assert (result.sent, result.failed, result.uncertain) == (1, 0, 0), result.errors
    assert len(smtp_server.copies) == 1 and state(store, reply) == "sent"
    sent_id = email.message_from_bytes(smtp_server.copies[0])["Message-ID"]
    assert mailbox.message_ids("Sent") == [sent_id]
    assert UNCONFIRMED.decode() not in sent_flags(mailbox)[0]  # confirmed after the 250
    again(config, store, smtp_server)
    assert len(smtp_server.copies) == 1


@pytest.mark.integration
def test_a_kill_after_filing_the_copy_waits_for_a_person_who_retries(tmp_path, store, mailbox, smtp_server):
    # killed between the APPEND and DATA: an unconfirmed copy cannot tell whether DATA
    # ran, so a person decides; their retry reuses the copy already in Sent
    config = desk(tmp_path, mailbox, smtp_server)
    reply = a_reply(config, store, mailbox)
    rc, _, err = cli(config, "outbox", "flush", helper="killsend.py", env={"KILL_AT": "after-append"})
    assert rc == -signal.SIGKILL, err
    assert smtp_server.copies == [] and state(store, reply) == "uncertain"
    again(config, store, smtp_server)
    assert smtp_server.copies == [] and state(store, reply) == "uncertain"

    rc, _, err = cli(config, "outbox", "retry", str(reply))
    assert rc == 0 and f"reply {reply} queued again" in err
    rc, out, err = cli(config, "outbox", "flush")
    assert rc == 0 and out.strip() == "1 sent, 0 failed", err
    assert len(smtp_server.copies) == 1 and state(store, reply) == "sent"
    assert len(mailbox.message_ids("Sent")) == 1 and UNCONFIRMED.decode() not in sent_flags(mailbox)[0]


@pytest.mark.integration
def test_cancelling_an_uncertain_reply_keeps_it_and_never_tries_again(tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server)
    reply = a_reply(config, store, mailbox)
    smtp_server.mode = "drop"
    assert deliver_due(config, store).uncertain == 1
    rc, _, err = cli(config, "outbox", "cancel", str(reply))
    assert rc == 0 and "will not be tried again (it may have been sent)" in err
    item = store.outbox_item(reply)
    assert item["state"] == "cancelled"
    [message] = [m for m in store.messages(item["conversation_id"]) if m["id"] == item["message_id"]]
    assert message["direction"] == "out" and message["text"] == "Your refund is on its way."
    rc, _, _ = cli(config, "outbox", "retry", str(reply))
    assert rc == 2
    again(config, store, smtp_server)
    assert len(smtp_server.copies) == 1


@pytest.mark.integration
def test_a_refusal_after_the_message_is_a_plain_failure_retried_later(tmp_path, store, mailbox, smtp_server):
    # the server's own "no" to the message proves it did not take it: retried with
    # backoff as before, and the copy filed in Sent is reused, not filed twice
    config = desk(tmp_path, mailbox, smtp_server)
    reply = a_reply(config, store, mailbox)

    async def refuse(server, session, envelope):
        return "451 try again later"

    smtp_server.handle_DATA, normal = refuse, smtp_server.handle_DATA
    result = deliver_due(config, store)
    assert (result.failed, result.uncertain) == (1, 0) and "451" in result.errors[0], result.errors
    assert state(store, reply) == "queued"
    smtp_server.handle_DATA = normal
    assert deliver_due(config, store, dt.datetime.now(dt.timezone.utc) + MUCH_LATER).sent == 1
    assert len(smtp_server.copies) == 1 and len(mailbox.message_ids("Sent")) == 1
    assert UNCONFIRMED.decode() not in sent_flags(mailbox)[0]


@pytest.mark.integration
def test_no_sent_folder_to_file_the_copy_in_sends_nothing_and_says_how_to_fix_it(tmp_path, store, mailbox,
                                                                                 smtp_server):
    config = desk(tmp_path, mailbox, smtp_server, sent_folder="No such folder")
    reply = a_reply(config, store, mailbox)
    result = deliver_due(config, store)
    assert (result.sent, result.failed, result.uncertain) == (0, 1, 0)
    assert "not sent: cannot file its copy in 'No such folder' first" in result.errors[0]
    assert 'sent_folder = ""' in result.errors[0]
    assert smtp_server.copies == [] and state(store, reply) == "queued"


def test_replies_queued_before_the_uncertain_state_keep_every_column_through_the_migration(tmp_path):
    import sqlite3

    import sqlite_utils

    from tui_desk.store import Store
    from tui_desk.store.sqlite.migrations import migrations

    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    db.conn.create_function("desk_segment", 1, lambda t: t or "")
    db.conn.create_function("desk_fts_by_trigger", 0, lambda: 1)
    migrations.apply(db, stop_before="m220_outbox_uncertain")
    db.execute("INSERT INTO conversations (channel, subject, created_at, last_message_at)"
               " VALUES ('mail', 'old', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
    db.execute("INSERT INTO messages (conversation_id, channel, direction, text, external_id, created_at, received_at)"
               " VALUES (1, 'mail', 'out', 'hi', 't1', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
    db.execute("INSERT INTO outbox (message_id, conversation_id, channel, state, txn_id, not_before, next_try_at,"
               " created_by, created_at, undo, automatic, recipient) VALUES (1, 1, 'mail', 'sending', 't1',"
               " '2026-01-01', '2026-01-01', 'ana', '2026-01-01', '{\"status\": null}', 1, 'mike@customer.example')")
    db.conn.commit()
    with pytest.raises(sqlite3.IntegrityError):  # the old CHECK refuses the new state
        db.execute("UPDATE outbox SET state = 'uncertain'")
    db.conn.close()
    with Store.open(path) as store:
        row = store.outbox_item(1)
        assert (row["state"], row["txn_id"], row["undo"], row["automatic"], row["recipient"]) == (
            "sending", "t1", '{"status": null}', 1, "mike@customer.example")
        store.mark_uncertain(1)
        assert store.outbox_item(1)["state"] == "uncertain"
        indexes = {r[0] for r in store.d.all(  # schema test: raw SQL on purpose
            "SELECT name FROM sqlite_master WHERE tbl_name = 'outbox' AND type = 'index'")}
        assert {"outbox_due", "outbox_automatic"} <= indexes
