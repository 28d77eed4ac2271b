"""Reports over a year of a busy desk: 1,000,000 messages in 200,000 conversations.

The database is built here with plain executemany (bench-only SQL, for speed of setup:
the report code itself reads only through the store) and kept in bench/out, so a
second run times the reports without rebuilding. Each report is timed through the
same service call the CLI makes, over the whole year (the worst case), target ≤ 1 s.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from pathlib import Path

from bench.figure import Figure

OUT = Path(__file__).resolve().parent / "out"
SIZES = {"full": 200_000, "small": 20_000}
LOADER_VERSION = 4  # bump when the generated data changes, so cached databases are rebuilt
END = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)
DAYS = 364
AGENTS = ["ana", "bo", "chen", "dana", "eli"]
CHANNELS = ["mail", "chat", "billing-mail"]
TAGS = ['[]', '[]', '["billing"]', '["bug"]', '["billing", "vip"]']
PRIORITIES = ["normal"] * 6 + ["low", "high", "high", "urgent"]
# five messages per conversation: (direction, automatic) in order
PATTERNS = [
    [("in", None), ("out", "ack"), ("out", None), ("in", None), ("out", None)],
    [("in", None), ("note", None), ("out", None), ("in", None), ("out", None)],
    [("in", None), ("out", None), ("in", None), ("out", None), ("in", None)],
    [("in", None), ("out", None), ("note", None), ("out", None), ("out", "survey")],
    [("in", None), ("out", "ack"), ("note", None), ("out", None), ("in", "auto-reply")],  # one-touch
    [("in", None), ("out", "ack"), ("in", None), ("note", None), ("in", None)],  # unanswered
]


def stamp(t: float) -> str:
    instant = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def build(path: Path, conversations: int, seed: int = 8) -> None:
    """Fill a fresh, migrated database at `path` with `conversations` × 5 messages."""
    from tui_desk.store import Store

    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    store = Store.open(path)
    conn = store.d.conn
    # bench setup only: no journal while loading (WAL again afterwards, as the desk runs)
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=OFF")
    start = END.timestamp() - DAYS * 86400
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO customers (id, name, created_at) VALUES (?, ?, ?)",
                     [(i, f"Customer {i}", stamp(start)) for i in range(1, 20_001)])
    conn.executemany("INSERT INTO identities (customer_id, kind, address) VALUES (?, 'email', ?)",
                     [(i, f"c{i}@example.com") for i in range(1, 20_001)])
    convs, msgs, events = [], [], []
    message_id = 0
    for cid in range(1, conversations + 1):
        # more traffic on weekdays and in the daytime, some at night
        day = rng.randrange(DAYS)
        hour = rng.choice([rng.randrange(24), rng.gauss(13, 3.5)])
        t0 = start + day * 86400 + min(max(hour, 0), 23.99) * 3600 + rng.randrange(3600)
        pattern = rng.choice(PATTERNS)
        channel = rng.choice(CHANNELS)
        agent = rng.choice(AGENTS)
        t, last_in, first_reply = t0, t0, None
        template = f"t{rng.randrange(30)}" if rng.random() < 0.25 else None
        for direction, automatic in pattern:
            message_id += 1
            author = agent if direction != "in" else f"Customer {cid % 20_000 + 1}"
            used = template if direction == "out" and automatic is None and first_reply is None else None
            msgs.append((message_id, cid, channel, direction, author, f"m{message_id}", stamp(t), stamp(t),
                         automatic, used))
            if direction == "in" and automatic is None:
                last_in = t
            if direction == "out" and automatic is None and first_reply is None:
                first_reply = t
            t += rng.expovariate(1 / 14_400)
        answered = first_reply is not None
        solved = answered and rng.random() < 0.85
        status = "solved" if solved else rng.choice(["new", "open", "pending", "snoozed"] if answered else ["new", "open"])
        solved_at = stamp(t + 600) if solved and t + 600 < END.timestamp() else None
        if solved and solved_at is None:
            status = "open"
        convs.append((cid, channel, cid % 20_000 + 1, f"Subject {cid}", status, rng.choice(PRIORITIES),
                      agent if answered or rng.random() < 0.5 else None, rng.choice(TAGS), stamp(t0), solved_at,
                      stamp(t), stamp(last_in), stamp(first_reply) if first_reply else None))
        events.append((cid, "created", "sync", stamp(t0), "{}"))
        if solved_at:
            if rng.random() < 0.06:
                events.append((cid, "status", agent, stamp(t0 + 300), '{"from": "open", "to": "solved"}'))
                events.append((cid, "status", "customer", stamp(t0 + 400), '{"from": "solved", "to": "open"}'))
            events.append((cid, "status", agent, solved_at, '{"from": "open", "to": "solved"}'))
            if rng.random() < 0.3:
                events.append((cid, "survey_sent", "rules", solved_at, "{}"))
                if rng.random() < 0.5:
                    events.append((cid, "satisfaction", "customer", solved_at,
                                   json.dumps({"score": rng.choice([3, 4, 5, 5, 2])})))
        if answered and template:
            events.append((cid, "template_used", agent, stamp(first_reply), json.dumps({"template": template})))
        if len(msgs) >= 50_000:
            _flush(conn, convs, msgs, events)
    _flush(conn, convs, msgs, events)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    store.close()


def _flush(conn, convs: list, msgs: list, events: list) -> None:
    conn.executemany(
        "INSERT INTO conversations (id, channel, customer_id, subject, status, priority, assignee, tags,"
        " created_at, solved_at, last_message_at, last_inbound_at, first_response_at, message_count)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,5)", convs)
    conn.executemany(
        "INSERT INTO messages (id, conversation_id, channel, direction, author, external_id, created_at,"
        " received_at, automatic, template_id) VALUES (?,?,?,?,?,?,?,?,?,?)", msgs)
    conn.executemany("INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?,?,?,?,?)", events)
    convs.clear(), msgs.clear(), events.clear()


def database(size: str) -> Path:
    """The cached bench database for `size`, built when missing or outdated."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"reports-{size}-v{LOADER_VERSION}.db"
    if not path.exists():
        started = time.monotonic()
        partial = path.with_suffix(".part")
        build(partial, SIZES[size])
        partial.rename(path)
        print(f"  built {path.name} in {time.monotonic() - started:.0f} s", flush=True)
    return path


