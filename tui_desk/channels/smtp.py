"""Sending one email over SMTP: the only place tui-desk speaks SMTP.

`Endpoint` says where (host, port, TLS mode, optional login); `send(endpoint, message)`
delivers one `EmailMessage`, `send_raw(endpoint, raw, sender, recipients)` delivers
bytes built elsewhere (replies: channels.mailout). `message(...)` builds one from plain values and refuses
header values with CR, LF or other control characters, so untrusted text can never add
a header. Used by on-call pages and by replies over email.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol, runtime_checkable

from ..errors import ChannelError, UsageError
from ..paths import is_loopback
from ..secrets import Secret

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Endpoint:
    """An SMTP server to submit mail to."""

    host: str
    port: int = 465
    tls: str = "ssl"
    """"ssl" (implicit TLS), "starttls", or "none" (loopback hosts only)."""
    username: str = ""
    """Empty: no login."""
    secret: Secret | None = None
    name: str = "smtp"
    """Who this endpoint belongs to, for error messages (e.g. a channel name)."""
    timeout: float = 30.0
    """Seconds to wait for the server at each step (the 250 after the message included)."""

    def __post_init__(self) -> None:
        if self.tls not in ("ssl", "starttls", "none"):
            raise UsageError(f"{self.name}: tls must be ssl, starttls or none, not {self.tls!r}")
        if self.tls == "none" and not is_loopback(self.host):
            raise UsageError(f'{self.name}: tls "none" is allowed only for loopback hosts, not {self.host!r}')


@runtime_checkable
class SmtpEntry(Protocol):
    """A `[[channels]]` entry that names an SMTP server for its replies (an imap one)."""

    name: str
    host: str
    username: str
    smtp_host: str
    smtp_port: int
    smtp_tls: str
    smtp_username: str
    smtp_auth: bool
    smtp_timeout: float

    def smtp_secret(self) -> Secret: ...


def endpoint_for(channel: SmtpEntry) -> Endpoint:
    """The SMTP server of a channel's config (replies, and on-call pages by default)."""
    return Endpoint(
        channel.smtp_host or channel.host, channel.smtp_port, channel.smtp_tls,
        (channel.smtp_username or channel.username) if channel.smtp_auth else "", channel.smtp_secret(),
        name=channel.name,
        timeout=channel.smtp_timeout,
    )


def header_value(value: str, what: str) -> str:
    """`value` if it is safe as a header value; UsageError if it holds control characters.
    A literal "=?" becomes "= ?": the email package would decode an encoded word in it
    and write the CR LF it may hold (see textsafe.header_text)."""
    if _CONTROL.search(value):
        raise UsageError(f"{what} contains a line break or control character")
    return value.replace("=?", "= ?")


def message(*, sender: str, to: list[str], subject: str, text: str, headers: dict[str, str] | None = None,
            domain: str | None = None) -> EmailMessage:
    """A plain-text message; every header value checked by `header_value`."""
    msg = EmailMessage()
    msg["From"] = header_value(sender, "From")
    msg["To"] = ", ".join(header_value(a, "To") for a in to)
    msg["Subject"] = header_value(subject, "Subject")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=domain or (sender.rpartition("@")[2].strip("> ") or None))
    for name, value in (headers or {}).items():
        msg[header_value(name, "header name")] = header_value(value, name)
    msg.set_content(text)
    return msg


def send(endpoint: Endpoint, msg: EmailMessage) -> None:
    """Submit `msg` to `endpoint`. ChannelError (never with the password) if it fails."""
    with _session(endpoint) as client:
        refused = client.send_message(msg)
    if refused:
        raise ChannelError(endpoint.name, f"SMTP server refused {', '.join(sorted(refused))}")


def send_raw(endpoint: Endpoint, raw: bytes, sender: str, recipients: list[str],
             before_data: Callable[[], None] | None = None) -> None:
    """Submit a whole RFC 5322 message with this envelope; ChannelError if it fails.

    `before_data` runs once the envelope is accepted, just before the DATA command (the
    outbox records the reply as "uncertain" there). A failure from DATA on that is not
    the server's own refusal (a dropped connection, a timeout waiting for the 250) raises
    ChannelError with `uncertain` set: the server may have taken the message."""
    with _session(endpoint) as client:
        code, answer = client.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, answer, sender)
        refused = {}
        for recipient in recipients:
            code, answer = client.rcpt(recipient)
            if code not in (250, 251):
                refused[recipient] = (code, answer)
        if len(refused) == len(recipients):
            raise smtplib.SMTPRecipientsRefused(refused)
        if before_data:
            before_data()
        try:
            code, answer = client.data(raw)
        except smtplib.SMTPResponseException:
            raise  # the server answered "no" (to DATA or after the message): it did not take it
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            client.close()  # no QUIT on a broken or late connection: its answer could be the late 250
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise ChannelError(endpoint.name, f"SMTP connection to {endpoint.host}:{endpoint.port} failed after the"
                                              f" message began ({_text(reason)}): it may have been sent",
                               uncertain=True) from None
        if code != 250:
            raise smtplib.SMTPDataError(code, answer)
    if refused:
        raise ChannelError(endpoint.name, f"SMTP server refused {', '.join(sorted(refused))}")


def probe(endpoint: Endpoint) -> None:
    """Connect, log in if configured, and quit, sending nothing (`config check --connect`)."""
    with _session(endpoint):
        pass


@contextlib.contextmanager
def _session(endpoint: Endpoint) -> Iterator[smtplib.SMTP]:
    """A connected, logged-in SMTP client; every failure becomes one ChannelError line."""
    context = ssl.create_default_context()
    try:
        if endpoint.tls == "ssl":
            client = smtplib.SMTP_SSL(endpoint.host, endpoint.port, timeout=endpoint.timeout, context=context)
        else:
            client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=endpoint.timeout)
        with client:
            client.ehlo()
            if endpoint.tls == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if endpoint.username:
                if not client.has_extn("auth"):  # a local relay that takes mail without a login
                    raise ChannelError(endpoint.name, "the SMTP server offers no login (AUTH): for a relay"
                                                      " that needs none, set smtp_auth = false")
                if endpoint.secret is None or not endpoint.secret.configured:
                    raise ChannelError(endpoint.name, "SMTP username given but no password configured")
                client.login(endpoint.username, endpoint.secret.reveal())
            yield client
    except smtplib.SMTPAuthenticationError as exc:
        raise ChannelError(endpoint.name, f"SMTP login refused for {endpoint.username!r} ({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ChannelError(endpoint.name, f"SMTP server does not support this: {exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{a} ({_text(e[1])})" for a, e in exc.recipients.items())
        raise ChannelError(endpoint.name, f"SMTP server refused the recipient: {refused}") from None
    except smtplib.SMTPResponseException as exc:
        raise ChannelError(endpoint.name, f"SMTP error {exc.smtp_code}: {_text(exc.smtp_error)}") from None
    except (smtplib.SMTPException, ssl.SSLError, socket.timeout, OSError) as exc:
        reason = f"unknown host ({exc.strerror})" if isinstance(exc, socket.gaierror) else (
            getattr(exc, "strerror", None) or str(exc) or type(exc).__name__)
        raise ChannelError(endpoint.name, f"cannot send over SMTP to {endpoint.host}:{endpoint.port}: "
                                          f"{_text(reason)}") from None


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]
