"""The Matrix channel without a server: event conversion, retries, rate limits, errors."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from tui_desk import config as config_mod, sync
from tui_desk.model import Change
from tui_desk.channels.matrix import MatrixChannel
from tui_desk.channels.matrix_events import Names, convert
from tui_desk.errors import ChannelError
from tui_desk.store import Store

ME = "@support:desk.test"
ANA = "@ana:desk.test"


def event(body="hi", sender=ANA, event_id="$1", **content) -> dict:
    return {"type": "m.room.message", "sender": sender, "event_id": event_id, "origin_server_ts": 1_790_000_000_000,
            "content": {"msgtype": "m.text", "body": body, **content}}


def test_text_messages_take_the_display_name_and_the_room():
    names = Names()
    names.learn({"type": "m.room.member", "state_key": ANA, "sender": ANA, "content": {"displayname": "Ana Lima"}})
    msg = convert(event("Where is my order?"), "!room:desk.test", names, ME)
    assert (msg.text, msg.sender_name, msg.sender_address, msg.thread_key, msg.direction, msg.kind) == \
        ("Where is my order?", "Ana Lima", ANA, "!room:desk.test", "in", "matrix")
    assert msg.received_at == dt.datetime(2026, 9, 21, 14, 13, 20, tzinfo=dt.timezone.utc)
    assert json.loads(msg.raw)["event_id"] == "$1"
    # no member event: the localpart stands in
    assert convert(event(sender="@ben:desk.test"), "!r", Names(), ME).sender_name == "ben"


def test_bot_notices_are_automatic_and_our_own_messages_go_out_with_their_txn_id():
    assert convert(event(msgtype="m.notice"), "!r", Names(), ME).automatic
    own = event("Hello from the desk", sender=ME)
    own["unsigned"] = {"transaction_id": "tuidesk-abc"}
    msg = convert(own, "!r", Names(), ME)
    assert msg.direction == "out" and msg.alias_ids == ["tuidesk-abc"]


def test_files_are_recorded_by_reference():
    msg = convert(event("scan.pdf", msgtype="m.file", url="mxc://desk.test/abc",
                        info={"mimetype": "application/pdf", "size": 1234}), "!r", Names(), ME)
    [attachment] = msg.attachments
    assert (attachment.filename, attachment.content_type, attachment.size, attachment.source, attachment.data) == \
        ("scan.pdf", "application/pdf", 1234, "mxc://desk.test/abc", b"")
    assert msg.text == "[file: scan.pdf]"
    encrypted = convert(event("x.png", msgtype="m.image", file={"url": "mxc://desk.test/enc"}), "!r", Names(), ME)
    assert not encrypted.attachments and encrypted.problems


def test_edits_and_redactions_become_changes():
    edit = convert(event("* fixed", event_id="$2", **{"m.new_content": {"msgtype": "m.text", "body": "fixed"},
                                                     "m.relates_to": {"rel_type": "m.replace", "event_id": "$1"}}),
                   "!r", Names(), ME)
    assert isinstance(edit, Change) and (edit.external_id, edit.text, edit.by, edit.redacted) == ("$1", "fixed", ANA, False)
    gone = convert({"type": "m.room.redaction", "sender": ANA, "event_id": "$3", "redacts": "$1", "content": {}},
                   "!r", Names(), ME)
    assert isinstance(gone, Change) and gone.redacted and gone.external_id == "$1"
    assert convert({"type": "m.reaction", "sender": ANA, "event_id": "$4", "content": {}}, "!r", Names(), ME) is None


def test_an_edit_counts_only_from_the_sender_and_keeps_the_original(store):
    from tui_desk import threads
    msg = convert(event("orignal text"), "!r", Names(), ME)
    with store.transaction():
        store.add_inbound("chat", msg, store.customer_for("matrix", ANA, "Ana"), None, threads.subject_key(""))
        at = dt.datetime.now(dt.timezone.utc)
        assert not store.apply_change("chat", Change("$1", at, "@mallory:evil.example", text="send money to X"))
        assert store.apply_change("chat", Change("$1", at, ANA, text="original text"))
        assert store.apply_change("chat", Change("$1", at, ANA, text="original text, edited twice"))
        assert not store.apply_change("chat", Change("$unknown", at, ANA, text="?"))
    row = store.chat_message("chat", "$1")
    assert (row["text"], row["original_text"], row["redacted"]) == ("original text, edited twice", "orignal text", 0)
    assert [e["kind"] for e in store.events(row["conversation_id"])].count("message_edited") == 2


# -- the HTTP side, against a scripted homeserver ----------------------------------------


def make_channel(handler, sleeps: list[float], **extra) -> MatrixChannel:
    conf = config_mod.from_dict({"channels": [{"name": "chat", "kind": "matrix", "homeserver": "http://hs.test",
                                               "user_id": ME, "access_token": "syt_secret_token", **extra}]})
    return MatrixChannel(conf.channels[0], transport=httpx.MockTransport(handler), sleep=sleeps.append)


EMPTY_SYNC = {"next_batch": "s2", "rooms": {}}


def test_429_waits_as_long_as_asked_then_goes_on():
    calls, sleeps = [], []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(429, json={"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 2500})
        return httpx.Response(200, json=EMPTY_SYNC)

    channel = make_channel(handler, sleeps)
    batches = list(channel.pull({}, set()))
    assert sleeps == [2.5] and len(calls) == 2
    assert batches[-1].state["next_batch"] == "s2"
    assert calls[0].headers["authorization"] == "Bearer syt_secret_token"


def test_network_errors_are_retried_with_backoff_then_reported():
    sleeps: list[float] = []

    def handler(request):
        raise httpx.ConnectError("connection refused")

    channel = make_channel(handler, sleeps)
    with pytest.raises(ChannelError) as failed:
        list(channel.pull({}, set()))
    assert sleeps == [1.0, 2.0, 4.0, 8.0]
    assert str(failed.value).startswith("channel chat: cannot reach http://hs.test")


def test_401_and_403_are_clear_and_never_show_the_token():
    def refused(request):
        return httpx.Response(401, json={"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid access token passed."})

    with pytest.raises(ChannelError) as failed:
        list(make_channel(refused, []).pull({}, set()))
    message = str(failed.value)
    assert message.startswith("channel chat: the homeserver refused our access token (401 M_UNKNOWN_TOKEN")
    assert "syt_secret_token" not in message

    def forbidden(request):
        return httpx.Response(403, json={"errcode": "M_FORBIDDEN", "error": "not in room \x1b[31m"})

    channel = make_channel(forbidden, [])
    with pytest.raises(ChannelError) as failed:
        channel.send(type("Out", (), {"thread_key": "!r:desk.test", "txn_id": "t/1", "text": "hi", "automatic": False,
                                      "conversation_id": 1})())
    assert "channel chat:" in str(failed.value) and "403 M_FORBIDDEN" in str(failed.value)
    assert "\x1b" not in str(failed.value)


def test_the_txn_id_is_the_path_segment_of_the_send():
    seen = []

    def handler(request):
        seen.append((request.method, request.url.raw_path.decode(), json.loads(request.content)))
        return httpx.Response(200, json={"event_id": "$sent"})

    out = type("Out", (), {"thread_key": "!room:desk.test", "txn_id": "tuidesk-1/2", "text": "Hello", "conversation_id": 1, "automatic": False})()
    assert make_channel(handler, []).send(out) == "$sent"
    assert seen == [("PUT", "/_matrix/client/v3/rooms/%21room%3Adesk.test/send/m.room.message/tuidesk-1%2F2",
                     {"msgtype": "m.text", "body": "Hello"})]


def test_a_failing_matrix_channel_does_not_stop_the_others(tmp_path, monkeypatch):
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.x").write_bytes(b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <1@b>\r\n\r\nhello\r\n")
    conf = config_mod.from_dict({"channels": [
        {"name": "chat", "kind": "matrix", "homeserver": "http://127.0.0.1:9", "user_id": ME,
         "access_token_env": "NO_SUCH_TOKEN_VAR"},
        {"name": "mail", "kind": "maildir", "path": str(maildir)},
    ]}, tmp_path / "c.toml")
    with Store.open(tmp_path / "d.db") as store:
        result = sync.run(conf, store)
    assert result.channels["mail"].new == 1
    assert result.channels["chat"].error.startswith("channel chat:") and "NO_SUCH_TOKEN_VAR" in result.channels["chat"].error


def test_sync_watch_runs_rounds_and_prints_one_json_object_each(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT
    maildir = tmp_path / "mail"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.x").write_bytes(b"From: a@b.example\r\nSubject: hi\r\nMessage-ID: <1@b>\r\n\r\nhello\r\n")
    conf = tmp_path / "c.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(conf), "--db", str(tmp_path / "d.db"),
                           "sync", "--watch", "--poll", "1", "--cycles", "2", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    rounds = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["channels"]["mail"]["new"] for r in rounds] == [1, 0]


def test_page_rooms_named_in_the_same_sync_are_not_read_and_are_filtered_next_time():
    filters = []
    page_room, customer_room = "!page:desk.test", "!customer:desk.test"

    def handler(request):
        filters.append(json.loads(request.url.params["filter"]))
        return httpx.Response(200, json={
            "next_batch": "s3",
            "account_data": {"events": [{"type": "org.tui-desk.page_rooms",
                                         "content": {"rooms": {ANA: page_room}}}]},
            "rooms": {"join": {
                page_room: {"timeline": {"events": [event("ack, on it", event_id="$p")]}},
                customer_room: {"timeline": {"events": [event("my order", event_id="$c")]}},
            }}})

    channel = make_channel(handler, [])
    (batch,) = list(channel.pull({"next_batch": "s2", "user": ME}, set()))
    assert [item.parsed.thread_key for item in batch.items] == [customer_room]
    assert json.loads(batch.state["page_rooms"]) == [page_room] and f"room:{page_room}" not in batch.state
    assert "not_rooms" not in filters[0]["room"]
    assert filters[0]["account_data"] == {"types": ["org.tui-desk.page_rooms"]}
    list(channel.pull(batch.state, set()))
    assert filters[1]["room"]["not_rooms"] == [page_room]
