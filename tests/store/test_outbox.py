"""The outbox: queueing replies and notes, undo, delivery once, retries, crash recovery."""

from __future__ import annotations

import datetime as dt
import email
import json
from email.policy import default as default_policy

import pytest

from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import outbox, sync
from tui_desk.config import from_dict
from tui_desk.errors import DeskError, NotFound, UsageError
from tui_desk.outbox import ConversationChanged, cancel, deliver_due, queue_reply

LATER = dt.timedelta(minutes=1)


@pytest.fixture
def desk(tmp_path, store):
    """A maildir and a chat channel with one conversation each, synced into `store`."""
    mail = make_maildir(tmp_path / "mail")
    raw = make_email(subject="PLACEHOLDER", message_id="<first@customer.example>",
                     headers={"References": "<older@customer.example>"})
    # an encoded subject that decodes to two lines: it must never become a second header
    deliver(mail, raw.replace(b"PLACEHOLDER", b"=?utf-8?q?Re=3A_Where_is_my_order=3F_=5B#99=5D=0D=0ABcc=3A_x=40evil.example?="))
    chat = tmp_path / "chat.jsonl"
    chat.write_text(json.dumps({"id": "c1", "conversation": "room-1", "sender_id": "u1", "sender_name": "Lee",
                                "text": "Is the shop open on Sunday?", "time": "2026-03-01T10:00:00+00:00"}) + "\n")
    config = from_dict({
        "desk": {"support_address": "support@desk.example", "name": "Desk"},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(mail)},
                     {"name": "chat", "kind": "jsonl", "path": str(chat)}],
    }, tmp_path / "config.toml")
    sync.run(config, store)
    ids = {c["channel"]: c["id"] for c in store.conversations()}
    return config, ids, mail, chat


def later() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + LATER


def sent_files(mail):
    return sorted((mail / ".Sent" / "cur").glob("*")) if (mail / ".Sent" / "cur").exists() else []


def test_queue_writes_message_outbox_status_and_events(desk, store):
    _, ids, *_ = desk
    before = store.conversation(ids["mail"])
    queued = queue_reply(store, ids["mail"], "Your order ships today.", agent="ana", status="pending",
                         template_id="shipping", undo_seconds=10, expected_version=before["version"])
    after = store.conversation(ids["mail"])
    assert after["status"] == "pending" and after["version"] > before["version"]
    assert after["first_response_at"] is not None and after["message_count"] == 2
    message = store.messages(ids["mail"])[-1]
    assert (message["direction"], message["text"], message["template_id"]) == ("out", "Your order ships today.", "shipping")
    item = store.outbox_item(queued.outbox_id)
    assert item["state"] == "queued" and item["message_id"] == queued.message_id
    assert queued.deliver_at > dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    kinds = [e["kind"] for e in store.events(ids["mail"])]
    assert {"reply_queued", "template_used", "status"} <= set(kinds)
    used = [e for e in store.events(ids["mail"]) if e["kind"] == "template_used"][0]
    assert used["data"] == {"template": "shipping", "message_id": queued.message_id}


def test_note_has_no_outbox_row_and_is_no_first_response(desk, store):
    config, ids, mail, _ = desk
    queued = queue_reply(store, ids["mail"], "Customer called, see CRM.", agent="ana", note=True)
    assert queued.outbox_id is None and queued.deliver_at is None
    assert store.conversation(ids["mail"])["first_response_at"] is None
    assert store.outbox_items() == []
    assert deliver_due(config, store, later()).sent == 0 and sent_files(mail) == []


def test_expected_version_mismatch_carries_newer_messages(desk, store, tmp_path):
    config, ids, mail, _ = desk
    seen = store.conversation(ids["mail"])["version"]
    deliver(mail, make_email(subject="Re: order", body="Any news?", in_reply_to="<first@customer.example>"))
    sync.run(config, store)
    with pytest.raises(ConversationChanged) as caught:
        queue_reply(store, ids["mail"], "Hello", agent="ana", expected_version=seen)
    assert [m["text"] for m in caught.value.newer] == ["Any news?"]
    assert store.outbox_items() == [] and len(store.messages(ids["mail"])) == 2


def test_bad_input_is_refused(desk, store):
    _, ids, *_ = desk
    with pytest.raises(NotFound):
        queue_reply(store, 9999, "hi", agent="ana")
    with pytest.raises(UsageError):
        queue_reply(store, ids["mail"], "hi", agent="ana", status="snoozed")
    with pytest.raises(DeskError):
        queue_reply(store, ids["mail"], "  \n", agent="ana")


def test_undo_before_delivery_sends_nothing_and_restores(desk, store):
    config, ids, mail, _ = desk
    before = store.conversation(ids["mail"])
    queued = queue_reply(store, ids["mail"], "Oops", agent="ana", status="pending", template_id="t", undo_seconds=10)
    assert deliver_due(config, store).sent == 0  # still inside the undo window
    cancel(store, queued.outbox_id, "ana")
    assert deliver_due(config, store, later()).sent == 0
    assert sent_files(mail) == []
    after = store.conversation(ids["mail"])
    assert (after["status"], after["first_response_at"]) == (before["status"], None)
    assert store.outbox_item(queued.outbox_id)["state"] == "cancelled"
    last = store.messages(ids["mail"])[-1]
    assert (last["direction"], last["text"], last["template_id"]) == ("note", "[reply cancelled, not sent]\nOops", None)
    events = store.events(ids["mail"])
    assert not [e for e in events if e["kind"] == "template_used"]
    assert [e["data"]["outbox_id"] for e in events if e["kind"] == "reply_cancelled"] == [queued.outbox_id]
    with pytest.raises(UsageError, match="already cancelled"):
        cancel(store, queued.outbox_id, "ana")
    again = queue_reply(store, ids["mail"], "Second try", agent="ana")
    assert again.outbox_id != queued.outbox_id  # an undo key can never hit a later reply


