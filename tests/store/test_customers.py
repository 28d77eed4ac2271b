"""One customer across channels (issue 17): links on exact evidence only, likely matches
suggested, customer merges and conversation merges undone exactly (row by row)."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.desk import write_config
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import customers
from tui_desk.errors import UsageError
from tui_desk.store import Store
from tui_desk.sync import run

NOW = dt.datetime(2026, 5, 5, 10, 0, tzinfo=dt.timezone.utc)
TABLES = ("customers", "identities", "conversations", "messages", "surveys")


def rows(store: Store) -> dict[str, list[tuple]]:  # raw SQL on purpose: an undo is checked row by row
    """Every row of the tables a merge touches, version (the change counter) left out."""
    out = {}
    for table in TABLES:
        columns = [c[1] for c in store.d.conn.execute(f"PRAGMA table_info({table})") if c[1] != "version"]
        out[table] = [tuple(r) for r in store.d.tuples(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")]
    return out


def desk(folder: Path, mails: list[tuple[str, str, int]], chats: list[dict]) -> tuple:
    """A Maildir + JSONL desk synced through the real path; mails: (from, subject, hours ago)."""
    maildir = make_maildir(folder / "mail")
    for i, (sender, subject, hours) in enumerate(mails):
        when = NOW - dt.timedelta(hours=hours)
        path = deliver(maildir, make_email(sender, subject, f"about {subject}", date=email.utils.format_datetime(when),
                                           message_id=f"<c{i}@customer.example>"), name=f"m{i}.host")
        os.utime(path, (when.timestamp(), when.timestamp()))  # delivered then
    lines = [json.dumps({"id": f"chat-{i}", "time": (NOW - dt.timedelta(hours=c.pop("hours", 1))).isoformat(), **c},
                        ensure_ascii=False) for i, c in enumerate(chats)]
    (folder / "chat.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    config = write_config(folder, folder / "desk.db")
    store = Store.open(folder / "desk.db")
    run(config, store)
    return config, store


def chat(sender: str, name: str, text: str, room: str, **extra) -> dict:
    return {"conversation": room, "sender_id": sender, "sender_name": name, "text": text, **extra}


def test_a_chat_profiles_email_links_mail_and_chat_names_alone_never(tmp_path):
    _, store = desk(tmp_path, [("Mei Lin <mei.lin@example.net>", "Tent poles", 30),
                               ("Ben Carter <ben.carter@example.com>", "Discount code", 20)],
                    [chat("widget:7c21", "Mei Lin", "is the tent in stock?", "room-1", email="Mei.Lin@example.net"),
                     chat("widget:b0b0", "Ben Carter", "hi, me again", "room-2")])  # same name, no evidence
    mei = store.find_customer("mei.lin@example.net")
    assert store.find_customer("widget:7c21") == mei, "the profile's email is exact evidence"
    profile = store.customer_profile(mei)
    assert {c["channel"] for c in profile["conversations"]} == {"mail", "chat"}
    assert [(i["kind"], i["address"]) for i in profile["identities"]] == [("email", "mei.lin@example.net"),
                                                                          ("chat", "widget:7c21")]
    assert store.find_customer("widget:b0b0") != store.find_customer("ben.carter@example.com"), "a name never links"
    kinds = [e["kind"] for e in store.history(desk_wide=True)]
    assert "identity_linked" in kinds
    # the same name on another channel within days is suggested, not linked
    ben = store.find_customer("ben.carter@example.com")
    matches = customers.likely_matches(store, ben)
    assert [(m.customer_id, m.reason) for m in matches] == [(store.find_customer("widget:b0b0"),
                                                             "same name on chat within 3 days")]


def test_evidence_arriving_later_merges_two_records_and_the_merge_can_be_undone(tmp_path):
    config, store = desk(tmp_path, [("Emily Tran <emily.tran@example.net>", "Return label", 40)],
                         [chat("widget:e1", "Emily", "hello", "room-1", hours=39)])
    emily_mail, emily_chat = store.find_customer("emily.tran@example.net"), store.find_customer("widget:e1")
    assert emily_mail != emily_chat
    with open(tmp_path / "chat.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "chat-9", "time": NOW.isoformat(), **chat(
            "widget:e1", "Emily", "it's me from the mail", "room-1", email="emily.tran@example.net")}) + "\n")
    run(config, store)
    assert store.find_customer("widget:e1") == emily_mail
    merge = store.latest_customer_merge(emily_mail)
    assert "gives the email address emily.tran@example.net" in store.customer_profile(emily_mail)["merges"][0]["reason"]
    store.unmerge_customers(merge, "ana")
    assert store.find_customer("widget:e1") == emily_chat


def test_customer_merge_then_unmerge_restores_every_row(tmp_path):
    _, store = desk(tmp_path, [("Grace Whitfield <grace.whitfield@example.org>", "Thanks!", 50),
                               ("Grace Whitfield <grace.whitfield@example.org>", "Boots", 10),
                               ("Zoe Adams <zoe.adams@example.net>", "Refund", 5)],
                    [chat("@grace:chat", "Grace W", "one more thing", "room-g", hours=2)])
    grace, grace_chat = store.find_customer("grace.whitfield@example.org"), store.find_customer("@grace:chat")
    store.set_customer_timezone(grace_chat, "Europe/Oslo", "ana")
    store.d.conn.execute(  # raw SQL on purpose: no command writes a customer's tags and notes yet
        "UPDATE customers SET tags = '[\"vip\"]', notes = 'prefers chat' WHERE id = ?", (grace_chat,))
    before = rows(store)
    versions = {c["id"]: c["version"] for c in store_api.conversations(store)}
    preview = store.merge_preview(grace, grace_chat)
    assert preview == {"identities": 1, "conversations": 1, "messages": 1, "surveys": 0}
    merge = store.merge_customers(grace, grace_chat, "ana", "one person")
    merged = store.customer_profile(grace)
    assert merged["tags"] == ["vip"] and merged["notes"] == "prefers chat" and merged["timezone"] == "Europe/Oslo"
    assert len(merged["conversations"]) == 3 and rows(store) != before
    with pytest.raises(UsageError, match="merged into customer"):
        store.merge_customers(grace_chat, grace, "ana")
    store.unmerge_customers(merge, "ana")
    after = rows(store)
    for table in TABLES:
        assert after[table] == before[table], table
    chat_side = [c for c in store_api.conversations(store) if c["customer_id"] == grace_chat]
    assert chat_side and all(c["version"] > versions[c["id"]] for c in chat_side)
    kinds = [e["kind"] for e in store.history(desk_wide=True)]
    assert kinds[-2:] == ["customer_merged", "customer_unmerged"]
    with pytest.raises(UsageError, match="already undone"):
        store.unmerge_customers(merge, "ana")


def test_conversation_merge_across_customers_needs_confirming_and_unmerges_exactly(tmp_path):
    _, store = desk(tmp_path, [("Grace Whitfield <grace.whitfield@example.org>", "Boots", 10),
                               ("Zoe Adams <zoe.adams@example.net>", "Refund", 5)], [])
    grace_c = store.conversations()[1]["id"]
    zoe_c = store.conversations()[0]["id"]
    assert store.conversation(zoe_c)["subject"] == "Refund"
    before = rows(store)
    with pytest.raises(UsageError, match=r"each reply would go to whoever wrote the message it answers"):
        store.merge(zoe_c, grace_c, "ana")
    assert rows(store) == before, "a refused merge changes nothing"
    store.merge(zoe_c, grace_c, "ana", across_customers=True)
    assert store.recipient(grace_c) == ("Zoe Adams", "zoe.adams@example.net"), \
        "Zoe wrote last: a reply answers her, never Grace"
    assert store.answered(grace_c)["thread_subject"] == "Refund", "on her own thread"
    assert [e["kind"] for e in store.events(zoe_c)][-1] == "merged"
    store.unmerge(zoe_c, "ana")
    assert rows(store) == before
    assert [e["kind"] for e in store.events(grace_c)][-2:] == ["merged", "unmerged"]
    with pytest.raises(UsageError, match="no merge to undo"):
        store.unmerge(zoe_c, "ana")


def test_unmerge_keeps_what_arrived_after_the_merge(tmp_path):
    config, store = desk(tmp_path, [("Ana Lima <ana@example.br>", "Invoice", 10),
                                    ("Ana Lima <ana@example.br>", "Invoice copy", 5)], [])
    first, second = store.conversations()[1]["id"], store.conversations()[0]["id"]
    store.merge(second, first, "ana")
    maildir = tmp_path / "mail"
    deliver(maildir, make_email("Ana Lima <ana@example.br>", "Re: Invoice", "and one more",
                                date=email.utils.format_datetime(NOW), message_id="<late@customer.example>",
                                in_reply_to="<c0@customer.example>"), name="late.host")
    run(config, store)
    assert store.conversation(first)["message_count"] == 3
    store.unmerge(first, "ana")  # named by the conversation merged into
    assert [m["text"] for m in store.messages(second)] == ["about Invoice copy"]
    assert [m["text"] for m in store.messages(first)] == ["about Invoice", "and one more"]
    assert store.conversation(first)["message_count"] == 2
    assert store.conversation(second)["merged_into"] is None


def test_unlinking_an_identity_that_brought_messages_is_refused(tmp_path):
    _, store = desk(tmp_path, [("Sam Kowalski <sam@kowalski.example>", "Wholesale", 3)], [])
    sam = store.find_customer("sam@kowalski.example")
    assert customers.organization(store.customer_profile(sam)["identities"]) == "kowalski.example"
    store.add_identity(sam, "email", "Sam@Work.Example", "ana")
    assert store.find_customer("sam@work.example") == sam
    with pytest.raises(UsageError, match="belongs to customer"):
        store.add_identity(store.customer_for("email", "other@x.example", "Other"), "email", "sam@work.example", "ana")
    store.remove_identity(sam, "email", "sam@work.example", "ana")
    with pytest.raises(UsageError, match="came from sam@kowalski.example"):
        store.remove_identity(sam, "email", "sam@kowalski.example", "ana")
    assert customers.organization([{"kind": "email", "address": "a@gmail.com"}]) == ""


def test_reports_count_one_customer_once_after_linking(tmp_path):
    from tui_desk.reports import make_period, summary
    config, store = desk(tmp_path, [("Grace Whitfield <grace.whitfield@example.org>", "Boots", 10),
                                    ("Zoe Adams <zoe.adams@example.net>", "Refund", 5)],
                         [chat("@grace:chat", "Grace W", "one more thing", "room-g", hours=2)])
    period = make_period("2026-05-01", "2026-05-06", "Europe/Berlin", now=NOW)
    assert summary(store, config, period)["customers"] == 3, "before linking: two strangers and Zoe"
    merge = store.merge_customers(store.find_customer("grace.whitfield@example.org"),
                                  store.find_customer("@grace:chat"), "ana")
    assert summary(store, config, period)["customers"] == 2, "Grace once, on mail and chat"
    store.unmerge_customers(merge, "ana")
    assert summary(store, config, period)["customers"] == 3


def test_the_demo_links_the_three_people_who_write_by_mail_and_chat(tmp_path):
    from tui_desk import demo
    _, result = demo.build(tmp_path / "demo.db")
    with Store.open(tmp_path / "demo.db") as store:
        for address in ("mei.lin@example.net", "ben.carter@example.com", "emily.tran@example.net"):
            profile = store.customer_profile(store.find_customer(address))
            assert {c["channel"] for c in profile["conversations"]} == {"mail", "chat"}, address
            assert {i["kind"] for i in profile["identities"]} == {"email", "chat"}
        kinds = [{i["kind"] for i in store.customer_profile(c["id"])["identities"]}
                 for c in store.customers_list(limit=10_000)]
        linked = sum(1 for k in kinds if {"chat", "email"} <= k)
        assert linked == 3, "no one else is linked (a name alone never links)"


def test_customers_on_different_channels_are_never_merged_into_one_conversation(tmp_path):
    _, store = desk(tmp_path, [("Grace Whitfield <grace.whitfield@example.org>", "Boots", 10)],
                    [chat("widget:z0e", "Zoe Adams", "where is my refund?", "room-9")])
    mail_c, chat_c = (next(c["id"] for c in store.conversations() if c["channel"] == name) for name in ("mail", "chat"))
    before = rows(store)
    for source, target in ((chat_c, mail_c), (mail_c, chat_c)):
        with pytest.raises(UsageError, match="on different channels .* a reply could not reach each of them"):
            store.merge(source, target, "ana", across_customers=True)  # not even when confirmed
    assert rows(store) == before


def test_the_message_a_reply_answers_is_fixed_when_it_is_written(tmp_path):
    from tui_desk.outbox import queue_reply
    config, store = desk(tmp_path, [("Grace Whitfield <grace.whitfield@example.org>", "Boots", 10),
                                    ("Zoe Adams <zoe.adams@example.net>", "Refund", 5)], [])
    zoe_c, grace_c = (c["id"] for c in store.conversations())
    store.merge(zoe_c, grace_c, "ana", across_customers=True)
    queued = queue_reply(store, grace_c, "Your refund left today.", agent="ana", undo_seconds=10)
    deliver(tmp_path / "mail", make_email("Grace Whitfield <grace.whitfield@example.org>", "Re: Boots", "news?",
                                          in_reply_to="<c0@customer.example>"), name="m9.host")
    run(config, store)  # Grace writes during the undo window
    assert store.recipient(grace_c)[1] == "grace.whitfield@example.org", "the next reply answers Grace"
    job = store.outbound(queued.outbox_id)
    assert (job["to_address"], job["in_reply_to"]) == ("zoe.adams@example.net", "<c1@customer.example>")
