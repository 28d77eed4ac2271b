"""The loop guard: one case per class, each with the class and whether we may auto-reply."""

from email import message_from_string

import pytest

from tui_desk.rules.guard import classify, may_auto_reply


def _mail(headers: str, body: str = "hi\n", ctype: str = "text/plain") -> object:
    return message_from_string(f"{headers}Content-Type: {ctype}\n\n{body}")


@pytest.mark.parametrize(("headers", "address", "subject", "expected"), [
    ("Auto-Submitted: auto-replied\n", "ana@example.com", "Re: hi", "auto"),
    ("Auto-Submitted: auto-generated\n", "ana@example.com", "hi", "auto"),
    ("Auto-Submitted: auto-notified\n", "ana@example.com", "hi", "auto"),
    ("Auto-Submitted: no\n", "ana@example.com", "hi", "human"),
    ("Precedence: bulk\n", "news@shop.example", "deals", "bulk"),
    ("List-Id: <dev.lists.example>\n", "bob@example.com", "patch", "bulk"),
    ("Return-Path: <>\n", "x@example.com", "hi", "bounce"),
    ("", "MAILER-DAEMON@mx.example", "Undelivered Mail", "bounce"),
    ("", "ana@corp.example", "Automatic reply: your ticket", "auto"),
    ("X-Tui-Desk-Loop: desk.example\nAuto-Submitted: auto-replied\n", "help@desk.example", "Re: hi", "self"),
    ("Message-ID: <abc@desk.example>\n", "someone@elsewhere.example", "hi", "self"),
    ("", "agent@desk.example", "note", "agent"),
    ("", "carol@example.com", "where is my order", "human"),
])
def test_class_and_auto_reply(headers, address, subject, expected):
    klass = classify(_mail(headers), address, subject, own_domains=frozenset({"desk.example"}),
                     agents=frozenset({"agent@desk.example"}))
    assert klass == expected
    assert (may_auto_reply(klass, address) is None) == (expected == "human")


def test_delivery_report_is_bounce():
    msg = _mail("", "report\n", 'multipart/report; report-type=delivery-status; boundary="b"')
    assert classify(msg, "x@example.com") == "bounce"


def test_force_reply_passes_class_but_never_noreply():
    assert may_auto_reply("auto", "ana@example.com", force=True) is None
    assert may_auto_reply("human", "no-reply@shop.example", force=True) is not None
    assert may_auto_reply("human", "postmaster@example.com") is not None