def test_undo_after_delivery_is_refused(desk, store):
    config, ids, *_ = desk
    queued = queue_reply(store, ids["mail"], "Sent already", agent="ana")
    assert deliver_due(config, store, later()).sent == 1
    with pytest.raises(UsageError, match="already sent"):
        cancel(store, queued.outbox_id, "ana")
    assert store.outbox_item(queued.outbox_id)["state"] == "sent"


def test_maildir_reply_is_a_threaded_email_with_safe_headers(desk, store):
    config, ids, mail, _ = desk
    queue_reply(store, ids["mail"], "Your parcel is on its way.", agent="ana")
    assert deliver_due(config, store, later()).sent == 1
    (file,) = sent_files(mail)
    msg = email.message_from_bytes(file.read_bytes(), policy=default_policy)
    assert msg["From"].addresses[0].addr_spec == "support@desk.example"
    assert msg["To"].addresses[0].addr_spec == "mike@customer.example"
    assert str(msg["Subject"]) == f"Re: Where is my order? Bcc: x@evil.example [#{ids['mail']}]"
    assert msg["In-Reply-To"] == "<first@customer.example>"
    assert msg["References"].split() == ["<older@customer.example>", "<first@customer.example>"]
    assert "Bcc" not in msg and "\r" not in str(msg["Subject"])
    stored = store.messages(ids["mail"])[-1]
    assert stored["message_id"] == msg["Message-ID"]  # so the customer's answer threads here
    assert msg.get_content().strip() == "Your parcel is on its way."


def test_jsonl_reply_is_appended_once_and_recognised_by_sync(desk, store):
    config, ids, _, chat = desk
    queued = queue_reply(store, ids["chat"], "Yes, 10 to 14.", agent="ana")
    assert deliver_due(config, store, later()).sent == 1
    lines = [json.loads(line) for line in chat.read_text().splitlines()]
    txn = store.outbox_item(queued.outbox_id)["txn_id"]
    assert lines[-1] == {"id": txn, "conversation": "room-1", "sender_id": "ana", "sender_name": "ana",
                         "text": "Yes, 10 to 14.", "time": lines[-1]["time"], "direction": "out"}
    result = sync.run(config, store)
    assert result.channels["chat"].new == 0 and result.channels["chat"].duplicates == 1
    assert len(store.messages(ids["chat"])) == 2


def test_retries_with_backoff_then_fails(desk, store, monkeypatch):
    config, ids, mail, _ = desk
    calls = []

    def broken(self, outbound):
        calls.append(outbound.outbox_id)
        raise OSError("disk on fire")

    monkeypatch.setattr("tui_desk.channels.maildir.MaildirChannel.send", broken)
    queued = queue_reply(store, ids["mail"], "Hello", agent="ana")
    when = later()
    for expected_tries, wait in enumerate(outbox.BACKOFF, start=1):
        result = deliver_due(config, store, when)
        assert (result.sent, result.failed) == (0, 1) and "disk on fire" in result.errors[0]
        item = store.outbox_item(queued.outbox_id)
        assert (item["state"], item["tries"]) == ("queued", expected_tries)
        assert deliver_due(config, store, when + wait - dt.timedelta(seconds=1)).failed == 0  # not yet due
        when += wait
    deliver_due(config, store, when)
    assert store.outbox_item(queued.outbox_id)["state"] == "failed"
    assert deliver_due(config, store, when + dt.timedelta(days=1)).failed == 0
    assert len(calls) == len(outbox.BACKOFF) + 1
    monkeypatch.undo()
    outbox.retry(store, queued.outbox_id, "ana")
    assert deliver_due(config, store, when).sent == 1 and len(sent_files(mail)) == 1


def test_crash_between_send_and_mark_sends_no_second_copy(desk, store, monkeypatch):
    config, ids, mail, chat = desk
    queue_reply(store, ids["mail"], "Once only", agent="ana")
    queue_reply(store, ids["chat"], "Once only", agent="ana")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies right after the channel accepted it

    monkeypatch.setattr(type(store), "mark_sent", crash)
    with pytest.raises(KeyboardInterrupt):
        deliver_due(config, store, later())
    with pytest.raises(KeyboardInterrupt):
        deliver_due(config, store, later())
    monkeypatch.undo()
    assert [i["state"] for i in store.outbox_items()] == ["sending", "sending"]
    assert deliver_due(config, store, later()).sent == 0  # someone may still be sending them
    result = deliver_due(config, store, later() + outbox.LEASE)
    assert result.sent == 2
    assert len(sent_files(mail)) == 1
    assert sum('"Once only"' in line for line in chat.read_text().splitlines()) == 1
    assert [i["state"] for i in store.outbox_items()] == ["sent", "sent"]


def test_unknown_channel_fails_the_reply_not_the_run(desk, store):
    config, ids, *_ = desk
    queue_reply(store, ids["mail"], "Hello", agent="ana")
    queue_reply(store, ids["chat"], "Hello", agent="ana")
    config.channels = [c for c in config.channels if c.name != "mail"]
    result = deliver_due(config, store, later())
    assert (result.sent, result.failed) == (1, 1) and "no channel named 'mail'" in result.errors[0]


def test_sync_delivers_the_outbox(desk, store):
    config, ids, mail, _ = desk
    queue_reply(store, ids["mail"], "From cron", agent="ana")
    result = sync.run(config, store)
    assert result.as_json()["outbox"] == {"sent": 1, "failed": 0, "uncertain": 0}
    assert len(sent_files(mail)) == 1
