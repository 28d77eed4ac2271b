"""Template stages (tui_desk.templates.stages, .gate): the gate's refusal with its
reasons, promotion, an automatic reply with its undo window and its "reach a person"
line, the daily cap, the loop guard, "never twice", automatic demotion, and the CLI
verbs with --json.

The desk is made the way a desk is: customer mail delivered to a Maildir and synced
(the rules run in that sync), answered with `send_template` (the outbox's own path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import config as config_mod, outbox, sync
from tui_desk.errors import UsageError
from tui_desk.history import describe
from tui_desk.rules.spec import load_rules
from tui_desk.templates import TemplateLibrary
from tui_desk.templates.quick import send_template
from tui_desk.templates.stages import GateRefused, change_stage
from tui_desk.templates.suggest import suggest

ROOT = Path(__file__).resolve().parents[2]
HANDOFF = "Sent by our robot: reply to this message and a person answers."

TEMPLATES = {
    "order": ('title = "Order status"\nkeywords = ["tracking", "where is my order"]\nlanguage = "en"\n'
              f'handoff = "{HANDOFF}"',
              "Hi {{ customer.first_name | default('there') }}, your parcel is on its way."),
    "refund": ('title = "Refund issued"\nkeywords = ["refund", "money back"]\nlanguage = "en"',
               "Hi {{ customer.first_name | default('there') }}, the refund is on its way."),
    "ack": ('title = "We got your message"\nauto = true', "Thanks, we will answer soon."),
}
RULES = """
[[rules]]
id = "auto-order"
on = ["message.new"]
all = [{ field = "text", matches = "(?i)order|parcel|tracking" }]
actions = [{ auto_reply = "order" }]
"""
ORDER_ASKS = ["Where is my order? I have no tracking number yet.", "My parcel has not arrived, where is my order?",
              "Is there tracking for my order? It is late.", "Where is my order, the tracking page is empty",
              "Order still not here, any tracking?"]


class Desk:
    """A desk with a Maildir channel, the templates above and the auto_reply rule."""

    def __init__(self, tmp_path: Path, rules: str = RULES, **templates_section) -> None:
        self.mail = make_maildir(tmp_path / "mail")
        folder = tmp_path / "templates"
        folder.mkdir()
        for tid, (front, body) in TEMPLATES.items():
            (folder / f"{tid}.md").write_text(f"+++\n{front}\n+++\n{body}\n", encoding="utf-8")
        section = {"dir": "templates", "undo_seconds": 600, "automate_min_uses": 4, "automate_min_close_rate": 0.8,
                   "auto_review_uses": 3, "auto_daily_cap": 5, **templates_section}
        self.path = tmp_path / "config.toml"
        self.path.write_text(
            f'[storage]\ndatabase = "{tmp_path / "desk.db"}"\n\n[agent]\nname = "ana"\n\n'
            '[desk]\nsupport_address = "support@desk.example"\ncompany = "Northwind"\n\n'
            "[templates]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in section.items())
            + f'\n[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{self.mail}"\n' + rules, encoding="utf-8")
        self.config = config_mod.load(self.path)
        self.library = TemplateLibrary.for_config(self.config)
        self.ruleset = load_rules(self.config)
        self.n = 0

    def ask(self, store, body: str, subject: str = "Question", *, sender: str | None = None, **kw) -> int:
        self.n += 1
        deliver(self.mail, make_email(subject=subject, body=body,
                                      sender=sender or f"Kim {self.n} <kim{self.n}@customer.example>", **kw))
        assert sync.run(self.config, store).ok
        return max(store_api.conversation_ids(store))

    def answer(self, store, cid: int, template_id: str, solve: bool = True) -> None:
        send_template(self.config, store, self.library.get(template_id), cid, agent="ana")
        if solve:
            store.set_status(cid, "solved", "ana")

    def history(self, store, solved: bool = True) -> None:
        """Four order questions and a refund, answered by an agent, eight days ago."""
        for body in ORDER_ASKS[:4]:
            self.answer(store, self.ask(store, body), "order", solved)
        self.answer(store, self.ask(store, "I sent the boots back, I want my money back", "Refund"), "refund")
        age(store, days=8)

    def promote(self, store, stage: str = "auto"):
        return change_stage(self.config, store, self.library, self.ruleset, "order", stage, actor="ana", up=True)


def age(store, days: int) -> None:  # raw SQL on purpose: history dated in the past
    """Move the whole history `days` back in time (the gate judges a use after 7 days)."""
    back = f"'-{days} days'"
    with store.d.tx():
        for table, column in (("messages", "received_at"), ("messages", "created_at"), ("events", "at"),
                              ("outbox", "created_at"), ("conversations", "created_at"),
                              ("conversations", "last_message_at")):
            store.d.conn.execute(f"UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%fZ', {column}, {back})"
                                 f" WHERE {column} IS NOT NULL")


def answered(store, cid: int, score: int) -> None:
    """The customer's satisfaction answer, a second after the reply (as the survey records it)."""
    with store.d.tx():  # raw SQL on purpose: dated a second on (the store stamps each write with now)
        store.d.conn.execute(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, 'satisfaction', 'customer',"
            " strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 second'), ?)", (cid, json.dumps({"score": score})))


