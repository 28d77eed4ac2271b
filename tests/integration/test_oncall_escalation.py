"""Pages from rules: one per conversation, escalation steps and repeats on an injected
clock, acknowledgement (CLI, email reply), resolution by a reply, and crashes, with
email pages delivered to a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import json
import os
import subprocess
import sys

import pytest

from tui_desk import config as config_mod, outbox, sync
from tui_desk.errors import ConfigError, UsageError
from tui_desk.oncall import escalation
from tui_desk.oncall.service import Oncall
from tui_desk.store import Store, parse_stamp

from tests.conftest import ROOT
from tests.helpers import store_api
from tests.helpers.mail import deliver, make_email, make_maildir
from tests.unit.test_oncall_cli import Inbox, _free_port

STEPS = [{"after": "0s", "notify": "oncall"}, {"after": "10s", "notify": "next"},
         {"after": "20s", "notify": ["cy"]}]
URGENT = {"id": "urgent", "on": ["message.new"], "all": [{"field": "subject", "contains": "down"}],
          "actions": [{"page": "oncall"}]}


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    server.start()
    inbox.port = server.port
    yield inbox
    server.stop()


def make_desk(tmp_path, smtp_port: int, *, repeat: int = 0, steps=STEPS):
    (tmp_path / "oncall.toml").write_text("".join(
        f'[people.{p}]\nname = "{p.title()}"\nemail = "{p}@team.example"\ncontact = "email"\n\n'
        for p in ("ana", "bo", "cy")), encoding="utf-8")
    maildir = make_maildir(tmp_path / "mail")
    config = config_mod.from_dict({
        "desk": {"support_address": "support@desk.example", "name": "Desk", "business_hours": [],
                 "timezone": "UTC"},
        "agent": {"name": "lead"},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(maildir), "sent_path": str(tmp_path / "sent")}],
        "oncall": {"roster": "oncall.toml", "smtp": {"host": "127.0.0.1", "port": smtp_port, "tls": "none"},
                   "escalation": {"steps": steps, "repeat": repeat}},
        "rules": [URGENT], "templates": {"undo_seconds": 0},
    }, tmp_path / "config.toml")
    return config, maildir


@pytest.fixture
def desk(tmp_path, smtp):
    config, maildir = make_desk(tmp_path, smtp.port)
    with Store.open(tmp_path / "desk.db") as store:
        week_start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)
        Oncall(store, config).add_rotation("support", "ana,bo,cy", "1w", "mon 09:00", "UTC", start=str(week_start))
        yield config, maildir, store


def on_call(store, config) -> tuple[str, str]:
    """(who is on call now, who is next) in the fixture's rotation."""
    desk = Oncall(store, config)
    (rot,) = desk.rotations()
    seg = rot.at(desk.now)
    return seg.who, rot.at(seg.end).who


def recipients(smtp) -> list[str]:
    return [e.rcpt_tos[0].split("@")[0] for e in smtp.envelopes]


def test_an_urgent_message_pages_once_and_the_next_one_joins_that_page(desk, smtp):
    config, maildir, store = desk
    deliver(maildir, make_email(subject="Checkout is down", body="Nothing loads.\nError 502 since 23:10.",
                                message_id="<q1@customer.example>"))
    deliver(maildir, make_email(subject="A question", sender="other@x.example"))
    result = sync.run(config, store)
    now_who, _ = on_call(store, config)
    assert result.pages.notified == 1 and recipients(smtp) == [now_who]
    msg = email.message_from_bytes(smtp.envelopes[0].content)
    body = msg.get_payload(decode=True).decode()
    assert "conversation #1 from mike@customer.example" in body and "Subject: Checkout is down" in body
    assert "> Nothing loads." in body and "tui-desk oncall ack 1" in body and 'reply "ack"' in body
    # another urgent message in the same conversation: added to the open page, no second page
    deliver(maildir, make_email(subject="Re: Checkout is down", body="Still down!", in_reply_to="<q1@customer.example>"))
    sync.run(config, store)
    (page,) = store.pages()
    assert page["messages"] == 2 and page["state"] == "open" and len(smtp.envelopes) == 1
    assert [e["kind"] for e in _events(store, "page.")] == ["page.opened", "page.notified", "page.added"]


def _events(store, prefix):
    return store.history(prefix)


