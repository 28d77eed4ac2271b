"""The CLI contract: demo, conversations, search, init, config; JSON shapes; no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tui_desk.store import Store

from .conftest import ROOT


def cli(*args, env=None, check=True):
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory):
    """One demo desk built through `tui-desk demo --no-tui`, found by later commands with no flags."""
    home = tmp_path_factory.mktemp("home")
    env = {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    done = cli("demo", "--no-tui", env=env)
    db = done.stdout.strip()
    assert db.endswith("desk.db") and os.path.exists(db)
    return env


def test_demo_queue_lists_as_json(demo_env):
    rows = json.loads(cli("conversations", "list", "--json", "--limit", "500", env=demo_env).stdout)
    assert len(rows) >= 90
    assert {r["channel"] for r in rows} == {"mail", "chat"}
    assert set(rows[0]) == {"id", "channel", "subject", "status", "priority", "assignee", "tags", "customer",
                            "created_at", "last_message_at", "last_inbound_at", "first_response_at",
                            "messages", "version"}
    stamps = [r["last_message_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


def test_demo_show_json_has_customer_messages_events(demo_env):
    rows = json.loads(cli("conversations", "list", "--json", env=demo_env).stdout)
    threaded = next(r for r in rows if r["messages"] > 1)
    shown = json.loads(cli("conversations", "show", str(threaded["id"]), "--json", env=demo_env).stdout)
    assert set(shown) == {"conversation", "customer", "messages", "events"}
    assert len(shown["messages"]) == threaded["messages"]
    assert shown["events"][0]["kind"] == "created"
    assert shown["customer"]["identities"]


def test_demo_flags_broken_and_automatic_mail(demo_env):
    db = cli("config", "path", env=demo_env).stdout.split("database:")[1].strip()
    with Store.open(db) as store:
        assert store.d.scalar("SELECT count(*) FROM messages WHERE problems IS NOT NULL") >= 1
        assert store.d.scalar("SELECT count(*) FROM messages WHERE automatic IS NOT NULL") >= 1
        assert store.d.scalar("SELECT count(*) FROM attachments") >= 2


def test_search_json(demo_env):
    hits = json.loads(cli("search", "refund", "--json", env=demo_env).stdout)
    assert hits and {"conversation_id", "message_id", "subject", "snippet", "score"} <= set(hits[0])
    assert json.loads(cli("search", "退款", "--json", env=demo_env).stdout), "Chinese words are found"


def test_plain_output_never_carries_escapes(demo_env):
    rows = json.loads(cli("conversations", "list", "--json", "--limit", "500", env=demo_env).stdout)
    hostile = [r for r in rows if r["channel"] == "chat"][:20]
    for r in hostile:
        text = cli("conversations", "show", str(r["id"]), env=demo_env).stdout
        assert "\x1b" not in text
    assert "\x1b" not in cli("conversations", "list", env=demo_env).stdout


def test_unknown_conversation_is_exit_2(demo_env):
    done = cli("conversations", "show", "999999", env=demo_env, check=False)
    assert done.returncode == 2 and done.stderr.strip() == "tui-desk: no conversation 999999"


def test_init_writes_config_once(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    cli("init", env=env)
    written = tmp_path / "config" / "tui-desk" / "config.toml"
    assert written.read_text() == (ROOT / "config.example.toml").read_text()
    assert written.stat().st_mode & 0o777 == 0o600, "it will hold passwords"
    again = cli("init", env=env, check=False)
    assert again.returncode == 2 and "--force" in again.stderr
    cli("init", "--force", env=env)
    paths = cli("config", "path", env=env).stdout
    assert str(written) in paths


def test_no_secret_reaches_output_or_database(tmp_path):
    secret = "s3cret-Pa55word-xyz"
    conf = tmp_path / "config.toml"
    conf.write_text(f'[[channels]]\nname = "mail"\nkind = "imap"\nhost = "127.0.0.1"\nport = 9\n'
                    f'username = "support"\ntls = "none"\npassword = "{secret}"\n')
    db = tmp_path / "desk.db"
    runs = [cli("--config", str(conf), "--db", str(db), *args, check=False)
            for args in (["sync", "--json"], ["config", "check", "--json"], ["config", "path"])]
    assert runs[0].returncode == 1, "the channel fails"
    for done in runs:
        assert secret not in done.stdout and secret not in done.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes() or path == conf, path


def test_core_never_imports_textual():
    code = ("import sys, tui_desk.config, tui_desk.store, tui_desk.sync, tui_desk.parse, tui_desk.demo, "
            "tui_desk.channels, tui_desk.threads, tui_desk.commands.common;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr
