"""The satisfaction survey through the real sync path (Maildir and JSONL channels): when it
is sent, how answers are read, and the limits. Email and chat servers: test_survey_e2e.py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import config as config_mod, outbox
from tui_desk.store import Store
from tui_desk.sync import run

NOW = dt.datetime.now(dt.timezone.utc)
LATER = NOW + dt.timedelta(hours=25)   # past the default delay of 24 h


@pytest.fixture
def desk(tmp_path):
    make_maildir(tmp_path / "mail")
    (tmp_path / "chat.jsonl").write_text("")
    data = {"desk": {"support_address": "support@desk.example", "company": "Desk Ltd"},
            "storage": {"database": str(tmp_path / "desk.db")},
            "channels": [{"name": "mail", "kind": "maildir", "path": str(tmp_path / "mail")},
                         {"name": "chat", "kind": "jsonl", "path": str(tmp_path / "chat.jsonl")}],
            "survey": {"enabled": True}}
    config = config_mod.from_dict(data, tmp_path / "config.toml")
    with Store.open(tmp_path / "desk.db") as store:
        yield config, store, tmp_path


def mail(tmp_path: Path, body="My order has not arrived.", sender="Mike Jones <mike@customer.example>",
         subject="Where is my order?", **kw) -> None:
    deliver(tmp_path / "mail", make_email(sender, subject, body, **kw))


def solved_conversation(config, store, tmp_path, **kw) -> int:
    mail(tmp_path, **kw)
    assert run(config, store).ok
    cid = max(store_api.conversation_ids(store))
    outbox.queue_reply(store, cid, "It left our warehouse today.", agent="ana", status="solved")
    run(config, store)
    return cid


def surveys(store, cid=None) -> list[dict]:
    return store.surveys(cid)


def events(store, cid, kind) -> list[dict]:
    return [e["data"] for e in sorted(store.events(cid), key=lambda e: e["id"]) if e["kind"] == kind]


def survey_mail(store, cid) -> dict:
    return next(m for m in store.messages(cid) if m["automatic"] == "satisfaction survey")


def answer(tmp_path, store, cid, body, **kw) -> None:
    """The customer replies to the survey mail (threaded by In-Reply-To)."""
    mail(tmp_path, body=body, subject="Re: Where is my order?", in_reply_to=survey_mail(store, cid)["message_id"], **kw)


def status(store, cid) -> str:
    return store.conversation(cid)["status"]


def test_sent_only_after_the_delay_then_once(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    assert run(config, store, now=NOW + dt.timedelta(hours=23)).surveys.queued == 0
    assert surveys(store) == []
    result = run(config, store, now=LATER)
    assert result.surveys.queued == 1 and result.sent == 1
    sent = survey_mail(store, cid)
    assert "1 (bad) to 5 (great)" in sent["text"] and "Mike" in sent["text"] and sent["direction"] == "out"
    assert events(store, cid, "survey_sent") == [{"survey": surveys(store)[0]["id"], "template": "survey",
                                                  "language": "en"}]
    assert status(store, cid) == "solved"
    # the survey is automatic: no first response, no agent reply
    assert store.d.scalar(  # schema test: raw SQL on purpose (the column the reply triggers keep)
        "SELECT first_reply_by FROM conversations WHERE id = ?", (cid,)) == "ana"
    assert run(config, store, now=LATER + dt.timedelta(days=3)).surveys.queued == 0
    assert len(surveys(store)) == 1


def test_a_score_is_recorded_and_the_conversation_stays_solved(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    run(config, store, now=LATER)
    answer(tmp, store, cid, "4 thanks!\n\nOn Tue, Desk Ltd wrote:\n> Reply with a number from 1 (bad) to 5 (great).")
    result = run(config, store, now=LATER)
    assert result.answers == 1
    survey = surveys(store)[0]
    assert events(store, cid, "satisfaction") == [{"score": 4, "comment": "thanks!", "survey": survey["id"],
                                                   "message_id": survey["answer_message_id"]}]
    assert status(store, cid) == "solved" and survey["score"] == 4
    assert survey["answer_message_id"] in [m["id"] for m in store.messages(cid)]
    # a second "5" is no second answer: an ordinary message, which reopens
    answer(tmp, store, cid, "5")
    run(config, store, now=LATER)
    assert len(events(store, cid, "satisfaction")) == 1 and status(store, cid) == "open"


def test_a_low_score_with_a_comment_reopens_tagged_csat_low(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    run(config, store, now=LATER)
    answer(tmp, store, cid, "2 - the parcel came open and nobody called back")
    run(config, store, now=LATER)
    assert status(store, cid) == "open"
    assert "csat-low" in store.conversation(cid)["tags"]
    assert events(store, cid, "satisfaction")[0]["score"] == 2


def test_a_low_score_alone_does_not_reopen(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    run(config, store, now=LATER)
    answer(tmp, store, cid, "1")
    run(config, store, now=LATER)
    assert status(store, cid) == "solved" and events(store, cid, "satisfaction")[0]["score"] == 1


def test_thanks_is_an_ordinary_message(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    run(config, store, now=LATER)
    answer(tmp, store, cid, "thanks")
    run(config, store, now=LATER)
    assert status(store, cid) == "open" and events(store, cid, "satisfaction") == []


def test_an_answer_after_expiry_is_an_ordinary_message(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    run(config, store, now=LATER)
    answer(tmp, store, cid, "5")
    run(config, store, now=LATER + dt.timedelta(days=14, minutes=1))
    assert events(store, cid, "satisfaction") == [] and status(store, cid) == "open"


def test_cooldown_one_survey_per_customer(desk):
    config, store, tmp = desk
    first = solved_conversation(config, store, tmp)
    run(config, store, now=LATER)
    second = solved_conversation(config, store, tmp, subject="Another question")
    assert second != first
    later = NOW + dt.timedelta(days=2)
    assert run(config, store, now=later).surveys.as_json() == {"queued": 0, "skipped": 1}
    assert surveys(store, second) == []
    assert "within 30d" in events(store, second, "survey_skipped")[0]["why"]
    # skipped once for this solve, not asked again at every sync
    assert run(config, store, now=later).surveys.skipped == 0
    # another customer is not held back by Mike's survey
    third = solved_conversation(config, store, tmp, sender="Ana <ana@customer.example>", subject="Invoice")
    assert run(config, store, now=later).surveys.queued == 1 and len(surveys(store, third)) == 1


@pytest.mark.parametrize("tag", ["no-survey", "spam"])
def test_opt_out_tags(desk, tag):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    store.set_tags(cid, [tag], [], "ana")
    assert run(config, store, now=LATER).surveys.as_json() == {"queued": 0, "skipped": 0}
    assert surveys(store) == []


def test_merged_conversations_get_none(desk):
    config, store, tmp = desk
    keep = solved_conversation(config, store, tmp)
    gone = solved_conversation(config, store, tmp, subject="Order again")
    store.merge(gone, keep, "ana")
    run(config, store, now=LATER)
    assert [s["conversation_id"] for s in surveys(store)] == [keep]


@pytest.mark.parametrize(("headers", "why"), [({"Precedence": "bulk", "List-Id": "<news.shop.example>"}, "bulk"),
                                               ({"Auto-Submitted": "auto-replied"}, "auto")])
def test_automatic_or_bulk_customers_get_none(desk, headers, why):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp, headers=headers)
    run(config, store, now=LATER)
    assert surveys(store) == [] and why in events(store, cid, "survey_skipped")[0]["why"]


def test_disabled_sends_nothing(desk):
    config, store, tmp = desk
    config.survey.enabled = False
    solved_conversation(config, store, tmp)
    assert run(config, store, now=LATER).surveys.queued == 0 and surveys(store) == []


def test_reopened_before_the_delay_gets_none_until_solved_again(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    store.set_status(cid, "open", "ana")
    assert run(config, store, now=LATER).surveys.queued == 0
    store.set_status(cid, "solved", "ana")
    again = dt.datetime.now(dt.timezone.utc)
    assert run(config, store, now=again + dt.timedelta(hours=23)).surveys.queued == 0
    assert run(config, store, now=again + dt.timedelta(hours=25)).surveys.queued == 1


def test_in_the_customers_language(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp, sender="Jürgen <j@kunde.example>", subject="Bestellung",
                              body="Hallo, ich habe meine Bestellung nicht bekommen. Bitte helfen Sie mir, danke")
    run(config, store, now=LATER)
    assert surveys(store)[0]["language"] == "de" and surveys(store)[0]["template_id"] == "survey-de"
    assert "1 (schlecht) bis 5 (sehr gut)" in survey_mail(store, cid)["text"]
    answer(tmp, store, cid, "sehr gut, danke", sender="Jürgen <j@kunde.example>")
    run(config, store, now=LATER)
    assert events(store, cid, "satisfaction")[0]["score"] == 5


def test_no_second_survey_when_the_send_was_not_recorded(desk):
    """The crash between the send and its record: the outbox row is left "uncertain"
    (or "sending"); the survey row exists, so no later sync queues another."""
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    from tui_desk.survey.send import send_due
    assert send_due(config, store, LATER).queued == 1
    job = store.claim_due(dt.datetime.now(dt.timezone.utc), outbox.LEASE)
    store.mark_uncertain(job["outbox_id"])   # DATA began; then the process died
    for days in (1, 2, 40):
        run(config, store, now=LATER + dt.timedelta(days=days))
    assert len(surveys(store)) == 1
    assert [o["automatic"] for o in store_api.outbox(store) if o["conversation_id"] == cid].count(1) == 1
    assert events(store, cid, "survey_sent") == []          # not known to have gone...
    answer(tmp, store, cid, "5")                             # ...but an answer still counts
    run(config, store, now=LATER)
    assert events(store, cid, "satisfaction")[0]["score"] == 5


def chat(tmp, text, sender="@zoe:chat", room="room-1", **extra) -> None:
    with open(tmp / "chat.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"conversation": room, "sender_id": sender, "sender_name": "Zoe", "text": text,
                                 "time": dt.datetime.now(dt.timezone.utc).isoformat(), **extra}) + "\n")


def test_chat_score_goes_to_the_solved_conversation(desk):
    config, store, tmp = desk
    chat(tmp, "Is the shop open on Sunday?")
    run(config, store)
    cid = max(store_api.conversation_ids(store))
    outbox.queue_reply(store, cid, "Yes, 10 to 4.", agent="ana", status="solved")
    run(config, store, now=LATER)
    assert len(surveys(store, cid)) == 1
    survey_line = json.loads((tmp / "chat.jsonl").read_text().splitlines()[-1])
    assert survey_line["direction"] == "out" and "1 (bad) to 5 (great)" in survey_line["text"]
    chat(tmp, "👍 super quick")
    run(config, store, now=LATER)
    assert store_api.conversation_ids(store) == [cid]
    assert events(store, cid, "satisfaction")[0] | {"message_id": 0} == {
        "score": 5, "comment": "super quick", "survey": surveys(store)[0]["id"], "message_id": 0}
    assert status(store, cid) == "solved"
    # the next message starts a new conversation, as chat does after a solve
    chat(tmp, "One more thing: do you ship to Norway?")
    run(config, store, now=LATER)
    assert len(store_api.conversation_ids(store)) == 2


def test_reports_per_week_channel_agent_and_survey_template(desk):
    """Three customers: 5 (English survey), 1 with a comment (German survey), no answer."""
    from tui_desk.reports import make_period
    from tui_desk.reports.kpis import agents, channels, summary
    from tui_desk.reports.templates import templates

    config, store, tmp = desk
    mike = solved_conversation(config, store, tmp)
    jan = solved_conversation(config, store, tmp, sender="Jan <jan@kunde.example>", subject="Rechnung",
                              body="Hallo, ich brauche bitte die Rechnung für meine Bestellung, danke")
    solved_conversation(config, store, tmp, sender="Ana <ana@customer.example>", subject="Invoice")
    assert run(config, store, now=LATER).surveys.queued == 3
    answer(tmp, store, mike, "5")
    answer(tmp, store, jan, "1 - niemand hat zurückgerufen", sender="Jan <jan@kunde.example>")
    run(config, store, now=LATER)
    now = dt.datetime.now(dt.timezone.utc)
    period = make_period("1d", (now + dt.timedelta(days=1)).date().isoformat(), "UTC", now=now)
    # 5 is great, 1 is not good: CSAT 1 of 2, happiness 50 % - 50 %
    overall = {"answers": 2, "average": 3.0, "csat": 0.5, "happiness": 0.0, "surveys_sent": 3,
               "surveys_answered": 2, "response_rate": 0.6667}
    data = summary(store, config, period)
    assert data["satisfaction"] == overall
    monday = (now - dt.timedelta(days=now.weekday())).date().isoformat()
    assert {"week": monday, **overall} in data["satisfaction_weeks"]
    assert sum(w["surveys_sent"] for w in data["satisfaction_weeks"]) == 3
    assert [(r["channel"], r["satisfaction"]) for r in channels(store, config, period)["channels"]] == [
        ("mail", overall)]
    # per agent: the conversations assigned to them (ana wrote the replies, but nothing is hers yet)
    assert [(r["agent"], r["satisfaction"]["surveys_sent"]) for r in agents(store, config, period)["agents"]] == [
        ("ana", 0)]
    store.assign(mike, "ana", "ana")
    assert [(r["agent"], r["satisfaction"]["happiness"]) for r in agents(store, config, period)["agents"]] == [
        ("ana", 100.0)]
    by_template = {r["template"]: r for r in templates(store, config, period)["surveys"]}
    assert by_template["survey"] == {"template": "survey", "answers": 1, "average": 5.0, "csat": 1.0,
                                     "happiness": 100.0, "surveys_sent": 2, "surveys_answered": 1,
                                     "response_rate": 0.5}
    assert by_template["survey-de"] | {"template": None} == {
        "template": None, "answers": 1, "average": 1.0, "csat": 0.0, "happiness": -100.0, "surveys_sent": 1,
        "surveys_answered": 1, "response_rate": 1.0}
    assert status(store, jan) == "open" and status(store, mike) == "solved"


def test_over_the_caps_it_waits_and_goes_later(desk):
    config, store, tmp = desk
    cid = solved_conversation(config, store, tmp)
    config.automation.max_per_day = 0
    assert run(config, store, now=LATER).surveys.as_json() == {"queued": 0, "skipped": 0}
    assert events(store, cid, "survey_skipped") == []
    config.automation.max_per_day = 10
    assert run(config, store, now=LATER).surveys.queued == 1


def test_a_missing_template_is_an_error_that_says_what_to_do(desk):
    config, store, tmp = desk
    solved_conversation(config, store, tmp)
    config.survey.template = "nope"
    result = run(config, store, now=LATER)
    assert result.surveys.queued == 0 and surveys(store) == []
    assert any("no template 'nope'" in e and "[survey] template" in e for e in result.outbox_errors)