def events(store, kind):
    return [e["data"] | {"actor": e["actor"], "conversation_id": e["conversation_id"]}
            for e in store.history(kind) if e["kind"] == kind]


def suppressed(store) -> list[str]:
    return [e["reason"] for e in events(store, "action.suppressed")]


def automatic_rows(store) -> list[dict]:
    rows = []
    for item in store_api.outbox(store):
        [message] = [m for m in store.messages(item["conversation_id"]) if m["id"] == item["message_id"]]
        if message["automatic"] is not None:
            rows.append({"conversation_id": item["conversation_id"], "state": item["state"], "id": item["id"],
                         "flagged": item["automatic"], "message": message["id"],
                         **{k: message[k] for k in ("text", "template_id", "automatic")}})
    return [{k: v for k, v in r.items() if k != "message"} for r in sorted(rows, key=lambda r: r["message"])]


@pytest.fixture
def desk(tmp_path):
    return Desk(tmp_path)


@pytest.fixture
def auto_desk(desk, store):
    desk.history(store)
    desk.promote(store)
    return desk


# -- the gate ---------------------------------------------------------------------------


def test_promotion_to_auto_is_refused_with_each_reason_and_nothing_changes(desk, store):
    for body in ORDER_ASKS[:2]:
        desk.answer(store, desk.ask(store, body), "order", solve=False)
    cid = desk.ask(store, "where is my order???")
    desk.answer(store, cid, "order")
    answered(store, cid, 2)
    age(store, days=8)
    with pytest.raises(GateRefused) as refused:
        desk.promote(store)
    words = str(refused.value)
    assert "3 uses (needs 4)" in words
    assert "close rate 33% of 3 decided uses (needs 80%" in words  # two never marked solved
    assert "CSAT 2.0 from 1 answers (needs 4.0)" in words
    assert "backtest" not in words  # the suggester would have picked it for all three
    assert store.template_stage("order") == "suggest" and events(store, "template.stage") == []


def test_without_an_auto_reply_rule_the_backtest_has_nothing_to_replay(tmp_path, store):
    desk = Desk(tmp_path)
    desk.ruleset = load_rules(config_mod.from_dict({"desk": {}}, tmp_path / "other.toml"))
    desk.history(store)
    with pytest.raises(GateRefused, match=r'no rule has \{ auto_reply = "order" \}'):
        desk.promote(store)


def test_a_backtest_below_90_percent_refuses(desk, store):
    desk.history(store)
    for _ in range(2):  # agents answered order questions with the refund: the rule would have fired wrongly
        desk.answer(store, desk.ask(store, "Order arrived broken, I want my money back, refund the order"), "refund")
    age(store, days=8)
    with pytest.raises(GateRefused, match=r"backtest 50%: the suggester picked it for 3 of 6 past messages"):
        desk.promote(store)


