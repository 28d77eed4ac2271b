"""The store's inbox queries: keyset pages agree with offset pages, positions, counts,
read state, presence; and the core never imports textual."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.desk import AGENT, build_desk, conversation_id
from tui_desk.store import Store
from tui_desk.store.inbox import InboxQuery, sort_key
from tui_desk.tui.data import PageCache


def test_keyset_pages_match_one_long_page(tmp_path, db_path):
    build_desk(tmp_path, db_path)
    with Store.open(db_path) as store:
        for sort in ("activity", "waiting"):
            q = InboxQuery(agent=AGENT, sort=sort)
            whole = [r["id"] for r in store.inbox_page(q, limit=100)]
            paged, after = [], None
            while True:
                page = store.inbox_page(q, after=after, limit=3)
                if not page:
                    break
                paged += [r["id"] for r in page]
                after = sort_key(page[-1], sort)
            assert paged == whole and len(whole) == store.inbox_count(q) == 8
            assert [store.inbox_position(q, i) for i in whole] == list(range(8))


def test_search_view_keeps_the_search_order(tmp_path, db_path):
    build_desk(tmp_path, db_path)
    with Store.open(db_path) as store:
        by_activity = [r["id"] for r in store.inbox_page(InboxQuery(agent=AGENT, view="all"), limit=100)]
        ids = tuple(reversed(by_activity[:5])) + (by_activity[6],)  # an order activity would never give
        q = InboxQuery(agent=AGENT, view="search", arg="x", ids=ids, sort="relevance")
        assert [r["id"] for r in store.inbox_page(q, limit=100)] == list(ids)
        assert [r["id"] for r in store.inbox_page(q, offset=2, limit=3)] == list(ids[2:5])
        assert [store.inbox_position(q, i) for i in ids] == list(range(len(ids)))
        assert sort_key(store.inbox_page(q, limit=1)[0], "relevance") is None  # paged by offset
        by_time = store.inbox_page(q.with_(sort="activity"), limit=100)
        assert [r["id"] for r in by_time] == [i for i in by_activity if i in ids]


def test_counts_read_state_and_presence(tmp_path, db_path):
    build_desk(tmp_path, db_path)
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        store.claim(cid, AGENT)
        store.set_tags(cid, ["vip"], [], AGENT)
        counts = store.view_counts(AGENT)
        assert counts["mine"] == 1 and counts["unassigned"] == 7 and counts["tag:vip"] == 1
        q = InboxQuery(view="mine", agent=AGENT)
        assert store.inbox_page(q)[0]["unread"]
        store.mark_read(AGENT, cid)
        assert not store.inbox_page(q)[0]["unread"]
        store.set_presence("ana", cid, "writing")
        assert [p["agent"] for p in store.present(cid, exclude=AGENT)] == ["ana"]
        assert store.present(cid, exclude="ana") == []
        store.clear_presence("ana")
        assert store.present(cid, exclude=AGENT) == []
        assert store.inbox_count(InboxQuery(agent=AGENT, text="ORDER")) == 1


def test_page_cache_keeps_few_pages():
    cache = PageCache(page_size=10, keep=3)
    cache.reset(total=1000)
    for n in range(20):
        assert cache.put(cache.generation, {n: [{"id": n * 10 + i} for i in range(10)]})
    assert len(cache.pages) == 3 and cache.row(195)["id"] == 195 and cache.row(5) is None
    old = cache.generation
    cache.reset()
    assert not cache.put(old, {0: []})  # answers to an older view are dropped


def test_core_does_not_import_textual():
    code = ("import sys, tui_desk.store, tui_desk.sync, tui_desk.config, tui_desk.commands.conversations;"
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_not_delivered_view_lists_failed_and_uncertain_replies_only_while_there_are_some(tmp_path, db_path):
    from tui_desk import outbox
    build_desk(tmp_path, db_path)
    with Store.open(db_path) as store:
        assert "undelivered" not in store.view_counts(AGENT), "no such view while every reply is fine"
        cid = conversation_id(store, "Where is my order")
        first = outbox.queue_reply(store, cid, "Shipped.", agent=AGENT).outbox_id
        outbox.queue_reply(store, cid, "Queued, fine.", agent=AGENT)
        store.mark_failed(first, "refused", None)
        assert store.view_counts(AGENT)["undelivered"] == 1
        (row,) = store.inbox_page(InboxQuery(view="undelivered", agent=AGENT))
        assert row["id"] == cid and row["failed_reply"] and not row["uncertain_reply"]
        store.retry_reply(first, AGENT)
        assert "undelivered" not in store.view_counts(AGENT)
        assert store.inbox_page(InboxQuery(view="undelivered", agent=AGENT)) == []
