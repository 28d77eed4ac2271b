"""Foundation figures: ingest through the sync path, database size, list and search latency.

A 100,000-message Maildir (bench/corpus.py, cached in bench/out) is synced into a fresh
database with the real `tui_desk.sync.run`; then the first page of `conversations list`
and `search` are timed (median of 20 each) on the result, for the kinds of query
agents type (SEARCHES). In the same run `notmuch new` and `mu index` index the same
Maildir from nothing (bench/others.py), and the import's speed is given as a ratio to
each (issue 21: at least 5× notmuch's, 3× mu's); a tool not installed is skipped.
"""

from __future__ import annotations

import resource
import statistics
import time
from pathlib import Path

from bench import corpus, others
from bench.figure import Figure
from tui_desk import config as config_mod, sync
from tui_desk.store import ListFilter, Store

OUT = Path(__file__).resolve().parent / "out"
SIZES = {"small": 5_000, "full": 100_000}
# what agents type: a rare word (a few hundred hits at 100k), a word in nearly every
# message, two words, the start of a word, and Chinese (indexed per character)
SEARCHES = {
    "rare word": corpus.VOCABULARY[20000],
    "common word": "order",
    "two words": "refund parcel",
    "prefix": "deliv",
    "Chinese": "订单",
}


def run(size: str) -> list[Figure]:
    count = SIZES[size]
    maildir = corpus.build(OUT / f"maildir-{count}", count)
    db_path = OUT / f"ingest-{count}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    conf = config_mod.from_dict({"channels": [{"name": "mail", "kind": "maildir", "path": str(maildir)}]},
                                OUT / "bench.toml")
    with Store.open(db_path) as store:
        started = time.perf_counter()
        result = sync.run(conf, store)
        seconds = time.perf_counter() - started
        new = result.channels["mail"].new
        store.d.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rate = new / seconds
        started = time.perf_counter()
        again = sync.run(conf, store)
        nochange = time.perf_counter() - started
        list_ms = _median_ms(lambda: store.conversations(ListFilter(("new", "open")), limit=50))
        all_ms = _median_ms(lambda: store.conversations(ListFilter(), limit=50))
        search_ms = {kind: _median_ms(lambda q=query: store.search(q, limit=20)) for kind, query in SEARCHES.items()}
        hits = {kind: len(store.search(query, limit=20)) for kind, query in SEARCHES.items()}
    size_mb = db_path.stat().st_size / 1e6
    peak_mb = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024
    return [
        # issue 21 replaced the foundation's 5,000 msg/s (not reachable on 2 cores) with 2,000
        Figure("store", f"ingest {count:,} messages from a Maildir", f"{rate:,.0f} msg/s ({seconds:.1f} s)",
               "≥ 2,000 msg/s", rate >= 2000),
    ] + _references(maildir, count, seconds) + [
        Figure("store", "peak RSS of the import (the writer, or a parse worker)", f"{peak_mb:,.0f} MB",
               "≤ 500 MB", peak_mb <= 500),
        Figure("store", "messages stored", f"{new:,} ({again.channels['mail'].new} on re-sync)", f"{count:,}", new == count),
        Figure("store", "no-change sync", f"{nochange * 1000:.0f} ms"),
        Figure("store", "database size", f"{size_mb:,.0f} MB"),
        Figure("store", "conversations list, first page (open)", f"{list_ms:.1f} ms", "≤ 50 ms", list_ms <= 50),
        Figure("store", "conversations list, first page (all)", f"{all_ms:.1f} ms", "≤ 50 ms", all_ms <= 50),
    ] + [
        Figure("store", f"search, {kind} ({SEARCHES[kind]!r}, {hits[kind]} shown)", f"{ms:.1f} ms", "≤ 50 ms", ms <= 50)
        for kind, ms in search_ms.items()
    ]


def _median_ms(call) -> float:
    times = []
    for _ in range(20):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


TARGETS = {"notmuch": ("notmuch new", 5.0), "mu": ("mu index", 3.0)}


def _references(maildir: Path, count: int, ours: float) -> list[Figure]:
    """notmuch new and mu index of the same Maildir, and how many times faster ours was."""
    figures = []
    for tool, (command, target) in TARGETS.items():
        why = others.missing(tool)
        if why:
            figures.append(Figure("store", f"{command} reference", f"skipped: {why}"))
            continue
        theirs = others.index(tool, maildir, OUT / f"{tool}-{count}")
        ratio = theirs / ours
        figures.append(Figure("store", f"{command} of the same Maildir",
                              f"{count / theirs:,.0f} msg/s ({theirs:.1f} s)"))
        figures.append(Figure("store", f"import speed / {command}'s", f"{ratio:.1f}×", f"≥ {target:.0f}×",
                              ratio >= target))
    return figures
