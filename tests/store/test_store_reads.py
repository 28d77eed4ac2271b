"""The store's reads for what a channel stored and what happened (the questions tests,
front ends and scripts ask instead of reading tables), and its write transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from tui_desk.model import Change, ParsedMessage
from tui_desk.store import Store

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)


def mail(store: Store, mail_id: str, subject: str, sender: str = "mike@customer.example",
         conversation_id: int | None = None) -> tuple[int, int]:
    msg = ParsedMessage(external_id=mail_id, kind="email", sender_address=sender, sender_name="Mike",
                        received_at=NOW, created_at=NOW, text=f"about {subject}", subject=subject, message_id=mail_id)
    with store.transaction():
        customer = store.customer_for("email", sender, "Mike")
        return store.add_inbound("mail", msg, customer, conversation_id, subject.lower())


def test_a_transaction_is_undone_whole_when_it_fails(store):
    first, _ = mail(store, "<a@x>", "Parcel")
    with pytest.raises(RuntimeError), store.transaction():
        store.set_priority(first, "urgent", "ana")
        store.set_tags(first, ["vip"], [], "ana")
        raise RuntimeError("the batch failed")
    shown = store.conversation(first)
    assert (shown["priority"], shown["tags"]) == ("normal", [])
    assert [e["kind"] for e in store.events(first)] == ["created"]
    with store.transaction(), store.transaction():  # a nested one is a savepoint of the outer
        store.set_priority(first, "high", "ana")
    assert store.conversation(first)["priority"] == "high"


def test_channel_messages_are_what_each_channel_stored_in_order(store):
    a, first = mail(store, "<a@x>", "Parcel")
    b, second = mail(store, "<b@x>", "Invoice", sender="ana@example.br")
    chat = ParsedMessage(external_id="$e1", kind="chat", sender_address="@zoe:chat", sender_name="Zoe",
                         received_at=NOW, created_at=NOW, text="hi", thread_key="room-1")
    with store.transaction():
        store.add_inbound("chat", chat, None, None, "")
    assert [tuple(m) for m in store.channel_messages("mail")] == [(first, a, "<a@x>", "<a@x>", "in"),
                                                                  (second, b, "<b@x>", "<b@x>", "in")]
    assert [(m.external_id, m.message_id) for m in store.channel_messages("chat")] == [("$e1", None)]
    assert store.channel_messages("nowhere") == []


def test_a_message_by_its_message_id_is_found_where_it_is_now(store):
    a, _ = mail(store, "<a@x>", "Parcel")
    b, moved = mail(store, "<b@x>", "Parcel again")
    assert store.message_by_mail_id("<b@x>").conversation_id == b
    store.merge(b, a, "ana")
    found = store.message_by_mail_id("<b@x>")
    assert (found.id, found.conversation_id) == (moved, a)
    assert store.message_by_mail_id("<never@x>") is None


def test_history_by_kind_and_the_desk_wide_part(store):
    mike, _ = mail(store, "<a@x>", "Parcel")
    chat = ParsedMessage(external_id="$e1", kind="chat", sender_address="@mike:chat", sender_name="",
                         received_at=NOW, created_at=NOW, text="any news?", thread_key="room-1")
    with store.transaction():
        handle = store.customer_for("chat", "@mike:chat", "")
        store.add_inbound("chat", chat, handle, None, "")
    store.set_priority(mike, "high", "ana")
    store.link_customers(store.conversation(mike)["customer_id"], handle, "ana", "same person")
    priority = store.history("priority")
    assert [(e["conversation_id"], e["actor"], e["data"]["to"]) for e in priority] == [(mike, "ana", "high")]
    everything = store.history()
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)
    assert {"created", "priority", "customer_linked"} <= {e["kind"] for e in everything}
    desk_wide = store.history(desk_wide=True)
    assert desk_wide and all(e["conversation_id"] is None for e in desk_wide)
    assert "priority" not in {e["kind"] for e in desk_wide}
    assert store.history("no such kind") == []


def test_a_chat_message_keeps_the_text_an_edit_replaced(store):
    msg = ParsedMessage(external_id="$1", kind="matrix", sender_address="@ana:x", sender_name="Ana",
                        received_at=NOW, created_at=NOW, text="typo", thread_key="!room")
    with store.transaction():
        cid, mid = store.add_inbound("chat", msg, None, None, "")
        assert store.apply_change("chat", Change("$1", NOW, "@ana:x", text="fixed"))
    shown = store.chat_message("chat", "$1")
    assert shown.pop("edited_at")
    assert shown == {"id": mid, "conversation_id": cid, "text": "fixed", "original_text": "typo", "redacted": 0}
    assert store.chat_message("mail", "$1") is None and store.chat_message("chat", "$2") is None


def test_surveys_of_a_conversation_or_of_the_desk(store):
    a, _ = mail(store, "<a@x>", "Parcel")
    b, _ = mail(store, "<b@x>", "Invoice", sender="ana@example.br")
    assert store.surveys() == [] and store.surveys(a) == []
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    for cid, to in ((a, "mike@customer.example"), (b, "ana@example.br")):
        store.set_status(cid, "solved", "ana")
        assert store.queue_survey(cid, "How did we do? 1 to 5", template_id="survey", language="en", recipient=to,
                                  txn_id=f"survey-{cid}", expires=dt.timedelta(days=7), solved_before=later,
                                  cooldown_since=later - dt.timedelta(days=30), at=later)
    assert [s["conversation_id"] for s in store.surveys()] == [a, b]
    [only] = store.surveys(b)
    assert (only["conversation_id"], only["template_id"], only["language"]) == (b, "survey", "en")
    assert store.survey_of(only["id"]) == only
