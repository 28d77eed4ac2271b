"""State changes agents make: claim, assign, status, snooze, tags, priority, merge,
linking one person's identities across channels.

Each change bumps the conversation's version and writes an event (the audit trail and
the source of reports), in one BEGIN IMMEDIATE transaction.
"""

from __future__ import annotations

import datetime as dt
import json

from ..errors import DeskError, NotFound, UsageError
from ..textsafe import one_line
from ..hours import zone
from .db import Database, now, stamp
from .schema import PRIORITIES, STATUSES


class AlreadyClaimed(DeskError):
    """Someone else holds the conversation."""

    def __init__(self, conversation_id: int, holder: str) -> None:
        self.holder = holder
        super().__init__(f"conversation {conversation_id} is already assigned to {holder}")


class ActionMixin:
    d: Database

    def add_event(self, conversation_id: int | None, kind: str, actor: str, data: dict | None = None) -> None:
        self.d.conn.execute(
            "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (?, ?, ?, ?, ?)",
            (conversation_id, kind, actor, now(), json.dumps(data or {}, ensure_ascii=False)),
        )

    def _current(self, conversation_id: int):
        row = self.d.one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
        if row is None:
            raise NotFound(f"no conversation {conversation_id}")
        return row

    def _bump(self, conversation_id: int, sets: str, params: tuple) -> None:
        self.d.conn.execute(f"UPDATE conversations SET {sets}, version = version + 1 WHERE id = ?",
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

    def merge_refusal(self, source_id: int, target_id: int) -> str | None:
        """Why `source` cannot be merged into `target`, or None when it can."""
        if source_id == target_id:
            return "cannot merge a conversation into itself"
        source, target = self._current(source_id), self._current(target_id)
        if source["merged_into"] is not None or target["merged_into"] is not None:
            return "one of these conversations was already merged"
        if None not in (source["customer_id"], target["customer_id"]) and source["customer_id"] != target["customer_id"]:
            # a merge cannot be undone and would leave one customer's mail under another's
            # name: refused until customers can be merged (link them first if they are one person)
            names = [self._customer_name(source["customer_id"]), self._customer_name(target["customer_id"])]
            return (f"cannot merge #{source_id} into #{target_id}: they belong to different customers"
                    f" ({names[0]}; {names[1]}); if they are one person, link the customers first")
        return None

    def _customer_name(self, customer_id: int) -> str:
        row = self.d.one("SELECT c.name, (SELECT address FROM identities WHERE customer_id = c.id ORDER BY id LIMIT 1)"
                         " AS address FROM customers c WHERE c.id = ?", (customer_id,))
        # name and address: two customers may well share a name
        name, address = (one_line(row["name"] or "")[:40], one_line(row["address"] or "")[:60]) if row else ("", "")
        return f"{name} <{address}>" if name and address else name or address or f"customer {customer_id}"

    def merge(self, source_id: int, target_id: int, actor: str) -> None:
        """Move `source`'s messages into `target`; `source` stays as a pointer so its
        threading keys (ticket tag, Message-IDs) still lead to `target`. Refused (UsageError)
        for the reasons `merge_refusal` gives."""
        with self.d.tx():
            source = self._current(source_id)
            refusal = self.merge_refusal(source_id, target_id)
            if refusal:
                raise UsageError(refusal)
            self.d.conn.execute("UPDATE messages SET conversation_id = ? WHERE conversation_id = ?",
                                (target_id, source_id))
            self.d.conn.execute(
                "UPDATE conversations SET"
                " message_count = message_count + ?, last_message_at = max(last_message_at, ?),"
                " last_inbound_at = max(coalesce(last_inbound_at, ''), coalesce(?, '')),"
                " created_at = min(created_at, ?), version = version + 1 WHERE id = ?",
                (source["message_count"], source["last_message_at"], source["last_inbound_at"],
                 source["created_at"], target_id),
            )
            self._bump(source_id, "merged_into = ?, status = 'closed'", (target_id,))
            self.add_event(target_id, "merged", actor, {"from": source_id})
            self.add_event(source_id, "merged", actor, {"into": target_id})

    # -- customers ------------------------------------------------------------------

    def find_customer(self, text: str) -> int | None:
        """The customer named by an identity ("ana@example.com", "@ana:chat"; any case)
        or by one of their conversations ("#12")."""
        text = text.strip()
        if text.startswith("#") and text[1:].isdigit():
            return self.d.scalar("SELECT customer_id FROM conversations WHERE id = ?", (int(text[1:]),))
        return self.d.scalar("SELECT customer_id FROM identities WHERE address = ? COLLATE NOCASE"
                             " ORDER BY id LIMIT 1", (text,))

    def link_customers(self, keep_id: int, other_id: int, actor: str) -> None:
        """One person, two customer records (say their email and their chat handle):
        `other`'s identities, conversations and messages move to `keep`, their tags
        join, a missing name or time zone is taken over, and `other` is removed.
        Every moved conversation gets a version bump (open screens reload) and an event."""
        if keep_id == other_id:
            raise UsageError("that is already the same customer")
        with self.d.tx() as conn:
            keep = self.d.one("SELECT * FROM customers WHERE id = ?", (keep_id,))
            other = self.d.one("SELECT * FROM customers WHERE id = ?", (other_id,))
            if keep is None or other is None:
                raise NotFound(f"no customer {other_id if keep else keep_id}")
            tags = list(dict.fromkeys([*json.loads(keep["tags"]), *json.loads(other["tags"])]))
            conn.execute("UPDATE customers SET name = ?, timezone = ?, tags = ? WHERE id = ?",
                         (keep["name"] or other["name"], keep["timezone"] or other["timezone"],
                          json.dumps(tags, ensure_ascii=False), keep_id))
            moved = [r[0] for r in conn.execute("SELECT id FROM conversations WHERE customer_id = ?", (other_id,))]
            conn.execute("UPDATE identities SET customer_id = ? WHERE customer_id = ?", (keep_id, other_id))
            conn.execute("UPDATE messages SET customer_id = ? WHERE customer_id = ?", (keep_id, other_id))
            conn.execute("UPDATE conversations SET customer_id = ?, version = version + 1 WHERE customer_id = ?",
                         (keep_id, other_id))
            conn.execute("DELETE FROM customers WHERE id = ?", (other_id,))
            for conversation_id in moved:
                self.add_event(conversation_id, "customer_linked", actor, {"into": keep_id, "from": other_id})

    def set_customer_timezone(self, customer_id: int, zone_name: str | None, actor: str) -> None:
        """An agent sets (or with None, forgets) a customer's IANA time zone; a zone set
        so is never replaced by one learnt from mail."""
        if zone_name is not None:
            try:
                zone_name = zone(zone_name).key
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        with self.d.tx():
            if not self.d.conn.execute("UPDATE customers SET timezone = ? WHERE id = ?",
                                       (zone_name, customer_id)).rowcount:
                raise NotFound(f"no customer {customer_id}")
            # open screens reload the card
            self.d.conn.execute("UPDATE conversations SET version = version + 1 WHERE customer_id = ?", (customer_id,))
            self.add_event(None, "customer", actor, {"customer": customer_id, "timezone": zone_name})
