"""`conversations assign|status|tag|note`: the console's changes from a shell, through the
entry point, each with --json, its history line, and exit 2 for what it cannot do."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tui_desk.model import ParsedMessage
from tui_desk.store import Store

from tests.helpers.mail import deliver, make_email, make_maildir
from tests.unit.test_sync import run_cli


@pytest.fixture
def desk(tmp_path):
    maildir = make_maildir(tmp_path / "mail")
    deliver(maildir, make_email(subject="Where is my parcel?", sender="mike@customer.example"))
    conf = tmp_path / "config.toml"
    conf.write_text('[agent]\nname = "ana"\n[desk]\ntimezone = "Europe/Berlin"\n[[agents]]\nname = "ana"\n[[agents]]\nname = "bo"\n'
                    f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    base = ("--config", str(conf), "--db", str(tmp_path / "d.db"))
    assert run_cli(*base, "sync").returncode == 0, "the desk has its conversation"
    return base, tmp_path / "d.db"


def ok(base, *args):
    done = run_cli(*base, "conversations", *args, "--json")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def refused(base, *args) -> str:
    done = run_cli(*base, "conversations", *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1, "one line"
    return done.stderr


def history(db) -> list[tuple[str, str, dict]]:
    with Store.open(db) as store:
        return [(e["kind"], e["actor"], e["data"]) for e in store.events(1) if e["kind"] != "created"]


def test_assign_to_an_agent_to_me_and_to_nobody(desk):
    base, db = desk
    assert ok(base, "assign", "1", "bo")["assignee"] == "bo"
    assert ok(base, "assign", "1", "me")["assignee"] == "ana"
    assert ok(base, "assign", "1", "none")["assignee"] is None
    assert [d for k, _, d in history(db) if k == "assignee"] == [
        {"from": None, "to": "bo"}, {"from": "bo", "to": "ana"}, {"from": "ana", "to": None}]
    assert "unknown agent 'zed'" in refused(base, "assign", "1", "zed")
    assert "no conversation 9" in refused(base, "assign", "9", "bo")


def test_status_and_snooze_until_a_preset_or_a_time(desk):
    base, db = desk
    assert ok(base, "status", "1", "pending")["status"] == "pending"
    snoozed = ok(base, "status", "1", "snoozed", "--snooze-until", "2099-01-02 09:30")
    assert snoozed["status"] == "snoozed"
    with Store.open(db) as store:  # a wall-clock time in the desk's zone (Berlin, UTC+1 in winter)
        assert store.conversation(1)["snoozed_until"] == "2099-01-02T08:30:00.000Z"
    ok(base, "status", "1", "snoozed", "--snooze-until", "tomorrow")
    with Store.open(db) as store:
        until = dt.datetime.fromisoformat(store.conversation(1)["snoozed_until"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=8) < until - dt.datetime.now(dt.timezone.utc) < dt.timedelta(hours=34)
    assert "unknown status 'later'" in refused(base, "status", "1", "later")
    assert "snoozed needs it" in refused(base, "status", "1", "snoozed")
    assert "goes with the status snoozed" in refused(base, "status", "1", "open", "--snooze-until", "tomorrow")
    assert "in the past" in refused(base, "status", "1", "snoozed", "--snooze-until", "2001-01-01")
    assert "cannot read the date" in refused(base, "status", "1", "snoozed", "--snooze-until", "soonish")
    assert [d["to"] for k, _, d in history(db) if k == "status"] == ["pending", "snoozed", "snoozed"]


def test_tags_are_added_and_removed_and_the_history_names_only_real_changes(desk):
    base, db = desk
    assert ok(base, "tag", "1", "+billing", "vip")["tags"] == ["billing", "vip"]
    assert ok(base, "tag", "1", "-vip", "-spam", "+billing")["tags"] == ["billing"]
    assert [d for k, _, d in history(db) if k == "tags"] == [
        {"added": ["billing", "vip"], "removed": []}, {"added": [], "removed": ["vip"]}]
    assert "name a tag" in refused(base, "tag", "1", "+")


def test_a_note_is_stored_never_sent_and_markup_stays_text(desk, tmp_path):
    base, db = desk
    noted = ok(base, "note", "1", "--text", "called [b]Mike[/b]; refund promised")
    assert noted["conversation"]["messages"] == 2
    (tmp_path / "note.txt").write_text("second note\n")
    ok(base, "note", "1", "--file", str(tmp_path / "note.txt"))
    with Store.open(db) as store:
        notes = [m for m in store.messages(1) if m["direction"] == "note"]
        assert [m["text"] for m in notes] == ["called [b]Mike[/b]; refund promised", "second note\n"]
        assert store.outbox_items() == [], "a note is never queued for sending"
    shown = run_cli(*base, "conversations", "show", "1").stdout
    assert "called [b]Mike[/b]" in shown
    assert "exactly one of --text, --file" in refused(base, "note", "1")
    assert "empty" in refused(base, "note", "1", "--text", "  ")


def test_a_merged_conversation_is_changed_where_it_went(desk):
    base, db = desk
    with Store.open(db) as store:
        customer = store.conversation(1)["customer_id"]
        then = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
        again = ParsedMessage(external_id="<again@customer.example>", kind="email",
                              sender_address="mike@customer.example", sender_name="Mike", received_at=then, created_at=then, subject="Parcel, again",
                              text="still nothing", message_id="<again@customer.example>")
        with store.transaction():
            target, _ = store.add_inbound("mail", again, customer, None, "parcel, again")
        store.merge(1, target, "ana")
    assert f"was merged into {target}" in refused(base, "assign", "1", "bo")
    assert f"was merged into {target}" in refused(base, "note", "1", "--text", "x")


def test_the_first_reply_assigns_an_unassigned_conversation_to_whoever_replied(desk, tmp_path):
    base, db = desk
    done = run_cli(*base, "reply", "1", "--text", "On it.", "--json")
    assert done.returncode == 0, done.stderr
    with Store.open(db) as store:
        assert store.conversation(1)["assignee"] == "ana"
    assert ("assignee", "ana", {"from": None, "to": "ana", "why": "replied first"}) in history(db)
    ok(base, "assign", "1", "bo")  # a colleague's reply later leaves bo's conversation to bo
    assert run_cli(*base, "reply", "1", "--text", "Noted.", "--json").returncode == 0
    with Store.open(db) as store:
        assert store.conversation(1)["assignee"] == "bo"
    assert "assigned to ana (replied first)" in run_cli(*base, "conversations", "show", "1").stdout


def test_assign_on_reply_can_be_switched_off(desk):
    base, db = desk
    conf = base[1]
    with open(conf, encoding="utf-8") as handle:
        text = handle.read()
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(text.replace('[desk]\n', '[desk]\nassign_on_reply = false\n'))
    ok(base, "note", "1", "--text", "a note never assigns")
    assert run_cli(*base, "reply", "1", "--text", "On it.").returncode == 0
    with Store.open(db) as store:
        assert store.conversation(1)["assignee"] is None


def refused_agents(base, *args) -> str:
    done = run_cli(*base, "agents", "remove", *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, (done.returncode, done.stderr)
    return done.stderr


def test_agents_remove_takes_someone_off_the_team_and_asks_about_their_conversations(desk, tmp_path):
    base, db = desk
    assert run_cli(*base, "agents", "add", "cleo").returncode == 0
    ok(base, "assign", "1", "cleo")
    held = refused_agents(base, "cleo")
    assert "still holds 1 conversation (e.g. #1)" in held and "--unassign" in held
    done = run_cli(*base, "agents", "remove", "cleo", "--unassign")
    assert done.returncode == 0 and "1 conversations left unassigned" in done.stdout
    with Store.open(db) as store:
        assert store.conversation(1)["assignee"] is None
        assert "cleo" not in store.agent_names()
    assert "is in" in refused_agents(base, "bo"), "a configured agent is removed in the config"
    assert "unknown agent 'zed'" in refused_agents(base, "zed")
