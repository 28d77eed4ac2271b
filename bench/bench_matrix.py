"""Matrix figures: pull 5,000 chat messages across 100 rooms from a local Synapse.

A private Synapse (tests/helpers/synapse.py; its venv is made on first use) gets a
support account and a customer; the customer opens 100 rooms with the support account
in them, the desk syncs once (rooms known, nothing to read), then the customer writes
50 messages in each room. Timed: the next `tui_desk.sync.run` (messages/s; 50 per room
fit in one /sync answer's 100-event timelines, so this is the plain pull; the
back-fill of longer gaps is tested in tests/integration/test_matrix_synapse.py), and one more sync
with nothing new (the cost of a cron run on a quiet minute).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.figure import Figure
from tui_desk import config as config_mod, sync
from tui_desk.store import Store

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"small": (10, 50), "full": (100, 50)}  # rooms, messages per room
SENDERS = 4


def run(size: str) -> list[Figure]:
    sys.path.insert(0, str(ROOT))
    from tests.helpers import synapse as hs

    why = hs.ensure_venv()
    if why:
        return [Figure("matrix", "pull from Synapse", f"skipped: {why}")]
    rooms_count, per_room = SIZES[size]
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        root = Path(tmp)
        server = hs.Synapse(root / "synapse")
        server.start()
        try:
            return _measure(hs, server, root, rooms_count, per_room)
        finally:
            server.stop()


def _measure(hs, server, root: Path, rooms_count: int, per_room: int) -> list[Figure]:
    support = server.register("support")
    customer = hs.Client(server, server.register("customer"))
    customer.set_display_name("Bench Customer")
    helper = hs.Client(server, support)
    rooms = [customer.create_room(invite=[support.user_id]) for _ in range(rooms_count)]
    for room in rooms:
        helper.join(room)
    conf = config_mod.from_dict({"channels": [{
        "name": "chat", "kind": "matrix", "homeserver": server.url, "user_id": support.user_id,
        "access_token": support.token}]}, root / "bench.toml")
    with Store.open(root / "desk.db") as store:
        sync.run(conf, store)  # rooms known; nothing written yet

        def write(room: str) -> None:
            for i in range(per_room):
                customer.send(room, f"Message {i} about order {hash(room) % 10_000}")

        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(write, rooms))
        started = time.perf_counter()
        result = sync.run(conf, store)
        seconds = time.perf_counter() - started
        new = result.channels["chat"].new
        quiet = []
        for _ in range(5):
            started = time.perf_counter()
            sync.run(conf, store)
            quiet.append(time.perf_counter() - started)
    customer.close()
    helper.close()
    expected = rooms_count * per_room
    return [
        Figure("matrix", f"pull {expected:,} messages / {rooms_count} rooms", f"{new / seconds:,.0f} msg/s"
               f" ({seconds:.1f} s)", f"all {expected:,} stored", new == expected),
        Figure("matrix", "no-change sync (median of 5)", f"{statistics.median(quiet) * 1000:.0f} ms"),
    ]
