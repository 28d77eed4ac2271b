"""Replies over SMTP: headers that thread and cannot be injected, a real send through
the outbox to an aiosmtpd server with a copy filed in Dovecot's Sent folder, the
customer's answer threaded back, retries, and no second copy when a crashed send is
recovered."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from tests.helpers import store_api
from tests.helpers.dovecot import dovecot, free_port, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email
from tui_desk import config as config_mod
from tui_desk import sync
from tui_desk.channels import Outbound, open_channel
from tui_desk.channels.imap import ImapChannel
from tui_desk.channels.mailout import build_reply
from tui_desk.errors import ChannelError
from tui_desk.outbox import deliver_due, queue_reply

LATER = dt.timedelta(minutes=1)


def outbound(**kw) -> Outbound:
    base = dict(outbox_id=1, txn_id="tuidesk-1", conversation_id=7, thread_key=None, agent="ana",
                text="Your order ships today.", subject="Where is my order?", to_address="mike@customer.example",
                to_name="Mike Jones", created_at=dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc),
                mail_id="<reply-1@desk.example>", in_reply_to="<q1@customer.example>",
                references=["<q0@customer.example>", "<q1@customer.example>"],
                from_address="support@desk.example", from_name="Desk Support")
    base.update(kw)
    return Outbound(**base)


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def test_reply_headers_thread_in_the_customers_client():
    msg = parsed(build_reply(outbound(), "support"))
    assert msg["Subject"] == "Re: Where is my order? [#7]"
    assert msg["Message-ID"] == "<reply-1@desk.example>"
    assert msg["In-Reply-To"] == "<q1@customer.example>"
    assert msg["References"] == "<q0@customer.example> <q1@customer.example>"
    assert msg["From"] == "Desk Support <support@desk.example>"
    assert msg["To"] == "Mike Jones <mike@customer.example>"


@pytest.mark.parametrize("field,value", [
    ("subject", "hi\r\nBcc: victim@example.com"),
    ("subject", "hi\nBcc: victim@example.com"),
    ("to_name", "Mike\r\nBcc: victim@example.com"),
    ("from_name", "Desk\rBcc: victim@example.com"),
    ("subject", "hi\x00\x1b[2J\x85Bcc: victim@example.com"),
    ("in_reply_to", "<a@b>\r\nBcc: victim@example.com"),
])
def test_header_injection_is_impossible(field, value):
    msg = parsed(build_reply(outbound(**{field: value}), "support"))
    names = [k.lower() for k in msg.keys()]
    assert "bcc" not in names
    assert names.count("subject") == 1 and names.count("to") == 1
    for text in msg.values():
        assert "\x1b" not in text and "\x00" not in text


@pytest.mark.parametrize("address", ["mike@customer.example\r\nBcc: v@x.example", "a b@x.example",
                                     "mike", "", "m@x.example, v@y.example", "<m@x.example>"])
def test_unusable_addresses_are_refused(address):
    with pytest.raises(ChannelError):
        build_reply(outbound(to_address=address), "support")


def test_non_ascii_names_are_encoded():
    raw = build_reply(outbound(to_name="Jürgen Ä", subject="Größe"), "support")
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    assert parsed(raw)["To"].startswith("=?utf-8?")


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


def desk(tmp_path, box, smtp_port: int, **extra):
    path = toml_config(tmp_path / "config.toml",
                       [box.config(smtp_host="127.0.0.1", smtp_port=smtp_port, **extra)],
                       database=tmp_path / "desk.db",
                       desk={"support_address": "support@desk.example", "name": "Desk Support"})
    return config_mod.load(path)


def only_conversation(store) -> int:
    [conversation] = store_api.conversation_ids(store)
    return conversation


def later() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) + LATER


@pytest.mark.integration
def test_reply_sent_filed_in_sent_and_the_answer_threads_back(tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server.port)
    mailbox.deliver(make_email(subject="Where is my order?", message_id="<q1@customer.example>"))
    assert sync.run(config, store).ok
    conversation = only_conversation(store)

    queued = queue_reply(store, conversation, "Your order ships today.", agent="ana")
    delivered = deliver_due(config, store, later())
    assert (delivered.sent, delivered.failed) == (1, 0), delivered.errors

    [own_id] = [m["message_id"] for m in store.messages(conversation) if m["id"] == queued.message_id]
    assert len(smtp_server.envelopes) == 1 and smtp_server.logins == [mailbox.user]
    envelope = smtp_server.envelopes[0]
    assert envelope.mail_from == "support@desk.example" and envelope.rcpt_tos == ["mike@customer.example"]
    sent = email.message_from_bytes(envelope.content)
    assert sent["Message-ID"] == own_id and sent["In-Reply-To"] == "<q1@customer.example>"
    assert sent["Subject"] == f"Re: Where is my order? [#{conversation}]"
    assert sent["From"] == "Desk Support <support@desk.example>"
    assert mailbox.message_ids("Sent") == [own_id]

    # the customer answers under another subject: it joins by In-Reply-To/References
    mailbox.deliver(make_email(subject="thanks!", in_reply_to=own_id, message_id="<q2@customer.example>"))
    assert sync.run(config, store).channels["support"].new == 1
    assert store_api.conversation_ids(store) == [conversation] and len(store.messages(conversation)) == 3


@pytest.mark.integration
def test_a_crashed_send_is_not_sent_twice(tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server.port)
    mailbox.deliver(make_email(subject="Refund", message_id="<r1@customer.example>"))
    sync.run(config, store)
    conversation = only_conversation(store)
    queued = queue_reply(store, conversation, "Refunded.", agent="ana")
    assert deliver_due(config, store, later()).sent == 1
    # as if we died after SMTP and the Sent copy, before marking the row sent (no store call
    # leaves a sent reply in that state: only a crash does)
    store.d.conn.execute(  # raw SQL on purpose: the state a crash leaves, for recovery
        "UPDATE outbox SET state = 'sending', sent_at = NULL WHERE id = ?", (queued.outbox_id,))
    again = deliver_due(config, store, later() + dt.timedelta(hours=1))
    assert again.sent == 1 and len(smtp_server.envelopes) == 1
    assert len(mailbox.message_ids("Sent")) == 1

    # not in Sent (died between the claim and SMTP): it is sent
    second = queue_reply(store, conversation, "One more thing.", agent="ana")
    claimed = store.claim_due(later(), dt.timedelta(0))  # claimed, its lease over at once
    assert claimed["outbox_id"] == second.outbox_id
    store.set_mail_id(second.message_id, "<never-sent@desk.example>")
    assert deliver_due(config, store, later()).sent == 1 and len(smtp_server.envelopes) == 2


@pytest.mark.integration
def test_dying_between_smtp_and_the_sent_copy_sends_no_second_copy(tmp_path, store, mailbox, smtp_server,
                                                                  monkeypatch):
    config = desk(tmp_path, mailbox, smtp_server.port)
    mailbox.deliver(make_email(subject="Refund", message_id="<r2@customer.example>"))
    sync.run(config, store)
    queued = queue_reply(store, only_conversation(store), "Refunded.", agent="ana")

    def killed(self, *args):  # the process dies while confirming the copy, after the 250
        raise KeyboardInterrupt

    monkeypatch.setattr(ImapChannel, "_confirm", killed)
    with pytest.raises(KeyboardInterrupt):
        deliver_due(config, store, later())
    monkeypatch.undo()
    assert store.outbox_item(queued.outbox_id)["state"] == "sent"  # recorded the moment SMTP took it
    assert deliver_due(config, store, later() + dt.timedelta(hours=1)).sent == 0
    assert len(smtp_server.envelopes) == 1


@pytest.mark.integration
def test_a_failed_send_is_retried_later_with_one_clear_error(tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, free_port())  # nothing listens there
    mailbox.deliver(make_email(subject="Hello", message_id="<h1@customer.example>"))
    sync.run(config, store)
    conversation = only_conversation(store)
    queued = queue_reply(store, conversation, "Hi!", agent="ana")
    result = deliver_due(config, store, later())
    assert result.failed == 1 and "channel support: cannot send over SMTP to 127.0.0.1:" in result.errors[0]
    item = store.outbox_item(queued.outbox_id)
    assert item["state"] == "queued" and item["tries"] == 1 and item["next_try_at"] > item["created_at"]
    assert mailbox.message_ids("Sent") == []


@pytest.mark.integration
def test_refused_smtp_login_names_the_channel_not_the_password(tmp_path, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server.port, smtp_username="x", smtp_password="wrong")
    with pytest.raises(ChannelError) as denied:
        open_channel(config.channels[0]).send(outbound())
    assert str(denied.value).startswith("channel support: SMTP login refused for 'x'")
    assert "wrong" not in str(denied.value)
    assert smtp_server.envelopes == []


# an encoded word inside an inbound Message-ID decodes to CR LF when a header is written:
# it must never reach a header (or the body) of our reply
EXPLOITS = [
    "<m=?utf-8?b?DQpCY2M6IHZpY3RpbTEwQGV2aWwudGVzdA==?=@cust.test>",  # "\r\nBcc: victim10@evil.test"
    "<m=?utf-8?b?DQpDb250ZW50LVR5cGU6IHRleHQvaHRtbA0KDQo8aDE+UEhJU0g8L2gxPg==?=@cust.test>",  # a new body
    "<m=?utf-8?q?=0D=0ABcc:_victim@evil.test?=@cust.test>",
]


@pytest.mark.integration
@pytest.mark.parametrize("exploit", EXPLOITS)
@pytest.mark.parametrize("header", ["message_id", "in_reply_to", "references"])
def test_an_encoded_word_in_a_threading_header_never_reaches_our_reply(tmp_path, store, mailbox, smtp_server,
                                                                      exploit, header):
    config = desk(tmp_path, mailbox, smtp_server.port)
    ids = {"message_id": "<ok1@cust.test>", "in_reply_to": None, "references": None, header: exploit}
    lines = ["From: Mike Jones <mike@customer.example>", "To: support@desk.example", "Subject: hello",
             "Date: Mon, 30 Nov 2026 10:00:00 +0000", f"Message-ID: {ids['message_id']}"]
    lines += [f"In-Reply-To: {ids['in_reply_to']}"] * bool(ids["in_reply_to"])
    lines += [f"References: {ids['references']}"] * bool(ids["references"])
    mailbox.deliver(("\r\n".join(lines) + "\r\n\r\nhello there\r\n").encode())
    assert sync.run(config, store).ok
    conversation = only_conversation(store)
    [inbound] = [m for m in store.messages(conversation) if m["direction"] == "in"]
    assert any("unsafe Message-ID" in str(p) for p in inbound["problems"])
    queue_reply(store, conversation, "hi", agent="ana")
    assert deliver_due(config, store, later()).sent == 1
    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == ["mike@customer.example"]
    head, _, body = envelope.content.partition(b"\r\n\r\n")
    assert b"=?" not in head and b"victim" not in envelope.content.lower() and b"PHISH" not in envelope.content
    sent = email.message_from_bytes(envelope.content)
    assert sent.get_content_type() == "text/plain" and "bcc" not in [k.lower() for k in sent.keys()]
    assert sent.get_payload(decode=True).strip() == b"hi"
    filed = mailbox.message_ids("Sent")
    assert filed == [sent["Message-ID"]]


# the same through the subject and the sender's name: encoded twice, they decode once when
# stored, to text that is itself an encoded word of CR LF + a header
def _twice(inner: str) -> str:
    import base64
    return "=?utf-8?b?" + base64.b64encode(inner.encode()).decode() + "?="


INNER = ["=?utf-8?b?DQpCY2M6IHZpY3RpbTEwQGV2aWwudGVzdA==?=",
         "=?utf-8?b?DQpDb250ZW50LVR5cGU6IHRleHQvaHRtbA0KDQo8aDE+UEhJU0g8L2gxPg==?=",
         "=?utf-8?q?=0D=0ABcc:_victim@evil.test?="]


@pytest.mark.integration
@pytest.mark.parametrize("inner", INNER)
@pytest.mark.parametrize("where", ["subject", "from_name"])
def test_an_encoded_word_in_a_subject_or_name_never_reaches_our_reply(tmp_path, store, mailbox, smtp_server,
                                                                      inner, where):
    config = desk(tmp_path, mailbox, smtp_server.port)
    subject = _twice(inner) if where == "subject" else "hello"
    sender = f"{_twice(inner)} <mike@customer.example>" if where == "from_name" else "Mike <mike@customer.example>"
    lines = [f"From: {sender}", "To: support@desk.example", f"Subject: {subject}",
             "Date: Mon, 30 Nov 2026 10:00:00 +0000", "Message-ID: <ok2@cust.test>"]
    mailbox.deliver(("\r\n".join(lines) + "\r\n\r\nhello there\r\n").encode())
    assert sync.run(config, store).ok
    conversation = only_conversation(store)
    queue_reply(store, conversation, "hi", agent="ana")
    assert deliver_due(config, store, later()).sent == 1
    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == ["mike@customer.example"]
    sent = email.message_from_bytes(envelope.content)
    assert [k.lower() for k in sent.keys()].count("bcc") == 0 and b"PHISH" not in envelope.content
    assert sent.get_content_type() == "text/plain" and sent.get_payload(decode=True).strip() == b"hi"
    filed = mailbox.message_ids("Sent")
    assert filed == [sent["Message-ID"]]
