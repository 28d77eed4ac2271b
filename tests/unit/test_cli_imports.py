"""The CLI's start-up diet (issue 21): each command imports what it uses and nothing more.

Every `tui-desk` call is a new process, so what it imports is what it costs: the read
commands people run in loops (`oncall now`, `conversations list|show`, `search`,
`--help`) and `sync` with nothing new must not load another command group, the console,
the migrations library, the template engine, the network clients or the parsers. Each
case runs the real command in a subprocess and inspects `sys.modules` when it ends.
Also here: the lazily loaded command table lists exactly what the loaded commands say,
and the plain option coercion gives what Typer's own gives.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from tests.helpers.desk import build_desk
from tui_desk.store import ListFilter, Store

from tests.conftest import ROOT

HEAVY = {
    "textual": "the console",
    "sqlite_utils": "migrations only",
    "jinja2": "templates",
    "imapclient": "the IMAP channel",
    "httpx": "the Matrix channel",
    "pydantic": "Typer's coercion of unusual option types",
    "icalendar": "oncall export",
    "lxml": "the HTML parser",
    "rapidfuzz": "the template picker",
    "plotext": "report charts",
    "smtplib": "sending mail",
    "multiprocessing": "the parse workers",
    "hashlib": "attachment digests (OpenSSL, ~2.5 ms)",
    "rich": "the report tables and charts (~20 ms)",
}
"""Modules no read command may import, with what needs them."""
SERVICES = ["tui_desk.sync", "tui_desk.outbox", "tui_desk.templates", "tui_desk.rules", "tui_desk.parse.mail",
            "tui_desk.channels", "tui_desk.reports", "tui_desk.faq", "tui_desk.tui", "tui_desk.oncall.page",
            "tui_desk.oncall.escalation", "tui_desk.oncall.report", "tui_desk.model"]
GROUPS = ["conversations", "faq", "oncall", "outbox", "reports", "rules", "setup", "sync", "templates", "inbox",
          "report_charts"]

REPORT = ("import sys\n"
          "sys.argv = ['tui-desk', *sys.argv[1:]]\n"
          "try:\n    from tui_desk.cli import main; main()\n"
          "except SystemExit as exc:\n    code = exc.code\n"
          "else:\n    code = 0\n"
          "open(__import__('os').environ['MODULES_OUT'], 'w').write('\\n'.join(sorted(sys.modules)))\n"
          "sys.exit(code)\n")


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("desk")
    build_desk(folder, folder / "desk.db")
    config = folder / "config.toml"
    config.write_text(config.read_text() + f'\n[oncall]\nroster = {json.dumps(str(ROOT / "data/demo/oncall.toml"))}\n')
    with Store.open(folder / "desk.db") as store:
        conversation = store.conversations(ListFilter(), limit=1)[0]["id"]
    return config, conversation


def loaded(config, *args) -> tuple[set[str], subprocess.CompletedProcess]:
    """The modules `tui-desk ARGS` had imported when it ended (it must succeed)."""
    out = config.parent / "modules.txt"
    env = {**os.environ, "TUI_DESK_CONFIG": str(config), "MODULES_OUT": str(out)}
    done = subprocess.run([sys.executable, "-c", REPORT, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return set(out.read_text().split()), done


RICH_CELLS = {"rich", "rich.cells", "rich._extension", "rich._unicode_data"}
"""rich's character widths (~1.6 ms): the plain tables measure CJK and other wide text with them."""


def heavy(modules: set[str], allowed_groups: set[str], allowed: set[str] = frozenset()) -> list[str]:
    """What of HEAVY, SERVICES and the other command groups is among `modules`."""
    modules = {m for m in modules if m not in RICH_CELLS and not m.startswith("rich._unicode_data.")}
    found = sorted(m for m in modules if m.split(".")[0] in HEAVY and m.split(".")[0] not in allowed)
    found += sorted(m for m in modules for s in SERVICES if (m == s or m.startswith(s + ".")) and s not in allowed)
    found += sorted(m for m in modules for g in GROUPS
                    if m == f"tui_desk.commands.{g}" and g not in allowed_groups)
    return found


READ_COMMANDS = {
    "help": (["--help"], set()),
    "oncall now": (["oncall", "now"], {"oncall"}),
    "oncall now --json": (["oncall", "now", "--json"], {"oncall"}),
    "conversations list": (["conversations", "list", "--limit", "20"], {"conversations"}),
    "conversations list --json": (["conversations", "list", "--limit", "1", "--json"], {"conversations"}),
    "conversations show --json": (["conversations", "show", "{id}", "--json"], {"conversations"}),
    "conversations show": (["conversations", "show", "{id}"], {"conversations"}),
    "search --json": (["search", "x", "--json"], {"conversations"}),
    "search": (["search", "order"], {"conversations"}),
}


@pytest.mark.parametrize("name", READ_COMMANDS)
def test_read_commands_import_nothing_heavy(desk, name):
    config, conversation = desk
    args, groups = READ_COMMANDS[name]
    modules, done = loaded(config, *[a.replace("{id}", str(conversation)) for a in args])
    assert done.stdout.strip(), "the command printed its answer"
    assert heavy(modules, groups) == []
    if "--json" in args or "--help" in args or name == "conversations show":  # plain print(): no table printer
        assert "tui_desk.commands.plain" not in modules, name


