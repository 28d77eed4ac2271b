"""`oncall page` to a Matrix contact, against a real Synapse on 127.0.0.1 (integration).

Each test registers its own desk account and on-call person, so the direct rooms and the
account data one test makes are not seen by another.
"""

from __future__ import annotations

import json
import secrets
from types import SimpleNamespace

import pytest

from tui_desk import config as config_mod, sync
from tui_desk.channels import open_channel
from tui_desk.channels.matrix_direct import PAGE_ROOMS
from tui_desk.store import Store

from tests.helpers import store_api, synapse as hs
from tests.unit.test_oncall_cli import run

pytestmark = pytest.mark.integration

NOW = "2026-12-01T12:00:00+00:00"


@pytest.fixture(scope="module")
def synapse(tmp_path_factory):
    with hs.running(tmp_path_factory.mktemp("synapse")) as server:
        yield server


@pytest.fixture
def desk(synapse, tmp_path, monkeypatch):
    """A desk whose Matrix account pages chen (contact = "matrix"), on call this week."""
    tag = secrets.token_hex(3)
    support = synapse.register(f"support{tag}")
    chen = hs.Client(synapse, synapse.register(f"chen{tag}"))
    (tmp_path / "oncall.toml").write_text(
        f'[people.chen]\nname = "Chen Wu"\ncontact = "matrix"\nmatrix = "{chen.user.user_id}"\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f"""
[desk]
timezone = "Europe/Berlin"
[agent]
name = "lead"
[storage]
database = "desk.db"
[oncall]
roster = "oncall.toml"
[[channels]]
name = "chat"
kind = "matrix"
homeserver = "{synapse.url}"
user_id = "{support.user_id}"
access_token_env = "DESK_MATRIX_TOKEN"
""", encoding="utf-8")
    monkeypatch.setenv("DESK_MATRIX_TOKEN", support.token)
    monkeypatch.setenv("TUI_DESK_CONFIG", str(config))
    monkeypatch.setenv("TUI_DESK_NOW", NOW)
    support_client = hs.Client(synapse, support)
    yield SimpleNamespace(synapse=synapse, support=support, support_client=support_client, chen=chen,
                          config=config, db=tmp_path / "desk.db")
    support_client.close()
    chen.close()


def add_rotation(capsys) -> None:
    code, _, err = run(capsys, "oncall", "rotation", "add", "support", "--members", "chen", "--length", "1w",
                       "--handoff", "mon 09:00", "--tz", "Europe/Berlin", "--start", "2026-11-30")
    assert code == 0, err


def page(capsys, text: str) -> list[dict]:
    code, out, err = run(capsys, "oncall", "page", "--message", text, "--json")
    assert code == 0, err
    return json.loads(out)


def page_events(db) -> list[dict]:
    with Store.open(db) as store:
        return [e["data"] for e in reversed(store.oncall_pages())]


def own_sync(client: hs.Client) -> dict:
    return client.call("GET", "/sync", params={"timeout": 0})


def test_a_page_reaches_the_person_in_a_direct_room_and_later_pages_reuse_it(desk, capsys):
    add_rotation(capsys)
    assert page(capsys, "Checkout is down") == [{"who": "chen", "rotation": "support", "contact": "matrix",
                                                 "ok": True}]
    (first,) = page_events(desk.db)
    room = first["room"]
    assert first["ok"] and first["event_id"].startswith("$") and first["txn_id"].startswith("tuidesk-page-")
    # chen is invited to a direct room by the desk account, and reads the page after joining
    invite = own_sync(desk.chen)["rooms"]["invite"][room]["invite_state"]["events"]
    member = next(e for e in invite if e["type"] == "m.room.member" and e["state_key"] == desk.chen.user.user_id)
    assert member["content"]["membership"] == "invite" and member["content"]["is_direct"] is True
    assert member["sender"] == desk.support.user_id
    desk.chen.join(room)
    page_text = "On-call page (support, from lead):\nCheckout is down"
    assert desk.chen.sync_texts(room) == [(desk.support.user_id, page_text)]

    page(capsys, "Still down, now the API too")
    second = page_events(desk.db)[-1]
    assert second["room"] == room, "the second page goes to the same room"
    assert desk.chen.sync_texts(room) == [(desk.support.user_id, page_text), (
        desk.support.user_id, "On-call page (support, from lead):\nStill down, now the API too")]
    assert own_sync(desk.chen)["rooms"].get("invite", {}) == {}, "no second room"
    # remembered in the desk account's data: its own record, and m.direct for Matrix clients
    me = desk.support.user_id
    assert desk.support_client.call("GET", f"/user/{me}/account_data/{PAGE_ROOMS}") == {
        "rooms": {desk.chen.user.user_id: room}}
    assert desk.support_client.call("GET", f"/user/{me}/account_data/m.direct") == {
        desk.chen.user.user_id: [room]}


def test_a_person_who_left_the_room_is_invited_back(desk, capsys):
    add_rotation(capsys)
    page(capsys, "first")
    room = page_events(desk.db)[0]["room"]
    desk.chen.join(room)
    desk.chen.call("POST", f"/rooms/{room}/leave", json={})
    page(capsys, "second")
    assert page_events(desk.db)[-1]["room"] == room
    assert room in own_sync(desk.chen)["rooms"]["invite"]
    desk.chen.join(room)
    assert desk.chen.sync_texts(room)[-1] == (desk.support.user_id, "On-call page (support, from lead):\nsecond")


def test_page_rooms_never_become_customer_conversations(desk, capsys, tmp_path):
    conf = config_mod.load(desk.config)
    with Store.open(tmp_path / "before.db") as early:
        assert sync.run(conf, early).ok  # a desk that synced before the page room existed
        add_rotation(capsys)
        page(capsys, "Disk full on db-2")
        room = page_events(desk.db)[0]["room"]
        desk.chen.join(room)
        desk.chen.send(room, "ack, looking")
        customer = desk.chen.create_room(invite=[desk.support.user_id])  # a real customer room, as control
        desk.chen.send(customer, "a question as a customer")
        assert sync.run(conf, early).ok
        assert sync.run(conf, early).ok
        threads = [early.conversation(c)["thread_key"] for c in store_api.conversation_ids(early)]
        assert threads == [customer]
        assert room in json.loads(early.sync_state("chat")["page_rooms"])
    with Store.open(tmp_path / "fresh.db") as fresh:  # a desk syncing for the first time
        assert sync.run(conf, fresh).ok
        assert [fresh.conversation(c)["thread_key"] for c in store_api.conversation_ids(fresh)] == [customer]


def test_one_txn_id_posts_once(desk):
    conf = config_mod.load(desk.config)
    channel = open_channel(conf.channels[0])
    try:
        first = channel.send_direct(desk.chen.user.user_id, "retried page", "tuidesk-page-retry-1")
        again = channel.send_direct(desk.chen.user.user_id, "retried page", "tuidesk-page-retry-1")
    finally:
        channel.close()
    assert first == again
    desk.chen.join(first[0])
    assert [body for _, body in desk.chen.sync_texts(first[0])] == ["retried page"]



def test_a_rule_pages_over_matrix_and_ack_in_the_room_stops_the_escalation(desk, capsys, tmp_path):
    """A rule pages chen for an urgent mail; chen reads it on Synapse and answers in the
    page room: "looking" does not acknowledge, "ACK." does, and nothing escalates after."""
    from tests.helpers.mail import deliver, make_email, make_maildir
    from tui_desk.oncall import escalation
    from tui_desk.store import parse_stamp
    import datetime as dt
    maildir = make_maildir(tmp_path / "mail")
    desk.config.write_text(desk.config.read_text() + f"""
[[channels]]
name = "mail"
kind = "maildir"
path = "{maildir}"
[oncall.escalation]
steps = [{{ after = "0s", notify = "oncall" }}, {{ after = "30s", notify = "oncall" }}]
[[rules]]
id = "urgent"
on = ["message.new"]
all = [{{ field = "subject", contains = "down" }}]
actions = [{{ page = "oncall" }}]
""", encoding="utf-8")
    add_rotation(capsys)
    conf = config_mod.load(desk.config)
    deliver(maildir, make_email(subject="Checkout is down", body="Nothing loads since 23:10."))
    with Store.open(desk.db) as store:
        result = sync.run(conf, store)
        assert result.pages.notified == 1, result.pages.errors
        (page,) = store.pages()
        (notice,) = page["notices"]
        room = notice["detail"]["room"]
        desk.chen.join(room)
        (sender, text), = desk.chen.sync_texts(room)
        assert sender == desk.support.user_id and "Subject: Checkout is down" in text and 'reply "ack"' in text
        desk.chen.send(room, "looking")
        sync.run(conf, store)
        assert store.page(page["id"])["state"] == "open"
        desk.support_client.send(room, "ack")  # not the paged person: does not count
        sync.run(conf, store)
        assert store.page(page["id"])["state"] == "open"
        desk.chen.send(room, "ACK. on my way")
        assert sync.run(conf, store).pages.acknowledged == 1
        acked = store.page(page["id"])
        assert (acked["state"], acked["acked_by"], acked["acked_via"]) == ("acknowledged", "chen", "matrix")
        escalation.run(conf, store, parse_stamp(page["created_at"]) + dt.timedelta(minutes=5))
        assert len(store.pages()[0]["notices"]) == 1
        assert len(store_api.conversation_ids(store)) == 1  # the room is no conversation