def test_escalation_follows_the_steps_and_a_repeat_stops_at_repeat(tmp_path, smtp):
    config, maildir = make_desk(tmp_path, smtp.port, repeat=1)
    with Store.open(tmp_path / "desk.db") as store:
        week_start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)
        Oncall(store, config).add_rotation("support", "ana,bo,cy", "1w", "mon 09:00", "UTC", start=str(week_start))
        deliver(maildir, make_email(subject="Site down"))
        sync.run(config, store)
        now_who, next_who = on_call(store, config)
        opened = parse_stamp(store.pages()[0]["created_at"])
        seen = []
        # round length: the last step's 20 s plus the 10 s gap before it = 30 s
        for seconds, expected in ((5, []), (10, [next_who]), (19, []), (20, ["cy"]), (29, []),
                                  (30, [now_who]), (40, [next_who]), (50, ["cy"]), (60, []), (3600, [])):
            before = len(smtp.envelopes)
            escalation.run(config, store, opened + dt.timedelta(seconds=seconds))
            seen.append((seconds, recipients(smtp)[before:]))
        assert seen == [(s, e) for s, e in ((5, []), (10, [next_who]), (19, []), (20, ["cy"]), (29, []),
                                           (30, [now_who]), (40, [next_who]), (50, ["cy"]), (60, []), (3600, []))]
        (page,) = store.pages()
        assert page["next_at"] is None and [(n["round"], n["step"]) for n in page["notices"]] == \
            [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]


def test_a_late_sync_sends_every_step_it_missed_once(desk, smtp):
    config, maildir, store = desk
    deliver(maildir, make_email(subject="Site down"))
    sync.run(config, store)
    opened = parse_stamp(store.pages()[0]["created_at"])
    escalation.run(config, store, opened + dt.timedelta(minutes=5))  # cron missed a few minutes
    escalation.run(config, store, opened + dt.timedelta(minutes=6))
    assert len(smtp.envelopes) == 3 and recipients(smtp)[-1] == "cy"


def test_acknowledging_stops_the_escalation(desk, smtp, capsys):
    config, maildir, store = desk
    deliver(maildir, make_email(subject="Site down"))
    sync.run(config, store)
    opened = parse_stamp(store.pages()[0]["created_at"])
    done = escalation.acknowledge(store, "ana", conversation_id=1)
    assert done["state"] == "acknowledged" and done["acked_by"] == "ana" and done["acked_via"] == "cli"
    escalation.run(config, store, opened + dt.timedelta(minutes=5))
    assert len(smtp.envelopes) == 1
    with pytest.raises(UsageError, match="acknowledged already"):
        escalation.acknowledge(store, "bo", page_id=done["id"])
    with pytest.raises(UsageError, match="no unresolved page"):
        escalation.acknowledge(store, "bo", conversation_id=99)


def test_replying_ack_to_the_page_email_acknowledges_it_and_makes_no_conversation(desk, smtp):
    config, maildir, store = desk
    deliver(maildir, make_email(subject="Site down"))
    sync.run(config, store)
    page_mail = email.message_from_bytes(smtp.envelopes[0].content)
    who = smtp.envelopes[0].rcpt_tos[0]
    deliver(maildir, make_email(sender=who, subject="Re: " + " ".join(str(page_mail["Subject"]).split()), body="ack, on it\n\n> Urgent: ...",
                                in_reply_to=page_mail["Message-ID"]))
    sync.run(config, store)
    (page,) = store.pages()
    assert page["state"] == "acknowledged" and page["acked_via"] == "email" and page["acked_by"] == who.split("@")[0]
    assert len(store_api.conversation_ids(store)) == 1
    assert _events(store, "page.reply")[0]["data"]["text"].startswith("ack, on it")


def test_a_reply_to_the_customer_resolves_the_page(desk, smtp):
    config, maildir, store = desk
    deliver(maildir, make_email(subject="Site down"))
    sync.run(config, store)
    outbox.queue_reply(store, 1, "We are on it.", agent="ana")
    result = sync.run(config, store)
    (page,) = store.pages()
    assert result.pages.resolved == 1 and page["state"] == "resolved" and page["resolved_by"] == "ana"
    opened = parse_stamp(page["created_at"])
    escalation.run(config, store, opened + dt.timedelta(minutes=5))
    assert len(smtp.envelopes) == 1


