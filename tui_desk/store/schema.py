"""The database schema: its migrations (store/migrations/, applied when the database
opens) and the states its CHECK constraints allow (store/states.py), importable from here.

Table and column names are a public contract: scripts outside the package read them.
Timestamps are UTC text in `db.stamp` format; lists (tags) are JSON arrays.
"""

from __future__ import annotations

from .migrations import APPLY_ORDER, LazyMigrations, migrations
from .states import DELIVERY_STATES, NOTICE_STATES, OUTBOX_STATES, PAGE_STATES, PRIORITIES, STATUSES

__all__ = ["APPLY_ORDER", "DELIVERY_STATES", "LazyMigrations", "NOTICE_STATES", "OUTBOX_STATES", "PAGE_STATES",
           "PRIORITIES", "STATUSES", "migrations"]
