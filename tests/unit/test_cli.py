"""The CLI contract: demo, conversations, search, init, config; JSON shapes; no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import store_api
from tui_desk.store import Store

from tests.conftest import ROOT


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
        stored = store_api.messages(store)
        assert sum(1 for m in stored if m["problems"]) >= 1
        assert sum(1 for m in stored if m["automatic"] is not None) >= 1
        assert sum(m["attachments"] for m in stored) >= 2


def test_demo_broken_mail_reads_as_words(demo_env):
    rows = json.loads(cli("conversations", "list", "--json", "--limit", "500", env=demo_env).stdout)
    broken = next(r for r in rows if r["subject"] == "photos of the buckle (2nd try)")
    shown = cli("conversations", "show", str(broken["id"]), env=demo_env).stdout
    assert "Спасибо, Нина" in shown
    assert "problem: the message's last MIME boundary is missing (cut off?); shown as received" in shown
    assert "Defect" not in shown


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


@pytest.mark.parametrize("args, message", [
    (["conversations", "list", "--status", "bogus"],
     "--status: unknown status 'bogus' (valid: new, open, pending, snoozed, solved, closed)"),
    (["conversations", "list", "--status", "open", "--status", "bogus"], "--status: unknown status 'bogus'"),
    (["conversations", "list", "--channel", "nope"], "--channel: unknown channel 'nope' (valid: chat, mail)"),
    (["conversations", "list", "--assignee", "nobody"], "--assignee: unknown agent 'nobody' (valid: Ana Souza, "),
    (["report", "summary", "--channel", "nope"], "--channel: unknown channel 'nope' (valid: chat, mail)"),
    (["report", "agents", "--agent", "nobody"], "--agent: unknown agent 'nobody' (valid: Ana Souza, "),
    (["report", "backlog", "--tag", "nope"], "--tag: unknown tag 'nope' (valid: billing, privacy, sales)"),
    (["sync", "--channel", "nope"], "--channel: unknown channel 'nope' (valid: mail, chat)"),
    (["outbox", "list", "--state", "lost"], "--state: unknown state 'lost' (valid: queued, sending, uncertain, sent, failed"),
])
def test_unknown_filter_values_are_exit_2_and_list_the_valid_ones(demo_env, args, message):
    done = cli(*args, env=demo_env, check=False)
    assert done.returncode == 2 and done.stdout == "", (done.stdout, done.stderr)
    assert done.stderr.startswith("tui-desk: " + message) and done.stderr.count("\n") == 1, done.stderr


def test_filters_naming_known_values_still_list(demo_env):
    for args in (["--channel", "chat"], ["--assignee", "none"], ["--assignee", "me"], ["--status", "new"]):
        done = cli("conversations", "list", *args, "--json", env=demo_env)
        assert isinstance(json.loads(done.stdout), list), args
    agents = json.loads(cli("report", "agents", "--agent", "ana", "-f", "json", env=demo_env).stdout)
    assert agents["filters"]["agent"] == "ana"  # an on-call roster id counts as an agent


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
            "tui_desk.channels, tui_desk.threads, tui_desk.commands.common, tui_desk.faq, tui_desk.faq.suggest, "
            "tui_desk.commands.faq;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr


def _command_paths(command, path=()):
    """Every command and subcommand of the click tree behind `tui-desk`, as argv prefixes."""
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _command_paths(sub, (*path, name))


def test_every_help_keeps_its_brackets_and_shows_no_bool_metavar():
    """Help strings name config keys as `[section] key`; a renderer that reads them as
    markup drops `[section]`. Flags take no value, so none may show a `<bool>` metavar."""
    import re

    import typer
    from typer.testing import CliRunner

    from tui_desk import cli as cli_module

    root = typer.main.get_command(cli_module.app)
    runner = CliRunner()
    checked = 0
    for path, command in _command_paths(root):
        shown = runner.invoke(cli_module.app, [*path, "--help"], env={"COLUMNS": "100"}, terminal_width=100)
        assert shown.exit_code == 0, (path, shown.output)
        flat = " ".join(shown.output.split())
        assert "<bool>" not in flat, (path, shown.output)
        texts = [command.help or ""] + [p.help or "" for p in command.params if not getattr(p, "hidden", False)]
        for token in re.findall(r"\[[\w.#-]+\]", " ".join(texts)):
            assert token in flat, (path, token, shown.output)
        checked += 1
    assert checked >= 40, checked  # the walk reached the subcommands


STAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"


def _time_values(data, where="$"):
    """(path, value) of every value that is or names a time: a string holding a date and a
    clock time, or any value under a key ending in `_at`."""
    import re
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("_at") and value is not None and not isinstance(value, (dict, list)):
                yield f"{where}.{key}", value
            elif not isinstance(value, str):
                yield from _time_values(value, f"{where}.{key}")
            elif re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
                yield f"{where}.{key}", value
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _time_values(value, f"{where}[{i}]")
    elif isinstance(data, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", data):
        yield where, data


def test_every_json_output_writes_times_one_way(tmp_path):
    """README: JSON times are UTC, YYYY-MM-DDTHH:MM:SS.mmmZ. Every command that takes --json
    (found by walking the command tree) runs on a demo desk, and every time it prints is checked."""
    import datetime as dt
    import re

    import typer

    from tui_desk import cli as cli_module

    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    cli("demo", "--no-tui", env=env)
    # the demo roster's command contact appends to a file in /tmp: page into this test's folder instead
    config_file = __import__("pathlib").Path(cli("config", "path", env=env).stdout.split()[1])
    roster = tmp_path / "oncall.toml"
    roster.write_text((ROOT / "data/demo/oncall.toml").read_text().replace("/tmp/oncall-pages.txt", str(tmp_path / "paged")))
    config_file.write_text(re.sub(r'roster = ".*"', f'roster = "{roster}"', config_file.read_text()))
    # the newest conversation still going (the demo's answered ones are solved: a sync resolves their pages)
    conv = next(r["id"] for r in json.loads(cli("conversations", "list", "--json", env=env).stdout)
                if r["status"] != "solved")
    template = json.loads(cli("templates", "list", "--json", env=env).stdout)[0]["id"]
    day = lambda weeks: (dt.date.today() + dt.timedelta(weeks=weeks)).isoformat()  # noqa: E731
    runs = {
        ("sync",): ["sync"],
        ("search",): ["search", "refund"],
        ("conversations", "list"): ["conversations", "list"],
        ("conversations", "show"): ["conversations", "show", str(conv)],
        ("conversations", "assign"): ["conversations", "assign", str(conv), "me"],
        ("conversations", "status"): ["conversations", "status", str(conv), "snoozed", "--snooze-until", "1h"],
        ("conversations", "tag"): ["conversations", "tag", str(conv), "+vip"],
        ("conversations", "note"): ["conversations", "note", str(conv), "--text", "Called them."],
        ("config", "check"): ["config", "check"],
        ("reply",): ["reply", str(conv), "--text", "On it."],
        ("outbox", "list"): ["outbox", "list"],
        ("outbox", "flush"): ["outbox", "flush"],
        ("templates", "list"): ["templates", "list"],
        ("templates", "show"): ["templates", "show", template, "--conversation", str(conv)],
        ("templates", "check"): ["templates", "check"],
        ("templates", "stats"): ["templates", "stats"],
        ("templates", "suggest"): ["templates", "suggest", str(conv)],
        ("templates", "promote"): ["templates", "promote", "order-status", "--to", "draft"],
        ("templates", "demote"): ["templates", "demote", "order-status"],
        ("oncall", "rotation", "list"): ["oncall", "rotation", "list"],  # first: it seeds the roster's rotation
        ("oncall", "rotation", "add"): ["oncall", "rotation", "add", "pager", "--members", "chen", "--tz", "Asia/Shanghai",
                                        "--start", "2026-01-05"],
        ("oncall", "rotation", "show"): ["oncall", "rotation", "show", "support"],
        ("oncall", "members"): ["oncall", "members", "pager", "--add", "ana"],
        ("oncall", "now"): ["oncall", "now"],
        ("oncall", "who"): ["oncall", "who", "--at", f"{day(1)} 22:00", "-r", "support"],
        ("oncall", "schedule"): ["oncall", "schedule", "--weeks", "2"],
        ("oncall", "override", "add"): ["oncall", "override", "add", "-r", "support", "--who", "bo",
                                        "--from", f"{day(3)} 18:00", "--to", f"{day(3)} 23:00"],
        ("oncall", "override", "list"): ["oncall", "override", "list"],
        ("oncall", "swap"): ["oncall", "swap", "-r", "support", "--shift", f"{day(1)} 12:00", "--with", f"{day(2)} 12:00"],
        ("oncall", "report"): ["oncall", "report"],
        ("oncall", "page"): ["oncall", "page", "-r", "pager", "-m", "test page"],
        ("oncall", "pages"): ["oncall", "pages"],
        ("oncall", "ack"): ["oncall", "ack", "--conversation", str(conv)],
        ("rules", "check"): ["rules", "check"],
        ("rules", "test"): ["rules", "test", "--conversation", str(conv)],
        ("rules", "replay"): ["rules", "replay", "--since", "90d"],
        ("rules", "stats"): ["rules", "stats"],
        ("agents", "list"): ["agents", "list"],
        ("faq", "build"): ["faq", "build", str(tmp_path / "faq")],
        ("faq", "suggest"): ["faq", "suggest", "--min-count", "1"],
        ("customers", "list"): ["customers", "list"],
        ("customers", "show"): ["customers", "show", "mei.lin@example.net"],
        ("customers", "link"): ["customers", "link", "mei.lin@example.net", "mei@work.example"],
        ("customers", "unlink"): ["customers", "unlink", "mei.lin@example.net", "mei@work.example"],
        ("customers", "merge"): ["customers", "merge", "ben.carter@example.com", "derek.walsh@example.net"],
        ("customers", "unmerge"): ["customers", "unmerge", "ben.carter@example.com"],
        ("conversations", "unmerge"): ["conversations", "unmerge", "MERGED"],
    }
    cli("agents", "away", "ana", "--until", day(1), env=env)
    with_json = {path for path, command in _command_paths(typer.main.get_command(cli_module.app))
                 if any("--json" in p.opts for p in command.params)}
    assert with_json == set(runs), "every command with --json is run here"
    from tui_desk import config as config_mod
    with Store.open(config_mod.load(config_file).database_path()) as store, store.transaction():  # a page to ack
        store.page_request(conv, "urgent", "oncall", {"customer": "c@x.example", "subject": "down", "lines": []},
                           "2026-12-01T10:00:00.000Z")
    with Store.open(config_mod.load(config_file).database_path()) as store:  # a merge to undo
        mei = [c["id"] for c in store.customer_profile(store.find_customer("mei.lin@example.net"))["conversations"]]
        store.merge(mei[0], mei[1], "ana")
    runs[("conversations", "unmerge")][-1] = str(mei[0])
    outputs = {path: cli(*args, "--json", env=env).stdout for path, args in runs.items()}
    for report in ("summary", "channels", "agents", "templates", "hours", "backlog"):
        outputs[("report", report)] = cli("report", report, "--format", "json", env=env).stdout
    seen = 0
    for path, text in outputs.items():
        for where, value in _time_values(json.loads(text)):
            assert isinstance(value, str) and re.fullmatch(STAMP, value), (" ".join(path), where, value)
            seen += 1
    assert seen > 100


def test_demo_opens_the_desk_it_built_unless_fresh(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    db = cli("demo", "--no-tui", env=env).stdout.strip()
    with Store.open(db) as store:
        store.set_tags(1, ["kept"], [], "tester")  # an agent's work on the demo desk
    again = cli("demo", "--no-tui", env=env)
    assert again.stdout.strip() == db and "as you left it" in again.stderr
    with Store.open(db) as store:
        assert "kept" in store.conversation(1)["tags"]
    fresh = cli("demo", "--no-tui", "--fresh", env=env)
    assert fresh.stdout.strip() == db and "as you left it" not in fresh.stderr
    with Store.open(db) as store:
        assert "kept" not in store.conversation(1)["tags"]
    # a build that died before its end leaves no marker: the next run builds it again
    marker = next((tmp_path / "data").rglob(".built"))
    marker.unlink()
    assert "as you left it" not in cli("demo", "--no-tui", env=env).stderr and marker.exists()


def test_a_starter_config_says_which_paths_are_missing(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "HOME": str(tmp_path / "home")}
    init = cli("init", env=env)
    assert "channel mail:" in init.stderr and "does not exist" in init.stderr and "config check" in init.stderr
    check = cli("config", "check", "--json", env=env)
    warnings = json.loads(check.stdout)["warnings"]
    assert [w.split(":")[0] for w in warnings] == ["channel mail", "channel chat-export"]
    assert all(str(tmp_path / "home") in w for w in warnings), "the paths as a sync would read them"
    (tmp_path / "home" / "Mail" / "support" / "cur").mkdir(parents=True)
    assert [w.split(":")[0] for w in json.loads(cli("config", "check", "--json", env=env).stdout)["warnings"]] == [
        "channel chat-export"]


def test_sync_with_no_channels_says_so_on_a_terminal(tmp_path):
    import pty
    conf = tmp_path / "config.toml"
    conf.write_text("[agent]\nname = \"ana\"\n")
    leader, follower = pty.openpty()
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--config", str(conf), "--db", str(tmp_path / "d.db"),
                           "sync"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower, timeout=120)
    os.close(follower)
    said = os.read(leader, 4096).decode()
    os.close(leader)
    assert done.returncode == 0 and "no channels to sync" in said and str(conf) in " ".join(said.split())
    quiet = cli("--config", str(conf), "--db", str(tmp_path / "d.db"), "sync")  # cron: not a terminal
    assert quiet.stderr == ""
