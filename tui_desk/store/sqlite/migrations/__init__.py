"""The database schema, as named migrations applied when the database opens.

Each module defines a group of migrations (by number range); this list is the one
place that says the order they apply in. sqlite-utils applies a set's migrations in
the order they were registered and records each applied one by name in
`_sqlite_migrations`: never rename one, never edit one that has shipped, never reorder
the list. A new migration is a new function at the end of the last module (or a new module), and
one more line at the end of APPLY_ORDER.

m020 and m040 apply before m010 and m030, as they always have: the single schema
module registered them in that order, and registration order is apply order.
"""

from __future__ import annotations

from .base import LazyMigrations
from .m001 import m001_initial
from .m010_m040 import m010_oncall, m020_templates_outbox, m030_tui, m040_reports
from .m060_m090 import (m060_matrix, m070_report_indexes, m080_fts_insert_by_hand, m081_fts_flush_per_batch,
                        m090_report_facts)
from .m200_m700 import (m200_rules, m210_quarantine, m220_outbox_uncertain, m230_pages, m300_surveys,
                        m400_customer_merges, m700_reply_copies)
from .m800 import m800_template_stages

APPLY_ORDER = (
    m001_initial,
    m020_templates_outbox,
    m010_oncall,
    m040_reports,
    m030_tui,
    m060_matrix,
    m070_report_indexes,
    m080_fts_insert_by_hand,
    m081_fts_flush_per_batch,
    m090_report_facts,
    m200_rules,
    m210_quarantine,
    m220_outbox_uncertain,
    m230_pages,
    m300_surveys,
    m400_customer_merges,
    m700_reply_copies,
    m800_template_stages,
)

migrations = LazyMigrations("tui_desk")
for _migration in APPLY_ORDER:
    migrations()(_migration)

__all__ = ["APPLY_ORDER", "LazyMigrations", "migrations"]
