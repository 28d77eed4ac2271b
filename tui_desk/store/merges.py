"""Merging one conversation into another, and undoing it at any time.

A merge moves the source's messages into the target and leaves the source as a
pointer (its threading keys still lead to the target). `conversation_merges` keeps the
source's and target's rows as they were and the ids of the messages that moved, so an
unmerge puts every one of them back (only `version`, the change counter open screens
watch, goes on counting).

Two different customers' conversations merge only when the caller says so
(`across_customers`): the merged conversation then still replies only to the target's
customer (store.outbox.recipient reads the latest message of the conversation's own
customer), which is what the console's warning tells.
"""

from __future__ import annotations

import json

from ..errors import UsageError
from .db import Database
from .stamps import now

RESTORED = ("status", "merged_into", "message_count", "last_message_at", "last_inbound_at", "created_at",
            "snoozed_until", "solved_at")
"""The conversation columns a merge may change, kept to be put back by an unmerge."""


class MergeMixin:
    d: Database

    def merge_refusal(self, source_id: int, target_id: int, *, across_customers: bool = False) -> str | None:
        """Why `source` cannot be merged into `target`, or None when it can."""
        if source_id == target_id:
            return "cannot merge a conversation into itself"
        source, target = self._current(source_id), self._current(target_id)
        if source["merged_into"] is not None or target["merged_into"] is not None:
            return "one of these conversations was already merged"
        if self.crosses_customers(source_id, target_id):
            names = [self.customer_label(source["customer_id"]), self.customer_label(target["customer_id"])]
            channels = [source["channel"], target["channel"]]
            if channels[0] != channels[1]:  # a reply could not reach each customer on their own channel
                return (f"cannot merge #{source_id} into #{target_id}: they belong to different customers"
                        f" ({names[0]}; {names[1]}) on different channels ({channels[0]}; {channels[1]}),"
                        " so a reply could not reach each of them. If they are one person, link the customers first")
            if not across_customers:
                return (f"cannot merge #{source_id} into #{target_id}: they belong to different customers"
                        f" ({names[0]}; {names[1]}); each reply would go to whoever wrote the message it"
                        " answers. If they are one person, link the customers first; else confirm the merge"
                        " across customers")
        return None

    def crosses_customers(self, source_id: int, target_id: int) -> bool:
        """Whether the two conversations belong to two different customers."""
        ids = [self.d.scalar("SELECT customer_id FROM conversations WHERE id = ?", (cid,)) for cid in (source_id, target_id)]
        return None not in ids and ids[0] != ids[1]

    def merge(self, source_id: int, target_id: int, actor: str, *, across_customers: bool = False) -> int:
        """Move `source`'s messages into `target`; returns the merge's id (for `unmerge`).
        Refused (UsageError) for the reasons `merge_refusal` gives."""
        with self.d.tx() as conn:
            refusal = self.merge_refusal(source_id, target_id, across_customers=across_customers)
            if refusal:
                raise UsageError(refusal)
            source, target = self._current(source_id), self._current(target_id)
            moved = [r[0] for r in conn.execute("SELECT id FROM messages WHERE conversation_id = ? ORDER BY id",
                                                (source_id,))]
            cross = self.crosses_customers(source_id, target_id)
            merge_id = conn.insert(
                "INSERT INTO conversation_merges (source_id, target_id, actor, at, cross_customer, source_before,"
                " target_before, message_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (source_id, target_id, actor, now(), int(cross), _kept(source), _kept(target), json.dumps(moved)))
            conn.execute("UPDATE messages SET conversation_id = ? WHERE conversation_id = ?", (target_id, source_id))
            conn.execute(
                "UPDATE conversations SET"
                " message_count = message_count + ?, last_message_at = max(last_message_at, ?),"
                " last_inbound_at = max(coalesce(last_inbound_at, ''), coalesce(?, '')),"
                " created_at = min(created_at, ?), version = version + 1 WHERE id = ?",
                (source["message_count"], source["last_message_at"], source["last_inbound_at"],
                 source["created_at"], target_id),
            )
            self._bump(source_id, "merged_into = ?, status = 'closed'", (target_id,))
            data = {"merge": merge_id, "messages": len(moved), "across_customers": cross}
            self.add_event(target_id, "merged", actor, {"from": source_id, **data})
            self.add_event(source_id, "merged", actor, {"into": target_id, **data})
        return merge_id

    def latest_merge_of(self, conversation_id: int) -> dict | None:
        """The merge not undone yet that `conversation_id` was the source (or else the
        target) of, latest first."""
        row = self.d.one(
            "SELECT * FROM conversation_merges WHERE undone_at IS NULL AND (source_id = :c OR target_id = :c)"
            " ORDER BY source_id = :c DESC, id DESC LIMIT 1", {"c": conversation_id})
        return dict(row) if row else None

    def unmerge(self, conversation_id: int, actor: str) -> dict:
        """Undo the merge of `conversation_id` (the conversation merged away, or the one
        merged into: then its latest merge): the messages that moved go back, and both
        conversations get the status, counts and times they had. A message that arrived
        in the target since stays there (and its times stay counted). Returns the merge row."""
        with self.d.tx() as conn:
            found = self.latest_merge_of(conversation_id)
            if found is None:
                self._current(conversation_id)  # NotFound for an unknown number
                raise UsageError(f"conversation {conversation_id} has no merge to undo")
            merge_id, source_id, target_id = found["id"], found["source_id"], found["target_id"]
            later = self.d.scalar("SELECT id FROM conversation_merges WHERE undone_at IS NULL AND id > ?"
                                  " AND source_id = ?", (merge_id, target_id))
            if later:
                raise UsageError(f"#{target_id} was merged further since; unmerge #{target_id} first")
            moved = json.loads(found["message_ids"])
            source_before, target_before = json.loads(found["source_before"]), json.loads(found["target_before"])
            marks = ",".join("?" * len(moved))
            if moved:
                conn.execute(f"UPDATE messages SET conversation_id = ? WHERE conversation_id = ? AND id IN ({marks})",
                             (source_id, target_id, *moved))
            self._restore(source_id, source_before)
            target = self._current(target_id)
            grew = target["message_count"] - target_before["message_count"] - len(moved)
            if grew <= 0:
                self._restore(target_id, target_before)
            else:  # it went on after the merge: what it gained since stays
                after = {**target_before, "message_count": target_before["message_count"] + grew,
                         "status": target["status"], "snoozed_until": target["snoozed_until"],
                         "solved_at": target["solved_at"]}
                last = self.d.one("SELECT max(received_at) AS any_at,"
                                  " max(CASE WHEN direction = 'in' THEN received_at END) AS in_at"
                                  " FROM messages WHERE conversation_id = ?", (target_id,))
                after["last_message_at"] = max(target_before["last_message_at"], last["any_at"] or "")
                after["last_inbound_at"] = max(target_before["last_inbound_at"] or "", last["in_at"] or "") or None
                self._restore(target_id, after)
            conn.execute("UPDATE conversation_merges SET undone_at = ?, undone_by = ? WHERE id = ?",
                         (now(), actor, merge_id))
            data = {"merge": merge_id, "messages": len(moved)}
            self.add_event(target_id, "unmerged", actor, {"from": source_id, **data})
            self.add_event(source_id, "unmerged", actor, {"into": target_id, **data})
        return found

    def _restore(self, conversation_id: int, before: dict) -> None:
        sets = ", ".join(f"{column} = ?" for column in RESTORED)
        self._bump(conversation_id, sets, tuple(before[column] for column in RESTORED))


def _kept(row) -> str:
    return json.dumps({column: row[column] for column in RESTORED}, ensure_ascii=False)