def test_nobody_on_call_is_recorded_once_per_step(tmp_path, smtp):
    config, maildir = make_desk(tmp_path, smtp.port, steps=[{"after": "0s", "notify": "oncall"}])
    with Store.open(tmp_path / "desk.db") as store:
        deliver(maildir, make_email(subject="Site down"))
        result = sync.run(config, store)
        sync.run(config, store)
        (page,) = store.pages()
        assert result.pages.failed == 1 and [(n["who"], n["state"]) for n in page["notices"]] == [("nobody", "failed")]
        assert "nobody is on call" in page["notices"][0]["detail"]["error"] or "no rotations" in \
            page["notices"][0]["detail"]["error"]


@pytest.mark.parametrize("steps, key", [
    ([], "oncall.escalation.steps"),
    ([{"after": "soon"}], "oncall.escalation.steps[0].after"),
    ([{"after": "10m"}, {"after": "5m"}], "oncall.escalation.steps[1].after"),
    ([{"after": "0m", "notify": []}], "oncall.escalation.steps[0].notify"),
])
def test_a_bad_escalation_is_refused_naming_the_key(tmp_path, steps, key):
    with pytest.raises(ConfigError) as caught:
        config_mod.from_dict({"oncall": {"escalation": {"steps": steps}}}, tmp_path / "config.toml")
    assert caught.value.key == key


def test_a_kill_during_escalation_neither_drops_nor_doubles_a_page(tmp_path, smtp):
    """kill -9 right after the SMTP server took the page and before it was recorded sent:
    the next run sends it again under the same Message-ID (one page, as mail clients and
    servers see it) and records it once; the later steps still follow."""
    config, maildir = make_desk(tmp_path, smtp.port)
    (tmp_path / "config.toml").write_text(_toml(config, tmp_path), encoding="utf-8")
    with Store.open(tmp_path / "desk.db") as store:
        week_start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)
        Oncall(store, config).add_rotation("support", "ana,bo,cy", "1w", "mon 09:00", "UTC", start=str(week_start))
    deliver(maildir, make_email(subject="Site down"))
    env = {**os.environ, "TUI_DESK_CONFIG": str(tmp_path / "config.toml"), "KILL_AT": "page-sent"}
    killed = subprocess.run([sys.executable, str(ROOT / "tests" / "helpers" / "killpage.py"), "sync"],
                            env=env, cwd=ROOT, capture_output=True, timeout=60)
    assert killed.returncode == -9, killed.stderr
    with Store.open(tmp_path / "desk.db") as store:
        (page,) = store.pages()
        assert [n["state"] for n in page["notices"]] == ["sending"] and len(smtp.envelopes) == 1
    again = subprocess.run([sys.executable, "-m", "cli", "sync"], env=env, cwd=ROOT, capture_output=True, timeout=60)
    assert again.returncode == 0, again.stderr
    with Store.open(tmp_path / "desk.db") as store:
        (page,) = store.pages()
        assert [n["state"] for n in page["notices"]] == ["sent"]
        assert len(_events(store, "page.notified")) == 1
        ids = {email.message_from_bytes(e.content)["Message-ID"] for e in smtp.envelopes}
        assert len(smtp.envelopes) == 2 and len(ids) == 1  # the same page, not a second one
        escalation.run(config, store, parse_stamp(page["created_at"]) + dt.timedelta(seconds=10))
        assert len(store.pages()[0]["notices"]) == 2


def _toml(config, tmp_path) -> str:
    steps = ", ".join("{ after = %s, notify = %s }" % (json.dumps(s["after"]), json.dumps(s["notify"])) for s in STEPS)
    return f"""
[desk]
support_address = "support@desk.example"
name = "Desk"
business_hours = []
timezone = "UTC"
[agent]
name = "lead"
[storage]
database = "{tmp_path / 'desk.db'}"
[[channels]]
name = "mail"
kind = "maildir"
path = "{tmp_path / 'mail'}"
sent_path = "{tmp_path / 'sent'}"
[oncall]
roster = "oncall.toml"
[oncall.smtp]
host = "127.0.0.1"
port = {config.oncall.smtp.port}
tls = "none"
[oncall.escalation]
steps = [{steps}]
[[rules]]
id = "urgent"
on = ["message.new"]
all = [{{ field = "subject", contains = "down" }}]
actions = [{{ page = "oncall" }}]
"""


