"""Pages: the on-call person woken for a conversation, and each delivery of it.

One unresolved page per conversation (its dedup key); a page's notices are its
deliveries, one per (round, step, person), written "sending" before they leave.
"""

from __future__ import annotations

import json

from .db import Database

from .stamps import now

_PAGE_COLUMNS = "id, conversation_id, state, rule, target, summary, messages, created_at, next_at," \
                " acked_by, acked_at, acked_via, resolved_at, resolved_by"


def _page(row) -> dict:
    page = dict(row)
    page["summary"] = json.loads(page["summary"])
    return page


def _notice(row) -> dict:
    notice = dict(row)
    notice["detail"] = json.loads(notice["detail"])
    return notice


class PagesMixin:
    d: Database

    def page_request(self, conversation_id: int, rule: str, target: str, summary: dict, at: str) -> tuple[int, bool]:
        """Open a page for the conversation, or add this message to its unresolved one
        (inside the caller's transaction); (page id, whether it is new)."""
        row = self.d.one("SELECT id FROM pages WHERE conversation_id = ? AND state != 'resolved'", (conversation_id,))
        if row is not None:
            self.d.execute("UPDATE pages SET messages = messages + 1 WHERE id = ?", (row[0],))
            self.add_event(conversation_id, "page.added", f"rule:{rule}", {"page": row[0]})
            return row[0], False
        page_id = self.d.insert(
            "INSERT INTO pages (conversation_id, rule, target, summary, created_at, next_at) VALUES (?, ?, ?, ?, ?, ?)",
            (conversation_id, rule, target, json.dumps(summary, ensure_ascii=False), at, at))
        self.add_event(conversation_id, "page.opened", f"rule:{rule}", {"page": page_id, "target": target})
        return page_id, True

    def page(self, page_id: int) -> dict | None:
        row = self.d.one(f"SELECT {_PAGE_COLUMNS} FROM pages WHERE id = ?", (page_id,))
        return _page(row) if row else None

    def unresolved_page(self, conversation_id: int) -> dict | None:
        row = self.d.one(f"SELECT {_PAGE_COLUMNS} FROM pages WHERE conversation_id = ? AND state != 'resolved'",
                         (conversation_id,))
        return _page(row) if row else None

    def pages(self, *, unresolved: bool = False, limit: int = 200) -> list[dict]:
        """Newest first, each with its notices (oldest first)."""
        where = "WHERE state != 'resolved'" if unresolved else ""
        pages = [_page(r) for r in self.d.all(
            f"SELECT {_PAGE_COLUMNS} FROM pages {where} ORDER BY id DESC LIMIT ?", (limit,))]
        for page in pages:
            page["notices"] = self.page_notices(page["id"])
        return pages

    def page_counts(self) -> dict[str, int]:
        """Pages per state."""
        return dict(self.d.tuples("SELECT state, count(*) FROM pages GROUP BY state"))

    def pages_due(self, at: str) -> list[dict]:
        """Open pages whose next escalation step is due."""
        return [_page(r) for r in self.d.all(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE state = 'open' AND next_at <= ? ORDER BY id", (at,))]

    def page_set_next(self, page_id: int, next_at: str | None) -> None:
        with self.d.tx():
            self.d.execute("UPDATE pages SET next_at = ? WHERE id = ?", (next_at, page_id))

    def pages_answered(self) -> list[tuple[int, str]]:
        """Unresolved pages whose conversation a person has replied to since the page
        opened: (page id, who replied)."""
        return self.d.tuples(
            "SELECT p.id, (SELECT m.author FROM messages m WHERE m.conversation_id = p.conversation_id"
            "  AND m.direction = 'out' AND m.automatic IS NULL AND m.received_at >= p.created_at"
            "  ORDER BY m.received_at LIMIT 1)"
            " FROM pages p WHERE p.state != 'resolved' AND EXISTS (SELECT 1 FROM messages m"
            "  WHERE m.conversation_id = p.conversation_id AND m.direction = 'out' AND m.automatic IS NULL"
            "  AND m.received_at >= p.created_at)")

    # -- acknowledging and resolving ---------------------------------------------------

    def page_acknowledge(self, page_id: int, who: str, via: str) -> bool:
        """Acknowledge an open page (escalation stops); False when it was not open."""
        with self.d.tx():
            done = self.d.execute(
                "UPDATE pages SET state = 'acknowledged', acked_by = ?, acked_at = ?, acked_via = ?, next_at = NULL"
                " WHERE id = ? AND state = 'open'", (who, now(), via, page_id)).rowcount
            if done:
                cid = self.d.scalar("SELECT conversation_id FROM pages WHERE id = ?", (page_id,))
                self.add_event(cid, "page.acknowledged", who, {"page": page_id, "via": via})
        return bool(done)

    def page_resolve(self, page_id: int, by: str) -> bool:
        with self.d.tx():
            done = self.d.execute(
                "UPDATE pages SET state = 'resolved', resolved_at = ?, resolved_by = ?, next_at = NULL"
                " WHERE id = ? AND state != 'resolved'", (now(), by, page_id)).rowcount
            if done:
                cid = self.d.scalar("SELECT conversation_id FROM pages WHERE id = ?", (page_id,))
                self.add_event(cid, "page.resolved", by, {"page": page_id})
        return bool(done)

    # -- deliveries --------------------------------------------------------------------

    def page_notices(self, page_id: int) -> list[dict]:
        return [_notice(r) for r in self.d.all("SELECT * FROM page_notices WHERE page_id = ? ORDER BY id", (page_id,))]

    def page_notice_begin(self, page_id: int, round_: int, step: int, who: str, contact: str | None,
                          key: str) -> dict | None:
        """The notice to deliver now: a new one, or one a crash left "sending" (to be sent
        again under its own key); None when it was delivered (or failed) already."""
        with self.d.tx():
            self.d.execute(
                "INSERT INTO page_notices (page_id, round, step, who, contact, state, key, at)"
                " VALUES (?, ?, ?, ?, ?, 'sending', ?, ?) ON CONFLICT (page_id, round, step, who) DO NOTHING",
                (page_id, round_, step, who, contact, key, now()))
            row = self.d.one("SELECT * FROM page_notices WHERE page_id = ? AND round = ? AND step = ? AND who = ?",
                             (page_id, round_, step, who))
        return _notice(row) if row["state"] == "sending" else None

    def page_notice_end(self, notice_id: int, ok: bool, detail: dict) -> None:
        with self.d.tx():
            row = self.d.one("SELECT page_id, detail FROM page_notices WHERE id = ?", (notice_id,))
            merged = {**json.loads(row["detail"]), **detail}
            self.d.execute("UPDATE page_notices SET state = ?, detail = ?, at = ? WHERE id = ?",
                                ("sent" if ok else "failed", json.dumps(merged, ensure_ascii=False), now(), notice_id))
            cid = self.d.scalar("SELECT conversation_id FROM pages WHERE id = ?", (row["page_id"],))
            self.add_event(cid, "page.notified" if ok else "page.failed", "oncall",
                           {"page": row["page_id"], "notice": notice_id, **detail})

    def page_by_notice_key(self, key: str) -> dict | None:
        """The unresolved page one of whose notices went out under this key (an email
        page's Message-ID), with `who` the person it went to."""
        row = self.d.one(
            f"SELECT n.who AS notice_who, p.* FROM page_notices n JOIN pages p ON p.id = n.page_id"
            " WHERE n.key = ? AND p.state != 'resolved'", (key,))
        if row is None:
            return None
        page = _page({k: row[k] for k in row.keys() if k != "notice_who"})
        page["who"] = row["notice_who"]
        return page

    def open_matrix_notices(self) -> list[dict]:
        """The delivered Matrix notices of open pages: where an "ack" reply is looked for."""
        return [_notice(r) for r in self.d.all(
            "SELECT n.* FROM page_notices n JOIN pages p ON p.id = n.page_id"
            " WHERE p.state = 'open' AND n.contact = 'matrix' AND n.state = 'sent' ORDER BY n.id")]

    # -- what the on-call report counts ------------------------------------------------

    def night_messages(self, since: str, until: str) -> list[tuple[str, str]]:
        """(received_at, the conversation's priority) of every message from a person in
        [since, until): the on-call report keeps those that came while the desk was closed."""
        return self.d.tuples(
            "SELECT m.received_at, c.priority FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.direction = 'in' AND m.class = 'human'"
            " AND m.received_at >= ? AND m.received_at < ?", (since, until))

    def pages_between(self, since: str, until: str) -> list[dict]:
        """Pages opened in [since, until), each with its notices and the first reply to
        the customer after it was acknowledged (`first_reply_at`)."""
        pages = [_page(r) for r in self.d.all(
            f"SELECT {_PAGE_COLUMNS} FROM pages WHERE created_at >= ? AND created_at < ? ORDER BY id", (since, until))]
        for page in pages:
            page["notices"] = self.page_notices(page["id"])
            page["first_reply_at"] = self.d.scalar(
                "SELECT min(received_at) FROM messages WHERE conversation_id = ? AND direction = 'out'"
                " AND automatic IS NULL AND received_at >= ?",
                (page["conversation_id"], page["acked_at"] or page["created_at"]))
        return pages
