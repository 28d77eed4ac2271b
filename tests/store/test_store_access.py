"""Tests and their helpers reach the store through its API, never through `store.d`
(its connection) or raw SQL, except tests of the schema itself and the few that write
what no store call can (a crash's leftovers, history dated in the past, data of another
writer). Those are listed here with why, and each such use carries a comment saying
"raw SQL on purpose" (on its line, or on a line it belongs to: the statement, `with` or
`def` that holds it), so a grep tells them apart (issue 23, item 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
MARK = "raw SQL on purpose"

# file (under tests/) → why it may touch the database under the store
ALLOWED = {
    "helpers/report_fixture.py": "the reports' story, dated in the past, row by row",
    "store/test_store.py": "the schema and its migrations",
    "store/test_store_migrations.py": "the migrations",
    "store/test_report_facts.py": "the stored facts table and its triggers",
    "unit/test_reports.py": "the triggers' reply columns; history dated in the past; tags of another JSON encoder",
    "unit/test_reports_cli.py": "a stored channel name no config check lets in",
    "unit/test_sync.py": "the full-text index a sync batch writes, against the trigger's",
    "integration/test_outbox_uncertain.py": "the outbox indexes a migration adds",
    "integration/test_email_send.py": "the outbox row a crash leaves between SMTP and the bookkeeping",
    "integration/test_email_imap.py": "a read-only peek that never creates the database another process is making",
    "store/test_customers.py": "an undo checked row by row, every column; customer tags and notes no command writes yet",
    "integration/test_oncall_escalation.py": "a night dated in the past",
    "unit/test_oncall_report.py": "on-call history dated in the past",
    "unit/test_rules.py": "activity dated in the past; every row of every table, to show a dry run writes nothing",
    "unit/test_survey.py": "the first reply column the triggers keep",
    "unit/test_template_replies.py": "replies dated in the past",
    "unit/test_template_stages.py": "history dated in the past (the gate judges uses a week old)",
    "tui/test_tui_conversation.py": "customer notes no command writes yet",
}

RAW = re.compile(r"\.d\.(?:tx|conn|one|all|tuples|scalar|db|insert_unindexed)\b|\bsqlite3\.connect\(")


def raw_uses(text: str) -> list[tuple[int, bool]]:
    """(line number, marked) for each use of the store's connection or of sqlite3 itself.
    A use is marked when its line, or a line enclosing it (less indented, above it), says MARK."""
    out = []
    enclosing: list[tuple[int, str]] = []  # (indent, line) of the lines that hold the current one
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while enclosing and enclosing[-1][0] >= indent:
            enclosing.pop()
        if RAW.search(line.split("#", 1)[0]):
            out.append((number, MARK in line or any(MARK in held for _, held in enclosing)))
        enclosing.append((indent, line))
    return out


def test_the_check_finds_what_it_should():
    code = ("def test_a(store):\n    store.d.scalar('SELECT 1')\n"
            "def helper(store):  # schema test: raw SQL on purpose\n    return store.d.all(\n        'x')\n"
            "def test_b(store):\n    with store.d.tx():  # raw SQL on purpose: dated\n"
            "        store.d.conn.execute('y')\n"
            "    store.d.one('z')\n    sqlite3.connect(path)\n    store.messages(1)  # store.d.one in a comment\n")
    assert raw_uses(code) == [(2, False), (4, True), (7, True), (8, True), (9, False), (10, False)]


TEST_FILES = sorted(p.relative_to(TESTS).as_posix() for p in TESTS.glob("**/*.py") if p.name != Path(__file__).name)


@pytest.mark.parametrize("name", TEST_FILES)
def test_tests_use_the_store_api(name):
    uses = raw_uses((TESTS / name).read_text(encoding="utf-8"))
    if name not in ALLOWED:
        assert not uses, f"{name} reaches under the store at lines {[n for n, _ in uses]}: use its API"
        return
    unmarked = [n for n, marked in uses if not marked]
    assert not unmarked, f"{name}: say why each use is raw SQL ({MARK!r}) at lines {unmarked}"


def test_every_allowed_file_still_needs_it():
    for name in ALLOWED:
        assert raw_uses((TESTS / name).read_text(encoding="utf-8")), f"{name} no longer uses raw SQL: drop it"
