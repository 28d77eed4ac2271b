"""Run `tui-desk …` and SIGKILL it as an escalation notice is delivered (for crash tests).

KILL_AT=page-sent: the SMTP server has taken an email page, its notice is still
"sending" (not recorded as sent). Nothing is cleaned up: it is a real kill -9.
"""

import os
import signal
import sys

from tui_desk.channels import smtp

point = os.environ["KILL_AT"]
original = smtp.send


def send(endpoint, msg):
    original(endpoint, msg)
    if point == "page-sent" and msg.get("X-Tui-Desk-Page"):
        os.kill(os.getpid(), signal.SIGKILL)


smtp.send = send

from tui_desk import cli  # noqa: E402

sys.argv = ["tui-desk", *sys.argv[1:]]
cli.main()