def run(size: str) -> list[Figure]:
    from tui_desk import config as config_mod
    from tui_desk.reports import REPORTS, Filters, Period, facts
    from tui_desk.store import Store

    path = database(size)
    config = config_mod.from_dict({"desk": {"timezone": "Europe/Berlin",
                                            "holidays": ["2026-01-01", "2026-05-01", "2026-12-25"]}})
    periods = {"1 year": Period.between(END - dt.timedelta(days=DAYS), END, "Europe/Berlin"),
               "4 weeks": Period.between(END - dt.timedelta(days=28), END, "Europe/Berlin")}
    figures = []
    with Store.open(path) as store:
        # what reports read is worked out once per conversation: all of them after an
        # upgrade or a change of business hours, then only those that changed
        store.reset_report_facts("", 0)
        started = time.perf_counter()
        facts.refresh(store, config)
        figures.append(Figure("reports", f"report facts, all {SIZES[size]:,} conversations (once)",
                              f"{time.perf_counter() - started:.1f} s"))
        with store.d.tx():
            store.d.conn.execute("UPDATE conversations SET priority = priority WHERE id % 200 = 0")
        started = time.perf_counter()
        changed = facts.refresh(store, config)
        figures.append(Figure("reports", f"report facts, {changed:,} changed conversations",
                              f"{(time.perf_counter() - started) * 1000:.0f} ms"))
        year = periods["1 year"]
        runs = [(label, period, Filters()) for label, period in periods.items()]
        runs.append(("1 year, --tag billing", year, Filters(tag="billing")))  # the costliest filter
        for label, period, filters in runs:
            for name, report in REPORTS.items():
                times = []
                for _ in range(3):
                    started = time.perf_counter()
                    report(store, config, period, filters)
                    times.append(time.perf_counter() - started)
                worst = max(times)
                figures.append(Figure("reports", f"report {name}, {label} of {SIZES[size] * 5:,} messages",
                                      f"{worst:.2f} s", "≤ 1 s", worst <= 1.0))
    return figures
