"""Run `tui-desk …` with a parse worker that dies as the kernel's OOM killer ends it
(SIGKILL, no clean-up) on the mail whose bytes hold POISON (for crash tests)."""

import os
import signal
import sys

from tui_desk import sync

original = sync.parse_item


def poisoned_parse(item):
    if b"POISON" in (item.raw or b"") and os.getpid() != PARENT:  # only a worker process dies
        os.kill(os.getpid(), signal.SIGKILL)
    return original(item)


PARENT = os.getpid()
sync.parse_item = poisoned_parse

from tui_desk import cli  # noqa: E402

sys.argv = ["tui-desk", *sys.argv[1:]]
cli.main()
