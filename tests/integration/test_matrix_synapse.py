"""The Matrix channel against a real Synapse on 127.0.0.1 (integration).

One homeserver per module with a support account and customers; each test makes its
own rooms and its own desk database, and looks only at its own rooms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import httpx
import pytest

from tui_desk import config as config_mod, sync
from tui_desk.channels import open_channel
from tui_desk.store import Store

from tests.conftest import ROOT
from tests.helpers import store_api, synapse as hs

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with hs.running(tmp_path_factory.mktemp("synapse")) as synapse:
        support = synapse.register("support")
        ana = hs.Client(synapse, synapse.register("ana"))
        ben = hs.Client(synapse, synapse.register("ben"))
        ana.set_display_name("Ana Lima")
        ben.set_display_name("Ben Okafor")
        yield SimpleNamespace(synapse=synapse, support=support, ana=ana, ben=ben)
        ana.close()
        ben.close()


def desk_config(tmp_path, server, **extra):
    channel = {"name": "chat", "kind": "matrix", "homeserver": server.synapse.url,
               "user_id": server.support.user_id, "access_token": server.support.token, **extra}
    channel = {key: value for key, value in channel.items() if value is not None}
    return config_mod.from_dict({"channels": [channel]}, tmp_path / "config.toml")


@pytest.fixture
def desk(tmp_path, server):
    with Store.open(tmp_path / "desk.db") as store:
        yield desk_config(tmp_path, server), store


room_messages = store_api.room_messages


def customer_room(client: hs.Client, server, *lines: str) -> str:
    """A room the customer opens with the support account invited, and writes in."""
    room = client.create_room(invite=[server.support.user_id])
    for line in lines:
        client.send(room, line)
    return room


def reply(conf, store: Store, conversation_id: int, text: str) -> None:
    """Queue a reply and deliver it through the outbox."""
    from tui_desk import outbox
    outbox.queue_reply(store, conversation_id, text, agent="tester")
    delivered = outbox.deliver_due(conf, store)
    assert delivered.sent == 1 and not delivered.errors, delivered.errors


def test_customers_write_sync_pulls_and_the_reply_reaches_the_customer(desk, server):
    conf, store = desk
    room_a = customer_room(server.ana, server, "Hello, my invoice is wrong", "It says 40 EUR, I paid 30")
    room_b = customer_room(server.ben, server, "Can I change my plan?")
    result = sync.run(conf, store)
    assert result.ok, result.channels["chat"].error
    a, b = room_messages(store, room_a), room_messages(store, room_b)
    assert [m["text"] for m in a] == ["Hello, my invoice is wrong", "It says 40 EUR, I paid 30"]
    assert {m["customer"] for m in a} == {"Ana Lima"} and {m["author_address"] for m in a} == {server.ana.user.user_id}
    assert [m["text"] for m in b] == ["Can I change my plan?"] and b[0]["customer"] == "Ben Okafor"
    assert len({m["conversation_id"] for m in a}) == 1, "one room, one conversation"

    reply(conf, store, a[0]["conversation_id"], "Sorry about that, Ana: fixed, 30 EUR it is.")
    assert (server.support.user_id, "Sorry about that, Ana: fixed, 30 EUR it is.") in server.ana.sync_texts(room_a)
    # the next sync sees our own reply in the room and knows it is the one it sent
    again = sync.run(conf, store)
    assert again.ok and again.channels["chat"].new == 0
    texts = [m["text"] for m in room_messages(store, room_a)]
    assert texts.count("Sorry about that, Ana: fixed, 30 EUR it is.") == 1
    # a new message from the customer lands in the same conversation
    server.ana.send(room_a, "Thanks!")
    sync.run(conf, store)
    after = room_messages(store, room_a)
    assert after[-1]["text"] == "Thanks!" and after[-1]["conversation_id"] == a[0]["conversation_id"]


def test_sending_twice_with_one_txn_id_posts_once(desk, server):
    conf, store = desk
    room = customer_room(server.ana, server, "Is anyone there?")
    sync.run(conf, store)
    channel = open_channel(conf.channels[0])
    outbound = SimpleNamespace(txn_id="tuidesk-retry-1", thread_key=room, conversation_id=1,
                               text="Yes, here!", maybe_sent=False, automatic=False)
    try:
        first = channel.send(outbound)
        outbound.maybe_sent = True  # the retry after a crash between send and mark
        second = channel.send(outbound)
    finally:
        channel.close()
    assert first == second
    assert [body for _, body in server.ana.sync_texts(room)].count("Yes, here!") == 1


def test_solved_room_starts_a_new_conversation(desk, server):
    conf, store = desk
    room = customer_room(server.ben, server, "My login fails")
    sync.run(conf, store)
    first = room_messages(store, room)[0]["conversation_id"]
    store.set_status(first, "solved", "ana")
    server.ben.send(room, "Another question: can I export my data?")
    sync.run(conf, store)
    rows = room_messages(store, room)
    assert rows[-1]["conversation_id"] != first and rows[-1]["status"] == "new"


def test_a_long_gap_is_back_filled_without_loss(desk, server):
    conf, store = desk
    room = customer_room(server.ben, server, "first")
    sync.run(conf, store)
    for i in range(250):  # more than one incremental /sync returns: the timeline comes back limited
        server.ben.send(room, f"line {i}")
    result = sync.run(conf, store)
    assert result.ok
    texts = [m["text"] for m in room_messages(store, room)]
    assert texts == ["first"] + [f"line {i}" for i in range(250)]


def test_first_sync_takes_the_last_n_events_per_room(tmp_path, server):
    room = customer_room(server.ana, server, *[f"old {i}" for i in range(30)])
    conf = desk_config(tmp_path, server, history_on_first_sync=10, rooms=[])
    with Store.open(tmp_path / "first.db") as store:
        sync.run(conf, store)
        texts = [m["text"] for m in room_messages(store, room)]
    assert texts and len(texts) <= 10 and texts[-1] == "old 29"
    assert texts == [f"old {i}" for i in range(30 - len(texts), 30)], "the newest ones, in order"


def test_invites_are_auto_joined_only_when_configured(tmp_path, server):
    room = customer_room(server.ben, server, "Hi from the web chat widget")
    manual = desk_config(tmp_path, server, auto_join_invites=False, rooms=[room])
    with Store.open(tmp_path / "manual.db") as store:
        assert sync.run(manual, store).ok
        assert room_messages(store, room) == []
    conf = desk_config(tmp_path, server, rooms=[room])
    with Store.open(tmp_path / "auto.db") as store:
        assert sync.run(conf, store).ok
        assert [m["text"] for m in room_messages(store, room)] == ["Hi from the web chat widget"]
    support = hs.Client(server.synapse, server.support)
    try:
        assert room in support.call("GET", "/joined_rooms")["joined_rooms"]
    finally:
        support.close()


def test_edits_and_redactions_update_the_message_and_keep_the_original(desk, server):
    conf, store = desk
    room = customer_room(server.ana, server)
    typo = server.ana.send(room, "My order nummber is 1234")
    secret = server.ana.send(room, "my password is hunter2")
    sync.run(conf, store)
    server.ana.send(room, {"msgtype": "m.text", "body": "* My order number is 1234",
                           "m.new_content": {"msgtype": "m.text", "body": "My order number is 1234"},
                           "m.relates_to": {"rel_type": "m.replace", "event_id": typo}})
    server.ana.redact(room, secret, "oops")
    sync.run(conf, store)
    assert len(room_messages(store, room)) == 2, "an edit is not a new message"
    rows = {event: store.chat_message("chat", event) for event in (typo, secret)}
    assert rows[typo]["text"] == "My order number is 1234"
    assert rows[typo]["original_text"] == "My order nummber is 1234" and rows[typo]["edited_at"]
    assert rows[secret]["redacted"] == 1 and rows[secret]["text"] == ""
    assert rows[secret]["original_text"] == "my password is hunter2"
    assert [m["text"] for m in room_messages(store, room)] == ["My order number is 1234", ""]


def test_files_are_recorded_and_fetched_on_demand(desk, server):
    conf, store = desk
    room = customer_room(server.ben, server)
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(64)
    mxc = server.ben.upload(png, "image/png", "screenshot.png")
    server.ben.send(room, {"msgtype": "m.image", "body": "screenshot.png", "url": mxc,
                           "info": {"mimetype": "image/png", "size": len(png)}})
    sync.run(conf, store)
    message = room_messages(store, room)[0]
    [listed] = store.attachments(message["id"])
    row = store.attachment(listed["id"])
    assert (row["filename"], row["content_type"], row["size"], row["source"], row["sha256"]) == \
        ("screenshot.png", "image/png", len(png), mxc, "")
    from tui_desk.attachments import fetch
    path = fetch(conf, store, row["id"])
    assert path.read_bytes() == png
    assert store.attachment(row["id"])["sha256"] and fetch(conf, store, row["id"]) == path


def test_restarting_synapse_between_runs(desk, server):
    conf, store = desk
    room = customer_room(server.ana, server, "before the restart")
    sync.run(conf, store)
    server.synapse.restart()
    server.ana.send(room, "after the restart")
    result = sync.run(conf, store)
    assert result.ok and result.channels["chat"].duplicates == 0, "the stored token still works"
    assert [m["text"] for m in room_messages(store, room)] == ["before the restart", "after the restart"]


KILLER = """
import os, signal, sys
from tui_desk.channels import matrix
from tui_desk.store import ingest
matrix.BATCH = 20
real, calls = ingest.IngestMixin.add_inbound, [0]
def dying(self, *args, **kwargs):
    calls[0] += 1
    if calls[0] == 50:  # in the middle of the third batch
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *args, **kwargs)
ingest.IngestMixin.add_inbound = dying
sys.argv = ["tui-desk"] + sys.argv[1:]
from tui_desk import cli
cli.main()
"""


def test_a_sync_killed_mid_run_loses_nothing_and_duplicates_nothing(tmp_path, server):
    rooms = [customer_room(server.ben, server) for _ in range(3)]
    for i in range(30):
        for n, room in enumerate(rooms):
            server.ben.send(room, f"room {n} line {i}")
    config_file = tmp_path / "desk.toml"
    config_file.write_text(
        f'[[channels]]\nname = "chat"\nkind = "matrix"\nhomeserver = "{server.synapse.url}"\n'
        f'user_id = "{server.support.user_id}"\naccess_token_env = "DESK_MATRIX_TOKEN"\n'
        f"rooms = {json.dumps(rooms)}\n")
    env = {**os.environ, "DESK_MATRIX_TOKEN": server.support.token, "PYTHONPATH": str(ROOT)}
    args = ["--config", str(config_file), "--db", str(tmp_path / "desk.db"), "sync", "--json"]
    killed = subprocess.run([sys.executable, "-c", KILLER, *args], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300)
    assert killed.returncode == -9, killed.stderr
    with Store.open(tmp_path / "desk.db") as store:
        assert len(store_api.messages(store)) == 40, "two whole batches committed"
        # the token after the join round was not saved: the rooms are read again
        assert not any(key.startswith("room:") for key in store.sync_state("chat"))
    rerun = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    counts = json.loads(rerun.stdout)["channels"]["chat"]
    assert (counts["new"], counts["duplicates"]) == (50, 40)
    with Store.open(tmp_path / "desk.db") as store:
        for n, room in enumerate(rooms):
            assert [m["text"] for m in room_messages(store, room)] == [f"room {n} line {i}" for i in range(30)]


def test_a_refused_token_names_the_channel_and_the_others_still_sync(tmp_path, server):
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.x").write_bytes(b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <1@b>\r\n\r\nhello\r\n")
    config_file = tmp_path / "desk.toml"
    config_file.write_text(
        f'[[channels]]\nname = "support-chat"\nkind = "matrix"\nhomeserver = "{server.synapse.url}"\n'
        f'user_id = "{server.support.user_id}"\naccess_token_env = "DESK_MATRIX_TOKEN"\n'
        f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    env = {**os.environ, "DESK_MATRIX_TOKEN": "syt_not_a_valid_token", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(config_file), "--db",
                           str(tmp_path / "d.db"), "sync", "--json"], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert "channel support-chat:" in done.stderr and "access token" in done.stderr
    assert "syt_not_a_valid_token" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["channels"]["mail"]["new"] == 1


def test_watch_long_polls_and_picks_up_new_messages(tmp_path, server):
    room = customer_room(server.ana, server, "watching?")
    conf = desk_config(tmp_path, server, rooms=[room])
    with Store.open(tmp_path / "watch.db") as store:
        results = sync.watch(conf, store, poll=1.0, cycles=2)
        assert all(r is not None and r.ok and r.waited for r in results)
        assert [m["text"] for m in room_messages(store, room)] == ["watching?"]


def test_password_login_keeps_one_device_across_runs(tmp_path, server, monkeypatch):
    monkeypatch.setenv("DESK_MATRIX_PASSWORD", server.support.password)
    room = customer_room(server.ana, server, "logging in with a password")
    conf = desk_config(tmp_path, server, access_token=None, password_env="DESK_MATRIX_PASSWORD", rooms=[room])
    with Store.open(tmp_path / "pw.db") as store:
        for _ in range(3):
            assert sync.run(conf, store).ok
        assert [m["text"] for m in room_messages(store, room)] == ["logging in with a password"]
    support = hs.Client(server.synapse, server.support)
    try:
        devices = [d["device_id"] for d in support.call("GET", "/devices")["devices"]]
    finally:
        support.close()
    assert sum(d.startswith("TUIDESK") for d in devices) == 1, devices
    wrong = desk_config(tmp_path, server, access_token=None, password="not-the-password", rooms=[room])
    with Store.open(tmp_path / "pw2.db") as store:
        error = sync.run(wrong, store).channels["chat"].error
    assert error.startswith("channel chat: login as @support:desk.test refused") and "not-the-password" not in error


def test_email_lookup_links_a_customers_mail_and_matrix_through_the_admin_api(tmp_path, server):
    from tests.helpers.mail import deliver, make_email, make_maildir
    admin = server.synapse.register("deskadmin", admin=True)
    httpx_admin = httpx.Client(base_url=server.synapse.url, timeout=60,
                                  headers={"Authorization": f"Bearer {admin.token}"})
    with httpx_admin:
        httpx_admin.put(f"/_synapse/admin/v2/users/{server.ana.user.user_id}", json={
            "threepids": [{"medium": "email", "address": "Ana.Lima@example.br"}]}).raise_for_status()
    deliver(make_maildir(tmp_path / "mail"), make_email("Ana Lima <ana.lima@example.br>", "Invoice", "Wrong total"))
    room = customer_room(server.ana, server, "About my invoice, again")
    mail = {"name": "mail", "kind": "maildir", "path": str(tmp_path / "mail")}
    for user, looked_up in ((server.support, False), (admin, True)):  # support is no server admin
        folder = tmp_path / user.user_id.strip("@").split(":")[0]
        folder.mkdir()
        chat = {"name": "chat", "kind": "matrix", "homeserver": server.synapse.url, "user_id": user.user_id,
                "access_token": user.token, "email_lookup": True}
        if user is admin:
            admin_client = hs.Client(server.synapse, admin)
            server.ana.call("POST", f"/rooms/{room}/invite", json={"user_id": admin.user_id})
            admin_client.join(room)
            admin_client.close()
        conf = config_mod.from_dict({"channels": [mail, chat]}, folder / "config.toml")
        with Store.open(folder / "desk.db") as store:
            result = sync.run(conf, store)
            assert result.ok, result.channels
            warnings = result.channels["chat"].warnings
            customers = {m["customer_id"] for m in store_api.messages(store)
                         if m["direction"] == "in" and m["text"] in ("Wrong total", "About my invoice, again")}
            if looked_up:
                assert len(customers) == 1 and not warnings, "one person: the card shows both"
                profile = store.customer_profile(customers.pop())
                assert {(i["kind"], i["address"]) for i in profile["identities"]} >= {
                    ("email", "ana.lima@example.br"), ("matrix", server.ana.user.user_id)}
            else:
                assert len(customers) == 2, "no admin API, no evidence: never linked on the name alone"
                assert any("must be a server admin" in w for w in warnings) and user.token not in " ".join(warnings)