def test_oncall_pages_and_ack_on_the_command_line(tmp_path, smtp, capsys, monkeypatch):
    from tests.unit.test_oncall_cli import run
    config, maildir = make_desk(tmp_path, smtp.port)
    (tmp_path / "config.toml").write_text(_toml(config, tmp_path), encoding="utf-8")
    monkeypatch.setenv("TUI_DESK_CONFIG", str(tmp_path / "config.toml"))
    with Store.open(tmp_path / "desk.db") as store:
        week_start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=7)
        Oncall(store, config).add_rotation("support", "ana,bo,cy", "1w", "mon 09:00", "UTC", start=str(week_start))
    assert run(capsys, "oncall", "ack")[0] == 2  # no page is open
    deliver(maildir, make_email(subject="Checkout is down"))
    assert run(capsys, "sync", "--quiet")[0] == 0
    code, out, err = run(capsys, "oncall", "pages", "--open", "--json")
    assert code == 0, err
    (page,) = json.loads(out)
    assert set(page) == {"id", "conversation_id", "state", "rule", "target", "messages", "subject", "customer",
                         "opened_at", "next_step_at", "acked_by", "acked_at", "acked_via", "resolved_by",
                         "resolved_at", "notices"}
    assert (page["state"], page["subject"], page["rule"]) == ("open", "Checkout is down", "urgent")
    assert [(n["state"], n["round"], n["step"]) for n in page["notices"]] == [("sent", 0, 0)]
    code, out, err = run(capsys, "oncall", "ack", "--json")
    assert code == 0, err
    assert json.loads(out)["state"] == "acknowledged" and json.loads(out)["acked_by"] == "lead"
    code, _, err = run(capsys, "oncall", "ack", str(page["id"]))
    assert code == 2 and "acknowledged already" in err
    code, out, _ = run(capsys, "oncall", "pages")
    assert code == 0 and "acknowledged" in out and "Checkout" in out
    assert json.loads(run(capsys, "oncall", "pages", "--open", "--json")[1])[0]["state"] == "acknowledged"


def test_the_on_call_report_counts_the_nights(desk, smtp):
    """After-hours messages per week, pages, minutes to acknowledge and to reply, and the
    nights a person was woken."""
    from tui_desk.oncall.night import night
    config, maildir, store = desk
    deliver(maildir, make_email(subject="Checkout is down", date="Tue, 01 Dec 2026 23:30:00 +0000"))
    deliver(maildir, make_email(subject="A question", sender="b@x.example", date="Wed, 02 Dec 2026 01:00:00 +0000"))
    sync.run(config, store)
    store.set_priority(1, "urgent", "ana")
    (page,) = store.pages()
    # raw SQL on purpose below: the night is set in the past, and the store stamps each write with now
    with store.d.tx():  # raw SQL on purpose: the page went out at 23:40 and was acknowledged 12 minutes later
        store.d.conn.execute("UPDATE pages SET created_at = ? WHERE id = ?", ("2026-12-01T23:40:00.000Z", page["id"]))
        store.d.conn.execute("UPDATE page_notices SET at = ?", ("2026-12-01T23:40:05.000Z",))
    store.page_acknowledge(page["id"], "ana", "cli")
    with store.d.tx():  # raw SQL on purpose: dated in the past
        store.d.conn.execute("UPDATE pages SET acked_at = ?", ("2026-12-01T23:52:00.000Z",))
        store.d.conn.execute("UPDATE messages SET received_at = ? WHERE direction = 'in'",  # (sync stamps arrival)
                             ("2026-12-01T23:30:00.000Z",))
    outbox.queue_reply(store, 1, "On it.", agent="ana")
    with store.d.tx():  # raw SQL on purpose: dated in the past
        store.d.conn.execute("UPDATE messages SET received_at = ? WHERE direction = 'out'", ("2026-12-02T00:10:00.000Z",))
    since, until = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc), dt.datetime(2026, 12, 7, tzinfo=dt.timezone.utc)
    figures = night(store, since, until, config.desk.hours(), {})
    assert figures["weeks"] == [{"week": "2026-11-30", "after_hours": 2, "urgent": 1, "paged": 1}]
    assert figures["median_minutes_to_ack"] == 12.0 and figures["median_minutes_ack_to_reply"] == 18.0
    who = recipients(smtp)[0]
    assert figures["people"] == [{"who": who, "pages": 1, "nights_disturbed": 1}]