def test_sync_with_nothing_new_imports_no_parser_or_sender(desk):
    config, _ = desk
    modules, done = loaded(config, "sync", "--json")
    assert json.loads(done.stdout)["channels"]["mail"]["new"] == 0
    # the sync service and its channels run; the parsers, templates, senders and paging do not
    found = heavy(modules, {"sync"}, allowed={"tui_desk.sync", "tui_desk.outbox", "tui_desk.rules",
                                              "tui_desk.channels", "tui_desk.oncall.escalation",
                                              "tui_desk.model", "hashlib"})
    assert found == []
    assert not {m for m in modules if m.split(".")[0] == "rich"}, "nothing to print but a line"
    assert not {"email.headerregistry", "email.generator", "tui_desk.channels.mailout"} & modules, "nothing to compose"


def test_heavy_import_is_caught(desk):
    """The check itself fails when a command does import something heavy: `templates
    list` renders with Jinja2, and `oncall now` is not the conversations group."""
    config, _ = desk
    modules, _ = loaded(config, "templates", "list", "--json")
    assert "jinja2" in heavy(modules, {"templates"})
    modules, _ = loaded(config, "oncall", "now", "--json")
    assert heavy(modules, {"conversations"}) == ["tui_desk.commands.oncall"]
    modules, _ = loaded(config, "report", "summary")  # report tables are still rich's
    assert "rich.table" in heavy(modules, {"reports"}, allowed={"tui_desk.reports"})


def _help(args, width):
    from tui_desk import cli as cli_module
    return CliRunner().invoke(cli_module.app, [*args, "--help"], env={"COLUMNS": str(width)}, terminal_width=width)


@pytest.mark.parametrize("width", [60, 100, 250])
def test_help_from_the_table_is_what_the_loaded_commands_say(width):
    """`--help` lists the commands from cli.COMMANDS without importing them; the listing
    must be the one the commands themselves give (a new group's line in the table must
    match its help)."""
    from tui_desk import cli as cli_module

    lazy = _help([], width)
    assert lazy.exit_code == 0
    root = typer.main.get_command(cli_module.app)
    assert list(root.commands) == list(cli_module.COMMANDS)
    loaded_help = {name: command.get_short_help_str(1000) for name, command in root.commands.items()}
    for name, lazy_entry in cli_module.COMMANDS.items():
        assert lazy_entry.help == loaded_help[name], name
    # every command is loaded now: the same help, answered by the commands themselves
    assert cli_module.Root.table is cli_module.COMMANDS
    eager = typer.main.get_command(cli_module.app)
    for name in eager.commands:  # load every one
        eager.commands[name]
    assert all(name in eager.commands.loaded for name in cli_module.COMMANDS)
    ctx = eager.make_context("tui-desk", ["--help"], resilient_parsing=True, terminal_width=width)
    assert eager.get_help(ctx) in lazy.output


def test_unknown_command_is_a_usage_error_with_a_suggestion():
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), "conversatons"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "No such command 'conversatons'" in done.stderr and "'conversations'" in done.stderr
    assert "Traceback" not in done.stderr


def _typers(param, value):
    """Typer's own coercion of `value` for `param`: the value, or the error it raises."""
    from typer._coercion import build_runtime_param
    try:
        return build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=None)
    except Exception as exc:  # noqa: BLE001 - the error is the answer compared
        return type(exc), str(exc)


def _plain(param, value):
    from tui_desk.commands.coerce import PlainCoercion
    try:
        return PlainCoercion(param).coerce(value, param=param, ctx=None)
    except Exception as exc:  # noqa: BLE001
        return type(exc), str(exc)


def test_plain_coercion_gives_what_typer_gives():
    app = typer.Typer()

    @app.command()
    def sample(text: str = typer.Option(None), limit: int = typer.Option(50, min=1, max=1000),
               count: int = typer.Option(0), poll: float = typer.Option(30.0, min=1.0),
               tag: list[str] = typer.Option(None), path: str = typer.Argument("x")) -> None:
        pass

    command = typer.main.get_command(app)
    params = {p.name: p for p in command.params}
    values = {
        "text": ["", "refund", " spaced ", "[bold]x[/]", "ü", None, 5],
        "limit": ["1", "20", "1000", "0", "1001", "-5", "007", " 5", "5 ", "1_000", "+5", "5.0", "x", "", 50, None,
                  "99999999999999999999999"],
        "count": ["0", "-0", "-12", "12", "3e2", 0],
        "poll": ["1", "1.5", "30.0", "0.5", "1e3", "inf", "nan", "x", ".5", "5.", 30.0, 2],
        "tag": [("a", "b"), (), ["x"], None, "a"],
        "path": ["x", "/tmp/a b"],
    }
    compared = 0
    for name, cases in values.items():
        for value in cases:
            assert _plain(params[name], value) == _typers(params[name], value), (name, value)
            compared += 1
    assert compared > 40
