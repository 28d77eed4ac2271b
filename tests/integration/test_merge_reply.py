"""A reply after a merge across customers (issue 17) goes to whoever wrote the message it
answers, on their own thread, read from a real aiosmtpd server with mail pulled from a
real Dovecot."""

from __future__ import annotations

import email

import pytest

from tests.helpers.dovecot import dovecot, mailbox  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email
from tests.integration.test_email_send import desk, later, smtp_server  # noqa: F401 (fixture)
from tui_desk import sync
from tui_desk.errors import UsageError
from tui_desk.outbox import deliver_due, queue_reply

GRACE = "Grace Whitfield <grace.whitfield@example.org>"
ZOE = "Zoe Adams <zoe.adams@example.net>"


@pytest.mark.integration
def test_after_a_cross_customer_merge_each_reply_goes_to_whoever_wrote_the_message_it_answers(
        tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server.port)
    mailbox.deliver(make_email(GRACE, "Boots too small", "Can I swap them?", message_id="<g1@example.org>",
                               date="Mon, 04 May 2026 09:00:00 +0000"))
    assert sync.run(config, store).ok
    mailbox.deliver(make_email(ZOE, "Refund", "Where is my refund?", message_id="<z1@example.net>",
                               date="Mon, 04 May 2026 10:00:00 +0000"))
    assert sync.run(config, store).ok
    grace_c = store.message_by_mail_id("<g1@example.org>").conversation_id
    zoe_c = store.message_by_mail_id("<z1@example.net>").conversation_id
    with pytest.raises(UsageError, match="each reply would go to whoever wrote the message it answers"):
        store.merge(zoe_c, grace_c, "ana")
    store.merge(zoe_c, grace_c, "ana", across_customers=True)
    assert [m["author_address"] for m in store.messages(grace_c)][-1] == "zoe.adams@example.net", "Zoe wrote last"

    queue_reply(store, grace_c, "Your refund left today.", agent="ana", config=config)
    assert deliver_due(config, store, later()).sent == 1
    envelope = smtp_server.envelopes[-1]
    sent = email.message_from_bytes(envelope.content)
    assert envelope.rcpt_tos == ["zoe.adams@example.net"], "Zoe's question is answered to Zoe, never to Grace"
    assert sent["To"] == ZOE and sent["In-Reply-To"] == "<z1@example.net>" and sent["Subject"].startswith("Re: Refund")
    assert "<g1@example.org>" not in (sent["References"] or "")

    mailbox.deliver(make_email(GRACE, "Re: Boots too small", "Any news on the swap?", message_id="<g2@example.org>",
                               date="Mon, 04 May 2026 11:00:00 +0000", in_reply_to="<g1@example.org>"))
    assert sync.run(config, store).ok
    assert store.message_by_mail_id("<g2@example.org>").conversation_id == grace_c
    queue_reply(store, grace_c, "We will swap them for a bigger pair.", agent="ana", config=config)
    assert deliver_due(config, store, later()).sent == 1
    envelope = smtp_server.envelopes[-1]
    sent = email.message_from_bytes(envelope.content)
    assert envelope.rcpt_tos == ["grace.whitfield@example.org"] and sent["In-Reply-To"] == "<g2@example.org>"
    assert sent["Subject"].startswith("Re: Boots too small") and "<z1@example.net>" not in (sent["References"] or "")

    store.unmerge(zoe_c, "ana")  # and Zoe is answered in her own conversation again
    queue_reply(store, zoe_c, "Anything else?", agent="ana", config=config)
    assert deliver_due(config, store, later()).sent == 1
    assert smtp_server.envelopes[-1].rcpt_tos == ["zoe.adams@example.net"]
