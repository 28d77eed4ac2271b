"""Building an outgoing reply email (RFC 5322 bytes) from an `Outbound`.

Shared by every email kind (the local Maildir, SMTP). Every header value is made one
line without control characters first: subjects and names come from customers, and
a decoded "Re: hi\\r\\nBcc: …" must never become a header of ours.
"""

from __future__ import annotations

import email.utils
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from ..errors import ChannelError
from ..model import LOOP_HEADER
from ..textsafe import header_text, one_line, valid_msgid
from ..subjects import reply_subject
from .base import Outbound


def new_message_id(from_address: str) -> str:
    """A fresh Message-ID in our own domain (from the desk's support address)."""
    domain = from_address.rpartition("@")[2] if "@" in from_address else "tui-desk.invalid"
    return email.utils.make_msgid(domain=one_line(domain) or "tui-desk.invalid")


def build_reply(outbound: Outbound, channel: str) -> bytes:
    """The reply as bytes ready for a Maildir or SMTP; ChannelError when it cannot be
    addressed (no valid recipient, no Message-ID)."""
    if not outbound.mail_id or not valid_msgid(outbound.mail_id):
        raise ChannelError(channel, f"reply {outbound.outbox_id} has no Message-ID")
    msg = EmailMessage(policy=SMTP)
    try:
        msg["From"] = _address(outbound.from_name, outbound.from_address)
        msg["To"] = _address(outbound.to_name, outbound.to_address)
        if outbound.cc:
            msg["Cc"] = [_address("", address) for address in outbound.cc]
    except (ValueError, IndexError) as exc:  # the email package raises these on bad addresses
        raise ChannelError(channel, f"reply {outbound.outbox_id}: cannot address it ({exc})") from None
    msg["Subject"] = reply_subject(header_text(outbound.subject), outbound.conversation_id)
    msg["Date"] = email.utils.format_datetime(outbound.created_at)
    msg["Message-ID"] = outbound.mail_id
    ids = [i for i in outbound.references if valid_msgid(i)]
    if outbound.in_reply_to and valid_msgid(outbound.in_reply_to):
        msg["In-Reply-To"] = outbound.in_reply_to
    if ids:
        msg["References"] = " ".join(ids)
    if outbound.automatic:  # RFC 3834; Outlook/Exchange auto-replies obey the second
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        msg[LOOP_HEADER] = one_line(outbound.from_address.rpartition("@")[2].lower()) or "tui-desk.invalid"
    else:
        msg["Auto-Submitted"] = "no"
    msg.set_content(outbound.text)
    for filename, content_type, path in outbound.files:
        maintype, _, subtype = (content_type or "application/octet-stream").partition("/")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ChannelError(channel, f"reply {outbound.outbox_id}: its attachment {filename!r} is missing"
                                        f" ({exc.strerror})") from None
        msg.add_attachment(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                           filename=header_text(filename) or "attachment")
    return msg.as_bytes()


def recipient_problem(to_address: str, thread_key: str | None = None) -> str | None:
    """Why an email reply cannot go to `to_address`, or None. Asked when a reply is
    written too, so it is refused then instead of failing at every later sync."""
    address = to_address.strip()
    if not address:
        return "no email address to reply to"
    # one plain addr-spec: no spaces, controls, brackets or list separators (which would
    # make the email package read a second address or a group)
    if any(c.isspace() or ord(c) < 32 or c in '<>()[],;:"\\' for c in address) \
            or address.count("@") != 1 or address.startswith("@") or address.endswith("@") or len(address) > 254 \
            or "=?" in address:
        return f"not a usable email address: {one_line(address)[:100]!r}"
    if not address.isascii():  # would need SMTPUTF8; the email package would mangle it into an encoded word
        return f"not an ASCII email address (internationalised addresses are not supported): {one_line(address)[:100]!r}"
    return None


def _address(name: str, address: str) -> Address:
    address = address.strip()
    problem = recipient_problem(address)
    if problem:
        raise ValueError(problem)
    local, _, domain = address.partition("@")
    return Address(display_name=header_text(name), username=local, domain=domain)
