"""The satisfaction survey end to end over email: a real Dovecot (the support mailbox)
and a real aiosmtpd (which receives what the desk sends), `tui-desk sync` and
`tui-desk report` run as the commands they are."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import time

import pytest

from tests.helpers import store_api
from tests.helpers.dovecot import dovecot, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.mail import make_email
from tests.integration.test_outbox_uncertain import cli, smtp_server  # noqa: F401 (fixture)
from tui_desk import config as config_mod, sync
from tui_desk.outbox import deliver_due, queue_reply
from tui_desk.store import parse_stamp

DELAY = 1.0  # seconds: [survey] delay = "1s"
CUSTOMER = "Mike Jones <mike@customer.example>"


def desk(tmp_path, box, server):
    path = toml_config(tmp_path / "config.toml",
                       [box.config(smtp_host="127.0.0.1", smtp_port=server.port)],
                       database=tmp_path / "desk.db",
                       desk={"support_address": "support@desk.example", "name": "Desk Support",
                             "company": "Desk Ltd"},
                       agent={"name": "ana"}, survey={"enabled": True, "delay": "1s"})
    return config_mod.load(path)


def solved(config, store, box, server) -> int:
    """A customer writes, ana answers and solves it; the answer reaches the SMTP server."""
    box.deliver(make_email(CUSTOMER, "Where is my order?", "My order 51234 has not arrived.",
                           message_id="<q1@customer.example>"))
    assert sync.run(config, store).ok
    cid = max(store_api.conversation_ids(store))
    queue_reply(store, cid, "It left our warehouse today; tracking follows.", agent="ana", status="solved")
    assert sync.run(config, store).sent == 1 and len(server.copies) == 1
    return cid


def wait_out_the_delay(config, store, cid) -> None:
    solved_at = parse_stamp(store.conversation(cid)["solved_at"])
    # before the delay is over nothing goes (judged at an instant inside it, whatever the machine's speed)
    assert sync.run(config, store, now=solved_at + dt.timedelta(seconds=DELAY / 2)).surveys.queued == 0
    left = (solved_at + dt.timedelta(seconds=DELAY) - dt.datetime.now(dt.timezone.utc)).total_seconds()
    time.sleep(max(0.0, left) + 0.05)  # the delay is over for sure; what follows does not depend on timing


def answer(box, survey: email.message.Message, body: str) -> None:
    box.deliver(make_email(CUSTOMER, "Re: " + survey["Subject"].removeprefix("Re: "), body,
                           in_reply_to=survey["Message-ID"]))


@pytest.mark.integration
def test_survey_after_the_delay_answer_recorded_and_reported(tmp_path, store, mailbox, smtp_server):
    config = desk(tmp_path, mailbox, smtp_server)
    cid = solved(config, store, mailbox, smtp_server)
    wait_out_the_delay(config, store, cid)
    assert len(smtp_server.copies) == 1

    rc, out, err = cli(config, "sync", "--json")
    assert rc == 0, err
    done = json.loads(out)
    assert done["surveys"] == {"queued": 1, "skipped": 0, "answers": 0} and done["outbox"]["sent"] == 1
    assert len(smtp_server.copies) == 2
    survey = email.message_from_bytes(smtp_server.copies[-1], policy=email.policy.default)
    assert survey["To"].addresses[0].addr_spec == "mike@customer.example"
    assert survey["Subject"] == f"Re: Where is my order? [#{cid}]"
    assert survey["In-Reply-To"] == "<q1@customer.example>"
    assert survey["Auto-Submitted"] == "auto-replied"        # an automatic message (RFC 3834)
    body = survey.get_body(("plain",)).get_content()
    assert "1 (bad) to 5 (great)" in body and "what could we do better?" in body

    answer(mailbox, survey, "4 thanks!\n\nOn Thu, Desk Support <support@desk.example> wrote:\n"
                            "> Reply with a number from 1 (bad) to 5 (great).\n")
    rc, out, err = cli(config, "sync", "--json")
    assert rc == 0, err
    assert json.loads(out)["surveys"]["answers"] == 1
    events = [e["data"] for e in store.events(cid) if e["kind"] == "satisfaction"]
    assert [(e["score"], e["comment"]) for e in events] == [(4, "thanks!")]
    assert store.conversation(cid)["status"] == "solved"
    assert len(smtp_server.copies) == 2      # nothing was sent back to the answer

    # until the end of tomorrow: "now" is read to the second, the answer came within this one
    tomorrow = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)).date().isoformat()
    rc, out, err = cli(config, "report", "summary", "--since", "1d", "--until", tomorrow, "--format", "json")
    assert rc == 0, err
    assert json.loads(out)["satisfaction"] == {"answers": 1, "average": 4.0, "csat": 1.0, "happiness": 100.0,
                                               "surveys_sent": 1, "surveys_answered": 1, "response_rate": 1.0}


@pytest.mark.integration
@pytest.mark.parametrize("crash", ["waiting for the 250", "after filing in Sent"])
def test_a_crash_between_send_and_record_sends_no_second_survey(tmp_path, store, mailbox, smtp_server, crash):
    config = desk(tmp_path, mailbox, smtp_server)
    cid = solved(config, store, mailbox, smtp_server)
    wait_out_the_delay(config, store, cid)
    if crash == "waiting for the 250":   # the server has the whole survey, the sync dies before its 250
        smtp_server.mode = "kill-before"
        rc, _, err = cli(config, "sync", server=smtp_server)
        assert len(smtp_server.copies) == 2
    else:                                # the copy is in Sent, the sync dies before DATA
        rc, _, err = cli(config, "sync", helper="killsend.py", env={"KILL_AT": "after-append"})
    assert rc == -9, err
    # every later sync, past every lease, backoff, check delay and the cooldown's end
    for later in (dt.timedelta(0), dt.timedelta(hours=3), dt.timedelta(days=2), dt.timedelta(days=40)):
        at = dt.datetime.now(dt.timezone.utc) + later
        sync.run(config, store, now=at)
        deliver_due(config, store, at)
    assert len(store.surveys()) == 1
    assert [o["automatic"] for o in store_api.outbox(store)].count(1) == 1
    assert len(smtp_server.copies) - 1 == (1 if crash == "waiting for the 250" else 0)  # ana's reply, then surveys
