"""Email parsing details and threading: machine-sent mail recognised, 8-bit and encoded
headers, attachments and invitations, and how replies find their conversation."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.helpers.hostile import eight_bit_attachment, nested
from tests.helpers.mail import make_email
from tui_desk import threads
from tui_desk.parse.mail import MAX_DEPTH, NESTED_NAME, parse_email
from tui_desk.model import ParsedMessage

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)


def parse(raw: bytes):
    return parse_email(raw, NOW)


@pytest.mark.parametrize("headers,sender,subject,expected", [
    ({"Auto-Submitted": "auto-replied"}, None, None, "auto-submitted: auto-replied"),
    ({"Auto-Submitted": "auto-generated; owner-email=x@y"}, None, None, "auto-submitted: auto-generated"),
    ({"X-Autoreply": "yes"}, None, None, "auto-reply header"),
    ({"X-Autorespond": "1"}, None, None, "auto-reply header"),
    ({"Precedence": "bulk"}, None, None, "precedence: bulk"),
    ({"Precedence": "auto_reply"}, None, None, "precedence: auto_reply"),
    ({"List-Id": "<news.shop.example>"}, None, None, "mailing list"),
    ({"List-Unsubscribe": "<mailto:u@x.example>"}, None, None, "mailing list"),
    ({"Return-Path": "<>"}, None, None, "bounce (empty return path)"),
    ({}, "MAILER-DAEMON@mx.example", None, "no-reply sender"),
    ({}, "no-reply@shop.example", None, "no-reply sender"),
    ({}, "noreply+abc@shop.example", None, "no-reply sender"),
    ({}, None, "Automatic reply: Where is my order?", "auto-reply subject"),
    ({}, None, "Out of Office: back Monday", "auto-reply subject"),
    ({}, None, "Automatische Antwort: Bestellung", "auto-reply subject"),
    ({"Auto-Submitted": "no"}, None, None, None),
    ({}, None, "Re: my car broke, out of office hours?", None),
    ({}, "reply@customer.example", None, None),
])
def test_machine_sent_mail_is_recognised(headers, sender, subject, expected):
    raw = make_email(sender=sender or "Mike <mike@customer.example>", subject=subject or "Hello", headers=headers)
    assert parse(raw).automatic == expected


def test_delivery_and_read_reports():
    for kind, expected in (("delivery-status", "delivery report"), ("disposition-notification", "read receipt")):
        raw = (f"From: x@y.example\r\nContent-Type: multipart/report; report-type={kind}; boundary=b\r\n\r\n"
               "--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n--b--\r\n").encode()
        assert parse(raw).automatic == expected


def test_eight_bit_headers_are_recovered():
    raw = "From: Jürgen <j@customer.example>\r\nSubject: Grüße\r\n\r\nhi".encode("utf-8")
    parsed = parse(raw)
    assert (parsed.subject, parsed.sender_name) == ("Grüße", "Jürgen")
    latin = "From: j@customer.example\r\nSubject: Größe\r\n\r\nhi".encode("latin-1")
    assert parse(latin).subject == "Größe"


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_an_unencoded_8bit_attachment_name_costs_nothing(encoding):
    parsed = parse(eight_bit_attachment(encoding))
    assert (parsed.sender_name, parsed.sender_address) == ("Ana Lopez", "ana@customer.example")
    assert parsed.subject == f"My CV ({encoding})"
    assert parsed.message_id and parsed.message_id.endswith("@customer.example>")
    assert parsed.created_at == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
    assert parsed.text == "Hello, my CV is attached."
    assert [(a.filename, a.content_type, a.data) for a in parsed.attachments] == [
        ("résumé.pdf", "application/pdf", b"%PDF-1.4\n")]
    assert not [p for p in parsed.problems if "unparseable" in p or "unreadable" in p]


NESTED = f"nested deeper than {MAX_DEPTH} levels: kept as {NESTED_NAME}"


def _headers_kept(parsed, subject: str) -> None:
    assert (parsed.sender_name, parsed.sender_address) == ("Bo Deep", "bo@customer.example")
    assert parsed.subject == subject
    assert parsed.message_id and parsed.message_id.endswith("@customer.example>")
    assert parsed.created_at == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
    assert not [p for p in parsed.problems if "unparseable" in p]


def test_a_5000_deep_multipart_keeps_the_headers_and_the_deep_part_as_one_attachment():
    parsed = parse(nested(5000))
    _headers_kept(parsed, "nested 5000")
    assert NESTED in parsed.problems
    [kept] = parsed.attachments
    assert kept.filename == NESTED_NAME and b"deep inside" in kept.data


def test_text_above_a_hostile_nesting_is_still_read():
    deep = nested(5000)
    chain = deep[deep.index(b"\r\n\r\n") + 4:]
    raw = (deep[:deep.index(b"Content-Type:")] + b'Content-Type: multipart/mixed; boundary="top"\r\n\r\n'
           b"--top\r\nContent-Type: text/plain\r\n\r\nHello from the top\r\n"
           b'--top\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n' + chain + b"--top--\r\n")
    parsed = parse(raw)
    _headers_kept(parsed, "nested 5000")
    assert parsed.text == "Hello from the top"
    assert [a.filename for a in parsed.attachments] == [NESTED_NAME] and NESTED in parsed.problems


def test_nesting_up_to_the_limit_is_read_and_deeper_is_one_attachment():
    within = parse(nested(MAX_DEPTH - 1))
    _headers_kept(within, f"nested {MAX_DEPTH - 1}")
    assert (within.text, within.attachments) == ("deep inside", [])
    assert NESTED not in within.problems
    beyond = parse(nested(MAX_DEPTH + 10))  # deep, but not too deep for the feed parser
    _headers_kept(beyond, f"nested {MAX_DEPTH + 10}")
    assert beyond.text == "" and NESTED in beyond.problems
    [kept] = beyond.attachments
    assert kept.filename == NESTED_NAME and b"deep inside" in kept.data


def test_a_bug_below_the_headers_still_keeps_the_customer(monkeypatch):
    import tui_desk.parse.mail as mail

    def broken(text):
        raise AttributeError("a bug")
    monkeypatch.setattr(mail, "split_reply", broken)  # fails after the body was read
    parsed = parse(eight_bit_attachment("utf-8"))
    assert (parsed.sender_name, parsed.sender_address) == ("Ana Lopez", "ana@customer.example")
    assert parsed.subject == "My CV (utf-8)" and parsed.message_id and parsed.external_id == parsed.message_id
    assert parsed.created_at == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc)
    assert "unparseable (AttributeError); shown raw" in parsed.problems and "Hello, my CV" in parsed.text


def test_an_encoded_name_cannot_smuggle_an_address():
    raw = b"From: =?utf-8?q?a=0D=0ABcc=3A_evil=40x=2Eexample?= <mike@customer.example>\r\n\r\nhi"
    parsed = parse(raw)
    assert parsed.sender_address == "mike@customer.example"
    assert "\n" not in parsed.sender_name and "\r" not in parsed.sender_name


def test_broken_encoded_word_keeps_the_rest():
    parsed = parse(b"From: a@b.example\r\nSubject: =?utf-8?q?caf=C3=A9?= and =?utf-8?b?!!?=\r\n\r\nx")
    assert parsed.subject.startswith("café and")


def test_html_only_mail_is_rendered_to_text():
    raw = (b"From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><head><style>p{}</style></head><body><p>Hello <b>there</b></p><ul><li>one</li></ul></body></html>")
    parsed = parse(raw)
    assert "Hello there" in parsed.text and "one" in parsed.text and "<" not in parsed.text
    assert parsed.html is not None


def test_quoted_history_is_split_off_but_kept():
    body = "Thanks, that worked!\n\nOn Mon, 23 Nov 2026 at 09:00, Support <s@desk.example> wrote:\n> Try again\n"
    parsed = parse(make_email(body=body))
    assert parsed.text == "Thanks, that worked!"
    assert "Try again" in parsed.quoted


def test_forwarded_mail_and_invitations_are_attachments():
    inner = make_email(subject="inner", body="inner body")
    raw = (b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
           b"--b\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
           b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n"
           b"--b\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
           b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nSUMMARY:Call\r\n"
           b"DTSTART:20261124T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n")
    parsed = parse(raw)
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("message.eml", "message/rfc822"), ("invite.ics", "text/calendar")]
    assert b"inner body" in parsed.attachments[0].data
    assert parsed.text.startswith("see below") and "[Invitation] Call, 2026-11-24 10:00" in parsed.text


def test_missing_message_id_uses_a_content_hash():
    raw = b"From: a@b.example\r\nSubject: x\r\n\r\nbody"
    assert parse(raw).external_id == parse(raw).external_id
    assert parse(raw).external_id.startswith("sha256:")


# -- threading ----------------------------------------------------------------------

def add(store, raw: bytes, when: dt.datetime = NOW, channel: str = "mail") -> int:
    msg = parse_email(raw, when)
    with store.transaction():
        customer = store.customer_for("email", msg.sender_address, msg.sender_name) if msg.sender_address else None
        found = threads.find_conversation(store, channel, msg, customer)
        conversation, _ = store.add_inbound(channel, msg, customer, found, threads.subject_key(msg.subject))
    return conversation


def add_outgoing(store, conversation: int, message_id: str) -> None:
    msg = ParsedMessage(external_id=message_id, kind="email", sender_address="support@desk.example",
                        sender_name="Desk", received_at=NOW, created_at=NOW, direction="out",
                        message_id=message_id, text="our reply")
    with store.transaction():
        store.add_inbound("mail", msg, None, conversation, "")


def test_reply_to_our_outgoing_message_id_joins_the_conversation(store):
    first = add(store, make_email(subject="Broken login", message_id="<c1@customer.example>"))
    add_outgoing(store, first, "<ours-1@desk.example>")
    answer = add(store, make_email(sender="Other <o@elsewhere.example>", subject="different words",
                                   in_reply_to="<ours-1@desk.example>"))
    assert answer == first


def test_ticket_tag_then_subject_within_14_days(store):
    first = add(store, make_email(subject="Invoice question"))
    tagged = add(store, make_email(sender="Colleague <c@customer.example>", subject=f"Fwd: stuff [#{first}]"))
    assert tagged == first
    same = add(store, make_email(subject="RE: AW: invoice   QUESTION"), NOW + dt.timedelta(days=3))
    assert same == first
    late = add(store, make_email(subject="Invoice question"), NOW + dt.timedelta(days=30))
    assert late != first


def test_a_new_subject_starts_a_new_conversation(store):
    assert add(store, make_email(subject="Order 1")) != add(store, make_email(subject="Refund please"))


def test_merge_keeps_both_threading_keys(store):
    a = add(store, make_email(subject="A topic", message_id="<a1@customer.example>"))
    b = add(store, make_email(subject="B topic", message_id="<b1@customer.example>"))
    store.merge(b, a, "tester")
    assert add(store, make_email(subject="x", in_reply_to="<b1@customer.example>")) == a
    assert add(store, make_email(subject=f"Re: [#{b}] y")) == a
    assert len(store.messages(a)) == 4
