"""Matrix against a real Synapse that keeps /sync answers for 2 minutes (its default):
a run after interrupted ones must not be answered from an earlier request's cache,
or what arrived since comes one run late (integration)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tui_desk import config as config_mod, sync
from tui_desk.channels import open_channel
from tui_desk.store import Store

from .helpers import synapse as hs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with hs.running(tmp_path_factory.mktemp("synapse-cached"), sync_cache="2m") as synapse:
        support = synapse.register("support")
        ana = hs.Client(synapse, synapse.register("ana"))
        yield SimpleNamespace(synapse=synapse, support=support, ana=ana)
        ana.close()


def desk_config(tmp_path, server, rooms):
    channel = {"name": "chat", "kind": "matrix", "homeserver": server.synapse.url,
               "user_id": server.support.user_id, "access_token": server.support.token, "rooms": rooms}
    return config_mod.from_dict({"channels": [channel]}, tmp_path / "config.toml")


def texts(store: Store, room: str) -> list[str]:
    return [r[0] for r in store.d.all(
        "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.thread_key = ? ORDER BY m.created_at, m.id", (room,))]


def interrupted_pull(conf, store: Store) -> None:
    """A sync that got its /sync answer and died before storing it (kill -9 while
    storing): the request reached the homeserver, nothing was committed."""
    channel = open_channel(conf.channels[0])
    try:
        next(iter(channel.pull(store.sync_state("chat"), set())))
    finally:
        channel.close()


def test_a_run_after_interrupted_ones_gets_everything_at_once(tmp_path, server):
    room = server.ana.create_room(invite=[server.support.user_id])
    server.ana.send(room, "hello")
    conf = desk_config(tmp_path, server, [room])
    with Store.open(tmp_path / "desk.db") as store:
        assert sync.run(conf, store).ok
        sent = ["hello"]
        for chain in range(3):  # a chain of interrupted syncs, mail arriving in between
            for i in range(40):
                sent.append(f"chain {chain} line {i}")
                server.ana.send(room, sent[-1])
            interrupted_pull(conf, store)
        for i in range(25):
            sent.append(f"after line {i}")
            server.ana.send(room, sent[-1])
        result = sync.run(conf, store).channels["chat"]
        assert texts(store, room) == sent, "all of it in this run, none one run late"
        assert (result.new, result.errors) == (len(sent) - 1, 0)
        again = sync.run(conf, store).channels["chat"]
        assert (again.new, again.duplicates) == (0, 0), "the saved token is the one after the last stored event"


def test_a_quiet_room_is_not_answered_from_an_empty_cached_sync(tmp_path, server):
    room = server.ana.create_room(invite=[server.support.user_id])
    server.ana.send(room, "first")
    conf = desk_config(tmp_path, server, [room])
    with Store.open(tmp_path / "desk.db") as store:
        assert sync.run(conf, store).ok
        for _ in range(3):  # nothing new: empty answers, the later ones asked with the same token
            assert sync.run(conf, store).channels["chat"].new == 0
        server.ana.send(room, "second")
        assert sync.run(conf, store).channels["chat"].new == 1
        assert texts(store, room) == ["first", "second"]
