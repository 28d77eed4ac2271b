"""The database schema: the states its CHECK constraints allow (store/states.py); each
backend's migrations (store/sqlite/migrations/, store/postgres/migrations/) build it.

Table and column names are a public contract: scripts outside the package read them.
Timestamps are UTC text in `db.stamp` format; lists (tags) are JSON arrays.
"""

from __future__ import annotations

from .states import DELIVERY_STATES, NOTICE_STATES, OUTBOX_STATES, PAGE_STATES, PRIORITIES, STATUSES

__all__ = ["DELIVERY_STATES", "NOTICE_STATES", "OUTBOX_STATES", "PAGE_STATES", "PRIORITIES", "STATUSES"]
