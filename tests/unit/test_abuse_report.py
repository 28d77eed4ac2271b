"""Abuse reports (ARF, RFC 5965) and other machine reports: the parser marks them
automatic and the loop guard never takes them for a person, in every shape seen."""

from __future__ import annotations

import datetime as dt
import email

import pytest

from tests.helpers import store_api
from tests.helpers.mail import deliver, make_maildir
from tui_desk import config as config_mod, sync
from tui_desk.parse.auto import report_type
from tui_desk.parse.mail import parse_email
from tui_desk.rules.guard import classify, may_auto_reply
from tui_desk.store import Store

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)

# the example of RFC 5965, appendix B.1, with the Content-Type left to each case
ARF = """\
From: <abusedesk@example.com>
Date: Thu, 8 Mar 2005 17:40:36 EDT
Subject: FW: Earn money
To: <abuse@example.net>
MIME-Version: 1.0
Message-ID: <arf-{n}@example.com>
Content-Type: {ctype}

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.  For more information
about this format please see http://www.mipassoc.org/arf/.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <somespammer@example.net>
Source-IP: 192.0.2.1

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: {disposition}

From: <somespammer@example.net>
Received: from mailserver.example.net (mailserver.example.net [192.0.2.1])
Subject: Earn money
To: <Undisclosed Recipients>
Message-ID: <8787KJKJ3K4J3K4J3K4J3.mail@example.net>

Spam Spam Spam
--part1_13d.2e68ed54_boundary--
"""
B = 'boundary="part1_13d.2e68ed54_boundary"'
SHAPES = {
    "rfc 5965": f"multipart/report; report-type=feedback-report;\n     {B}",
    "quoted": f'multipart/report; report-type="feedback-report"; {B}',
    "upper case": f"Multipart/Report; Report-Type=Feedback-Report; {B}",
    "boundary first": f"multipart/report; {B}; report-type=feedback-report",
    "rfc 2231": f"multipart/report; report-type*=us-ascii''feedback-report; {B}",
    "comment": f"multipart/report; report-type=feedback-report (ARF); {B}",
    "in multipart/mixed": f"multipart/mixed; {B}",
}


def arf(ctype: str, n: int = 1, disposition: str = "inline", crlf: bool = False) -> bytes:
    raw = ARF.format(ctype=ctype, n=n, disposition=disposition).encode()
    return raw.replace(b"\n", b"\r\n") if crlf else raw


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("crlf", [False, True])
def test_abuse_report_is_automatic_and_bounce_like(shape, crlf):
    raw = arf(SHAPES[shape], crlf=crlf)
    parsed = parse_email(raw, NOW)
    assert (parsed.automatic, parsed.loop_class) == ("abuse report", "bounce")
    assert report_type(email.message_from_bytes(raw)) == "feedback-report"
    klass = classify(email.message_from_bytes(raw), parsed.sender_address, parsed.subject)
    assert klass == "bounce"
    assert may_auto_reply(klass, parsed.sender_address) is not None


def test_abuse_report_whose_body_breaks_the_parser_keeps_its_mark():
    """8-bit bytes in a part header made the whole parse fall back to raw; the mark
    comes from the top headers then."""
    raw = arf(SHAPES["rfc 5965"], disposition='inline; filename="résumé.eml"')  # raw UTF-8, unencoded
    parsed = parse_email(raw, NOW)
    assert (parsed.automatic, parsed.loop_class) == ("abuse report", "bounce")
    assert classify(email.message_from_bytes(raw), "abusedesk@example.com", "FW: Earn money") == "bounce"


def test_read_receipts_and_other_reports_are_automatic_for_both():
    for ctype, reason, klass in (
        ('multipart/report; report-type=disposition-notification; boundary="b"', "read receipt", "auto"),
        ('multipart/report; report-type=delivery-status; boundary="b"', "delivery report", "bounce"),
        ('multipart/report; report-type=x-vendor-thing; boundary="b"', "report", "auto"),
        ("message/feedback-report", "abuse report", "bounce"),
        ("message/delivery-status", "delivery report", "bounce"),
    ):
        raw = (f"From: robot@isp.example\r\nSubject: report\r\nContent-Type: {ctype}\r\n\r\n"
               "--b\r\nContent-Type: text/plain\r\n\r\nreport\r\n--b--\r\n").encode()
        assert parse_email(raw, NOW).automatic == reason, ctype
        assert classify(email.message_from_bytes(raw), "robot@isp.example", "report") == klass, ctype
    person = b"From: ana@example.com\r\nSubject: hi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" \
             b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    assert parse_email(person, NOW).automatic is None
    assert classify(email.message_from_bytes(person), "ana@example.com", "hi") == "human"


def test_synced_abuse_report_does_not_count_as_the_customer_writing(tmp_path):
    maildir = make_maildir(tmp_path / "mail")
    deliver(maildir, arf(SHAPES["rfc 5965"]))
    conf = config_mod.from_dict({"channels": [{"name": "mail", "kind": "maildir", "path": str(maildir)}]},
                                tmp_path / "config.toml")
    with Store.open(tmp_path / "desk.db") as store:
        assert sync.run(conf, store).channels["mail"].new == 1
        [message] = store_api.messages(store)
        conversation = store.conversation(message["conversation_id"])
        assert (message["automatic"], conversation["last_inbound_at"]) == ("abuse report", None)
