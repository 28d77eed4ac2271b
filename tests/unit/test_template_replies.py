"""Picker ranking, digit choice, one-keystroke send and undo, and stats with known outcomes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import outbox, sync
from tui_desk.config import from_dict
from tui_desk.model import ParsedMessage
from tui_desk.store import stamp
from tui_desk.templates import Template, TemplateLibrary
from tui_desk.templates.picker import Picker, context_scores, rank
from tui_desk.templates.quick import NeedsComposer, digit_choice, open_picker, preview, quick_choices, send_template
from tui_desk.templates.stats import outcome, template_stats

HERE = Path(__file__).parents[1] / "templates"


def t(id: str, title: str, keywords=(), tags=(), body="Body", key=None, channels=()) -> Template:
    return Template(id=id, title=title, body=body, path=Path(f"{id}.md"), tags=tuple(tags),
                    keywords=tuple(keywords), key=key, channels=tuple(channels))


FIXTURE = [
    t("order", "Order status", ["tracking", "parcel", "where is my order"], ["shipping"]),
    t("refund", "Refund issued", ["refund", "money back"], ["refunds"], body="Your refund is on its way."),
    t("password", "Password reset", ["password", "login"], ["account"]),
    t("hours", "Opening hours", ["sunday", "open"], ["shop"], body="We are open Monday to Saturday."),
    t("invoice", "Invoice copy", ["invoice", "receipt", "vat"], ["billing"], channels=["email"]),
]


def test_query_matches_title_tags_keywords_and_body():
    ids = lambda q: [r.template.id for r in rank(q, FIXTURE)]  # noqa: E731
    assert ids("refnd")[0] == "refund"          # a typo still finds it
    assert ids("billing")[0] == "invoice"       # tag
    assert ids("receipt")[0] == "invoice"       # keyword
    assert ids("saturday")[0] == "hours"        # body
    assert ids("zzzz qqq") == []


def test_context_ranks_by_last_message_and_history():
    message = "Hi, I was charged twice, can I get my money back? It's a refund question."
    assert [r.template.id for r in rank("", FIXTURE, last_message=message)][0] == "refund"
    # the customer's words match nothing, but "hours" answered a very similar message before
    answered = [("hours", "are you there on sunday afternoon?"), ("order", "my parcel is late")]
    ranked = rank("", FIXTURE, last_message="are you there on sunday afternoons", answered=answered)
    assert ranked[0].template.id == "hours"
    # with a query, context breaks the tie between equally good matches
    twins = [t("a", "Shipping delay", ["delay"]), t("b", "Shipping delayed", ["late"])]
    context = context_scores("my parcel is late", twins)
    assert [r.template.id for r in Picker(twins, context=context).rank("shipping")][0] == "b"


def test_channel_filter():
    assert "invoice" not in [r.template.id for r in rank("invoice", FIXTURE, channel="chat")]
    picker = Picker(FIXTURE, channel="mail", channel_kind="maildir")
    assert picker.rank("invoice")[0].template.id == "invoice"


@pytest.fixture
def desk(tmp_path, store):
    mail = make_maildir(tmp_path / "mail")
    deliver(mail, make_email(subject="Refund?", body="I returned the shoes, when do I get my money back?",
                             sender="Mike Jones <mike@customer.example>"))
    templates = tmp_path / "templates"
    shutil.copytree(HERE, templates)
    config = from_dict({
        "desk": {"support_address": "support@desk.example", "company": "Northwind"},
        "agent": {"name": "ana"},
        "templates": {"dir": "templates", "undo_seconds": 10},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(mail)}],
    }, tmp_path / "config.toml")
    sync.run(config, store)
    (conversation,) = store.conversations()
    return config, TemplateLibrary.for_config(config), conversation["id"], mail


def test_suggestions_and_digits(desk, store):
    config, library, cid, _ = desk
    choices = quick_choices(config, store, library, cid)
    assert choices.suggested[0].template.id == "refund-issued"
    assert "opening-hours" not in [t.id for t in choices.digits]  # chat only (and auto)
    assert digit_choice(choices, 1).id == "refund-issued"  # the best suggestion first
    assert [t.id for t in choices.digits].count("order-status") == 1  # pinned: the fallback, once
    assert digit_choice(choices, 9) is None
    picker = open_picker(config, store, library, cid, choices)
    assert picker.rank("")[0].template.id == "refund-issued" and picker.reasons["refund-issued"]
    assert picker.rank("passwrd")[0].template.id == "password-reset"


def test_digit_send_then_undo_before_delivery(desk, store):
    config, library, cid, mail = desk
    version = store.conversation(cid)["version"]
    sent = send_template(config, store, library.get("order-status"), cid, agent="ana", expected_version=version)
    assert sent.to == "Mike Jones <mike@customer.example>"
    assert sent.text.startswith("Hi Mike,") and f"[#{cid}]" in sent.text and "Northwind" in sent.text
    assert store.conversation(cid)["status"] == "pending"
    assert (sent.queued.deliver_at - dt.datetime.now(dt.timezone.utc)).total_seconds() > 5  # undo window
    outbox.cancel(store, sent.queued.outbox_id, "ana")
    assert outbox.deliver_due(config, store, dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)).sent == 0
    assert not (mail / ".Sent").exists()
    assert store.conversation(cid)["status"] == "new"
    assert [s.uses for s in template_stats(store)] == []


def test_template_with_slots_opens_the_composer(desk, store):
    config, library, cid, _ = desk
    with pytest.raises(NeedsComposer) as caught:
        send_template(config, store, library.get("refund-issued"), cid, agent="ana")
    assert caught.value.draft.rendered.missing == ["order number", "amount"]
    assert store.outbox_items() == []
    sent = send_template(config, store, library.get("refund-issued"), cid, agent="ana",
                         answers={"order number": "A-17", "amount": "€20"})
    assert "order A-17 of €20" in sent.text
    draft = preview(config, store, library.get("opening-hours"), cid, agent="ana")
    assert draft.rendered.ok and "nobody" in draft.rendered.text


def test_template_used_event_matches_reports_contract(desk, store):
    config, library, cid, _ = desk
    sent = send_template(config, store, library.get("order-status"), cid, agent="ana", undo_seconds=0)
    used = [e for e in store.events(cid) if e["kind"] == "template_used"]
    assert [e["data"] for e in used] == [{"template": "order-status", "message_id": sent.queued.message_id}]


def _use(at, *, next_in=None, next_out=None, solved=None):
    s = lambda d: None if d is None else stamp(d)  # noqa: E731
    return {"at": stamp(at), "next_in_at": s(next_in), "next_out_at": s(next_out), "solved_at": s(solved)}


def test_outcome_definition():
    t0 = dt.datetime(2026, 3, 1, 10, tzinfo=dt.timezone.utc)
    day = dt.timedelta(days=1)
    now = t0 + 10 * day
    assert outcome(_use(t0), now) == "closed"                                    # silence for 3 days
    assert outcome(_use(t0), t0 + day) == "pending"                              # too early to tell
    assert outcome(_use(t0, next_in=t0 + day), now) == "reopened"                # wrote again
    assert outcome(_use(t0, next_in=t0 + 4 * day), now) == "closed"              # wrote after 3 days
    assert outcome(_use(t0, next_in=t0 + day, solved=t0 + 2 * day), now) == "closed"  # "thanks", solved
    assert outcome(_use(t0, next_in=t0 + day, next_out=t0 + 2 * day, solved=t0 + 3 * day), now) == "reopened"
    assert outcome(_use(t0, solved=t0 + day), t0 + day) == "closed"


def test_stats_on_a_fixture_with_known_outcomes(tmp_path, store):
    chat = tmp_path / "chat.jsonl"
    # in the past, so the solve and the score recorded now come after the uses
    base = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=10)
    lines = [{"id": f"m{i}", "conversation": f"room-{i}", "sender_id": f"u{i}", "sender_name": f"U{i}",
              "text": "question", "time": base.isoformat()} for i in range(3)]
    chat.write_text("".join(json.dumps(line) + "\n" for line in lines))
    config = from_dict({"channels": [{"name": "chat", "kind": "jsonl", "path": str(chat)}]}, tmp_path / "c.toml")
    sync.run(config, store)
    rooms = {c["id"] for c in store.conversations()}
    for cid in sorted(rooms):
        outbox.queue_reply(store, cid, "answer", agent="ana", template_id="faq")
    # queued now: shift the uses to a known time, 30 minutes after the questions
    store.d.conn.execute(  # raw SQL on purpose: the replies dated in the past (the store stamps them now)
        "UPDATE messages SET received_at = ? WHERE direction = 'out'", (stamp(base + dt.timedelta(minutes=30)),))
    first, second, third = sorted(rooms)
    store.set_status(first, "solved", "ana")             # solved, no further reply: closed
    next_day = base + dt.timedelta(days=1)
    again = ParsedMessage(external_id="x1", kind="chat", sender_address="", sender_name="", received_at=next_day,
                          created_at=next_day, text="still broken")
    with store.transaction():                            # the customer wrote again next day: reopened
        store.add_inbound("chat", again, None, second, "")
        store.add_event(first, "satisfaction", "customer", {"score": 5})
    (faq,) = template_stats(store, now=base + dt.timedelta(days=1, hours=1))
    assert (faq.uses, faq.closed, faq.reopened, faq.pending) == (3, 1, 1, 1)     # third: too early
    assert faq.close_rate == 0.5 and faq.median_handling_seconds == 1800.0
    assert (faq.satisfaction, faq.satisfaction_answers) == (5.0, 1)
    (later,) = template_stats(store, now=base + dt.timedelta(days=5))
    assert (later.closed, later.reopened, later.pending) == (2, 1, 0)
