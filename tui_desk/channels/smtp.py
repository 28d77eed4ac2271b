"""Sending mail over SMTP (smtplib): one reusable client, every failure one clear line.

The message itself is built elsewhere (channels.mailout for replies), with headers
that cannot be injected; this module only delivers bytes to an envelope sender and
recipients. Used by the imap channel for replies, and by anything else that needs to
send a mail (on-call pages).
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass

from ..errors import ChannelError
from ..secrets import Secret
from ..textsafe import one_line

TIMEOUT = 30.0


@dataclass
class SmtpSettings:
    """Where and how to send."""

    host: str
    port: int = 465
    tls: str = "ssl"
    """"ssl" (implicit TLS), "starttls" or "none" (loopback only; checked by config)."""
    username: str = ""
    password: Secret | None = None
    """None: no AUTH (a local relay)."""
    owner: str = "smtp"
    """Who is sending, for error messages (e.g. "channel support-mail")."""
    timeout: float = TIMEOUT


class SmtpClient:
    """Sends whole messages; every failure becomes one ChannelError-like line."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, raw: bytes, sender: str, recipients: list[str]) -> None:
        """Deliver `raw` (a whole RFC 5322 message) to `recipients`; ChannelError on failure."""
        s = self.settings
        where = f"{s.host}:{s.port}"
        context = ssl.create_default_context()
        try:
            if s.tls == "ssl":
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with conn:
                if s.tls == "starttls":
                    conn.starttls(context=context)
                    conn.ehlo()
                if s.password is not None and s.username:
                    conn.login(s.username, s.password.reveal())
                conn.sendmail(sender, recipients, raw)
        except smtplib.SMTPAuthenticationError as exc:
            raise _error(s.owner, f"SMTP login refused for {s.username!r} at {where}: {_text(exc.smtp_error)}")
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(f"{a} ({_text(e[1])})" for a, e in exc.recipients.items())
            raise _error(s.owner, f"SMTP server {where} refused the recipient: {refused}")
        except smtplib.SMTPResponseException as exc:
            raise _error(s.owner, f"SMTP server {where} said {exc.smtp_code} {_text(exc.smtp_error)}")
        except (smtplib.SMTPException, OSError) as exc:
            reason = f"unknown host ({exc.strerror})" if isinstance(exc, socket.gaierror) else (
                getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
            raise _error(s.owner, f"cannot send through SMTP server {where}: {one_line(reason)}")


def _error(owner: str, cause: str) -> ChannelError:
    name = owner.removeprefix("channel ")
    return ChannelError(name, cause)


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return one_line(str(value))[:200]
