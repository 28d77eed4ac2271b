"""The house's layering, as tests: the import-linter contracts of pyproject.toml hold
(front ends → services → store/parse/channels → model/config; only tui_desk.tui
imports Textual), and no module of tui_desk takes part in an import cycle, counting
the imports made inside functions."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")

def lint(cwd: Path) -> subprocess.CompletedProcess:
    """`lint-imports` of the venv, run on the tui_desk in `cwd`."""
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120)


# tui_desk is a namespace package: a copy of it would be merged with the checkout's own
# folder (the editable install's finder). The copy is made a regular package, first on
# the path, so that the linter reads the copy alone.
_ON_COPY = ("import sys; sys.path.insert(0, '.'); from importlinter.cli import lint_imports_command;"
            " lint_imports_command(['--no-cache'])")


def lint_copy(tmp_path: Path, module: str, added: str) -> subprocess.CompletedProcess:
    """The contracts checked on a copy of tui_desk with `added` appended to `module`."""
    shutil.copytree(ROOT / "tui_desk", tmp_path / "tui_desk", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "tui_desk" / "__init__.py").write_text("")
    target = tmp_path / "tui_desk" / module
    target.write_text(target.read_text() + added)
    return subprocess.run([sys.executable, "-c", _ON_COPY], cwd=tmp_path, capture_output=True, text=True, timeout=120)


def cycles(package: str) -> list[frozenset[str]]:
    """Every set of modules of `package` that import each other in a ring (the strongly
    connected components of its import graph with more than one module, or one that
    imports itself)."""
    # an import only for type checkers (under TYPE_CHECKING) never runs: it makes no ring
    graph = grimp.build_graph(package, cache_dir=None, exclude_type_checking_imports=True)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in edges:  # Tarjan's algorithm, iterative (the graph has hundreds of modules)
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in edges:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    ring = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        ring.add(member)
                        if member == node:
                            break
                    if len(ring) > 1 or node in edges[node]:
                        found.append(frozenset(ring))
    return found


def test_the_contracts_are_kept():
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_upward_import_breaks_the_layers(tmp_path):
    """The same contracts on a copy of tui_desk whose store imports the console: the
    linter fails, naming the contract and the import."""
    done = lint_copy(tmp_path, "store/inbox.py", "\n\ndef _upward():\n    from ..tui import format  # noqa\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Front ends over services over store/parse/channels over the model BROKEN" in done.stdout
    assert "tui_desk.store.inbox -> tui_desk.tui.format" in done.stdout


def test_textual_outside_the_console_breaks_a_contract(tmp_path):
    done = lint_copy(tmp_path, "outbox.py", "\n\ndef _console():\n    import textual  # noqa\n")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Only the console imports Textual BROKEN" in done.stdout


def test_no_import_cycles():
    found = set(cycles("tui_desk"))
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(sorted(ring)) for ring in found)


def test_the_cycle_finder_sees_imports_inside_functions(tmp_path, monkeypatch):
    package = tmp_path / "ringed"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def late():\n    from . import c\n")
    (package / "c.py").write_text("def later():\n    from .a import b\n")
    (package / "d.py").write_text("from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert cycles("ringed") == [frozenset({"ringed.a", "ringed.b", "ringed.c"})]


def test_the_installed_command_lives_in_the_package():
    """`cli.py` at the root is a checkout's shim: what `pip install` ships is the package
    alone, so it owns no top-level module named `cli`."""
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["tui-desk"] == "tui_desk.cli:main"
    assert "py-modules" not in project.get("tool", {}).get("setuptools", {})
    shim = (ROOT / "cli.py").read_text(encoding="utf-8")
    assert "from tui_desk.cli import" in shim and len(shim.splitlines()) < 12
