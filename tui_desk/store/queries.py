"""Read side: conversation lists (keyset-paged), one conversation whole, full-text search."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .db import Database

from .segment import segment

RANKED_CANDIDATES = 1000
"""Search ranks at most this many matches: the newest ones (see QueryMixin.search)."""

LIST_COLUMNS = (
    "c.id, c.channel, c.subject, c.status, c.priority, c.assignee, c.tags, c.created_at,"
    " c.last_message_at, c.last_inbound_at, c.first_response_at, c.message_count, c.version,"
    " c.customer_id, cu.name AS customer_name,"
    " (SELECT address FROM identities WHERE customer_id = c.customer_id ORDER BY id LIMIT 1) AS customer_address"
)


@dataclass(frozen=True)
class ListFilter:
    """Which conversations a list shows. None means any."""

    status: tuple[str, ...] | None = None
    assignee: str | None = None
    """An agent name, or "none" for unassigned."""
    channel: str | None = None
    customer_id: int | None = None
    group: str | None = None
    """A group's name ([[groups]]): the conversations rules routed to it."""


@dataclass(frozen=True)
class Cursor:
    """Keyset position: the (last_message_at, id) of the last row shown."""

    last_message_at: str
    id: int


class QueryMixin:
    d: Database

    def conversations(self, where: ListFilter = ListFilter(), limit: int = 50,
                      after: Cursor | None = None) -> list[dict]:
        """Newest activity first; pass the last row's Cursor to get the next page.

        The unary + on the filters keeps SQLite scanning the activity index (so LIMIT
        stops the scan after one page) instead of sorting every row of a filter index."""
        clauses = ["c.merged_into IS NULL"]
        params: list = []
        if where.status:
            clauses.append(f"+c.status IN ({','.join('?' * len(where.status))})")
            params.extend(where.status)
        if where.assignee == "none":
            clauses.append("+c.assignee IS NULL")
        elif where.assignee:
            clauses.append("+c.assignee = ?")
            params.append(where.assignee)
        if where.channel:
            clauses.append("+c.channel = ?")
            params.append(where.channel)
        if where.customer_id is not None:
            clauses.append("c.customer_id = ?")
            params.append(where.customer_id)
        if where.group:
            clauses.append("+c.group_name = ?")
            params.append(where.group)
        if after is not None:
            clauses.append("(c.last_message_at, c.id) < (?, ?)")
            params.extend([after.last_message_at, after.id])
        sql = (
            f"SELECT {LIST_COLUMNS} FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY c.last_message_at DESC, c.id DESC LIMIT ?"
        )
        return [_conversation_row(r) for r in self.d.all(sql, (*params, limit))]

    def conversation(self, conversation_id: int) -> dict | None:
        row = self.d.one(
            f"SELECT {LIST_COLUMNS}, c.snoozed_until, c.solved_at, c.merged_into, c.thread_key, c.group_name"
            " FROM conversations c LEFT JOIN customers cu ON cu.id = c.customer_id WHERE c.id = ?",
            (conversation_id,),
        )
        return _conversation_row(row) if row else None

    def messages(self, conversation_id: int) -> list[dict]:
        rows = self.d.all(
            "SELECT m.id, m.direction, m.author, m.author_address, m.subject, m.text, m.quoted, m.created_at,"
            " m.received_at, m.message_id, m.problems, m.automatic, m.class, m.template_id, m.redacted, m.edited_at,"
            " (SELECT count(*) FROM attachments a WHERE a.message_id = m.id) AS attachments,"
            " o.state AS delivery, o.id AS outbox_id, o.last_error AS delivery_error,"
            " o.next_try_at AS deliver_at, o.sent_at AS sent_at"
            " FROM messages m LEFT JOIN outbox o ON o.message_id = m.id"
            " WHERE m.conversation_id = ? ORDER BY m.received_at, m.id",
            (conversation_id,),
        )
        out = []
        for r in rows:
            item = dict(r)
            item["problems"] = json.loads(item["problems"]) if item["problems"] else []
            out.append(item)
        return out

    def attachments(self, message_id: int) -> list[dict]:
        return [dict(r) for r in self.d.all(
            "SELECT id, filename, content_type, size, sha256 FROM attachments WHERE message_id = ? ORDER BY id",
            (message_id,),
        )]

    def raw(self, message_id: int) -> bytes | None:
        return self.d.scalar("SELECT raw FROM message_raw WHERE message_id = ?", (message_id,))

    def customer(self, customer_id: int) -> dict | None:
        row = self.d.one("SELECT id, name, timezone, tags, notes, merged_into, created_at FROM customers WHERE id = ?", (customer_id,))
        if row is None:
            return None
        out = dict(row)
        out["tags"] = json.loads(out["tags"])
        out["identities"] = [dict(r) for r in self.d.all(
            "SELECT kind, address, display_name FROM identities WHERE customer_id = ? ORDER BY id", (customer_id,)
        )]
        return out

    def events(self, conversation_id: int) -> list[dict]:
        rows = self.d.all(
            "SELECT id, kind, actor, at, data FROM events WHERE conversation_id = ? ORDER BY at, id", (conversation_id,)
        )
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]

    def search(self, query: str, limit: int = 20) -> list[dict]:
        """Messages matching every word of `query`, best first (bm25; subject weighs double).

        Ranking costs ~10 µs per matching message, so a word found in nearly every
        message would cost a second at 100,000 messages: when more than RANKED_CANDIDATES
        messages match, only the newest that many are ranked (finding where they start
        walks the index in rowid order, which costs next to nothing)."""
        match = fts_query(query)
        if not match:
            return []
        # rank inside the index first: joining message rows (with their text) for every
        # match before sorting would read far more than the page needs
        rows = self.d.all(
            "SELECT m.id AS message_id, m.conversation_id, m.subject, m.text, m.author, m.created_at,"
            f" c.status, c.channel, hits.score FROM ({self._ranked_hits()}) AS hits"
            " JOIN messages m ON m.id = hits.rowid JOIN conversations c ON c.id = m.conversation_id"
            " ORDER BY hits.score",
            (match, self._rank_floor(match), limit),
        )
        words = query_words(query)
        return [{**{k: r[k] for k in r.keys() if k != "text"}, "snippet": snippet(r["text"], words)} for r in rows]

    def search_message_conversations(self, query: str, limit: int = 500) -> list[int]:
        """The conversation of each matching message, best match first (ids only: no
        message text is read, no snippet made)."""
        match = fts_query(query)
        if not match:
            return []
        rows = self.d.all(
            f"SELECT m.conversation_id FROM ({self._ranked_hits()}) AS hits JOIN messages m ON m.id = hits.rowid"
            " ORDER BY hits.score", (match, self._rank_floor(match), limit))
        return [r[0] for r in rows]

    def _rank_floor(self, match: str) -> int:
        """The lowest rowid among the newest RANKED_CANDIDATES matches (walking the index
        in rowid order costs next to nothing)."""
        return self.d.scalar(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (match, RANKED_CANDIDATES - 1),
        ) or 0

    @staticmethod
    def _ranked_hits() -> str:
        """The best matches (MATCH ?, rowid ≥ ?, LIMIT ?) as (rowid, score), ranked inside the index."""
        return ("SELECT rowid, bm25(messages_fts, 2.0, 1.0) AS score FROM messages_fts"
                " WHERE messages_fts MATCH ? AND rowid >= ? ORDER BY score LIMIT ?")


def _conversation_row(row) -> dict:
    out = dict(row)
    out["tags"] = json.loads(out["tags"])
    return out


_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(query: str) -> list[str]:
    return _WORD.findall(query.lower())


def fts_query(query: str) -> str:
    """User words → an FTS5 expression: every word must occur; words are quoted, so
    nothing the user types is read as FTS syntax. CJK/Thai words become phrases."""
    terms = []
    for word in query_words(query):
        tokens = segment(word).split()
        terms.append('"' + " ".join(tokens) + '"' + ("*" if len(tokens) == 1 and len(word) > 2 else ""))
    return " AND ".join(terms)


def snippet(text: str, words: list[str], width: int = 160) -> str:
    """A single line of `text` around the first matching word."""
    flat = " ".join(text.split())
    lower = flat.lower()
    hits = [i for i in (lower.find(w) for w in words) if i >= 0]
    start = max(min(hits) - width // 3, 0) if hits else 0
    piece = flat[start:start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(flat) else "")
