"""The satisfaction survey end to end over chat: a real Synapse on 127.0.0.1, the
customer's own Matrix client answering in the room."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from tui_desk import config as config_mod, outbox, sync
from tui_desk.reports import make_period
from tui_desk.reports.kpis import summary
from tui_desk.store import Store, parse_stamp

from tests.helpers import store_api
from tests.helpers import synapse as hs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with hs.running(tmp_path_factory.mktemp("synapse")) as synapse:
        support = synapse.register("support")
        ana = hs.Client(synapse, synapse.register("ana"))
        yield SimpleNamespace(synapse=synapse, support=support, ana=ana)
        ana.close()


@pytest.fixture
def desk(tmp_path, server):
    channel = {"name": "chat", "kind": "matrix", "homeserver": server.synapse.url,
               "user_id": server.support.user_id, "access_token": server.support.token}
    config = config_mod.from_dict({"channels": [channel], "survey": {"enabled": True}}, tmp_path / "config.toml")
    with Store.open(tmp_path / "desk.db") as store:
        yield config, store


def solved_chat(config, store, server, text) -> tuple[str, int]:
    room = server.ana.create_room(invite=[server.support.user_id])
    server.ana.send(room, text)
    assert sync.run(config, store).ok
    [cid] = {m["conversation_id"] for m in store_api.room_messages(store, room)}
    outbox.queue_reply(store, cid, "Yes: Sundays 10:00 to 16:00.", agent="tester", status="solved")
    assert sync.run(config, store).sent == 1
    return room, cid


def after_delay(store, cid) -> dt.datetime:
    solved_at = parse_stamp(store.conversation(cid)["solved_at"])
    return solved_at + dt.timedelta(hours=24, seconds=1)


def test_chat_survey_answer_recorded_and_reported(desk, server):
    config, store = desk
    room, cid = solved_chat(config, store, server, "Is the shop open on Sunday?")
    assert sync.run(config, store, now=after_delay(store, cid) - dt.timedelta(hours=1)).surveys.queued == 0
    result = sync.run(config, store, now=after_delay(store, cid))
    assert result.surveys.queued == 1 and result.sent == 1, result.outbox_errors
    seen = server.ana.messages(room)
    assert seen[-1]["sender"] == server.support.user_id
    assert "1 (bad) to 5 (great)" in seen[-1]["content"]["body"]
    assert seen[-1]["content"]["msgtype"] == "m.notice"          # automatic: a notice, as bots send

    server.ana.send(room, "4 thanks!")
    result = sync.run(config, store, now=after_delay(store, cid))
    assert result.answers == 1
    assert store_api.conversation_ids(store) == [cid]       # no new conversation
    events = [e["data"] for e in store.events(cid) if e["kind"] == "satisfaction"]
    assert [(e["score"], e["comment"]) for e in events] == [(4, "thanks!")]
    assert store.conversation(cid)["status"] == "solved"
    period = make_period("1d", None, "UTC", now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1))
    assert summary(store, config, period)["satisfaction"] == {
        "answers": 1, "average": 4.0, "csat": 1.0, "happiness": 100.0, "surveys_sent": 1, "surveys_answered": 1,
        "response_rate": 1.0}


def test_chat_thanks_is_a_new_conversation_as_chat_does(desk, server):
    config, store = desk
    room, cid = solved_chat(config, store, server, "Do you ship to Norway?")
    sync.run(config, store, now=after_delay(store, cid))
    server.ana.send(room, "thanks")
    result = sync.run(config, store, now=after_delay(store, cid))
    assert result.answers == 0
    assert len({m["conversation_id"] for m in store_api.room_messages(store, room)}) == 2
    assert store.history("satisfaction") == []
