"""Whole-process latency of the commands people type, side by side with notmuch and mu.

On the bench corpus (bench/corpus.py: 100,000 messages, 5,000 with --size small) synced
into a desk database, each command runs as the user runs it (the `tui-desk` console
script, a new process each time): once untimed, so the page cache and Python's bytecode
cache are warm, then RUNS times; the figure is the median wall time. In the same run,
`notmuch search --limit=50 WORD` and `mu find --maxnum=50 WORD` search the same Maildir
(their indexes are built once, see bench/others.py), and the ratios are printed.
`python -c pass` is given too: the interpreter's own start, which no command goes below.
The console's first frame is timed from starting `tui-desk` in a tmux pane (120×40) to
the first capture of the pane showing the newest conversation's subject (captured every
10 ms, so the figure may be up to ~15 ms late); skipped without tmux.

The desk database and the indexes are built once and kept in bench/out (bench_store
times building them); `make bench BENCH_ARGS="--only cli"` runs only this part.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import corpus, others
from bench.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SIZES = {"small": 5_000, "full": 100_000}
RUNS = {"small": 7, "full": 15}
WORD = "refund"
"""The issue's example: a support word found in many messages (bench_store times rarer ones)."""
LIMIT_MS = 100
SYNC_LIMIT_MS = 150
CONSOLE_LIMIT_MS = 600


def _tui_desk() -> list[str]:
    script = Path(sys.executable).parent / "tui-desk"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from tui_desk.cli import main; main()"]


def _env(config: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # warm: bytecode cached
    return {**env, "TUI_DESK_CONFIG": str(config), "COLUMNS": "120"}


def _desk(count: int) -> Path:
    """A config whose database holds the corpus, synced once (kept between runs)."""
    maildir = corpus.build(OUT / f"maildir-{count}", count)
    config = OUT / f"cli-{count}.toml"
    db = OUT / f"cli-{count}.db"
    ready = OUT / f"cli-{count}.ready-{corpus.VERSION}"
    config.write_text(
        f'[storage]\ndatabase = "{db}"\n\n[oncall]\nroster = "{ROOT / "data/demo/oncall.toml"}"\n\n'
        f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = "{maildir}"\n')
    if not ready.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        print(f"  syncing the {count:,}-message corpus into {db.name} (once)...", file=sys.stderr, flush=True)
        done = subprocess.run([*_tui_desk(), "sync", "--json"], env=_env(config), capture_output=True,
                              text=True, timeout=3600)
        new = json.loads(done.stdout)["channels"]["mail"]["new"] if done.returncode == 0 else 0
        if new != count:
            raise RuntimeError(f"the bench desk sync stored {new} of {count}: {done.stderr[-500:]}")
        ready.touch()
    return config


def _median_ms(command: list[str], env: dict, runs: int) -> tuple[float, subprocess.CompletedProcess]:
    done = subprocess.run(command, env=env, capture_output=True, timeout=120)  # warm-up, not timed
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, timeout=120)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), done


def run(size: str) -> list[Figure]:
    count, runs = SIZES[size], RUNS[size]
    config = _desk(count)
    env = _env(config)
    desk = _tui_desk()
    listed = json.loads(subprocess.run([*desk, "conversations", "list", "--limit", "200", "--json"], env=env,
                                       capture_output=True, text=True, check=True).stdout)
    threaded = max(listed, key=lambda r: r["messages"])["id"]  # a thread: several messages to show
    commands = {
        "--help": ["--help"],
        "oncall now": ["oncall", "now"],
        "oncall now --json": ["oncall", "now", "--json"],
        "conversations list --limit 20": ["conversations", "list", "--limit", "20"],
        "conversations list --limit 20 --json": ["conversations", "list", "--limit", "20", "--json"],
        f"conversations show ID ({threaded})": ["conversations", "show", str(threaded)],
        f"search {WORD} --limit 50": ["search", WORD, "--limit", "50"],
        f"search {WORD} --limit 50 --json": ["search", WORD, "--limit", "50", "--json"],
        "sync, nothing new": ["sync"],
    }
    figures = []
    start_ms, _ = _median_ms([sys.executable, "-c", "pass"], env, runs)
    figures.append(Figure("cli", "python -c pass (the interpreter's start)", f"{start_ms:.0f} ms"))
    ours = {}
    for name, args in commands.items():
        ms, done = _median_ms([*desk, *args], env, runs)
        ours[name] = ms
        limit = SYNC_LIMIT_MS if name.startswith("sync") else LIMIT_MS
        failed = "" if done.returncode == 0 else f" (exit {done.returncode})"
        figures.append(Figure("cli", f"tui-desk {name}, {count:,} messages", f"{ms:.0f} ms{failed}",
                              f"≤ {limit} ms", ms <= limit and not failed))
    figures.append(_console(desk, env, listed[0]["subject"], count, 3 if size == "small" else 5))
    search_ms = ours[f"search {WORD} --limit 50"]
    for tool in ("notmuch", "mu"):
        why = others.missing(tool)
        if why:
            figures.append(Figure("cli", f"{tool} search", f"skipped: {why}"))
            continue
        home = OUT / f"{tool}-{count}"
        others.ensure(tool, OUT / f"maildir-{count}", home)
        command, tool_env = others.search_command(tool, home, WORD)
        ms, done = _median_ms(command, tool_env, runs)
        shown = " ".join(command[:1] + [a for a in command[1:] if not a.startswith("--muhome")])
        figures.append(Figure("cli", f"{shown} ({len(done.stdout.splitlines())} lines)", f"{ms:.0f} ms"))
        figures.append(Figure("cli", f"tui-desk search / {tool}", f"{search_ms / ms:.1f}×"))
    return figures


def _console(desk: list[str], env: dict, subject: str, count: int, runs: int) -> Figure:
    """Median ms from starting the console in tmux to a pane showing `subject`."""
    name = f"console's first frame, {count:,} messages"
    if shutil.which("tmux") is None:
        return Figure("cli", name, "skipped: tmux not installed (apt-get install tmux)")
    marker = subject[:16]
    session = f"tui-desk-bench-{os.getpid()}"
    shell = " ".join(f"'{part}'" for part in desk)
    times = []
    for run in range(runs + 1):  # the first run warms the caches, untimed
        started = time.perf_counter()
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                        "-e", f"TUI_DESK_CONFIG={env['TUI_DESK_CONFIG']}", "-e", "TERM=xterm-256color", "-e", "PYTHONDONTWRITEBYTECODE=",
                        f"exec {shell}"], check=True, env=env)
        try:
            while time.perf_counter() - started < 30:
                screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                        text=True).stdout
                if marker in screen:
                    if run:
                        times.append((time.perf_counter() - started) * 1000)
                    break
                time.sleep(0.01)
            else:
                return Figure("cli", name, f"failed: {marker!r} never shown", f"≤ {CONSOLE_LIMIT_MS} ms", False)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    ms = statistics.median(times)
    return Figure("cli", name, f"{ms:.0f} ms", f"≤ {CONSOLE_LIMIT_MS} ms", ms <= CONSOLE_LIMIT_MS)
