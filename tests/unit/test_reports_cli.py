"""`tui-desk report ...` end to end: formats, options, and one-line errors with exit 2."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from tests.helpers import report_fixture as fx
from tui_desk.store import Store

WEEK = ["--since", "2026-11-02", "--until", "2026-11-08"]


@pytest.fixture
def desk(tmp_path, db_path):
    with Store.open(db_path) as store:
        fx.build(store)
    config = tmp_path / "config.toml"
    config.write_text(
        '[desk]\ntimezone = "Europe/Berlin"\nbusiness_hours = ["mon-fri 09:00-17:00"]\nholidays = ["2026-11-04"]\n'
        '[agent]\nname = "ana"\n', encoding="utf-8")
    return ["--config", str(config), "--db", str(db_path)]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from tui_desk.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=60, env={**__import__("os").environ, "COLUMNS": "120"})


def test_json_summary(desk):
    result = run(*desk, "report", "summary", *WEEK, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["opened"], data["solved"], data["backlog"]) == (7, 4, 4)
    assert data["period"]["timezone"] == "Europe/Berlin"


def test_table_summary_shows_durations(desk):
    result = run(*desk, "report", "summary", *WEEK)
    assert result.returncode == 0, result.stderr
    assert "first response median, calendar time" in result.stdout
    assert "7h 00m" in result.stdout  # (7200 + 43200) / 2 s
    assert "75.0%" in result.stdout   # one-touch


def test_csv_channels(desk):
    result = run(*desk, "report", "channels", *WEEK, "-f", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:4] == ["channel", "opened", "msgs in", "solved"]
    assert rows[0][4] == "FRT median (seconds)"
    assert rows[1][:5] == ["chat", "4", "5", "1", "25200"]


def test_csv_summary_says_seconds_where_it_writes_seconds(desk):
    result = run(*desk, "report", "summary", *WEEK, "-f", "csv")
    assert result.returncode == 0, result.stderr
    rows = {row[0]: row[1] for row in csv.reader(io.StringIO(result.stdout))}
    assert rows["first response median, calendar time (seconds)"] == "25200"  # 7h 00m on screen
    assert float(rows["first response p90, business time (seconds)"]) >= 0
    assert rows["conversations opened"] == "7"
    assert not [label for label in rows if "hours" in label], "no figure labelled in hours holds seconds"


def test_summary_chart_names_days_on_its_x_axis(desk):
    result = run(*desk, "report", "summary", "--since", "2026-11-02", "--until", "2026-11-29", "-f", "chart")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.rstrip().splitlines()
    bottom = max(i for i, line in enumerate(lines) if "└" in line)  # the frame, below the legend
    axis = lines[bottom + 1]
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", axis)
    assert dates[0] == "2026-11-02" and len(dates) >= 3 and dates == sorted(dates)
    assert not re.search(r"\b\d+\.\d\b", axis), axis  # no "1.0 5.7 10.3" positions


def test_agent_me_and_tag(desk):
    result = run(*desk, "report", "agents", *WEEK, "--agent", "me", "-f", "json")
    assert [a["agent"] for a in json.loads(result.stdout)["agents"]] == ["ana"]
    result = run(*desk, "report", "summary", *WEEK, "--tag", "billing", "-f", "json")
    assert json.loads(result.stdout)["opened"] == 2


@pytest.mark.parametrize("report", ["summary", "channels", "agents", "templates", "hours", "backlog"])
def test_every_report_in_every_format(desk, report):
    for fmt in ("table", "csv", "json", "chart"):
        result = run(*desk, "report", report, *WEEK, "-f", fmt)
        assert result.returncode == 0, (fmt, result.stderr)
        assert result.stdout.strip()
        assert "\x1b" not in result.stdout  # not a terminal: no colour codes


def test_hours_what_if_option(desk):
    result = run(*desk, "report", "hours", *WEEK, "--oncall-minutes", "10", "-f", "json")
    assert json.loads(result.stdout)["what_if"]["with_oncall"]["median"] == 3000


@pytest.mark.parametrize("args, message", [
    (["--since", "last tuesday"], "cannot read 'last tuesday'"),
    (["--since", "2026-11-08", "--until", "2026-11-01"], "the period is empty"),
    (["--tz", "Mars/Olympus"], "unknown timezone"),
    (["--format", "pdf"], "unknown format"),
    # a filter naming nobody would answer with zeros as if they were true
    (["--channel", "nope"], "--channel: unknown channel 'nope' (valid: chat, mail)"),
    (["--agent", "nobody"], "--agent: unknown agent 'nobody' (valid: ana, bo)"),
    (["--tag", "nope"], "--tag: unknown tag 'nope' (valid: billing, vip)"),
])
def test_bad_input_is_one_line_and_exit_2(desk, args, message):
    result = run(*desk, "report", "summary", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_filters_naming_known_values_still_answer(desk):
    for args in (["--channel", "chat"], ["--agent", "bo"], ["--agent", "me"], ["--tag", "vip"]):
        result = run(*desk, "report", "summary", *WEEK, *args, "-f", "json")
        assert result.returncode == 0, (args, result.stderr)
        assert json.loads(result.stdout)["opened"] >= 1, args


def test_untrusted_names_stay_plain_text(desk, db_path):
    with Store.open(db_path) as store:  # raw SQL on purpose: a stored name no config check would let in
        store.d.conn.execute("UPDATE conversations SET channel = '[bold]x\x1b[31m' WHERE id = 2")
        store.d.conn.execute("UPDATE messages SET channel = '[bold]x\x1b[31m' WHERE conversation_id = 2")
    result = run(*desk, "report", "channels", *WEEK)
    assert result.returncode == 0, result.stderr
    assert "[bold]x" in result.stdout and "\x1b" not in result.stdout
