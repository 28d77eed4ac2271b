"""Inbound Message-IDs are tokens: an encoded word or control character in one never
reaches a header of our replies (issue 22 item 1)."""

import datetime as dt

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
