"""Parsing never raises, keeps the raw bytes, and recognises what it must."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from tui_desk.parse.chat import parse_chat_line
from tui_desk.parse.mail import parse_email
from tui_desk.textsafe import clean, one_line, safe_json

from tests.helpers.mail import make_email

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)


def test_plain_email_fields():
    raw = make_email("Mike Jones <Mike@Customer.Example>", "Where is my order?", "Hi, not here yet.",
                     message_id="<m1@c.example>", date="Mon, 02 Mar 2026 11:00:00 +0100")
    msg = parse_email(raw, NOW)
    assert (msg.sender_name, msg.sender_address) == ("Mike Jones", "mike@customer.example")
    assert msg.subject == "Where is my order?" and msg.text == "Hi, not here yet."
    assert msg.external_id == msg.message_id == "<m1@c.example>"
    assert msg.created_at == dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
    assert msg.raw == raw and msg.problems == [] and msg.automatic is None


def test_rfc2047_subject_and_name_in_legacy_charsets():
    name = base64.b64encode("李明".encode("gb2312"))
    raw = (b"From: =?GB2312?B?" + name + b"?= <li@x.example>\r\nSubject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\r\n"
           b"Message-ID: <j@x>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
           b"Content-Type: text/plain; charset=tis-620\r\n\r\n" + "สวัสดีครับ".encode("tis-620"))
    msg = parse_email(raw, NOW)
    assert msg.sender_name == "李明" and msg.subject == "こんにちは"
    assert msg.text == "สวัสดีครับ" and msg.problems == []


def test_wrong_charset_label_is_detected_and_flagged():
    body = "Grüße aus München, die Bestellung ist nicht angekommen.".encode("utf-8")
    raw = (b"From: a@x.example\r\nSubject: x\r\nMessage-ID: <w@x>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + body)
    msg = parse_email(raw, NOW)
    assert "München" in msg.text
    assert any("us-ascii" in p for p in msg.problems)


def test_html_only_mail_becomes_readable_text():
    raw = (b"From: a@x.example\r\nSubject: Form\r\nMessage-ID: <h@x>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n"
           b"Content-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><body><p>Order <b>1234</b></p><table><tr><td>Size</td><td>M</td></tr></table>"
           b"<script>alert(1)</script></body></html>")
    msg = parse_email(raw, NOW)
    assert "Order 1234" in msg.text and "Size" in msg.text and "alert" not in msg.text
    assert "<p>" in msg.html


def test_quoted_history_is_split_off_but_kept():
    body = "Still nothing arrived.\n\nOn Mon, 2 Mar 2026 at 09:00, Support <s@desk.example> wrote:\n> We shipped it.\n"
    msg = parse_email(make_email(body=body), NOW)
    assert msg.text == "Still nothing arrived."
    assert msg.quoted.startswith("On Mon, 2 Mar 2026") and "> We shipped it." in msg.quoted


@pytest.mark.parametrize("headers, sender, reason", [
    ({"Auto-Submitted": "auto-replied"}, "a@x.example", "auto-submitted: auto-replied"),
    ({"X-Autoreply": "yes"}, "a@x.example", "auto-reply header"),
    ({"Precedence": "bulk"}, "a@x.example", "precedence: bulk"),
    ({"List-Id": "<news.x.example>"}, "a@x.example", "mailing list"),
    ({}, "MAILER-DAEMON@x.example", "no-reply sender"),
    ({}, "no-reply@shop.example", "no-reply sender"),
    ({"Auto-Submitted": "no"}, "a@x.example", None),
])
def test_machine_mail_is_marked(headers, sender, reason):
    assert parse_email(make_email(sender, headers=headers), NOW).automatic == reason


def test_delivery_report_is_marked():
    raw = (b"From: postmaster@x.example\r\nSubject: Undelivered\r\nMessage-ID: <d@x>\r\n"
           b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n")
    assert parse_email(raw, NOW).automatic in ("delivery report", "no-reply sender")


def test_attachment_is_extracted():
    from email.message import EmailMessage
    m = EmailMessage()
    m["From"], m["Subject"], m["Message-ID"] = "a@x.example", "photo", "<p@x>"
    m.set_content("see attached")
    m.add_attachment(b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", filename="Schäden.png")
    msg = parse_email(m.as_bytes(), NOW)
    assert msg.text == "see attached"
    assert [(a.filename, a.content_type, a.data) for a in msg.attachments] == [("Schäden.png", "image/png", b"\x89PNG\r\n\x1a\nfake")]


@pytest.mark.parametrize("raw", [
    b"", b"\x00\x01\x02", b"From: \r\n\r\n", b"Subject: =?utf-8?B?broken", b"Date: yesterday\r\n\r\nbody",
    b"Content-Type: multipart/mixed\r\n\r\nno boundary", b"Message-ID: <<<>>>\r\nReferences: <a@b> <c@d\r\n\r\nx",
    b"From: \"unterminated <a@x\r\n\r\nx", b"Content-Type: text/plain; charset=\"\"\r\n\r\n\xff\xfe",
])
def test_hostile_input_never_raises_and_keeps_raw(raw):
    msg = parse_email(raw, NOW)
    assert msg.raw == raw and msg.external_id


def test_header_injection_in_a_decoded_subject_stays_one_line():
    raw = b"From: a@x.example\r\nSubject: =?utf-8?Q?Re=3A_hi=0D=0ABcc=3A_victim=40x.example?=\r\n\r\nx"
    assert parse_email(raw, NOW).subject == "Re: hi Bcc: victim@x.example"


def test_chat_line():
    msg = parse_chat_line('{"id": "c1", "conversation": "r1", "sender_id": "@a:x", "sender_name": "Ana",'
                          ' "text": "hi 😀", "time": "2026-03-02T11:00:00+01:00"}'.encode(), NOW)
    assert (msg.external_id, msg.thread_key, msg.sender_address, msg.text) == ("c1", "r1", "@a:x", "hi 😀")
    assert msg.received_at == NOW and msg.problems == []


@pytest.mark.parametrize("line", [b"not json", b"[1,2]", b'{"conversation": "r"}', b"\xff\xfe"])
def test_bad_chat_lines_are_kept_and_flagged(line):
    msg = parse_chat_line(line, NOW)
    assert msg.problems and msg.raw == line and msg.thread_key


@pytest.mark.parametrize("dirty, shown", [
    ("\x1b[2Jcleared", "cleared"),
    ("\x1b]8;;http://x\x07link\x1b]8;;\x07", "link"),
    ("a\x9b31mb", "ab"),
    ("abc\u202edcba", "abcdcba"),
    ("[bold red]x[/]", "[bold red]x[/]"),
    ("line1\r\nline2\x00", "line1\nline2"),
])
def test_clean_removes_escapes_and_keeps_markup_as_text(dirty, shown):
    assert clean(dirty) == shown


def test_one_line_and_safe_json():
    assert one_line("a\n b\t\x1b[1m c") == "a b c"
    assert safe_json({"t": "x\x1b[2J\x9by 退款"}) == '{\n  "t": "x\\u001b[2J\\u009by 退款"\n}'


def test_the_customer_is_who_a_reply_goes_to():
    raw = make_email("Kwame via Web Form <forms@shop.example>", headers={"Reply-To": "Kwame Asante <kwame@x.example>"})
    msg = parse_email(raw, NOW)
    assert (msg.sender_name, msg.sender_address) == ("Kwame Asante", "kwame@x.example")


def test_html_rendering_keeps_layout_and_drops_what_is_not_text():
    from tui_desk.parse.html import html_to_text

    text = html_to_text("<p>Hello <b>there</b><!-- note --> you</p><ul><li>one</li><li>two</li></ul>"
                        "<table><tr><td>Size</td><td>M</td></tr><tr><td>Colour</td><td>red</td></tr></table>"
                        "<style>p{color:red}</style>line<br>break<script>alert(1)</script>")
    assert text == "Hello there you\n\n- one\n- two\n\nSize | M\nColour | red\n\nline\nbreak"
    assert html_to_text("") == "" and html_to_text("just text") == "just text"
    deep = "<div>" * 5000 + "deep" + "</div>" * 5000
    assert "deep" in html_to_text(deep), "hostile nesting is text, not a crash"
