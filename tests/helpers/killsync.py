"""Run `tui-desk …` and SIGKILL it at a chosen point of sync (for crash tests).

KILL_AT=after-commit: right after batch KILL_BATCH is committed.
KILL_AT=mid-transaction: inside batch KILL_BATCH's transaction, its messages written
but not committed. KILL_AT=before-rules: batch KILL_BATCH committed, its rules not run. Nothing is cleaned up: it is a real kill -9 (or KILL_SIGNAL=TERM/HUP).
"""

import os
import signal
import sys

from tui_desk import sync

point = os.environ["KILL_AT"]
target = int(os.environ["KILL_BATCH"])
original = sync._store_batch
count = 0


SIGNAL = getattr(signal, "SIG" + os.environ.get("KILL_SIGNAL", "KILL"))


def _die(*_args, **_kwargs):
    os.kill(os.getpid(), SIGNAL)


def store_batch(ingest, channel, batch, parsed, outcome):
    global count
    count += 1
    store = ingest.store
    if count == target and point == "mid-transaction":
        store.save_sync_state = _die  # called after the rows are inserted, before COMMIT
        store.add_source_keys = _die
    if count == target and point == "before-rules":
        ingest.apply_rules = _die
    original(ingest, channel, batch, parsed, outcome)
    if count == target and point == "after-commit":
        _die()


sync._store_batch = store_batch

from tui_desk import cli  # noqa: E402

sys.argv = ["tui-desk", *sys.argv[1:]]
cli.main()
