"""The real `tui-desk` command in tmux on the demo database: open, reply, check the outbox."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import need
from tests.helpers import store_api
from tui_desk.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=20).stdout


def _wait_for(session: str, text: str, limit: float = 30.0) -> str:
    deadline = time.monotonic() + limit  # a bound on the wait, not a timing assertion
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; screen was:\n{screen}")


def _console_on_demo(tmp_path, session: str, prefix: str = "") -> Path:
    """Build the demo database, then run the real console on it in a tmux session
    (`prefix`: shell commands run before it). Returns the database's path."""
    need(shutil.which("tmux") is not None, "tmux is not installed")
    db = tmp_path / "demo.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color"}
    command = [sys.executable, "-c", "from tui_desk.cli import main; main()"]
    built = subprocess.run([*command, "demo", "--db", str(db), "--no-tui"], env=env, cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    shell = " ".join(f"'{part}'" for part in [*command, "--db", str(db)])
    _tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-e", f"PYTHONPATH={ROOT}",
          "-e", f"XDG_CONFIG_HOME={env['XDG_CONFIG_HOME']}", "-e", f"XDG_DATA_HOME={env['XDG_DATA_HOME']}",
          f"cd '{ROOT}' && {prefix}exec {shell}")
    return db


def test_reply_from_the_real_command(tmp_path):
    pytest.importorskip("tui_desk.outbox")
    session = f"tui-desk-test-{os.getpid()}"
    db = _console_on_demo(tmp_path, session)
    try:
        _wait_for(session, "All open")
        _tmux("send-keys", "-t", session, "Enter")
        _wait_for(session, "Conversations")  # the customer card
        _tmux("send-keys", "-t", session, "r")
        _wait_for(session, "Reply on #")
        _tmux("send-keys", "-t", session, "-l", "Thanks, looking into it now.")
        _wait_for(session, "looking into it now.")  # typed into the composer, not read as keys
        _tmux("send-keys", "-t", session, "C-s")
        _wait_for(session, "Sending “reply”")  # the quick bar counts the undo window down
        _tmux("send-keys", "-t", session, "Escape")
        _tmux("send-keys", "-t", session, "q")
    finally:
        _tmux("kill-session", "-t", session)
    with Store.open(db) as store:
        assert any("Thanks, looking into it now." in o["text"] for o in store_api.outbox(store))


def test_the_console_ends_when_its_terminal_goes_away_without_a_hangup_signal(tmp_path):
    session = f"tui-desk-hup-{os.getpid()}"
    pid_file = tmp_path / "pid"
    # SIGHUP ignored (as under nohup): only the console's own watch can notice the hang-up
    _console_on_demo(tmp_path, session, prefix=f"trap '' HUP && echo $$ > '{pid_file}' && ")
    try:
        _wait_for(session, "All open")
    finally:
        _tmux("kill-session", "-t", session)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 20  # a bound on the wait: the watch looks every 2 s
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        time.sleep(0.2)
    alive = Path(f"/proc/{pid}").exists()
    if alive:
        os.kill(pid, 9)
    assert not alive, "the console lived on after its terminal went away"
