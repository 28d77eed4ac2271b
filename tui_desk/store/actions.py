"""State changes agents make: claim, assign, status, snooze, tags, priority, a customer's
time zone (merges: merges.py; customers: customers.py).

Each change bumps the conversation's version and writes an event (the audit trail and
the source of reports), in one BEGIN IMMEDIATE transaction.
"""

from __future__ import annotations

import datetime as dt
import json

from ..errors import DeskError, NotFound, UsageError
from ..hours import zone
from .db import Database
from .stamps import now, stamp
from .schema import PRIORITIES, STATUSES


class AlreadyClaimed(DeskError):
    """Someone else holds the conversation."""

    def __init__(self, conversation_id: int, holder: str) -> None:
        self.holder = holder
        super().__init__(f"conversation {conversation_id} is already assigned to {holder}")


class ActionMixin:
    d: Database

    def add_event(self, conversation_id: int | None, kind: str, actor: str, data: dict | None = None) -> None:
        self.d.execute(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, kind, actor, now(), json.dumps(data or {}, ensure_ascii=False)),
        )

    def add_events(self, events: list[tuple[int | None, str, str, dict | None]]) -> None:
        """Several events at one time, (conversation id, kind, actor, data) each."""
        at = now()
        self.d.executemany(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, ?, ?, ?, ?)",
            [(cid, kind, actor, at, json.dumps(data or {}, ensure_ascii=False)) for cid, kind, actor, data in events])

    def _current(self, conversation_id: int):
        row = self.d.one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise NotFound(f"no conversation {conversation_id}")
        return row

    def _bump(self, conversation_id: int, sets: str, params: tuple) -> None:
        self.d.execute(f"UPDATE conversations SET {sets}, version = version + 1 WHERE id = ?",
                            (*params, conversation_id))

    def claim(self, conversation_id: int, agent: str) -> None:
        """Assign to `agent` if nobody has it. Exactly one of several racing agents wins;
        the others get AlreadyClaimed naming the winner."""
        with self.d.tx():
            row = self._current(conversation_id)
            if row["assignee"] and row["assignee"] != agent:
                raise AlreadyClaimed(conversation_id, row["assignee"])
            if row["assignee"] == agent:
                return
            status = "open" if row["status"] == "new" else row["status"]
            self._bump(conversation_id, "assignee = ?, status = ?", (agent, status))
            self.add_event(conversation_id, "assignee", agent, {"from": None, "to": agent})

    def assign(self, conversation_id: int, agent: str | None, actor: str) -> None:
        """Assign (or with None, unassign) whoever holds it now."""
        with self.d.tx():
            row = self._current(conversation_id)
            if row["assignee"] == agent:
                return
            self._bump(conversation_id, "assignee = ?", (agent,))
            self.add_event(conversation_id, "assignee", actor, {"from": row["assignee"], "to": agent})

    def set_status(self, conversation_id: int, status: str, actor: str,
                   snoozed_until: dt.datetime | None = None) -> None:
        if status not in STATUSES:
            raise UsageError(f"unknown status {status!r} (one of: {', '.join(STATUSES)})")
        if status == "snoozed" and snoozed_until is None:
            raise UsageError("snoozing needs a time to come back")
        with self.d.tx():
            row = self._current(conversation_id)
            until = stamp(snoozed_until) if status == "snoozed" else None
            solved = now() if status == "solved" else (row["solved_at"] if status == "closed" else None)
            if row["status"] == status and row["snoozed_until"] == until:
                return
            self._bump(conversation_id, "status = ?, snoozed_until = ?, solved_at = ?", (status, until, solved))
            data = {"from": row["status"], "to": status}
            if until:
                data["until"] = until
            self.add_event(conversation_id, "status", actor, data)
            if not actor.startswith("rule:"):  # what rules do raises no new rule events
                self.queue_rule_event(conversation_id, ["status.changed"], data=data)

    def set_priority(self, conversation_id: int, priority: str, actor: str) -> None:
        if priority not in PRIORITIES:
            raise UsageError(f"unknown priority {priority!r} (one of: {', '.join(PRIORITIES)})")
        with self.d.tx():
            row = self._current(conversation_id)
            if row["priority"] != priority:
                self._bump(conversation_id, "priority = ?", (priority,))
                self.add_event(conversation_id, "priority", actor, {"from": row["priority"], "to": priority})

    def set_tags(self, conversation_id: int, add: list[str], remove: list[str], actor: str) -> list[str]:
        with self.d.tx():
            row = self._current(conversation_id)
            before = json.loads(row["tags"])
            tags = [t for t in before if t not in remove]
            tags += [t for t in add if t not in tags]
            if tags != before:  # the history names what changed, not what was asked
                self._bump(conversation_id, "tags = ?", (json.dumps(tags, ensure_ascii=False),))
                self.add_event(conversation_id, "tags", actor, {"added": [t for t in tags if t not in before],
                                                                 "removed": [t for t in before if t not in tags]})
            return tags

    def wake_snoozed(self, at: dt.datetime | None = None) -> int:
        """Snoozed conversations whose time has come go back to open; returns how many."""
        until = stamp(at or dt.datetime.now(dt.timezone.utc))
        with self.d.tx():
            rows = self.d.all(
                "SELECT id FROM conversations WHERE status = 'snoozed' AND snoozed_until <= ?", (until,)
            )
            for row in rows:
                self._bump(row["id"], "status = 'open', snoozed_until = NULL", ())
                self.add_event(row["id"], "status", "snooze", {"from": "snoozed", "to": "open", "why": "snooze ended"})
        return len(rows)

    def set_customer_timezone(self, customer_id: int, zone_name: str | None, actor: str) -> None:
        """An agent sets (or with None, forgets) a customer's IANA time zone; a zone set
        so is never replaced by one learnt from mail."""
        if zone_name is not None:
            try:
                zone_name = zone(zone_name).key
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        with self.d.tx():
            if not self.d.execute("UPDATE customers SET timezone = ? WHERE id = ?",
                                       (zone_name, customer_id)).rowcount:
                raise NotFound(f"no customer {customer_id}")
            # open screens reload the card
            self.d.execute("UPDATE conversations SET version = version + 1 WHERE customer_id = ?", (customer_id,))
            self.add_event(None, "customer", actor, {"customer": customer_id, "timezone": zone_name})
