"""The reference mail indexers, notmuch and mu (maildir-utils), on the bench Maildir.

Both are Debian packages (apt-get install notmuch maildir-utils). Each keeps its index
outside the Maildir, in a folder of its own under bench/out, so the desk's Maildir channel
sees the corpus exactly as the indexers do. `index()` times building an index from
nothing (bench_store compares the desk's import with it); `ensure()` builds one only if
it is missing (bench_cli searches it); `search_command()` is the command to time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

TOOLS = {
    "notmuch": "notmuch",
    "mu": "mu",
}
INSTALL = {"notmuch": "apt-get install notmuch", "mu": "apt-get install maildir-utils"}


def missing(tool: str) -> str | None:
    """Why `tool` cannot run here, or None."""
    if shutil.which(TOOLS[tool]) is None:
        return f"{tool} not installed ({INSTALL[tool]})"
    return None


def _notmuch_env(home: Path) -> dict:
    return {**os.environ, "NOTMUCH_CONFIG": str(home / "config")}


def _prepare(tool: str, maildir: Path, home: Path) -> None:
    """An empty index for `maildir` in `home`."""
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if tool == "notmuch":
        (home / "db").mkdir()
        (home / "config").write_text(
            f"[database]\npath={home / 'db'}\nmail_root={maildir}\n\n"
            "[user]\nname=Bench\nprimary_email=bench@bench.example\n\n"
            "[new]\ntags=unread;inbox;\nignore=\n\n[maildir]\nsynchronize_flags=false\n")
    else:
        subprocess.run(["mu", "init", f"--muhome={home}", f"--maildir={maildir}"],
                       check=True, capture_output=True, timeout=120)


def _index_command(tool: str, home: Path) -> tuple[list[str], dict]:
    if tool == "notmuch":
        return ["notmuch", "new", "--quiet"], _notmuch_env(home)
    return ["mu", "index", f"--muhome={home}", "--quiet"], dict(os.environ)


def index(tool: str, maildir: Path, home: Path) -> float:
    """Seconds to index `maildir` from nothing into `home` (left there for searching)."""
    (home.parent / f"{home.name}.complete").unlink(missing_ok=True)
    _prepare(tool, maildir, home)
    command, env = _index_command(tool, home)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=3600)
    seconds = time.perf_counter() - started
    (home.parent / f"{home.name}.complete").touch()
    return seconds


def ensure(tool: str, maildir: Path, home: Path) -> None:
    """An index of `maildir` in `home`, built unless a complete one is there."""
    if not (home.parent / f"{home.name}.complete").exists():
        index(tool, maildir, home)


def search_command(tool: str, home: Path, word: str, limit: int = 50) -> tuple[list[str], dict]:
    if tool == "notmuch":
        return ["notmuch", "search", f"--limit={limit}", word], _notmuch_env(home)
    return ["mu", "find", f"--muhome={home}", f"--maxnum={limit}", word], dict(os.environ)
