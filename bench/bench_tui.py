"""The console with a large queue, driven headless: first paint, key repaint, opening a
conversation, and memory, over 100,000 conversations ("full") or 5,000 ("small").

The queue is built through store methods (customer_for, add_inbound) in one transaction,
without parsing, so building it takes seconds rather than a full sync. The newest
conversations are long threads (THREAD_LENGTH messages, quoted history in each), the
ones the bench opens.

How the times are taken: Textual draws a frame when the screen's update timer fires,
after every widget that asked for a refresh has rendered; each frame ends in one call of
`App._display` (headless, that call writes nothing). The bench wraps it and stamps the
first frame at which what it waits for is on screen, so a figure runs from the key
event (sent to the driver as Pilot does) to the frame showing its result, and not to the
idle waits Pilot adds after every press (two sleeps of at least 20 ms each).
- first paint: from make_app() to the frame in which the queue's visible rows are drawn;
- key repaint: to the frame in which the cursor is on its new row and that row is drawn;
- open: to the frame in which the conversation's newest messages are laid out.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.figure import Figure
from tui_desk import config as config_mod
from tui_desk.model import ParsedMessage
from tui_desk.store import Store

SIZES = {"small": 5_000, "full": 100_000}
NAMES = ["Mike Jones", "田中太郎", "สมชาย ใจดี", "Ana Lima", "Zoe 🙂", "Lars Berg", "Fatima Khan", "Li Wei"]
WORDS = "order parcel refund tracking delivery jacket tent boots invoice password coupon broken".split()
LONG_THREADS = 20
THREAD_LENGTH = 60


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


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
                    subject=_words(rng, rng.randint(2, 7)).capitalize(), text=_words(rng, 40), raw=b"")
                conversation, _ = store.add_inbound("mail", msg, customer, None, f"bench-{i}")
                if i >= count - LONG_THREADS:  # the newest: long threads, what the bench opens
                    for n in range(1, THREAD_LENGTH):
                        later = at + dt.timedelta(seconds=n)
                        body = "\n\n".join(_words(rng, 25) for _ in range(rng.randint(1, 4)))
                        quoted = "\n".join("> " + _words(rng, 12) for _ in range(rng.randint(3, 30)))
                        store.add_inbound("mail", ParsedMessage(
                            external_id=f"<bench-{i}-{n}@example.com>", kind="email",
                            sender_address=address if n % 2 == 0 else "agent@desk.example",
                            sender_name=name if n % 2 == 0 else "bench", received_at=later, created_at=later,
                            direction="in" if n % 2 == 0 else "out", subject=msg.subject,
                            text=body, quoted=quoted, raw=b""), customer, conversation, f"bench-{i}")
            store.d.conn.execute("UPDATE conversations SET status = 'open', assignee = 'bench' WHERE id % 7 = 0")


class Frames:
    """Stamps the first frame at which a condition holds (see the module docstring)."""

    def __init__(self, app) -> None:
        self.condition: Callable[[], bool] | None = None
        self.painted_at: float | None = None
        display = app._display

        def stamped(screen, renderable) -> None:
            display(screen, renderable)
            if renderable is not None and self.condition is not None and self.painted_at is None:
                try:
                    done = self.condition()
                except Exception:  # a condition looking at a screen still being built
                    done = False
                if done:
                    self.painted_at = time.perf_counter()

        app._display = stamped

    def expect(self, condition: Callable[[], bool]) -> None:
        self.condition, self.painted_at = condition, None

    async def painted(self, limit: float = 30.0) -> float:
        """Wait for the frame; its time."""
        started = time.perf_counter()
        while self.painted_at is None:
            if time.perf_counter() - started > limit:
                raise TimeoutError("the console did not get there")
            await asyncio.sleep(0.001)
        painted, self.condition = self.painted_at, None
        return painted


async def drive(config, db_path: Path) -> dict[str, float]:
    from textual import events

    from tui_desk.tui import make_app
    from tui_desk.tui.screens.conversation import ConversationScreen
    from tui_desk.tui.widgets.queue import QueueList
    from tui_desk.tui.widgets.thread import MessageItem

    out: dict[str, float] = {}
    started = time.perf_counter()
    app = make_app(config, db_path, poll_seconds=3600)
    frames = Frames(app)

    def queue() -> QueueList:
        return app.screen.query_one(QueueList)

    def rows_drawn() -> bool:
        q = queue()
        visible = min(q.size.height, q.cache.total)
        return visible > 0 and all(q.cache.row(i) is not None for i in range(visible))

    def counts_drawn() -> bool:
        from tui_desk.tui.widgets.sidebar import ViewsSidebar
        return bool(app.screen.query_one(ViewsSidebar).counts)

    def press(key: str) -> float:
        app._driver.send_message(events.Key(key, key if len(key) == 1 else None))
        return time.perf_counter()

    frames.expect(rows_drawn)
    async with app.run_test(size=(160, 48)) as pilot:
        out["first_paint"] = await frames.painted() - started
        frames.expect(counts_drawn)
        out["counts"] = await frames.painted() - started
        await pilot.pause()
        presses = []
        for key in ["j"] * 30 + ["pagedown"] * 10 + ["k"] * 10:
            q = queue()
            step = {"j": 1, "k": -1, "pagedown": q.size.height - 1}[key]
            target = max(0, min(q.cursor + step, q.cache.total - 1))
            frames.expect(lambda: queue().cursor == target and queue().current is not None)
            sent = press(key)
            presses.append(await frames.painted() - sent)
            await pilot.pause()  # not timed: let the key settle before the next one
        out["key_p95"] = statistics.quantiles(presses, n=20)[-1]
        out["key_median"] = statistics.median(presses)
        await pilot.press("home")
        await pilot.pause()
        opens = []
        for _ in range(5):
            cid = queue().current["id"]

            def thread_drawn() -> bool:
                screen = app.screen
                return (isinstance(screen, ConversationScreen) and screen.conversation_id == cid
                        and any(item.region.height for item in screen.query(MessageItem)))
            frames.expect(thread_drawn)
            sent = press("enter")
            opens.append(await frames.painted() - sent)
            await pilot.pause()
            await pilot.press("escape", "j")
            await pilot.pause()
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
        Figure("tui", "sidebar counts drawn (after first paint)", f"{figures['counts'] * 1000:.0f} ms"),
        Figure("tui", "key press to repainted frame (p95)", f"{figures['key_p95'] * 1000:.1f} ms", "≤ 50 ms",
               figures["key_p95"] <= 0.05),
        Figure("tui", "key press to repainted frame (median)", f"{figures['key_median'] * 1000:.1f} ms"),
        Figure("tui", f"open a conversation of {THREAD_LENGTH} messages (median)",
               f"{figures['open_median'] * 1000:.0f} ms", "≤ 100 ms", figures["open_median"] <= 0.1),
        Figure("tui", "peak RSS of the bench process", f"{figures['rss_mb']:.0f} MB", "≤ 200 MB",
               figures["rss_mb"] <= 200),
    ]
