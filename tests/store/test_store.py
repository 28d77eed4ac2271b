"""The store: migrations, concurrent claims, status changes, FTS ranking, Unicode."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3

import pytest
import sqlite_utils

from tui_desk.errors import UsageError
from tui_desk.model import ParsedMessage
from tui_desk.store import AlreadyClaimed, ListFilter, Store
from tui_desk.store.sqlite.migrations import migrations

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)


def add(store: Store, text: str, *, subject: str = "Hello", sender: str = "mike@customer.example",
        conversation_id: int | None = None, at: dt.datetime = NOW, ext: str | None = None) -> tuple[int, int]:
    msg = ParsedMessage(external_id=ext or f"<{text[:20]}-{at.timestamp()}-{subject}@x>", kind="email",
                        sender_address=sender, sender_name="Mike", received_at=at, created_at=at,
                        text=text, subject=subject, raw=text.encode())
    with store.transaction():
        customer = store.customer_for("email", sender, "Mike")
        return store.add_inbound("mail", msg, customer, conversation_id, subject.lower())


def schema_of(path) -> dict[str, str]:
    conn = sqlite3.connect(path)  # schema test: raw SQL on purpose
    rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    conn.close()
    return dict(rows)


def test_migrations_create_every_table_on_an_empty_file(db_path):
    Store.open(db_path).close()
    tables = schema_of(db_path)
    for name in ("customers", "identities", "conversations", "messages", "message_raw", "attachments",
                 "events", "agents", "sync_state", "source_items", "outbox", "presence", "messages_fts"):
        assert name in tables
    conn = sqlite3.connect(db_path)  # schema test: raw SQL on purpose
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrating_from_each_earlier_version_gives_the_same_schema_and_keeps_data(tmp_path):
    fresh = tmp_path / "fresh.db"
    Store.open(fresh).close()
    expected = schema_of(fresh)
    names = [m.name for m in migrations._migrations]
    for index, name in enumerate(names):
        old = tmp_path / f"old-{index}.db"
        db = sqlite_utils.Database(old)
        db.conn.create_function("desk_segment", 1, lambda t: t or "")
        migrations.apply(db, stop_before=name)
        if index > 0:  # a conversation written under the previous version (m001's columns)
            db.execute("INSERT INTO conversations (channel, subject, created_at, last_message_at)"
                       " VALUES ('mail', 'from before', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
            db.conn.commit()
        db.conn.close()
        store = Store.open(old)
        assert store.migrate() == [], "everything applied on open"
        if index > 0:
            assert store.conversation(1)["subject"] == "from before"
        conversation, _ = add(store, "after upgrade")
        assert store.conversation(conversation)["subject"] == "Hello"
        store.close()
        assert schema_of(old) == expected


def test_data_survives_reopening(db_path):
    with Store.open(db_path) as store:
        conversation, _ = add(store, "first")
    with Store.open(db_path) as store:
        assert [m["text"] for m in store.messages(conversation)] == ["first"]


def test_a_snapshot_reads_one_state_while_another_connection_writes(db_path):
    from tui_desk import outbox

    with Store.open(db_path) as reader, Store.open(db_path) as writer:
        conversation, _ = add(reader, "first")
        with reader.snapshot():
            version = reader.conversation(conversation)["version"]
            outbox.queue_reply(writer, conversation, "a note", agent="ana", note=True)  # not blocked
            assert writer.conversation(conversation)["version"] == version + 1
            assert reader.conversation(conversation)["version"] == version
            assert [m["text"] for m in reader.messages(conversation)] == ["first"]
        assert [m["text"] for m in reader.messages(conversation)] == ["first", "a note"]


def _claim(db_path, agent, barrier, results):
    store = Store.open(db_path)
    barrier.wait()
    try:
        store.claim(1, agent)
        results.put((agent, "won"))
    except AlreadyClaimed as exc:
        results.put((agent, f"lost to {exc.holder}"))
    finally:
        store.close()


def test_concurrent_claims_from_separate_processes_have_one_winner(db_path):
    with Store.open(db_path) as store:
        add(store, "help")
    ctx = multiprocessing.get_context("spawn")
    agents = [f"agent{i}" for i in range(6)]
    barrier, results = ctx.Barrier(len(agents)), ctx.Queue()
    procs = [ctx.Process(target=_claim, args=(db_path, a, barrier, results)) for a in agents]
    for p in procs:
        p.start()
    outcomes = dict(results.get(timeout=60) for _ in agents)
    for p in procs:
        p.join(timeout=60)
    winners = [a for a, o in outcomes.items() if o == "won"]
    assert len(winners) == 1
    assert all(o == f"lost to {winners[0]}" for a, o in outcomes.items() if a != winners[0])
    with Store.open(db_path) as store:
        assert store.conversation(1)["assignee"] == winners[0]
        assert [e["actor"] for e in store.events(1) if e["kind"] == "assignee"] == winners


def test_claim_tells_who_has_it(store):
    add(store, "help")
    store.claim(1, "ana")
    store.claim(1, "ana")  # claiming your own is fine
    with pytest.raises(AlreadyClaimed, match="already assigned to ana"):
        store.claim(1, "bo")


@pytest.mark.parametrize("status", ["pending", "snoozed", "solved"])
def test_a_customer_message_reopens_a_waiting_conversation(store, status):
    conversation, _ = add(store, "first")
    store.set_status(conversation, status, "ana", snoozed_until=NOW + dt.timedelta(days=1))
    before = store.conversation(conversation)["version"]
    add(store, "are you there?", conversation_id=conversation, at=NOW + dt.timedelta(hours=1))
    after = store.conversation(conversation)
    assert after["status"] == "open" and after["version"] > before
    assert store.events(conversation)[-1]["data"] == {"from": status, "to": "open", "why": "customer wrote"}


def test_an_automatic_message_does_not_reopen(store):
    conversation, _ = add(store, "first")
    store.set_status(conversation, "pending", "ana")
    msg = ParsedMessage(external_id="<ooo@x>", kind="email", sender_address="mike@customer.example",
                        sender_name="Mike", received_at=NOW, created_at=NOW, text="I am away",
                        automatic="auto-submitted: auto-replied")
    with store.transaction():
        store.add_inbound("mail", msg, None, conversation, "")
    assert store.conversation(conversation)["status"] == "pending"


def test_snoozed_conversations_wake_up(store):
    conversation, _ = add(store, "first")
    store.set_status(conversation, "snoozed", "ana", snoozed_until=NOW + dt.timedelta(hours=1))
    assert store.wake_snoozed(NOW) == 0
    assert store.wake_snoozed(NOW + dt.timedelta(hours=2)) == 1
    assert store.conversation(conversation)["status"] == "open"


def test_merge_across_customers_is_refused_until_they_are_linked(store):
    mike, _ = add(store, "my parcel", subject="Parcel")
    ana, _ = add(store, "my invoice", subject="Invoice", sender="ana@example.br")
    versions = [store.conversation(c)["version"] for c in (mike, ana)]
    refused = (rf"cannot merge #{ana} into #{mike}: they belong to different customers"
               r" \(Mike <ana@example.br>; Mike <mike@customer.example>\); each reply would go to whoever wrote the"
               r" message it answers. If they are one person, link the customers first; else confirm the merge across customers")
    with pytest.raises(UsageError, match=refused):
        store.merge(ana, mike, "bo")
    assert store.merge_refusal(ana, mike) and store.merge_refusal(mike, mike)
    assert [store.conversation(c)["version"] for c in (mike, ana)] == versions, "nothing changed"
    assert [m["text"] for m in store.messages(ana)] == ["my invoice"]
    assert [e["kind"] for e in store.events(ana)] == ["created"]
    store.link_customers(store.find_customer("mike@customer.example"), store.find_customer("ana@example.br"), "bo")
    assert store.merge_refusal(ana, mike) is None
    store.merge(ana, mike, "bo")
    assert store.conversation(ana)["merged_into"] == mike


def test_status_tags_priority_and_merge_write_events(store):
    a, _ = add(store, "one", subject="Refund")
    b, _ = add(store, "two", subject="Refund again", at=NOW + dt.timedelta(minutes=5))
    store.set_tags(a, ["billing", "vip"], [], "ana")
    assert store.set_tags(a, [], ["vip"], "ana") == ["billing"]
    store.set_priority(a, "high", "ana")
    store.merge(b, a, "ana")
    assert [m["text"] for m in store.messages(a)] == ["one", "two"]
    assert store.conversation(b)["merged_into"] == a
    assert [r["id"] for r in store.conversations()] == [a], "merged conversations leave the list"
    assert [e["kind"] for e in store.events(a)] == ["created", "tags", "tags", "priority", "merged"]


def test_linking_customers_joins_one_person_across_channels(store):
    mail, _ = add(store, "Where is my order?", sender="mike@customer.example")
    chat_msg = ParsedMessage(external_id="$c1", kind="chat", sender_address="@mike:chat", sender_name="",
                             received_at=NOW, created_at=NOW, text="any news?", subject="any news?", raw=b"x")
    with store.transaction():
        chat_customer = store.customer_for("chat", "@mike:chat", "")
        chat, _ = store.add_inbound("chat", chat_msg, chat_customer, None, "any news?")
    store.set_customer_timezone(chat_customer, "Europe/Oslo", "ana")
    store.d.conn.execute(  # raw SQL on purpose: no command writes a customer's tags yet
        "UPDATE customers SET tags = '[\"vip\"]' WHERE id = ?", (chat_customer,))
    keep = store.find_customer("MIKE@customer.example")  # any case
    assert keep == store.conversation(mail)["customer_id"] and store.find_customer(f"#{chat}") == chat_customer
    version = store.conversation(chat)["version"]

    store.link_customers(keep, chat_customer, "ana")
    customer = store.customer(keep)
    assert [(i["kind"], i["address"]) for i in customer["identities"]] == [("email", "mike@customer.example"),
                                                                         ("chat", "@mike:chat")]
    assert customer["name"] == "Mike" and customer["timezone"] == "Europe/Oslo" and customer["tags"] == ["vip"]
    assert {c["id"] for c in store.customer_conversations(keep)} == {mail, chat}
    assert store.conversation(chat)["version"] == version + 1
    assert store.customer(chat_customer)["merged_into"] == keep and store.find_customer("@mike:chat") == keep
    assert store.find_customer(str(chat_customer)) == keep, "a merged record leads to the kept one"
    assert store.d.scalar(  # schema test: raw SQL on purpose (the messages' own customer column)
        "SELECT count(*) FROM messages WHERE customer_id = ?", (chat_customer,)) == 0
    assert [e["kind"] for e in store.events(chat)][-1] == "customer_linked"
    with store.transaction():  # the next message from the chat handle finds the joined customer
        assert store.customer_for("chat", "@mike:chat", "Mike J") == keep
    with pytest.raises(UsageError):
        store.link_customers(keep, keep, "ana")


def test_keyset_paging_visits_every_conversation_once(store):
    for i in range(23):
        add(store, f"message {i}", subject=f"s{i}", sender=f"c{i % 4}@x.example", at=NOW + dt.timedelta(minutes=i % 7))
    seen, after = [], None
    while True:
        page = store.conversations(ListFilter(), limit=5, after=after)
        if not page:
            break
        seen += [r["id"] for r in page]
        from tui_desk.store import Cursor
        after = Cursor(page[-1]["last_message_at"], page[-1]["id"])
    assert sorted(seen) == list(range(1, 24)) and len(seen) == len(set(seen))
    keys = [(store.conversation(i)["last_message_at"], i) for i in seen]
    assert keys == sorted(keys, reverse=True)


def test_search_ranks_subject_and_frequency(store):
    add(store, "my parcel never came", subject="Refund please")
    add(store, "I would like a refund, the refund was promised", subject="Order")
    add(store, "refund mentioned once in a long message about many other things", subject="Question")
    add(store, "nothing relevant", subject="Hello")
    hits = store.search("refund")
    assert [h["subject"] for h in hits] == ["Refund please", "Order", "Question"]
    assert "refund" in hits[1]["snippet"].lower()
    assert store.search("refund parcel")[0]["subject"] == "Refund please", "every word must occur"
    assert store.search('"unbalanced AND (') == [], "user input is never FTS syntax"
    # the console's search: conversations in the same order, each once, merges followed
    ranked = [h["conversation_id"] for h in hits]
    assert list(store.search_conversations("refund")) == ranked
    store.merge(ranked[2], ranked[0], "ana")
    assert list(store.search_conversations("refund")) == ranked[:2]


def test_search_over_a_huge_match_ranks_the_newest_candidates_by_relevance(store, monkeypatch):
    from tui_desk.store import queries

    monkeypatch.setattr(queries, "RANKED_CANDIDATES", 3)
    add(store, "refund refund refund", subject="Refund oldest and best")  # falls outside the newest 3
    add(store, "refund once", subject="Plain")
    add(store, "refund asked, refund promised", subject="Twice")
    add(store, "refund", subject="Refund in subject")
    add(store, "a refund among many many other words in a long message", subject="Long")
    hits = [h["subject"] for h in store.search("refund")]
    assert hits == ["Refund in subject", "Twice", "Long"], "newest three, best first"
    assert [h["subject"] for h in store.search("refund", limit=2)] == hits[:2]
    assert [h["subject"] for h in store.search("oldest")] == ["Refund oldest and best"]


def test_cjk_and_thai_round_trip_and_are_searchable(store):
    texts = {
        "zh": "您好，我想申请退款，订单号是 12345。",
        "ja": "注文した商品がまだ届いていません。返品できますか？",
        "th": "สวัสดีครับ ผมต้องการคืนเงินสำหรับคำสั่งซื้อนี้",
    }
    ids = {lang: add(store, text, subject=f"{lang} 主题")[0] for lang, text in texts.items()}
    for lang, text in texts.items():
        assert store.messages(ids[lang])[0]["text"] == text
    assert [h["conversation_id"] for h in store.search("退款")] == [ids["zh"]]
    assert [h["conversation_id"] for h in store.search("返品")] == [ids["ja"]]
    assert [h["conversation_id"] for h in store.search("คืนเงิน")] == [ids["th"]]
