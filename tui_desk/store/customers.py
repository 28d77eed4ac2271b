"""Customers and their identities: finding, listing, merging two records of one person
and undoing that merge, adding and removing identities.

A customer merge never deletes the record it empties: that record stays, marked
`merged_into`, and `customer_merge_rows` names every identity, conversation, message and
survey that moved, so `unmerge_customers` puts back exactly what was there (only the
conversations' `version`, the change counter open screens watch, goes on counting).
Every link, merge and unmerge writes an event.
"""

from __future__ import annotations

import json

from ..errors import NotFound, UsageError
from ..textsafe import one_line
from .db import Database
from .stamps import now

MOVED = ("identities", "conversations", "messages", "surveys")
"""The tables whose rows carry a customer_id that a merge moves."""
KINDS = ("email", "chat", "matrix")


class CustomerMixin:
    d: Database

    # -- finding ----------------------------------------------------------------------

    def find_customer(self, text: str) -> int | None:
        """The customer named by an identity ("ana@example.com", "@ana:chat"; any case),
        by one of their conversations ("#12") or by their number ("12"); a record merged
        into another leads to that one."""
        text = text.strip()
        if text.startswith("#") and text[1:].isdigit():
            found = self.d.scalar("SELECT customer_id FROM conversations WHERE id = ?", (int(text[1:]),))
        elif text.isdigit():
            found = self.d.scalar("SELECT id FROM customers WHERE id = ?", (int(text),))
        else:
            found = self.d.scalar("SELECT customer_id FROM identities WHERE address = ? COLLATE NOCASE"
                                  " ORDER BY id LIMIT 1", (text,))
        return None if found is None else self.live_customer(found)

    def live_customer(self, customer_id: int) -> int:
        """Follow customer merges to the record that holds the person now."""
        for _ in range(100):  # chains are short; the bound guards against a cycle
            into = self.d.scalar("SELECT merged_into FROM customers WHERE id = ?", (customer_id,))
            if into is None:
                return customer_id
            customer_id = into
        return customer_id

    def customers_list(self, text: str = "", limit: int = 100) -> list[dict]:
        """Customers (not merged away), latest activity first; `text` filters by name or identity."""
        like = f"%{text.strip()}%"
        rows = self.d.all(
            "SELECT cu.id, cu.name, cu.timezone, cu.created_at,"
            " (SELECT count(*) FROM identities WHERE customer_id = cu.id) AS identities,"
            " (SELECT count(*) FROM conversations WHERE customer_id = cu.id AND merged_into IS NULL) AS conversations,"
            " (SELECT max(last_message_at) FROM conversations WHERE customer_id = cu.id) AS last_message_at"
            " FROM customers cu WHERE cu.merged_into IS NULL AND (? = '%%' OR cu.name LIKE ? OR EXISTS"
            " (SELECT 1 FROM identities i WHERE i.customer_id = cu.id AND i.address LIKE ?))"
            " ORDER BY last_message_at DESC NULLS LAST, cu.id DESC LIMIT ?",
            (like, like, like, limit))
        return [dict(r) for r in rows]

    def customer_profile(self, customer_id: int) -> dict | None:
        """Everything the card and `customers show` tell about one customer."""
        row = self.d.one("SELECT * FROM customers WHERE id = ?", (customer_id,))
        if row is None:
            return None
        out = dict(row)
        out["tags"] = json.loads(out["tags"])
        out["identities"] = [dict(r) for r in self.d.all(
            "SELECT i.kind, i.address, i.display_name,"
            " (SELECT max(received_at) FROM messages m WHERE m.customer_id = i.customer_id"
            "  AND m.author_address = i.address COLLATE NOCASE) AS last_seen"
            " FROM identities i WHERE i.customer_id = ? ORDER BY i.id", (customer_id,))]
        out["conversations"] = [dict(r) for r in self.d.all(
            "SELECT id, channel, subject, status, last_message_at, message_count FROM conversations"
            " WHERE customer_id = ? AND merged_into IS NULL ORDER BY last_message_at DESC, id DESC",
            (customer_id,))]
        out["merges"] = [dict(r) for r in self.d.all(
            "SELECT id, other_id, actor, reason, at FROM customer_merges WHERE keep_id = ? AND undone_at IS NULL"
            " ORDER BY id", (customer_id,))]
        return out

    def customer_label(self, customer_id: int | None) -> str:
        """'Grace Whitfield <grace@example.org>' (name and first identity, one line each)."""
        if customer_id is None:
            return "no customer"
        row = self.d.one("SELECT c.name, (SELECT address FROM identities WHERE customer_id = c.id ORDER BY id LIMIT 1)"
                         " AS address FROM customers c WHERE c.id = ?", (customer_id,))
        # name and address: two customers may well share a name
        name, address = (one_line(row["name"] or "")[:40], one_line(row["address"] or "")[:60]) if row else ("", "")
        return f"{name} <{address}>" if name and address else name or address or f"customer {customer_id}"

    _customer_name = customer_label  # the name merge_refusal has always used

    def same_name_customers(self, customer_id: int) -> list[dict]:
        """Other customers with the same (non-empty, any case) name or identity display
        name, with their identities and latest activity: what likely matches are judged on."""
        rows = self.d.all(
            "WITH mine AS (SELECT lower(name) AS n FROM customers WHERE id = :id AND name != ''"
            " UNION SELECT lower(display_name) FROM identities WHERE customer_id = :id AND display_name != '')"
            " SELECT DISTINCT cu.id, cu.name,"
            " (SELECT max(last_message_at) FROM conversations WHERE customer_id = cu.id) AS last_message_at"
            " FROM customers cu LEFT JOIN identities i ON i.customer_id = cu.id"
            " WHERE cu.id != :id AND cu.merged_into IS NULL"
            " AND (lower(cu.name) IN (SELECT n FROM mine) OR lower(i.display_name) IN (SELECT n FROM mine))",
            {"id": customer_id})
        out = []
        for r in rows:
            item = dict(r)
            item["identities"] = [dict(i) for i in self.d.all(
                "SELECT kind, address, display_name FROM identities WHERE customer_id = ? ORDER BY id", (r["id"],))]
            out.append(item)
        return out

    # -- merging ----------------------------------------------------------------------

    def merge_preview(self, keep_id: int, other_id: int) -> dict:
        """What merging `other` into `keep` would move (counts per table), or UsageError."""
        self._mergeable(keep_id, other_id)
        return {tbl: self.d.scalar(f"SELECT count(*) FROM {tbl} WHERE customer_id = ?", (other_id,)) for tbl in MOVED}

    def _mergeable(self, keep_id: int, other_id: int) -> tuple:
        if keep_id == other_id:
            raise UsageError("that is already the same customer")
        keep = self.d.one("SELECT * FROM customers WHERE id = ?", (keep_id,))
        other = self.d.one("SELECT * FROM customers WHERE id = ?", (other_id,))
        if keep is None or other is None:
            raise NotFound(f"no customer {other_id if keep else keep_id}")
        for row in (keep, other):
            if row["merged_into"] is not None:
                raise UsageError(f"customer {row['id']} was merged into customer {row['merged_into']}")
        return keep, other

    def merge_customers(self, keep_id: int, other_id: int, actor: str, reason: str = "") -> int:
        """One person, two records (say their email and their chat handle): `other`'s
        identities, conversations, messages and surveys move to `keep`, their tags and
        notes join, a missing name or time zone is taken over, and `other` is marked
        merged. Returns the merge's id (for `unmerge_customers`)."""
        with self.d.tx() as conn:
            keep, other = self._mergeable(keep_id, other_id)
            before = {k: keep[k] for k in ("name", "timezone", "tags", "notes")}
            merge_id = conn.insert(
                "INSERT INTO customer_merges (keep_id, other_id, actor, reason, at, keep_before) VALUES (?, ?, ?, ?, ?, ?)",
                (keep_id, other_id, actor, reason, now(), json.dumps(before, ensure_ascii=False)))
            for tbl in MOVED:
                conn.execute(f"INSERT INTO customer_merge_rows (merge_id, tbl, row_id)"
                             f" SELECT ?, '{tbl}', id FROM {tbl} WHERE customer_id = ?", (merge_id, other_id))
            tags = list(dict.fromkeys([*json.loads(keep["tags"]), *json.loads(other["tags"])]))
            notes = "\n".join(n for n in (keep["notes"], other["notes"]) if n)
            conn.execute("UPDATE customers SET name = ?, timezone = ?, tags = ?, notes = ? WHERE id = ?",
                         (keep["name"] or other["name"], keep["timezone"] or other["timezone"],
                          json.dumps(tags, ensure_ascii=False), notes, keep_id))
            conn.execute("UPDATE customers SET merged_into = ? WHERE id = ?", (keep_id, other_id))
            moved = self._move_rows(merge_id, other_id, keep_id)
            data = {"merge": merge_id, "into": keep_id, "from": other_id, "reason": reason}
            self.add_event(None, "customer_merged", actor, data)
            for conversation_id in moved:
                self.add_event(conversation_id, "customer_linked", actor, data)
        return merge_id

    def link_customers(self, keep_id: int, other_id: int, actor: str, reason: str = "") -> int:
        """The console's and older callers' name for `merge_customers`."""
        return self.merge_customers(keep_id, other_id, actor, reason)

    def _move_rows(self, merge_id: int, from_id: int, to_id: int) -> list[int]:
        """Move the rows recorded for `merge_id` from one customer to the other; returns
        the conversations moved (their version goes up: open screens reload)."""
        conn = self.d
        for tbl in MOVED:
            bump = ", version = version + 1" if tbl == "conversations" else ""
            conn.execute(f"UPDATE {tbl} SET customer_id = ?{bump} WHERE customer_id = ? AND id IN"
                         f" (SELECT row_id FROM customer_merge_rows WHERE merge_id = ? AND tbl = '{tbl}')",
                         (to_id, from_id, merge_id))
        return [r[0] for r in conn.execute(
            "SELECT row_id FROM customer_merge_rows WHERE merge_id = ? AND tbl = 'conversations' ORDER BY row_id",
            (merge_id,))]

    def latest_customer_merge(self, customer_id: int) -> int | None:
        """The latest merge into `customer_id` not undone yet."""
        return self.d.scalar("SELECT max(id) FROM customer_merges WHERE keep_id = ? AND undone_at IS NULL",
                             (customer_id,))

    def unmerge_customers(self, merge_id: int, actor: str) -> dict:
        """Undo merge `merge_id`: the record merged away is back with exactly the
        identities, conversations, messages and surveys it had, and the kept record has
        its name, zone, tags and notes as before. Returns the merge row."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT * FROM customer_merges WHERE id = ?", (merge_id,))
            if row is None:
                raise NotFound(f"no customer merge {merge_id}")
            if row["undone_at"] is not None:
                raise UsageError(f"customer merge {merge_id} was already undone")
            keep_into = self.d.scalar("SELECT merged_into FROM customers WHERE id = ?", (row["keep_id"],))
            if keep_into is not None:
                later = self.latest_customer_merge(keep_into)
                raise UsageError(f"customer {row['keep_id']} was merged into customer {keep_into} since;"
                                 f" undo that first (customer merge {later})")
            self._check_conversation_merges(merge_id)
            before = json.loads(row["keep_before"])
            conn.execute("UPDATE customers SET name = ?, timezone = ?, tags = ?, notes = ? WHERE id = ?",
                         (before["name"], before["timezone"], before["tags"], before["notes"], row["keep_id"]))
            conn.execute("UPDATE customers SET merged_into = NULL WHERE id = ?", (row["other_id"],))
            moved = self._move_rows(merge_id, row["keep_id"], row["other_id"])
            conn.execute("UPDATE customer_merges SET undone_at = ?, undone_by = ? WHERE id = ?", (now(), actor, merge_id))
            data = {"merge": merge_id, "from": row["keep_id"], "back_to": row["other_id"]}
            self.add_event(None, "customer_unmerged", actor, data)
            for conversation_id in moved:
                self.add_event(conversation_id, "customer_unlinked", actor, data)
        return dict(row)

    def _check_conversation_merges(self, merge_id: int) -> None:
        """A conversation merged across the two records (allowed once they were one
        person) would hold two customers' mail: it is unmerged first."""
        joined = self.d.one(
            "SELECT cm.source_id, cm.target_id FROM conversation_merges cm WHERE cm.undone_at IS NULL"
            " AND cm.cross_customer = 0 AND ((cm.source_id IN (SELECT row_id FROM customer_merge_rows r"
            "  WHERE r.merge_id = :m AND r.tbl = 'conversations')) != (cm.target_id IN (SELECT row_id"
            "  FROM customer_merge_rows r WHERE r.merge_id = :m AND r.tbl = 'conversations')))"
            " ORDER BY cm.id DESC LIMIT 1", {"m": merge_id})
        if joined:
            raise UsageError(f"conversation #{joined[0]} was merged into #{joined[1]} since the customers were"
                             f" merged; unmerge it first (tui-desk conversations unmerge {joined[0]})")

    # -- identities -------------------------------------------------------------------

    def add_identity(self, customer_id: int, identity_type: str, address: str, actor: str, *,
                     display_name: str = "", evidence: str = "") -> None:
        """Give a customer one more identity; UsageError when another customer has it."""
        if identity_type not in KINDS:
            raise UsageError(f"unknown identity kind {identity_type!r} (one of: {', '.join(KINDS)})")
        address = address.strip().lower() if identity_type == "email" else address.strip()
        if not address:
            raise UsageError("the identity's address is empty")
        with self.d.tx() as conn:
            if self.d.scalar("SELECT merged_into FROM customers WHERE id = ?", (customer_id,)) is not None or \
                    not self.d.scalar("SELECT 1 FROM customers WHERE id = ?", (customer_id,)):
                raise NotFound(f"no customer {customer_id}")
            owner = self.d.scalar("SELECT customer_id FROM identities WHERE kind = ? AND address = ?", (identity_type, address))
            if owner == customer_id:
                return
            if owner is not None:
                raise UsageError(f"{identity_type} {one_line(address)} belongs to customer {owner} ({self.customer_label(owner)});"
                                 f" if they are one person: tui-desk customers merge {customer_id} {owner}")
            conn.execute("INSERT INTO identities (customer_id, kind, address, display_name) VALUES (?, ?, ?, ?)",
                         (customer_id, identity_type, address, display_name))
            self.add_event(None, "identity_linked", actor,
                           {"customer": customer_id, "kind": identity_type, "address": address, "evidence": evidence})

    def remove_identity(self, customer_id: int, identity_type: str, address: str, actor: str) -> None:
        """Take an identity no stored message came from off a customer (one added by
        hand or by evidence); one that brought messages is separated by unmerging."""
        address = address.strip().lower() if identity_type == "email" else address.strip()
        with self.d.tx() as conn:
            row = self.d.one("SELECT id FROM identities WHERE customer_id = ? AND kind = ? AND address = ?",
                             (customer_id, identity_type, address))
            if row is None:
                raise NotFound(f"customer {customer_id} has no {identity_type} identity {one_line(address)}")
            used = self.d.scalar("SELECT count(*) FROM messages WHERE customer_id = ? AND author_address = ?"
                                 " COLLATE NOCASE", (customer_id, address))
            if used:
                raise UsageError(f"{used} stored message(s) came from {one_line(address)}; to separate two people"
                                 " undo their merge (tui-desk customers unmerge)")
            conn.execute("DELETE FROM identities WHERE id = ?", (row["id"],))
            self.add_event(None, "identity_unlinked", actor, {"customer": customer_id, "kind": identity_type, "address": address})
