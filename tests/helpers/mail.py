"""Building test emails and Maildirs."""

from __future__ import annotations

import email.utils
import itertools
from email.message import EmailMessage
from pathlib import Path

_counter = itertools.count(1)


def make_email(
    sender: str = "Mike Jones <mike@customer.example>",
    subject: str = "Where is my order?",
    body: str = "Hi, my order has not arrived yet.",
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    date: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@desk.example"
    msg["Subject"] = subject
    msg["Date"] = date or email.utils.format_datetime(email.utils.localtime())
    msg["Message-ID"] = message_id or f"<test-{next(_counter)}@customer.example>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


def make_maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def deliver(maildir: Path, raw: bytes, name: str | None = None) -> Path:
    """Drop one message into new/ the way a delivery agent does."""
    target = maildir / "new" / (name or f"{next(_counter)}.test.host")
    target.write_bytes(raw)
    return target
