"""The CLI's plain tables (commands/plain.py): what rich's tables showed, without rich.

`conversations list`, `search`, `oncall now` and the other command tables used to be
rich Tables (box=None, pad_edge=False, bold header); importing rich and laying one out
cost a command 45–120 ms (issue 21). The plain printer must show the same: compared
line for line with rich's rendering of the same rows at several widths (wrapping,
cut words, no_wrap columns, CJK), and never read a cell as markup or pass an escape.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tests.helpers.desk import build_desk
from tui_desk.commands.common import cell
from tui_desk.commands.plain import PlainTable, cut, width, wrap

from tests.conftest import ROOT

HEADERS = ("id", "channel", "customer", "subject", "status", "assignee", "last activity")
ROWS = [
    ("7", "chat", "Zoe Müller", "Is the shop open on Sunday?", "new", "-", "2026-05-05 09:00"),
    ("6", "mail", "Mike Jones", "Where is my order? It was due last Tuesday and the tracking page says nothing",
     "open", "Ana Souza", "2026-05-05 08:00"),
    ("5", "mail", "王小明", "订单没有到 退款 请尽快处理 谢谢", "pending", "-", "2026-05-04 18:30"),
    ("4", "mail", "สมชาย ใจดี", "สอบถามเรื่องการคืนเงิน", "new", "-", "2026-05-04 12:00"),
    ("3", "mail", "Dara O'Neill", "Refund for order 20011: supercalifragilisticexpialidocious-packaging", "snoozed",
     "Bo Chen", "2026-05-03 07:15"),
    ("1234567", "matrix", "", "", "closed", "", "2026-01-01 00:00"),
]


def rich_lines(headers, rows, room, no_wrap=()):
    grid = Table(*headers, box=None, header_style="bold", pad_edge=False)
    for column in grid.columns:
        column.no_wrap = column.header in no_wrap
    for row in rows:
        grid.add_row(*(Text(c) for c in row))
    buffer = io.StringIO()
    Console(file=buffer, width=room, highlight=False, soft_wrap=False).print(grid)
    return [line.rstrip() for line in buffer.getvalue().splitlines()]


def plain_lines(headers, rows, room, no_wrap=()):
    grid = PlainTable(*headers)
    for column in grid.columns:
        column.no_wrap = column.header in no_wrap
    for row in rows:
        grid.add_row(*row)
    return grid.lines(room)


@pytest.mark.parametrize("room", [30, 50, 80, 100, 120, 200])
@pytest.mark.parametrize("no_wrap", [(), ("last activity",), ("customer", "last activity")])
def test_the_plain_table_prints_what_rich_printed(room, no_wrap):
    plain, rich = plain_lines(HEADERS, ROWS, room, no_wrap), rich_lines(HEADERS, ROWS, room, no_wrap)
    if (room, no_wrap) == (80, ("customer", "last activity")):
        # rich cuts a wide-character word that exactly fills its column when more words
        # follow it (it counts the space after it); the plain table keeps the word
        differ = [(a, b) for a, b in zip(plain, rich) if a != b]
        assert len(differ) == 2 and len(plain) == len(rich)
        assert differ[0][1] == differ[0][0].replace("订单没有到", "订单没有 …")
        assert differ[1][1] == differ[1][0].replace("请尽快处理", "请尽快处 …")
        return
    assert plain == rich


def test_search_and_oncall_shapes_match_rich():
    search = [("12", "open", "Refund please", "…asked for a [b]refund[/b] twice, and the order never came…"),
              ("3", "new", "订单没有到", "退款 请尽快处理")]
    oncall = [("support", "Dara O'Neill", "2026-11-30 Mon 09:00", "2026-12-07 Mon 09:00", "Ana Souza", "override")]
    for room in (40, 60, 80, 120):
        assert plain_lines(("conv", "status", "subject", "snippet"), search, room) == \
            rich_lines(("conv", "status", "subject", "snippet"), search, room)
        heads = ("rotation", "who", "since", "until", "next", "note")
        assert plain_lines(heads, oncall, room, ("since", "until")) == rich_lines(heads, oncall, room, ("since", "until"))


def test_no_rows_is_the_header_only():
    assert plain_lines(("a", "bb"), [], 80) == ["a  bb"]


def test_widths_count_display_cells():
    assert width("abc") == 3 and width("订单") == 4 and width("e\u0301") == 1
    assert cut("订单没有到", 5) == "订单…" and cut("订单没有到", 4) == "订 …" and cut("abc", 3) == "abc"
    assert wrap("one two three", 7) == ["one two", "three"]
    assert wrap("supercalifragilistic", 6) == ["super…"]


def test_cells_are_text_never_markup_or_escapes():
    hostile = "[bold]boss[/bold] [@click=app.quit]x[/] [link=http://evil.example]y[/link] \x1b[31mred\x1b]0;t\x07 \u202eevil"
    shown = cell(hostile)
    assert "\x1b" not in shown and "\u202e" not in shown
    grid = PlainTable("who")
    grid.add_row(shown)
    line = grid.lines(200)[1]
    assert "[bold]boss[/bold]" in line and "[@click=app.quit]x[/]" in line and "[link=http://evil.example]" in line


def test_the_header_is_bold_only_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    grid = PlainTable("id", "subject")
    grid.add_row("1", "hello")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    pipe, tty = io.StringIO(), Tty()
    grid.print(pipe)
    grid.print(tty)
    assert "\x1b" not in pipe.getvalue()
    assert tty.getvalue().startswith("\x1b[1mid\x1b[0m  \x1b[1msubject\x1b[0m\n1   hello\n")
    monkeypatch.setenv("TERM", "dumb")
    dumb = Tty()
    grid.print(dumb)
    assert "\x1b" not in dumb.getvalue()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("desk")
    build_desk(folder, folder / "desk.db")
    config = folder / "config.toml"
    config.write_text(config.read_text() + f'\n[oncall]\nroster = {json.dumps(str(ROOT / "data/demo/oncall.toml"))}\n')
    return config


def run(config, *args, columns=80):
    env = {**os.environ, "TUI_DESK_CONFIG": str(config), "COLUMNS": str(columns)}
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


@pytest.mark.parametrize("columns", [60, 120])
def test_command_tables_are_the_rows_they_list(desk, columns):
    """`conversations list` and `search` print one table row per conversation of their
    --json answer, the subject (cut at 60 / 40 characters) and status in it."""
    rows = json.loads(run(desk, "conversations", "list", "--json"))
    lines = run(desk, "conversations", "list", columns=columns).splitlines()
    top = next(n for n, line in enumerate(lines) if line.startswith("id "))  # a header may wrap ("last / activity")
    assert lines[top].split()[:3] == ["id", "channel", "customer"]
    assert max(width(line) for line in lines) <= columns
    starts = [line.split()[0] for line in lines[top + 1:] if line[:1].strip()]
    assert starts == [str(r["id"]) for r in rows]
    text = " ".join(" ".join(line.split()) for line in lines)
    for r in rows:
        assert r["status"] in text
    hits = json.loads(run(desk, "search", "order", "--json"))
    assert hits
    shown = run(desk, "search", "order", columns=columns).splitlines()
    assert shown[0].split() == ["conv", "status", "subject", "snippet"]
    assert [line.split()[0] for line in shown[1:] if line[:1].strip()] == [str(h["conversation_id"]) for h in hits]
    assert max(width(line) for line in shown) <= columns


def test_oncall_now_table(desk):
    now = json.loads(run(desk, "oncall", "now", "--json"))
    lines = run(desk, "oncall", "now", columns=200).splitlines()
    assert lines[0].startswith("times in ")
    assert lines[1].split() == ["rotation", "who", "since", "until", "next", "note"]
    assert lines[2].startswith(now[0]["rotation"]) and (now[0]["name"] or now[0]["who"]) in lines[2]


def test_plain_lines_print_without_rich():
    """`out.print(text, markup=False)` writes the text as it is (no markup, no emoji
    codes, no wrapping at 80 columns), `err` to stderr; rich is not imported for it."""
    code = ("import sys\nfrom tui_desk.commands.common import out, err\n"
            "out.print('[bold]x[/] :warning: ' + 'y' * 120, markup=False)\n"
            "out.print('times in Europe/Berlin', style='dim', markup=False)\n"
            "err.print('[red]e[/]', markup=False)\n"
            "print(any(m.split('.')[0] == 'rich' for m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "COLUMNS": "80"})
    assert done.stdout.splitlines() == ["[bold]x[/] :warning: " + "y" * 120, "times in Europe/Berlin", "False"]
    assert done.stderr == "[red]e[/]\n"
