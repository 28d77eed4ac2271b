"""Sending mail over SMTP (smtplib), and building replies whose headers cannot be injected.

Everything that goes into a header is made one line without control characters first
(a decoded customer Subject can hold "\\r\\nBcc: …"); addresses are checked to be one
plain addr-spec and refused otherwise; non-ASCII names and subjects are RFC 2047
encoded by the email package. Used by the imap channel for replies, and by anything
else that needs to send a mail (on-call pages).
"""

from __future__ import annotations

import email.utils
import re
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from ..errors import ChannelError, DeskError
from ..secrets import Secret
from ..textsafe import one_line
from ..threads import reply_subject

TIMEOUT = 30.0
_ADDR = re.compile(r"^[^\s<>()\[\]\\,;:\"@\x00-\x1f\x7f]+@[A-Za-z0-9.\-\[\]:]+$")
_MSGID = re.compile(r"^<[^<>\s\x00-\x1f\x7f]+@[^<>\s\x00-\x1f\x7f]+>$")


class HeaderError(DeskError):
    """A value that cannot go into a mail header (an address with spaces, CR/LF, ...)."""


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

    def send(self, message: EmailMessage) -> None:
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
                conn.send_message(message)
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


def make_message_id(address: str) -> str:
    """A new globally unique Message-ID in the domain of `address` (generated and stored
    before sending, so a customer's answer threads back to its conversation)."""
    domain = address.rsplit("@", 1)[-1] if "@" in address else "tui-desk.invalid"
    if not re.fullmatch(r"[A-Za-z0-9.\-]+", domain):
        domain = "tui-desk.invalid"
    return f"<{uuid.uuid4().hex}@{domain}>"


def address(addr: str, name: str = "") -> Address:
    """A header-safe address: `addr` must be one plain addr-spec; the name is made one
    clean line (and encoded by the email package when not ASCII)."""
    addr = (addr or "").strip()
    if not _ADDR.match(addr) or len(addr) > 254:
        raise HeaderError(f"not a usable email address: {addr!r}")
    local, _, domain = addr.rpartition("@")
    return Address(display_name=one_line(name)[:200], username=local, domain=domain)


def message_ids(values) -> list[str]:
    """Only well-formed Message-IDs survive into In-Reply-To/References."""
    out = []
    for value in values or ():
        value = (value or "").strip()
        if _MSGID.match(value) and len(value) < 500 and value not in out:
            out.append(value)
    return out


def build_message(outbound) -> EmailMessage:
    """The reply as an EmailMessage. `outbound` carries (duck-typed, as the outbox hands
    it over): message_id, from_address, from_name, to_address, to_name, subject,
    conversation_id, text, in_reply_to, references."""
    msg = EmailMessage(policy=SMTP)
    sender = getattr(outbound, "from_address", "")
    msg["From"] = address(sender, getattr(outbound, "from_name", ""))
    msg["To"] = address(outbound.to_address, getattr(outbound, "to_name", ""))
    conversation_id = getattr(outbound, "conversation_id", None)
    subject = one_line(getattr(outbound, "subject", ""))
    msg["Subject"] = reply_subject(subject, conversation_id) if conversation_id else subject
    msg["Date"] = email.utils.format_datetime(email.utils.localtime())
    own = getattr(outbound, "message_id", None) or make_message_id(sender)
    if not _MSGID.match(own):
        raise HeaderError(f"not a usable Message-ID: {own!r}")
    msg["Message-ID"] = own
    parent = message_ids([getattr(outbound, "in_reply_to", None)])
    references = message_ids([*(getattr(outbound, "references", None) or []), *parent])
    if parent:
        msg["In-Reply-To"] = parent[0]
    if references:
        # long threads: keep the first and the latest ones (RFC 5322 3.6.4 allows trimming)
        if len(references) > 20:
            references = references[:1] + references[-19:]
        msg["References"] = " ".join(references)
    # RFC 3834: tells the customer's auto-responders whether a person wrote this
    msg["Auto-Submitted"] = "auto-replied" if getattr(outbound, "automatic", None) else "no"
    msg.set_content(getattr(outbound, "text", "") or "")
    return msg
