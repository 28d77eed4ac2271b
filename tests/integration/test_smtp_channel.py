"""channels.smtp: safe headers, loopback-only plain text, login, errors without secrets."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tui_desk.channels import smtp
from tui_desk.config import from_dict
from tui_desk.errors import ChannelError, ConfigError, UsageError
from tui_desk.oncall.page import endpoint
from tui_desk.secrets import Secret

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"desk" and data.password == b"right-horse"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@contextlib.contextmanager
def _smtp(**options):
    """A real aiosmtpd on a free loopback port: (port, inbox of what it took)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def server():
    with _smtp(authenticator=_authenticator, auth_require_tls=False) as found:
        yield found


def _msg():
    return smtp.message(sender="support@desk.example", to=["ana@example.org"], subject="Hello", text="Body")


def test_header_values_with_line_breaks_are_refused():
    for bad in ("Hi\r\nBcc: evil@example.org", "Hi\nthere", "Hi\x1b[31m"):
        with pytest.raises(UsageError):
            smtp.message(sender="a@example.org", to=["b@example.org"], subject=bad, text="x")
    with pytest.raises(UsageError):
        smtp.message(sender="a@example.org", to=["b@example.org\r\nCc: c@example.org"], subject="x", text="x")


def test_plain_text_only_on_loopback():
    with pytest.raises(UsageError, match="loopback"):
        smtp.Endpoint("mail.example.org", 25, "none")
    smtp.Endpoint("127.0.0.1", 25, "none")
    with pytest.raises(ConfigError, match="loopback"):
        from_dict({"oncall": {"smtp": {"host": "mail.example.org", "tls": "none"}}})


def test_login_and_send(server):
    port, inbox = server
    smtp.send(smtp.Endpoint("127.0.0.1", port, "none", "desk", Secret("right-horse")), _msg())
    assert inbox.envelopes[0].rcpt_tos == ["ana@example.org"]


def test_refused_login_names_no_password(server):
    port, inbox = server
    with pytest.raises(ChannelError) as caught:
        smtp.send(smtp.Endpoint("127.0.0.1", port, "none", "desk", Secret("wrong-horse"), name="pager",
                                 timeout=10), _msg())
    assert "login refused" in str(caught.value) and "horse" not in str(caught.value)
    assert inbox.envelopes == []


def test_pages_use_the_imap_channels_smtp_settings_by_default():
    config = from_dict({"channels": [{"name": "mail", "kind": "imap", "host": "imap.example.org", "username": "desk",
                                      "password_env": "X", "smtp_port": 587, "smtp_tls": "starttls"}]})
    found = endpoint(config)
    assert (found.host, found.port, found.tls, found.username) == ("imap.example.org", 587, "starttls", "desk")
    with pytest.raises(ConfigError, match="need an SMTP server"):
        endpoint(from_dict({}))


def test_oncall_core_never_imports_textual():
    code = ("import sys, tui_desk.oncall.service, tui_desk.oncall.page, tui_desk.oncall.ics, tui_desk.channels.smtp;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr


@pytest.fixture
def relay():
    """A local relay that takes mail without a login (it offers no AUTH)."""
    with _smtp() as found:
        yield found


def _relay_channel(port: int, **extra):
    return from_dict({"channels": [{"name": "mail", "kind": "imap", "host": "127.0.0.1", "username": "desk",
                                    "password_env": "NO_SUCH_PASSWORD", "smtp_port": port, "smtp_tls": "none",
                                    "smtp_timeout": 10, **extra}]}).channels[0]


def test_a_relay_without_auth_takes_mail_when_smtp_auth_is_false(relay):
    port, inbox = relay
    with pytest.raises(ChannelError, match="set smtp_auth = false"):
        smtp.send(smtp.endpoint_for(_relay_channel(port)), _msg())
    assert inbox.envelopes == []
    smtp.send(smtp.endpoint_for(_relay_channel(port, smtp_auth=False)), _msg())
    assert [e.rcpt_tos for e in inbox.envelopes] == [["ana@example.org"]]
