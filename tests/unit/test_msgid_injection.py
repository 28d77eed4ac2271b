"""Inbound Message-IDs are tokens: an encoded word or control character in one never
reaches a header of our replies (issue 22 item 1)."""

import datetime as dt
import re

import pytest

from tui_desk.parse.mail import parse_email
from tui_desk.textsafe import valid_msgid

EXPLOIT = "<m=?utf-8?b?DQpCY2M6IHZpY3RpbTEwQGV2aWwudGVzdA==?=@cust.test>"
BAD = [EXPLOIT, "<a\rb@x.test>", "<a\nb@x.test>", "<a\x00b@x.test>", "<a\x85b@x.test>",
       "<a\u2028b@x.test>", "<=?utf-8?q?x?=@x.test>", "<a@x.test", "<a b@x.test>", "<noat>",
       "<" + "a" * 300 + "@x.test>", "<é@x.test>"]


@pytest.mark.parametrize("value", BAD)
def test_unsafe_ids_refused(value):
    assert not valid_msgid(value)


def test_plain_ids_accepted():
    assert valid_msgid("<abc.123@cust.test>") and valid_msgid("<a@[127.0.0.1]>")


@pytest.mark.parametrize("header", ["Message-ID", "In-Reply-To", "References"])
def test_parse_drops_encoded_word_id(header):
    raw = (f"From: a@cust.test\r\nSubject: hi\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
           f"{header}: {EXPLOIT}\r\n\r\nbody\r\n").encode()
    parsed = parse_email(raw, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    assert EXPLOIT not in [parsed.message_id, parsed.in_reply_to, *parsed.references]
    assert "unsafe Message-ID dropped from threading" in parsed.problems


# -- every header we write is one line -----------------------------------------------------

import email  # noqa: E402
import email.header  # noqa: E402

from hypothesis import given, strategies as st  # noqa: E402

from tui_desk.channels.base import Outbound  # noqa: E402
from tui_desk.channels.mailout import build_reply  # noqa: E402
from tui_desk.errors import ChannelError, UsageError  # noqa: E402

HOSTILE = st.lists(st.sampled_from(list("ab <>@.=?Qq_:\r\n\x00\x85\u2028\u2029\t\x1b[é中") + [
    "=?utf-8?b?DQpCY2M6IHZAZXZpbC50ZXN0?=", "=?utf-8?q?=0D=0ABcc:_v@evil.test?=", "\r\nBcc: v@evil.test"]),
    max_size=12).map("".join)
REPLY_HEADERS = {"from", "to", "subject", "date", "message-id", "in-reply-to", "references", "auto-submitted",
                 "x-auto-response-suppress", "x-tui-desk-loop", "content-type", "content-transfer-encoding",
                 "mime-version"}


def _one_line_headers(raw: bytes) -> dict[str, str]:
    msg = email.message_from_bytes(raw)
    names = [k.lower() for k in msg.keys()]
    assert len(names) == len(set(names)), names  # nobody added a second To, Bcc or body
    values = {}
    for name in names:
        value = re.sub(r"\r?\n[ \t]", " ", str(msg[name]))  # folding is fine; a line of its own is not
        decoded = str(email.header.make_header(email.header.decode_header(value)))
        assert "\r" not in decoded and "\n" not in decoded, (name, decoded)
        values[name] = decoded
    return values


@given(subject=HOSTILE, to_name=HOSTILE, from_name=HOSTILE, in_reply_to=HOSTILE, reference=HOSTILE,
       automatic=st.booleans())
def test_every_header_of_a_reply_is_one_line_whatever_the_customer_sent(subject, to_name, from_name, in_reply_to,
                                                                           reference, automatic):
    outbound = Outbound(outbox_id=1, txn_id="t", conversation_id=7, thread_key=None, agent="ana", text="hi",
                        subject=subject, to_address="mike@cust.test", to_name=to_name,
                        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), mail_id="<r1@desk.test>",
                        in_reply_to=in_reply_to, references=[reference, "<ok@cust.test>"],
                        from_address="support@desk.test", from_name=from_name, automatic=automatic)
    headers = _one_line_headers(build_reply(outbound, "mail"))
    assert set(headers) <= REPLY_HEADERS and headers["to"].endswith("<mike@cust.test>") or headers["to"] == "mike@cust.test"
    assert "bcc" not in headers and email.message_from_bytes(build_reply(outbound, "mail")).get_payload().strip() == "hi"


@given(address=HOSTILE)
def test_a_hostile_recipient_address_is_refused_or_written_as_one_address(address):
    outbound = Outbound(outbox_id=1, txn_id="t", conversation_id=7, thread_key=None, agent="ana", text="hi",
                        subject="s", to_address=address, to_name="", created_at=dt.datetime(2026, 1, 1,
                                                                                             tzinfo=dt.timezone.utc),
                        mail_id="<r1@desk.test>", from_address="support@desk.test")
    try:
        raw = build_reply(outbound, "mail")
    except ChannelError:
        return
    headers = _one_line_headers(raw)
    assert headers["to"] == address.strip() and "," not in headers["to"]


@given(subject=HOSTILE)
def test_a_page_email_refuses_a_line_break_in_any_header(subject):
    from tui_desk.channels.smtp import message
    try:
        msg = message(sender="pager@desk.test", to=["ana@desk.test"], subject=subject, text="x")
    except UsageError:
        assert re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", subject)
        return
    _one_line_headers(msg.as_bytes())
