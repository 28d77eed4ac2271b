"""Read side of the agent console: inbox views, keyset pages, counts, presence, read state.

A view is a named slice of the queue (Unassigned, Mine, a channel, a tag...). Pages are
fetched by keyset (`WHERE (key, id) < (?, ?)`), so scrolling through 100,000
conversations never loads them all; OFFSET is used only to jump far (a scrollbar drag).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace

from .db import Database

from .stamps import now, stamp

# statuses an agent still has to act on
ACTIVE = ("new", "open", "pending")

VIEW_TITLES = {
    "unassigned": "Unassigned",
    "mine": "Mine",
    "open": "All open",
    "pending": "Pending",
    "snoozed": "Snoozed",
    "solved": "Solved",
    "undelivered": "Not delivered",
}
UNDELIVERED = "('failed', 'uncertain')"
"""Outbox states a person must look at: the reply did not go out, or may have."""

SORTS = {"activity": "last activity", "waiting": "longest waiting", "relevance": "relevance"}
"""How a view can be ordered; "relevance" (the search's own order, best match first) only
for the search view."""

_WAIT_KEY = "coalesce(c.last_inbound_at, c.created_at)"

PAGE_COLUMNS = (
    "c.id, c.channel, c.subject, c.status, c.priority, c.assignee, c.tags, c.created_at,"
    " c.last_message_at, c.last_inbound_at, c.message_count, c.version, c.snoozed_until,"
    f" {_WAIT_KEY} AS waiting_since, cu.name AS customer_name,"
    " (SELECT address FROM identities WHERE customer_id = c.customer_id ORDER BY id LIMIT 1) AS customer_address,"
    " (c.last_inbound_at IS NOT NULL AND c.last_inbound_at > coalesce(r.seen_inbound_at, '')) AS unread,"
    # a reply of it may have been sent (outbox "uncertain"): someone has to check (few rows, by outbox_due)
    " EXISTS (SELECT 1 FROM outbox o WHERE o.state = 'uncertain' AND o.conversation_id = c.id) AS uncertain_reply,"
    " EXISTS (SELECT 1 FROM outbox o WHERE o.state = 'failed' AND o.conversation_id = c.id) AS failed_reply"
)


@dataclass(frozen=True)
class InboxQuery:
    """What the inbox list shows: a view, a sort order, and optional narrowing."""

    view: str = "open"
    """unassigned | mine | open | pending | snoozed | solved | undelivered | group | channel | tag | search."""
    arg: str | None = None
    """The group, channel or tag name for those views."""
    agent: str = ""
    """Whose "Mine" (and whose unread markers)."""
    sort: str = "activity"
    """activity (latest first), waiting (longest waiting first), or relevance (search only)."""
    text: str = ""
    """Narrow to subjects or customer names containing this (the `f` filter)."""
    ids: tuple[int, ...] | None = None
    """For the search view: the conversations that matched, best first."""

    def with_(self, **changes) -> "InboxQuery":
        return replace(self, **changes)

    @property
    def title(self) -> str:
        if self.view == "channel":
            return f"Channel {self.arg}"
        if self.view == "tag":
            return f"Tag {self.arg}"
        if self.view == "group":
            return f"Group {self.arg}"
        if self.view == "search":
            return f"Search: {self.arg}"
        return VIEW_TITLES.get(self.view, self.view)


def sort_key(row: dict, sort: str) -> tuple[str, int] | None:
    """The keyset position of a page row under `sort` (None for relevance: paged by offset,
    the search view holds at most a few hundred rows)."""
    if sort == "relevance":
        return None
    return (row["waiting_since"] if sort == "waiting" else row["last_message_at"], row["id"])


class InboxMixin:
    """Queries the TUI's inbox and conversation screens need."""

    d: Database

    # -- views ---------------------------------------------------------------------

    def _view_where(self, q: InboxQuery, ordered: bool = False) -> tuple[list[str], list]:
        """WHERE terms of a view. `ordered`: for a page in sort order, where the sort's
        index must drive the scan (so LIMIT stops it early); a unary + keeps SQLite from
        picking a filter index and sorting the whole view instead."""
        plus = "+" if ordered else ""
        clauses, params = ["c.merged_into IS NULL"], []
        statuses = {"unassigned": ("new", "open"), "mine": ACTIVE, "open": ACTIVE, "pending": ("pending",),
                    "snoozed": ("snoozed",), "solved": ("solved",), "channel": ACTIVE, "tag": ACTIVE,
                    "group": ACTIVE}.get(q.view)
        if statuses:
            clauses.append(f"{plus}c.status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if q.view == "unassigned":
            clauses.append(f"{plus}c.assignee IS NULL")
        elif q.view == "mine":
            clauses.append(f"{plus}c.assignee = ?")
            params.append(q.agent)
        elif q.view == "channel":
            clauses.append(f"{plus}c.channel = ?")
            params.append(q.arg)
        elif q.view == "tag":
            clauses.append("EXISTS (SELECT 1 FROM json_each(c.tags) WHERE value = ?)")
            params.append(q.arg)
        elif q.view == "group":
            clauses.append(f"{plus}c.group_name = ?")
            params.append(q.arg)
        elif q.view == "undelivered":
            clauses.append(f"EXISTS (SELECT 1 FROM outbox o WHERE o.conversation_id = c.id AND o.state IN {UNDELIVERED})")
        elif q.view == "search":
            ids = q.ids or ()
            clauses.append(f"c.id IN ({','.join('?' * len(ids)) or 'NULL'})")
            params.extend(ids)
        if q.text:
            pattern = "%" + q.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(c.subject LIKE ? ESCAPE '\\' OR cu.name LIKE ? ESCAPE '\\')")
            params.extend([pattern, pattern])
        return clauses, params

    def inbox_page(self, q: InboxQuery, *, after: tuple[str, int] | None = None, offset: int = 0,
                   limit: int = 100) -> list[dict]:
        """One page of the view in `q.sort` order: after the keyset position `after`
        (the `sort_key` of the previous page's last row), else from row `offset`."""
        if q.view == "search" and q.sort == "relevance":
            return self._search_page(q, offset, limit)
        clauses, params = self._view_where(q, ordered=q.view != "search")
        key, direction, cmp = ("c.last_message_at", "DESC", "<") if q.sort != "waiting" else (_WAIT_KEY, "ASC", ">")
        if after is not None:
            clauses.append(f"({key}, c.id) {cmp} (?, ?)")
            params.extend(after)
        sql = (f"SELECT {PAGE_COLUMNS} FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id"
               " LEFT JOIN conversation_reads r ON r.conversation_id = c.id AND r.agent = ?"
               f" WHERE {' AND '.join(clauses)} ORDER BY {key} {direction}, c.id {direction} LIMIT ? OFFSET ?")
        rows = self.d.all(sql, (q.agent, *params, limit, 0 if after is not None else offset))
        return [_page_row(r) for r in rows]

    def _search_page(self, q: InboxQuery, offset: int, limit: int) -> list[dict]:
        """A page of the search view in the search's order (its ids are best match first)."""
        clauses, params = self._view_where(q)
        sql = (f"SELECT {PAGE_COLUMNS} FROM json_each(?) AS hit JOIN conversations c ON c.id = hit.value"
               " LEFT JOIN customers cu ON cu.id = c.customer_id"
               " LEFT JOIN conversation_reads r ON r.conversation_id = c.id AND r.agent = ?"
               f" WHERE {' AND '.join(clauses)} ORDER BY hit.key LIMIT ? OFFSET ?")
        rows = self.d.all(sql, (json.dumps(list(q.ids or ())), q.agent, *params, limit, offset))
        return [_page_row(r) for r in rows]

    def inbox_count(self, q: InboxQuery) -> int:
        clauses, params = self._view_where(q)
        join = " LEFT JOIN customers cu ON cu.id = c.customer_id" if q.text else ""
        return self.d.scalar(f"SELECT count(*) FROM conversations c{join} WHERE {' AND '.join(clauses)}", params)

    def inbox_position(self, q: InboxQuery, conversation_id: int) -> int | None:
        """The row index of a conversation in the view, or None when it left the view."""
        clauses, params = self._view_where(q)
        row = self.d.one(
            f"SELECT c.last_message_at, {_WAIT_KEY} FROM conversations c LEFT JOIN customers cu"
            f" ON cu.id = c.customer_id WHERE c.id = ? AND {' AND '.join(clauses)}", (conversation_id, *params))
        if row is None:
            return None
        if q.view == "search" and q.sort == "relevance":
            rank = list(q.ids or ()).index(conversation_id)
            return self.d.scalar(
                "SELECT count(*) FROM json_each(?) AS hit JOIN conversations c ON c.id = hit.value"
                f" LEFT JOIN customers cu ON cu.id = c.customer_id WHERE {' AND '.join(clauses)} AND hit.key < ?",
                (json.dumps(list(q.ids or ())), *params, rank))
        key, cmp, value = ("c.last_message_at", ">", row[0]) if q.sort != "waiting" else (_WAIT_KEY, "<", row[1])
        return self.d.scalar(
            f"SELECT count(*) FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id"
            f" WHERE {' AND '.join(clauses)} AND ({key}, c.id) {cmp} (?, ?)", (*params, value, conversation_id))

    def view_counts(self, agent: str, groups: tuple[str, ...] = ()) -> dict[str, int]:
        """Live counts for the sidebar: each fixed view, "group:NAME" (each of `groups`,
        the configured ones, also when empty), "channel:NAME" and "tag:NAME"."""
        row = self.d.one(
            "SELECT"
            " sum(status IN ('new','open') AND assignee IS NULL),"
            " sum(status IN ('new','open','pending') AND assignee = ?),"
            " sum(status IN ('new','open','pending')),"
            " sum(status = 'pending'), sum(status = 'snoozed'), sum(status = 'solved')"
            " FROM conversations WHERE merged_into IS NULL", (agent,))
        counts = {name: row[i] or 0 for i, name in enumerate(("unassigned", "mine", "open", "pending", "snoozed", "solved"))}
        undelivered = self.d.scalar(  # (few rows: the outbox_due index)
            f"SELECT count(DISTINCT o.conversation_id) FROM outbox o JOIN conversations c ON c.id = o.conversation_id"
            f" WHERE o.state IN {UNDELIVERED} AND c.merged_into IS NULL")
        if undelivered:  # shown only while some reply needs a person
            counts["undelivered"] = undelivered
        counts.update({f"group:{g}": 0 for g in groups})
        for r in self.d.all("SELECT group_name, count(*) FROM conversations WHERE merged_into IS NULL"
                            " AND group_name IS NOT NULL AND status IN ('new','open','pending') GROUP BY group_name"):
            if r[0] in groups:
                counts[f"group:{r[0]}"] = r[1]
        for r in self.d.all("SELECT channel, count(*) FROM conversations WHERE merged_into IS NULL"
                            " AND status IN ('new','open','pending') GROUP BY channel ORDER BY channel"):
            counts[f"channel:{r[0]}"] = r[1]
        for r in self.d.all("SELECT j.value, count(*) FROM conversations c, json_each(c.tags) j"
                            " WHERE c.merged_into IS NULL AND c.status IN ('new','open','pending')"
                            " AND c.tags != '[]' GROUP BY j.value ORDER BY j.value"):
            counts[f"tag:{r[0]}"] = r[1]
        return counts

    def search_conversations(self, words: str, limit: int = 500) -> tuple[int, ...]:
        """Conversation ids whose messages match `words`, best match first."""
        seen: dict[int, None] = {}
        for conversation_id in self.search_message_conversations(words, limit):  # type: ignore[attr-defined]
            seen.setdefault(self._live(conversation_id), None)  # type: ignore[attr-defined]
        return tuple(seen)

    def new_inbound(self, agent: str, since: str) -> list[dict]:
        """Conversations in `agent`'s Mine where a customer wrote after `since`."""
        return [dict(r) for r in self.d.all(
            "SELECT c.id, c.subject, c.last_inbound_at, cu.name AS customer_name FROM conversations c"
            " LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.assignee = ? AND c.merged_into IS NULL"
            " AND c.status IN ('new','open','pending') AND c.last_inbound_at > ? ORDER BY c.last_inbound_at",
            (agent, since))]

    # -- people --------------------------------------------------------------------

    def agent_names(self) -> list[str]:
        return [r[0] for r in self.d.all("SELECT name FROM agents ORDER BY name")]

    def customer_conversations(self, customer_id: int, limit: int = 10) -> list[dict]:
        """The customer's conversations, latest first (the card's history)."""
        return [dict(r) for r in self.d.all(
            "SELECT id, channel, subject, status, last_message_at FROM conversations"
            " WHERE customer_id = ? AND merged_into IS NULL ORDER BY last_message_at DESC, id DESC LIMIT ?",
            (customer_id, limit))]

    def last_satisfaction(self, customer_id: int) -> int | None:
        """The latest survey score of this customer ("satisfaction" events), if any."""
        row = self.d.one(
            "SELECT e.data FROM events e JOIN conversations c ON c.id = e.conversation_id"
            " WHERE c.customer_id = ? AND e.kind = 'satisfaction' ORDER BY e.at DESC, e.id DESC LIMIT 1",
            (customer_id,))
        if row is None:
            return None
        score = json.loads(row[0]).get("score")
        return score if isinstance(score, int) else None

    # -- read state -----------------------------------------------------------------

    def mark_read(self, agent: str, conversation_id: int) -> None:
        """Remember that `agent` has seen everything the customer wrote so far."""
        with self.d.tx():
            self.d.execute(
                "INSERT INTO conversation_reads (agent, conversation_id, seen_inbound_at, read_at)"
                " SELECT ?, id, coalesce(last_inbound_at, ''), ? FROM conversations WHERE id = ?"
                " ON CONFLICT (agent, conversation_id) DO UPDATE SET"
                " seen_inbound_at = excluded.seen_inbound_at, read_at = excluded.read_at",
                (agent, now(), conversation_id))

    # -- presence --------------------------------------------------------------------

    def set_presence(self, agent: str, conversation_id: int, mode: str) -> None:
        """Heartbeat: `agent` is viewing or writing in this conversation now."""
        with self.d.tx():
            self.d.execute(
                "INSERT INTO presence (agent, conversation_id, mode, seen_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (agent, conversation_id) DO UPDATE SET mode = excluded.mode, seen_at = excluded.seen_at",
                (agent, conversation_id, mode, now()))

    def clear_presence(self, agent: str, conversation_id: int | None = None) -> None:
        with self.d.tx():
            if conversation_id is None:
                self.d.execute("DELETE FROM presence WHERE agent = ?", (agent,))
            else:
                self.d.execute("DELETE FROM presence WHERE agent = ? AND conversation_id = ?",
                                    (agent, conversation_id))

    def present(self, conversation_id: int, *, exclude: str = "", fresh_seconds: int = 45) -> list[dict]:
        """Who else is in this conversation now (heartbeat newer than `fresh_seconds`)."""
        since = stamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=fresh_seconds))
        return [dict(r) for r in self.d.all(
            "SELECT agent, mode, seen_at FROM presence WHERE conversation_id = ? AND agent != ? AND seen_at >= ?"
            " ORDER BY agent", (conversation_id, exclude, since))]


def _page_row(row) -> dict:
    out = dict(row)
    out["tags"] = json.loads(out["tags"])
    out["unread"] = bool(out["unread"])
    return out