def test_promotion_when_the_gate_holds_and_the_stage_survives_a_restart(desk, store, db_path):
    desk.history(store)
    change = desk.promote(store)
    assert (change.before, change.after, change.gate.ok) == ("suggest", "auto", True)
    assert [c["check"] for c in change.as_json()["gate"]["checks"] if c["ok"]] == ["uses", "close_rate", "csat",
                                                                                    "backtest"]
    from tui_desk.store import Store
    with Store.open(db_path) as again:
        assert again.template_stage("order") == "auto"
    (history,) = events(store, "template.stage")
    assert history | {"actor": "ana"} == {"template": "order", "from": "suggest", "to": "auto",
                                          "reason": "the gate holds", "actor": "ana", "conversation_id": None}


def test_stages_move_one_way_each_and_manual_is_never_suggested(desk, store):
    desk.history(store)
    with pytest.raises(UsageError, match="cannot promote it to manual"):
        desk.promote(store, "manual")
    with pytest.raises(UsageError, match="has auto = true"):
        change_stage(desk.config, store, desk.library, desk.ruleset, "ack", "draft", actor="ana", up=True)
    cid = desk.ask(store, "where is my order")
    assert [s.template.id for s in suggest(desk.config, store, desk.library, cid)][0] == "order"
    change_stage(desk.config, store, desk.library, desk.ruleset, "order", "manual", actor="ana", up=False)
    assert "order" not in [s.template.id for s in suggest(desk.config, store, desk.library, cid)]


# -- automatic replies ------------------------------------------------------------------


def test_an_automatic_reply_waits_its_undo_window_ends_with_the_handoff_and_can_be_taken_back(auto_desk, store):
    cid = auto_desk.ask(store, "Hello, where is my order? No tracking yet.", sender="Mike Jones <mike@c.example>")
    (row,) = automatic_rows(store)
    assert (row["conversation_id"], row["template_id"], row["state"], row["flagged"]) == (cid, "order", "queued", 1)
    assert row["automatic"] == "auto-reply rule auto-order"
    assert row["text"].startswith("Hi Mike, your parcel") and row["text"].endswith("\n\n" + HANDOFF)
    queued = store.outbox_item(row["id"])
    not_before, created = queued["not_before"], queued["created_at"]
    assert not_before > created
    outbox.cancel(store, row["id"], "ana")
    assert store.outbox_item(row["id"])["state"] == "cancelled"


def test_the_config_handoff_line_when_the_template_has_none(tmp_path, store):
    desk = Desk(tmp_path, auto_handoff="A robot wrote this. Reply to reach a person.")
    (tmp_path / "templates" / "order.md").write_text(
        '+++\ntitle = "Order status"\nkeywords = ["tracking"]\n+++\nHi, your parcel is on its way.\n')
    desk.history(store)
    desk.promote(store)
    desk.ask(store, "where is my order, tracking?")
    assert automatic_rows(store)[0]["text"].endswith("\n\nA robot wrote this. Reply to reach a person.")


def test_a_message_the_suggester_is_unsure_of_is_left_to_a_person(auto_desk, store):
    auto_desk.ask(store, "I want my money back for the order, refund please")
    assert automatic_rows(store) == []
    assert suppressed(store)[-1] == "the suggester is not sure: it picks refund"


def test_the_daily_cap_holds_back_the_rest(tmp_path, store):
    desk = Desk(tmp_path, auto_daily_cap=2)
    desk.history(store)
    desk.promote(store)
    for body in ORDER_ASKS[:3]:
        desk.ask(store, body)
    assert len(automatic_rows(store)) == 2
    assert suppressed(store)[-1] == "daily cap reached: 2 automatic replies with order"


