"""The migrations package: the order they apply in, their names (how a database records
what it has applied) and the order each module defines them in."""

from __future__ import annotations

import inspect
import sqlite3

import sqlite_utils

from tui_desk.store import Store
from tui_desk.store.sqlite.migrations import APPLY_ORDER, migrations

# The order databases have applied them in since they shipped: m020 before m010 and
# m040 before m030. Changing this list is changing what existing databases see.
SHIPPED = [
    "m001_initial", "m020_templates_outbox", "m010_oncall", "m040_reports", "m030_tui", "m060_matrix",
    "m070_report_indexes", "m080_fts_insert_by_hand", "m081_fts_flush_per_batch", "m090_report_facts",
    "m200_rules", "m210_quarantine", "m220_outbox_uncertain", "m230_pages", "m300_surveys",
    "m400_customer_merges", "m700_reply_copies", "m800_template_stages",
]


def test_the_migrations_apply_in_the_order_they_shipped(db_path):
    assert migrations.names() == SHIPPED
    assert [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))] == SHIPPED
    Store.open(db_path).close()
    conn = sqlite3.connect(db_path)  # schema test: raw SQL on purpose
    applied = [row[0] for row in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'tui_desk' ORDER BY rowid")]
    conn.close()
    assert applied == SHIPPED


def test_each_module_defines_its_migrations_in_the_order_they_apply():
    by_module: dict[str, list] = {}
    for migration in APPLY_ORDER:
        by_module.setdefault(migration.__module__, []).append(migration)
    assert len(by_module) > 1
    modules = list(by_module)
    assert modules == sorted(modules), "the modules follow each other in apply order"
    for module, group in by_module.items():
        lines = [inspect.getsourcelines(m)[1] for m in group]
        assert lines == sorted(lines), module


def test_a_database_that_applied_every_migration_applies_none_again(db_path):
    Store.open(db_path).close()
    store = Store.open(db_path)
    try:
        assert store.migrate() == []
    finally:
        store.close()
