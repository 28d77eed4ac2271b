"""Run every bench/bench_*.py and print one table of figures against their targets.

Each module exposes `run(size: str) -> list[Figure]`; `--only NAME` runs one module,
`--size small` runs a quick pass (for trying things out; README figures use "full").
Results also go to bench/out/results.json.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.figure import Figure

OUT = Path(__file__).resolve().parent / "out"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", help="run only bench_NAME")
    parser.add_argument("--size", choices=["small", "full"], default="full")
    args = parser.parse_args(argv)
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if args.only:
        names = [n for n in names if n == f"bench_{args.only}"]
    figures: list[Figure] = []
    for name in names:
        started = time.monotonic()
        print(f"running {name} ({args.size})...", file=sys.stderr, flush=True)
        figures += importlib.import_module(f"bench.{name}").run(args.size)
        print(f"  {name} took {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    table = Table("area", "figure", "value", "target", "ok")
    for f in figures:
        table.add_row(f.area, f.name, f.value, f.target or "-", {True: "yes", False: "NO", None: "-"}[f.ok])
    Console().print(table)
    OUT.mkdir(exist_ok=True)
    (OUT / "results.json").write_text(json.dumps([f.__dict__ for f in figures], indent=2))
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
