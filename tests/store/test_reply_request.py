"""ReplyRequest: one request object from the front ends through the outbox to the store
(`outbox.queue`, `templates.quick.queue_template`, `Store.add_reply`), and the keyword
forms (`queue_reply`, `send_template`) that write exactly what the request would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import outbox, sync
from tui_desk.config import from_dict
from tui_desk.errors import UsageError
from tui_desk.outbox import ConversationChanged, Copies, ReplyRequest
from tui_desk.templates import TemplateLibrary
from tui_desk.templates.quick import queue_template, send_template, template_request

TEMPLATES = Path(__file__).parents[1] / "templates"


@pytest.fixture
def desk(tmp_path, store):
    """One mail conversation (Mike Jones) on a maildir channel, with the test templates."""
    mail = make_maildir(tmp_path / "mail")
    deliver(mail, make_email(subject="Where is my order?", body="My order has not arrived.",
                             sender="Mike Jones <mike@customer.example>"))
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    config = from_dict({
        "desk": {"support_address": "support@desk.example", "company": "Northwind"},
        "agent": {"name": "ana"},
        "templates": {"dir": "templates", "undo_seconds": 10},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(mail)}],
    }, tmp_path / "config.toml")
    sync.run(config, store)
    (conversation,) = store.conversations()
    return config, TemplateLibrary.for_config(config), conversation["id"]


def written(store, queued: outbox.QueuedReply) -> dict:
    """What a queued reply wrote, without ids and times."""
    item = store.outbox_item(queued.outbox_id)
    message = next(m for m in store.messages(item["conversation_id"]) if m["id"] == queued.message_id)
    return {"direction": message["direction"], "text": message["text"], "author": message["author"],
            "template_id": message["template_id"], "automatic": message["automatic"], "state": item["state"],
            "cc": json.loads(item["cc"]), "bcc": json.loads(item["bcc"]), "created_by": item["created_by"],
            "automatic_row": item["automatic"], "recipient": item["recipient"]}


def test_a_request_is_written_as_it_asks(desk, store):
    config, _, cid = desk
    request = ReplyRequest(conversation_id=cid, agent="ana", text="It ships today.", status="pending",
                           template_id="order-status", undo_seconds=10,
                           copies=Copies(cc=("ops@customer.example",), bcc=("books@desk.example",)))
    queued = outbox.queue(store, request, config=config)
    assert written(store, queued) == {
        "direction": "out", "text": "It ships today.", "author": "ana", "template_id": "order-status",
        "automatic": None, "state": "queued", "cc": ["ops@customer.example"], "bcc": ["books@desk.example"],
        "created_by": "ana", "automatic_row": 0, "recipient": None}
    assert store.conversation(cid)["status"] == "pending"
    assert queued.deliver_at > dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)  # its undo window
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.text = "changed afterwards"  # type: ignore[misc]


def test_the_keyword_form_writes_what_the_request_writes(desk, store):
    config, _, cid = desk
    fields = {"agent": "rule:ack", "status": "solved", "template_id": "t", "undo_seconds": 0,
              "automatic": "after-hours rule ack", "recipient": "Mike@Customer.example"}
    by_request = outbox.queue(store, ReplyRequest(conversation_id=cid, text="We are closed.", **fields), config=config)
    by_keywords = outbox.queue_reply(store, cid, "We are closed.", config=config, **fields)
    assert written(store, by_request) == written(store, by_keywords)
    assert written(store, by_request)["recipient"] == "mike@customer.example"
    assert written(store, by_request)["automatic"] == "after-hours rule ack"


def test_a_request_for_a_version_not_seen_is_held_and_writes_nothing(desk, store):
    config, _, cid = desk
    seen = store.conversation(cid)["version"]
    outbox.queue(store, ReplyRequest(conversation_id=cid, agent="bo", text="On it."), config=config)
    before = len(store.messages(cid))
    with pytest.raises(ConversationChanged) as held:
        outbox.queue(store, ReplyRequest(conversation_id=cid, agent="ana", text="Hello", expected_version=seen),
                     config=config)
    assert [m["text"] for m in held.value.newer] == ["On it."]
    assert len(store.messages(cid)) == before


def test_a_note_request_has_no_outbox_row(desk, store):
    config, _, cid = desk
    queued = outbox.queue(store, ReplyRequest(conversation_id=cid, agent="ana", text="Called the carrier.",
                                              note=True), config=config)
    assert queued.outbox_id is None and queued.deliver_at is None
    assert store.messages(cid)[-1]["direction"] == "note"
    with pytest.raises(UsageError, match="no Cc"):
        outbox.queue(store, ReplyRequest(conversation_id=cid, agent="ana", text="x", note=True,
                                         copies=Copies(cc=("a@b.example",))), config=config)


def test_a_template_request_is_rendered_into_the_reply_and_left_as_it_was(desk, store):
    config, library, cid = desk
    request = template_request(config, cid, agent="ana", expected_version=store.conversation(cid)["version"])
    assert (request.status, request.undo_seconds, request.text) == ("pending", 10, "")  # the desk's window
    sent = queue_template(config, store, library.get("order-status"), request)
    assert request.text == "" and request.template_id is None  # a new request was queued, not this one
    row = written(store, sent.queued)
    assert row["template_id"] == "order-status" and row["text"] == sent.text and sent.text.startswith("Hi Mike,")
    assert store.conversation(cid)["status"] == "pending"
    again = send_template(config, store, library.get("order-status"), cid, agent="ana", undo_seconds=0)
    assert {k: v for k, v in written(store, again.queued).items() if k != "state"} == \
        {k: v for k, v in row.items() if k != "state"}
    assert again.queued.deliver_at <= dt.datetime.now(dt.timezone.utc) < sent.queued.deliver_at
