"""The console with a large queue, driven headless with Pilot: first paint, key repaint,
opening a conversation, and memory, over 100,000 conversations ("full") or 5,000 ("small").

The queue is built through store methods (customer_for, add_inbound) in one transaction,
without parsing, so building it takes seconds rather than a full sync.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from bench.figure import Figure
from tui_desk import config as config_mod
from tui_desk.parse.model import ParsedMessage
from tui_desk.store import Store

SIZES = {"small": 5_000, "full": 100_000}
NAMES = ["Mike Jones", "田中太郎", "สมชาย ใจดี", "Ana Lima", "Zoe 🙂", "Lars Berg", "Fatima Khan", "Li Wei"]
WORDS = "order parcel refund tracking delivery jacket tent boots invoice password coupon broken".split()


def build(db_path: Path, count: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with Store.open(db_path) as store:
        store.ensure_agent("bench")
        with store.d.tx():
            for i in range(count):
                address = f"customer{i % (count // 5 + 1)}@example.com"
                name = rng.choice(NAMES)
                customer = store.customer_for("email", address, name)
                at = start + dt.timedelta(seconds=i * 37)
                msg = ParsedMessage(
                    external_id=f"<bench-{i}@example.com>", kind="email", sender_address=address,
                    sender_name=name, received_at=at, created_at=at, message_id=f"<bench-{i}@example.com>",
                    subject=" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 7))).capitalize(),
                    text=" ".join(rng.choice(WORDS) for _ in range(40)), raw=b"")
                store.add_inbound("mail", msg, customer, None, f"bench-{i}")
            store.d.conn.execute("UPDATE conversations SET status = 'open', assignee = 'bench' WHERE id % 7 = 0")


async def drive(config, db_path: Path) -> dict[str, float]:
    from tui_desk.tui import make_app
    from tui_desk.tui.screens.conversation import ConversationScreen
    from tui_desk.tui.widgets.queue import QueueList

    async def until(condition, limit=30.0):
        started = time.perf_counter()
        while not condition():
            if time.perf_counter() - started > limit:
                raise TimeoutError("the console did not get there")
            await asyncio.sleep(0.002)

    out = {}
    started = time.perf_counter()
    app = make_app(config, db_path, poll_seconds=3600)
    async with app.run_test(size=(160, 48)) as pilot:
        def queue():
            return app.screen.query_one(QueueList)
        await until(lambda: app.screen.query(QueueList) and queue().cache.row(40) is not None)
        await pilot.pause()
        out["first_paint"] = time.perf_counter() - started
        presses = []
        for key in ["j"] * 30 + ["pagedown"] * 10 + ["k"] * 10:
            before = time.perf_counter()
            await pilot.press(key)
            await until(lambda: queue().current is not None)
            presses.append(time.perf_counter() - before)
        out["key_p95"] = statistics.quantiles(presses, n=20)[-1]
        opens = []
        for _ in range(5):
            cid = queue().current["id"]
            before = time.perf_counter()
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ConversationScreen) and app.screen.bundle is not None)
            await pilot.pause()
            opens.append(time.perf_counter() - before)
            assert app.screen.conversation_id == cid
            await pilot.press("escape", "j")
            await until(lambda: app.screen.query(QueueList) and queue().current is not None)
        out["open_median"] = statistics.median(opens)
        await app.workers.wait_for_complete()
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(size: str) -> list[Figure]:
    count = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "desk.db"
        started = time.perf_counter()
        build(db_path, count)
        built = time.perf_counter() - started
        config = config_mod.from_dict({"agent": {"name": "bench"}}, Path(tmp) / "config.toml")
        figures = asyncio.run(drive(config, db_path))
    n = f"{count:,}"
    return [
        Figure("tui", f"build {n} conversations (store methods)", f"{built:.1f} s"),
        Figure("tui", f"first paint, {n} conversations", f"{figures['first_paint'] * 1000:.0f} ms", "≤ 1000 ms",
               figures["first_paint"] <= 1.0),
        Figure("tui", "key press repaint (p95)", f"{figures['key_p95'] * 1000:.1f} ms", "≤ 50 ms",
               figures["key_p95"] <= 0.05),
        Figure("tui", "open a conversation (median)", f"{figures['open_median'] * 1000:.0f} ms", "≤ 100 ms",
               figures["open_median"] <= 0.1),
        Figure("tui", "peak RSS of the bench process", f"{figures['rss_mb']:.0f} MB", "≤ 200 MB",
               figures["rss_mb"] <= 200),
    ]
