"""Running a piece of a test in a child process with a bound on its time and memory:
code that would compute for hours (or ask for gigabytes) fails the test instead of
hanging the test run or the machine."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
MEMORY = 2 << 30  # bytes of address space the child may take


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_child(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -c code args...` in the checkout; raises AssertionError when it does not
    finish within `timeout` seconds (a bound, not a timing assertion)."""
    try:
        return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the child did not finish within {timeout:g} s; stderr: {exc.stderr!r:.2000}") from None
