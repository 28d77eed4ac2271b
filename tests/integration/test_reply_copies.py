"""Cc, Bcc and attachments on email replies, through the CLI's entry point, read back
from a real aiosmtpd and from the Sent folder of a real Dovecot."""

from __future__ import annotations

import email
import email.policy
import json

import pytest

from tests.helpers.dovecot import dovecot, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email

from tests.integration.test_email_send import smtp_server  # noqa: F401 (fixture)
from tests.unit.test_sync import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def mail_desk(tmp_path, mailbox, smtp_server):
    path = toml_config(tmp_path / "config.toml", [mailbox.config(smtp_host="127.0.0.1", smtp_port=smtp_server.port)],
                       database=tmp_path / "desk.db",
                       desk={"support_address": "support@desk.example", "name": "Desk Support",
                             "attachment_limit_mb": 1})
    mailbox.deliver(make_email(subject="Invoice copy please", message_id="<inv1@customer.example>"))
    base = ("--config", str(path))
    assert run_cli(*base, "sync").returncode == 0
    return base, mailbox, smtp_server


def sent_copies(box) -> list[email.message.EmailMessage]:
    folder = box.folder_dir("Sent")
    return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
            for sub in ("cur", "new") for f in sorted((folder / sub).iterdir())]


def test_a_reply_with_cc_bcc_and_a_file_reaches_everyone_and_sent_keeps_it(tmp_path, mail_desk):
    base, box, smtp = mail_desk
    invoice = tmp_path / "invoice-1234.pdf"
    invoice.write_bytes(b"%PDF-1.4 the invoice\x00\xff")
    done = run_cli(*base, "reply", "1", "--text", "Please find attached your invoice.", "--now", "--json",
                   "--cc", "accounts@customer.example", "--bcc", "books@desk.example", "--attach", str(invoice))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state"] == "sent"
    (envelope,) = smtp.envelopes
    assert sorted(envelope.rcpt_tos) == ["accounts@customer.example", "books@desk.example", "mike@customer.example"]
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert sent["Cc"] == "accounts@customer.example" and sent["Bcc"] is None, "Bcc only on the envelope"
    (part,) = list(sent.iter_attachments())
    assert part.get_filename() == "invoice-1234.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_content() == b"%PDF-1.4 the invoice\x00\xff"
    assert "Please find attached your invoice." in sent.get_body(("plain",)).get_content()
    (copy,) = sent_copies(box)
    assert copy["Message-ID"] == sent["Message-ID"] and copy["Bcc"] is None
    assert [p.get_filename() for p in copy.iter_attachments()] == ["invoice-1234.pdf"]
    shown = json.loads(run_cli(*base, "conversations", "show", "1", "--json").stdout)
    out = [m for m in shown["messages"] if m["direction"] == "out"][0]
    assert [a["filename"] for a in out["attachments"]] == ["invoice-1234.pdf"], "the thread shows what was sent"


@pytest.mark.parametrize("args,problem", [
    (["--cc", "not an address"], "not a usable email address"),
    (["--bcc", "x@y.example\r\nBcc: evil@example.org"], "not a usable email address"),
    (["--attach", "/no/such/file.pdf"], "cannot attach /no/such/file.pdf"),
    (["--note", "--cc", "a@b.example"], "an internal note has no Cc"),
])
def test_bad_copies_are_refused_and_nothing_is_queued(mail_desk, args, problem):
    base, _, smtp = mail_desk
    done = run_cli(*base, "reply", "1", "--text", "x", *args)
    assert done.returncode == 2 and problem in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert run_cli(*base, "outbox", "list", "--json").stdout.strip() == "[]"


def test_attachments_over_the_limit_are_refused_naming_the_key(tmp_path, mail_desk):
    base, _, _ = mail_desk
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    done = run_cli(*base, "reply", "1", "--text", "x", "--attach", str(big))
    assert done.returncode == 2 and "attachment_limit_mb (1 MB)" in done.stderr


def test_reply_all_keeps_whom_the_customer_copied_but_never_us(tmp_path, mailbox, smtp_server):
    path = toml_config(tmp_path / "config.toml", [mailbox.config(smtp_host="127.0.0.1", smtp_port=smtp_server.port)],
                       database=tmp_path / "desk.db", desk={"support_address": "support@desk.example"})
    mailbox.deliver(make_email(subject="Invoice for our team", message_id="<all1@customer.example>",
                               headers={"Cc": "Ann Lee <ann@customer.example>, support@desk.example,"
                                              " Mike Jones <mike@customer.example>"}))
    base = ("--config", str(path))
    assert run_cli(*base, "sync").returncode == 0
    done = run_cli(*base, "reply", "1", "--text", "Sent to you both.", "--all", "--now")
    assert done.returncode == 0, done.stderr
    (envelope,) = smtp_server.envelopes
    assert sorted(envelope.rcpt_tos) == ["ann@customer.example", "mike@customer.example"]
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert sent["Cc"] == "ann@customer.example"
