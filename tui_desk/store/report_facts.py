"""report_facts: each conversation's report clocks, kept by the reports service.

The table and the triggers that list changed conversations in report_facts_stale are
in schema.m090; tui_desk/reports/facts.py decides what a fact holds (the business-hours
arithmetic); this mixin reads the stale conversations and writes their facts.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from .db import Database

FactRow = tuple
"""A stale conversation as the facts refresh reads it: (id, channel, assignee,
first_reply_by, priority, tags, status, created, answered, solved, one_touch, reopened), the
instants as epoch seconds (None when not set)."""


class ReportFactsMixin:
    d: Database

    def report_facts_clock(self) -> tuple[str, int] | None:
        """(business hours, origin) the stored facts were computed with, or None."""
        row = self.d.one("SELECT hours, origin FROM report_facts_clock")
        return (row[0], row[1]) if row else None

    def earliest_conversation(self) -> int | None:
        """When the first conversation began, in epoch seconds (None: there is none)."""
        return self.d.scalar("SELECT unixepoch(min(created_at)) FROM conversations")

    def reset_report_facts(self, hours: str, origin: int) -> None:
        """Forget every fact: all conversations are stale, to be measured with `hours`
        from `origin` (epoch seconds)."""
        with self.d.tx():
            self.d.execute("DELETE FROM report_facts")
            self.d.execute("INSERT OR IGNORE INTO report_facts_stale SELECT id FROM conversations")
            self.d.execute("INSERT OR REPLACE INTO report_facts_clock (id, hours, origin) VALUES (1, ?, ?)",
                                (hours, origin))

    def refresh_report_facts(self, measure: Callable[[list[FactRow]], list[tuple]], limit: int) -> int:
        """Measure up to `limit` stale conversations and store their facts, in one
        transaction (a change made meanwhile marks them stale again after it). `measure`
        turns FactRows into report_facts rows. Returns how many were stale (0: all fresh)."""
        if not self.d.in_transaction and not self.d.scalar("SELECT EXISTS (SELECT 1 FROM report_facts_stale)"):
            return 0  # nothing to do: no write lock taken (a sync may hold it), a read-only file is fine
        with self.d.tx():
            stale = self.d.tuples(
                """SELECT s.conversation_id, c.merged_into IS NULL AND c.id IS NOT NULL, c.channel, c.assignee,
                    c.first_reply_by, c.priority, c.tags, c.status, unixepoch(c.created_at), unixepoch(c.first_reply_at),
                    unixepoch(c.solved_at), c.agent_replies = 1, c.reopens > 0
                FROM report_facts_stale s LEFT JOIN conversations c ON c.id = s.conversation_id
                ORDER BY s.conversation_id LIMIT :limit""", {"limit": limit})
            if not stale:
                return 0
            ids = json.dumps([row[0] for row in stale])
            conn = self.d
            conn.execute("DELETE FROM report_facts WHERE conversation_id IN (SELECT value FROM json_each(?))", (ids,))
            # merged-away (and vanished) conversations are never counted: they get no row
            conn.executemany(f"INSERT INTO report_facts VALUES ({', '.join('?' * 18)})",
                             measure([(row[0], *row[2:]) for row in stale if row[1]]))
            conn.execute("DELETE FROM report_facts_stale WHERE conversation_id IN (SELECT value FROM json_each(?))",
                         (ids,))
        return len(stale)

