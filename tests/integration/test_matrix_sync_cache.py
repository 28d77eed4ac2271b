"""Matrix against a real Synapse that keeps /sync answers for 2 minutes (its default):
a run after interrupted ones must not be answered from an earlier request's cache,
or what arrived since comes one run late (integration)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from tui_desk import config as config_mod, sync
from tui_desk.channels import open_channel
from tui_desk.store import Store

from tests.conftest import ROOT
from tests.helpers import store_api, synapse as hs

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
    return [m["text"] for m in store_api.room_messages(store, room)]


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


KILLER = """
import os, signal, sys
from tui_desk.store import ingest
real = ingest.IngestMixin.add_inbound
def dying(self, *args, **kwargs):  # killed while storing the first message of the run
    os.kill(os.getpid(), signal.SIGKILL)
ingest.IngestMixin.add_inbound = dying
sys.argv = ["tui-desk"] + sys.argv[1:]
from tui_desk import cli
cli.main()
"""


def test_kill_9_chain_then_one_run_stores_everything(tmp_path, server):
    room = server.ana.create_room(invite=[server.support.user_id])
    server.ana.send(room, "start")
    config_file = tmp_path / "desk.toml"
    config_file.write_text(
        f'[[channels]]\nname = "chat"\nkind = "matrix"\nhomeserver = "{server.synapse.url}"\n'
        f'user_id = "{server.support.user_id}"\naccess_token_env = "DESK_MATRIX_TOKEN"\n'
        f"rooms = {json.dumps([room])}\n")
    env = {**os.environ, "DESK_MATRIX_TOKEN": server.support.token, "PYTHONPATH": str(ROOT)}
    args = ["--config", str(config_file), "--db", str(tmp_path / "desk.db"), "sync", "--json"]
    first = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=300)
    assert first.returncode == 0, first.stderr
    sent = ["start"]
    for chain in range(2):
        for i in range(30):
            sent.append(f"chain {chain} line {i}")
            server.ana.send(room, sent[-1])
        killed = subprocess.run([sys.executable, "-c", KILLER, *args], capture_output=True, text=True,
                                env=env, cwd=ROOT, timeout=300)
        assert killed.returncode == -9, killed.stderr
    sent.append("the last one")
    server.ana.send(room, sent[-1])
    rerun = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["channels"]["chat"]["new"] == len(sent) - 1
    with Store.open(tmp_path / "desk.db") as store:
        assert texts(store, room) == sent
