"""Replies over SMTP: headers that thread and cannot be injected, a real send to an
aiosmtpd server with a copy filed in Dovecot's Sent folder, the customer's answer
threaded back, and no second copy when a crashed send is recovered."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from helpers.dovecot import dovecot, free_port, mailbox, toml_config  # noqa: F401 (fixtures)
from helpers.mail import make_email
from tui_desk import config as config_mod
from tui_desk import sync, threads
from tui_desk.channels import Outbound, open_channel
from tui_desk.channels.smtp import HeaderError, build_message, make_message_id
from tui_desk.errors import ChannelError
from tui_desk.parse.model import ParsedMessage


def outbound(**kw) -> Outbound:
    base = dict(conversation_id=7, text="Your order ships today.", to_address="mike@customer.example",
                to_name="Mike Jones", from_address="support@desk.example", from_name="Desk Support",
                subject="Where is my order?", message_id="<reply-1@desk.example>",
                in_reply_to="<q1@customer.example>", references=["<q0@customer.example>", "<q1@customer.example>"])
    base.update(kw)
    return Outbound(**base)


def headers_of(message) -> list[tuple[str, str]]:
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.compat32)
    return [(k.lower(), v) for k, v in parsed.items()]


def test_reply_headers_thread_in_the_customers_client():
    msg = build_message(outbound())
    assert msg["Subject"] == "Re: Where is my order? [#7]"
    assert msg["Message-ID"] == "<reply-1@desk.example>"
    assert msg["In-Reply-To"] == "<q1@customer.example>"
    assert msg["References"] == "<q0@customer.example> <q1@customer.example>"
    assert msg["From"] == "Desk Support <support@desk.example>"
    assert msg["To"] == "Mike Jones <mike@customer.example>"


@pytest.mark.parametrize("subject", ["Re: AW: Re: [#7] Where is my order?", "Where is my order? [#7]"])
def test_reply_subject_has_one_prefix_and_one_tag(subject):
    assert threads.reply_subject(subject, 7) == "Re: Where is my order? [#7]"


@pytest.mark.parametrize("field,value", [
    ("subject", "hi\r\nBcc: victim@example.com"),
    ("subject", "hi\nBcc: victim@example.com"),
    ("to_name", "Mike\r\nBcc: victim@example.com"),
    ("from_name", "Desk\rBcc: victim@example.com"),
    ("subject", "hi\x00\x1b[2J\x85Bcc: victim@example.com"),
])
def test_header_injection_is_impossible(field, value):
    msg = build_message(outbound(**{field: value}))
    names = [k for k, _ in headers_of(msg)]
    assert "bcc" not in names
    assert names.count("subject") == 1 and names.count("to") == 1
    for _, text in headers_of(msg):
        assert "\x1b" not in text and "\x00" not in text


@pytest.mark.parametrize("address", ["mike@customer.example\r\nBcc: v@x.example", "a b@x.example",
                                     "<mike@customer.example>", "mike", "", "m@x.example, v@y.example"])
def test_unusable_addresses_are_refused(address):
    with pytest.raises(HeaderError):
        build_message(outbound(to_address=address))


def test_malformed_message_ids_are_dropped_and_names_encoded():
    msg = build_message(outbound(in_reply_to="<bad id>\r\nBcc: x", references=["junk", "<ok@x.example>"],
                                 to_name="Jürgen Ä"))
    assert msg["In-Reply-To"] is None
    assert msg["References"] == "<ok@x.example>"
    raw = msg.as_bytes()
    assert b"=?utf-8?" in raw and raw.isascii()


def test_message_ids_are_unique_and_in_our_domain():
    ids = {make_message_id("support@desk.example") for _ in range(100)}
    assert len(ids) == 100 and all(i.endswith("@desk.example>") for i in ids)


# -- against real servers ---------------------------------------------------------------

class Collector:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.login.decode())
        ok = auth_data.password == b"secret"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    handler.port = controller.port
    handler.logins = logins
    yield handler
    controller.stop()


@pytest.mark.integration
def test_reply_sent_filed_in_sent_and_the_answer_threads_back(tmp_path, store, mailbox, smtp_server):
    path = toml_config(tmp_path / "config.toml", [mailbox.config(smtp_host="127.0.0.1", smtp_port=smtp_server.port)],
                       database=tmp_path / "desk.db")
    config = config_mod.load(path)
    mailbox.deliver(make_email(subject="Where is my order?", message_id="<q1@customer.example>"))
    assert sync.run(config, store).ok
    conversation = store.d.scalar("SELECT id FROM conversations")

    own_id = make_message_id("support@desk.example")
    # the outbox's part: the reply's row, with its Message-ID, exists before sending
    store.add_inbound("support", ParsedMessage(
        external_id=own_id, kind="email", sender_address="support@desk.example", sender_name="Desk",
        received_at=dt.datetime.now(dt.timezone.utc), created_at=dt.datetime.now(dt.timezone.utc),
        text="Your order ships today.", direction="out", message_id=own_id), None, conversation, "")
    channel = open_channel(config.channels[0])
    reply = outbound(conversation_id=conversation, message_id=own_id, references=[])
    assert channel.send(reply) == own_id

    assert len(smtp_server.envelopes) == 1 and smtp_server.logins == [mailbox.user]
    sent = email.message_from_bytes(smtp_server.envelopes[0].content)
    assert sent["Message-ID"] == own_id and sent["In-Reply-To"] == "<q1@customer.example>"
    assert sent["Subject"] == f"Re: Where is my order? [#{conversation}]"
    assert smtp_server.envelopes[0].rcpt_tos == ["mike@customer.example"]
    assert mailbox.message_ids("Sent") == [own_id]

    # recovering a row left in "sending": already in Sent, so not sent again
    assert channel.send(outbound(conversation_id=conversation, message_id=own_id, recovering=True)) == own_id
    assert len(smtp_server.envelopes) == 1

    # the customer answers with another subject: it joins by In-Reply-To/References
    mailbox.deliver(make_email(subject="thanks!", in_reply_to=own_id, message_id="<q2@customer.example>"))
    assert sync.run(config, store).channels["support"].new == 1
    assert store.d.scalar("SELECT count(DISTINCT conversation_id) FROM messages") == 1


@pytest.mark.integration
def test_smtp_failures_are_one_line_naming_the_channel(tmp_path, mailbox, smtp_server):
    path = toml_config(tmp_path / "config.toml", [mailbox.config(smtp_host="127.0.0.1", smtp_port=free_port())])
    channel = open_channel(config_mod.load(path).channels[0])
    with pytest.raises(ChannelError) as refused:
        channel.send(outbound())
    assert str(refused.value).startswith("channel support: cannot send through SMTP server 127.0.0.1:")

    path = toml_config(tmp_path / "c2.toml", [mailbox.config(smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                                                              smtp_username="x", smtp_password="wrong")])
    with pytest.raises(ChannelError) as denied:
        open_channel(config_mod.load(path).channels[0]).send(outbound())
    assert str(denied.value).startswith("channel support: SMTP login refused for 'x'")
    assert "wrong" not in str(denied.value)
    assert smtp_server.envelopes == []