def test_the_loop_guard_gates_every_automatic_reply(auto_desk, store):
    auto_desk.ask(store, "Where is my order? tracking", headers={"Auto-Submitted": "auto-replied"})
    auto_desk.ask(store, "Where is my order? tracking", sender="noreply@shop.example")
    assert automatic_rows(store) == []
    assert suppressed(store)[-2:] == ["message class is auto", "no-reply address noreply@shop.example"]


def test_a_customer_who_writes_back_is_never_answered_by_it_automatically_again(auto_desk, store):
    first = auto_desk.ask(store, "Where is my order? No tracking.", sender="Mike <mike@c.example>",
                          message_id="<q1@c.example>")
    again = auto_desk.ask(store, "That did not help, where is my order?", subject="Re: Question",
                          sender="Mike <mike@c.example>", in_reply_to="<q1@c.example>")
    assert again == first
    assert len(automatic_rows(store)) == 1
    assert ("the customer wrote again after an automatic answer with order: a person answers"
            in suppressed(store))


def test_reopened_automatic_replies_demote_the_template_with_an_event(auto_desk, store):
    first = auto_desk.ask(store, "Where is my order? No tracking.", sender="Mike <mike@c.example>",
                          message_id="<q1@c.example>")
    assert store.template_stage("order") == "auto"
    # the customer writes again: the automatic answer did not do
    deliver(auto_desk.mail, make_email(subject="Re: Question", body="Still no parcel, where is my order?",
                                       sender="Mike <mike@c.example>", in_reply_to="<q1@c.example>"))
    done = run_cli(auto_desk, "sync")  # cron's sync: says so on its output (cron mails it)
    assert done.returncode == 0, done.stderr
    assert "template order: taken out of auto, back to draft" in done.stdout
    assert store.template_stage("order") == "draft"
    stage = events(store, "template.stage")[-1]
    assert (stage["from"], stage["to"], stage["actor"]) == ("auto", "draft", "desk")
    assert stage["reason"].startswith("demoted automatically: 1 of its last 1 automatic replies were not closed")
    (demoted,) = events(store, "template.demoted")
    assert demoted["conversation_id"] == first and demoted["template"] == "order"
    line = [describe(e) for e in store.events(first) if e["kind"] == "template.demoted"]
    reason = stage["reason"].removeprefix("demoted automatically: ")
    assert line == [f"desk: template order taken out of auto, back to draft: {reason}"]
    auto_desk.ask(store, "where is my order, tracking please")  # in draft: no rule sends it now
    assert len(automatic_rows(store)) == 1
    assert suppressed(store)[-1] == "template order is in stage draft, not auto"
    age(store, days=8)  # promoted again through the gate: judged afresh, on what it does from now on
    change_stage(auto_desk.config, store, auto_desk.library, auto_desk.ruleset, "order", "auto", actor="ana", up=True)
    auto_desk.ask(store, "Where is my order? The tracking is empty.")
    assert store.template_stage("order") == "auto" and len(automatic_rows(store)) == 2


def test_a_low_csat_over_the_last_automatic_uses_demotes(auto_desk, store):
    cid = auto_desk.ask(store, "Where is my order? No tracking.")
    answered(store, cid, 1)
    deliver(auto_desk.mail, make_email(subject="Refund", body="Refund please, money back"))
    result = sync.run(auto_desk.config, store)  # any sync reviews (and counts it: `sync --json`)
    assert result.rules.demoted == ["order"] and result.rules.as_json()["demoted"] == ["order"]
    assert store.template_stage("order") == "draft"
    assert events(store, "template.stage")[-1]["reason"] == (
        "demoted automatically: CSAT 1.0 over its last 1 automatic replies (needs 4.0)")


def test_reply_template_sends_an_answer_only_in_auto_and_an_acknowledgement_always(tmp_path, store):
    both = 'reply_template = "order" }, { reply_template = "ack"'
    desk = Desk(tmp_path, rules=RULES.replace('auto_reply = "order"', both))
    desk.ask(store, "where is my order?")
    assert [r["template_id"] for r in automatic_rows(store)] == ["ack"]
    assert suppressed(store)[-1] == "template order is in stage suggest, not auto"  # (reply_template on an
    # answer is auto_reply: the same stage, cap, handoff line and "never twice")


