"""Run `tui-desk …` and SIGKILL it while a reply's copy is filed in Sent (for crash tests).

KILL_AT=append: as the APPEND to Sent is about to go (the reply is "uncertain" by then).
KILL_AT=after-append: right after the APPEND, before SMTP DATA.
Nothing is cleaned up: it is a real kill -9.
"""

import os
import signal
import sys

from imapclient import IMAPClient

point = os.environ["KILL_AT"]
original = IMAPClient.append


def append(self, *args, **kwargs):
    if point == "append":
        os.kill(os.getpid(), signal.SIGKILL)
    answer = original(self, *args, **kwargs)
    if point == "after-append":
        os.kill(os.getpid(), signal.SIGKILL)
    return answer


IMAPClient.append = append

from tui_desk import cli  # noqa: E402

sys.argv = ["tui-desk", *sys.argv[1:]]
cli.main()