# -- the CLI ----------------------------------------------------------------------------


def run_cli(desk: Desk, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(desk.path), *args],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, "COLUMNS": "160"})
    assert "Traceback" not in done.stderr
    return done


def test_cli_promote_demote_and_stats_with_json(desk, store):
    desk.answer(store, desk.ask(store, ORDER_ASKS[0]), "order")
    refused = run_cli(desk, "templates", "promote", "order", "--to", "auto", "--json")
    assert refused.returncode == 2
    assert refused.stderr.startswith("tui-desk: template order stays out of auto: 1 uses (needs 4)")
    data = json.loads(refused.stdout)
    assert data["gate"]["ok"] is False and data["from"] == "suggest" and data["to"] == "auto"
    assert {c["check"]: c["ok"] for c in data["gate"]["checks"]}["uses"] is False
    desk.history(store)
    done = run_cli(desk, "templates", "promote", "order", "--to", "auto", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["to"] == "auto" and json.loads(done.stdout)["gate"]["ok"] is True
    desk.ask(store, ORDER_ASKS[4])  # answered automatically
    stats = run_cli(desk, "templates", "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    rows = {r["template"]: r for r in json.loads(stats.stdout)}
    assert rows["order"]["stage"] == "auto" and rows["order"]["uses"] == 6 and rows["order"]["automatic_uses"] == 1
    assert rows["order"]["automatic_precision"] is None  # not decided yet
    assert rows["refund"]["stage"] == "suggest" and rows["ack"]["stage"] == "" and rows["ack"]["uses"] == 0
    table = run_cli(desk, "templates", "stats")
    assert table.returncode == 0 and "auto-only" in table.stdout and "precision" in table.stdout
    listed = {t["id"]: t["stage"] for t in json.loads(run_cli(desk, "templates", "list", "--json").stdout)}
    assert listed == {"order": "auto", "refund": "suggest", "ack": ""}
    down = run_cli(desk, "templates", "demote", "order", "--json")
    assert down.returncode == 0 and json.loads(down.stdout) == {"template": "order", "from": "auto", "to": "draft",
                                                                "gate": None}
    shown = json.loads(run_cli(desk, "templates", "show", "order", "--json").stdout)
    assert shown["stage"] == "draft" and [(h["from"], h["to"], h["actor"]) for h in shown["history"]] == [
        ("suggest", "auto", "ana"), ("auto", "draft", "ana")]
    assert "auto → draft" in run_cli(desk, "templates", "show", "order").stdout
    wrong = run_cli(desk, "templates", "promote", "order", "--to", "sometimes")
    assert wrong.returncode == 2 and "unknown stage 'sometimes'" in wrong.stderr
    missing = run_cli(desk, "templates", "promote", "nope", "--to", "draft")
    assert missing.returncode == 2 and "no template 'nope'" in missing.stderr


# -- the demo ---------------------------------------------------------------------------


def test_the_demo_desk_has_history_for_the_suggestions(tmp_path):
    from tui_desk import demo
    from tui_desk.store import Store
    config_path, _ = demo.build(tmp_path / "demo.db")
    config = config_mod.load(config_path)
    with Store.open(tmp_path / "demo.db") as store:
        sent = {m["template_id"] for m in store_api.messages(store)
                if m["delivery"] == "sent" and m["automatic"] is None}
        assert len(sent) >= 10  # a dozen answers from the team, delivered
        still_new = {c["subject"]: c["id"] for c in store.conversations(limit=1000) if c["status"] == "new"}
        library = TemplateLibrary.for_config(config)
        for subject, template in (("order status", "order-status"), ("Boots for wide feet?", "size-exchange"),
                                  ("Locked out: lost phone with authenticator app", "two-factor-reset")):
            best = suggest(config, store, library, still_new[subject])[0]
            assert (best.template.id, best.reason.startswith("answered")) == (template, True), subject
