"""Read side of `tui-desk report`: SQL aggregates over conversations, messages and events.

Every figure is defined in docs/reports.md; the queries here are the only place it is
computed from rows. The clocks (first response, resolution) are read from report_facts:
one narrow row per conversation with its instants in epoch seconds and its durations in
calendar and business seconds, worked out once by the reports service (reports/facts.py)
when the conversation changes, so a report over 200,000 conversations is aggregates over
integers (counts and sums in SQL; durations packed for the service's percentiles).

Conventions: an *agent reply* is a message with direction 'out' and automatic NULL
(notes, automatic acknowledgements and surveys are not); a *person's message* is
direction 'in' with automatic NULL; merged-away conversations are never counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .db import Database, Row

from .stamps import parse_stamp

OPEN_STATUSES = ("new", "open", "pending", "snoozed")


AGENT_REPLY = "m.direction = 'out' AND m.automatic IS NULL"
PERSON_IN = "m.direction = 'in' AND m.automatic IS NULL"


@dataclass(frozen=True)
class ReportScope:
    """The period [since, until) as store stamps, and which conversations count (None: any)."""

    since: str
    until: str
    channel: str | None = None
    agent: str | None = None
    """The conversation's assignee."""
    tag: str | None = None

    def where(self, alias: str = "c") -> str:
        """SQL conditions on conversation `alias` (named parameters :channel, :agent, :tag)."""
        clauses = [f"{alias}.merged_into IS NULL"]
        if self.channel is not None:
            clauses.append(f"{alias}.channel = :channel")
        if self.agent is not None:
            clauses.append(f"{alias}.assignee = :agent")
        if self.tag is not None:
            clauses.append(_has_tag(f"{alias}.tags"))
        return " AND ".join(clauses)

    @property
    def filtered(self) -> bool:
        return any(v is not None for v in (self.channel, self.agent, self.tag))

    def facts_where(self) -> str:
        """The same conditions on report_facts `f` (which holds no merged-away conversation)."""
        clauses = ["1"]
        if self.channel is not None:
            clauses.append("f.channel = :channel")
        if self.agent is not None:
            clauses.append("f.assignee = :agent")
        if self.tag is not None:
            clauses.append(_has_tag("f.tags"))
        return " AND ".join(clauses)

    @property
    def since_s(self) -> int:
        """`since` in epoch seconds, rounded up. report_facts holds instants truncated to
        whole seconds, so a comparison with them is exact when the period's ends are whole
        seconds (make_period sees to it)."""
        return -int(-parse_stamp(self.since).timestamp() // 1)

    @property
    def until_s(self) -> int:
        return -int(-parse_stamp(self.until).timestamp() // 1)

    def params(self, **more) -> dict:
        return {"since": self.since, "until": self.until, "since_s": self.since_s, "until_s": self.until_s,
                "channel": self.channel, "agent": self.agent, "tag": self.tag, **more}


@dataclass
class Clocks:
    """The clocks of one group of conversations in the period (from report_facts).

    Opened: created in the period; their first responses (`wait`, calendar seconds, and
    `wait_open`, business seconds) are those of the answered ones. Solved: solved_at in
    the period, with `resolve` / `resolve_open` from creation to the solve."""

    opened: int = 0
    solved: int = 0
    unanswered: int = 0
    one_touch: int = 0
    reopened: int = 0
    wait: list[int] = field(default_factory=list)
    wait_open: list[int] = field(default_factory=list)
    resolve: list[int] = field(default_factory=list)
    resolve_open: list[int] = field(default_factory=list)


class ReportsMixin:
    """Aggregates for the report services (report_facts is kept by ReportFactsMixin)."""

    d: Database

    def _facts_access(self, scope: ReportScope) -> str:
        """How to reach the period's facts. Through the creation index each row costs a
        random lookup; when the period spans most of the history, reading the whole
        table in order is many times faster ("NOT INDEXED")."""
        # two subqueries: each is one step down the index (min and max together are not)
        first, last = self.d.one("SELECT (SELECT min(created) FROM report_facts), (SELECT max(created) FROM report_facts)")
        if first is None or last <= first:
            return ""
        covered = min(scope.until_s, last) - max(scope.since_s, first)
        return "NOT INDEXED" if covered > 0.25 * (last - first) else ""

    # -- clocks ---------------------------------------------------------------------

    def report_clocks(self, scope: ReportScope, by: str | None = None, solved: bool = True) -> dict[object, Clocks]:
        """The period's Clocks per group (`by`: 'channel', 'assignee', 'priority' or
        'first_reply_by'; None: one group, key None). With solved=False only the opened
        side is read. Durations come packed by SQLite (group_concat, which skips NULLs)
        and are unpacked by one JSON parse each, instead of a Python tuple per row. One
        plain scan per side: SQLite evaluates every expression per row, so two simple
        scans cost less than one that sorts out both sides row by row."""
        access, where, key = self._facts_access(scope), scope.facts_where(), _key(by)
        group = "GROUP BY k" if by else ""  # even GROUP BY NULL sorts every row
        out: dict[object, Clocks] = {}
        for k, opened, unanswered, wait, wait_open in self.d.tuples(
                f"""SELECT {key} AS k, count(*), sum(f.answered IS NULL), group_concat(f.wait), group_concat(f.wait_open)
                FROM report_facts f {access} WHERE f.created >= :since_s AND f.created < :until_s AND {where}
                {group}""", scope.params()):
            if not opened:
                continue  # an aggregate without GROUP BY gives one row even when nothing matched
            out[k] = Clocks(opened=opened, unanswered=unanswered, wait=_ints(wait), wait_open=_ints(wait_open))
        if not solved:
            return out
        for k, count, one_touch, reopened, resolve, resolve_open in self.d.tuples(
                f"""SELECT {key} AS k, count(*), sum(f.one_touch), sum(f.reopened), group_concat(f.resolve),
                    group_concat(f.resolve_open)
                FROM report_facts f {access} WHERE f.solved >= :since_s AND f.solved < :until_s AND {where}
                {group}""", scope.params()):
            if not count:
                continue
            clocks = out.setdefault(k, Clocks())
            clocks.solved, clocks.one_touch, clocks.reopened = count, one_touch, reopened
            clocks.resolve, clocks.resolve_open = _ints(resolve), _ints(resolve_open)
        return out

    def report_sla(self, scope: ReportScope, limits: dict[str, float], business: bool, end_s: float,
                   open_end: float) -> dict[str, tuple[int, int]]:
        """Per priority, conversations opened in the period and how many of them waited
        longer than their priority's limit (seconds) for a first response; one still
        unanswered has waited until `end_s` (business: `open_end`, the business clock's
        reading then). {priority: (checked, breached)}."""
        waited = ("coalesce(f.wait_open, max(:open_end - f.open_created, 0))" if business
                  else "coalesce(f.wait, max(:end_s - f.created, 0))")
        limit = "CASE f.priority " + " ".join(f"WHEN :p{i} THEN :l{i}" for i in range(len(limits))) + " END"
        named = {f"p{i}": p for i, p in enumerate(limits)} | {f"l{i}": v for i, v in enumerate(limits.values())}
        rows = self.d.tuples(
            f"""SELECT f.priority, count(*), sum(coalesce({waited} > {limit}, 0)) FROM report_facts f
                {self._facts_access(scope)}
            WHERE f.created >= :since_s AND f.created < :until_s AND {scope.facts_where()} GROUP BY f.priority""",
            scope.params(end_s=end_s, open_end=open_end, **named)) if limits else []
        return {p: (checked, breached) for p, checked, breached in rows}

    def report_per_day(self, scope: ReportScope, days: list[tuple[float, float]]) -> dict[str, list[int]]:
        """Conversations opened and solved in each of `days` ([start, end) in epoch
        seconds: the local days of the period): {"opened": [n, ...], "solved": [n, ...]}.
        Each day is one range of the creation (solve) index, counted within the index."""
        out = {}
        for name, column in (("opened", "created"), ("solved", "solved")):
            rows = self.d.tuples(
                f"""SELECT (SELECT count(*) FROM report_facts f WHERE f.{column} >= j.value ->> 0
                    AND f.{column} < j.value ->> 1 AND {scope.facts_where()})
                FROM json_each(:days) j ORDER BY j.key""", scope.params(days=json.dumps(days)))
            out[name] = [n for (n,) in rows]
        return out

    def report_what_if(self, scope: ReportScope, cap: float) -> tuple[list[int], list[int], int]:
        """First responses of the conversations opened (and answered) in the period, as
        they were and as they would be had each one opened while the desk was closed been
        answered within `cap` seconds; and how many opened while closed."""
        (row,) = self.d.tuples(
            f"""SELECT group_concat(f.wait), group_concat(CASE WHEN f.created_open THEN f.wait ELSE min(f.wait, :cap) END),
                sum(NOT f.created_open)
            FROM report_facts f {self._facts_access(scope)}
            WHERE f.created >= :since_s AND f.created < :until_s AND f.answered IS NOT NULL AND {scope.facts_where()}""",
            scope.params(cap=cap))
        return _ints(row[0]), _ints(row[1]), row[2] or 0

    def report_solved_by(self, scope: ReportScope, by: str) -> dict[object, int]:
        """Conversations solved in the period, counted per group `by` (as in report_clocks)."""
        rows = self.d.tuples(
            f"""SELECT {_key(by)} AS k, count(*) FROM report_facts f {self._facts_access(scope)}
            WHERE f.solved >= :since_s AND f.solved < :until_s AND {scope.facts_where()} GROUP BY k""", scope.params())
        return dict(rows)

    def report_backlog_count(self, scope: ReportScope) -> int:
        """Conversations not solved at the end of the period: created before it and either
        in an open status now or solved only after it."""
        return self.d.scalar(
            f"""SELECT count(*) FROM report_facts f NOT INDEXED WHERE f.created < :until_s
                AND (f.status IN {_in(OPEN_STATUSES)} OR f.solved >= :until_s) AND {scope.facts_where()}""",
            scope.params())

    def report_inbound_by_channel(self, scope: ReportScope) -> dict[str, int]:
        """Messages from people received in the period, per channel."""
        rows = self.d.tuples(
            # the index holds the channel: no message row is read, with or without filters
            f"SELECT m.channel, count(*) FROM messages m INDEXED BY messages_person_in"
            f" WHERE {PERSON_IN} AND {self._in_scope(scope)} AND m.received_at >= :since AND m.received_at < :until GROUP BY m.channel",
            scope.params())
        return dict(rows)

    def report_customers_in(self, scope: ReportScope) -> int:
        """Customers who wrote in the period: one person once, however many channels and
        identities they wrote from (linking moves every message to the kept customer)."""
        return self.d.scalar(
            f"SELECT count(DISTINCT m.customer_id) FROM messages m WHERE {PERSON_IN} AND m.customer_id IS NOT NULL"
            f" AND {self._in_scope(scope)} AND m.received_at >= :since AND m.received_at < :until",
            scope.params())

    def report_replies_by_author(self, scope: ReportScope) -> dict[str, int]:
        """Agent replies written in the period, per author."""
        rows = self.d.tuples(
            f"SELECT m.author, count(*) FROM messages m"
            f" WHERE {AGENT_REPLY} AND {self._in_scope(scope)} AND m.received_at >= :since AND m.received_at < :until GROUP BY m.author",
            scope.params())
        return dict(rows)

    def _in_scope(self, scope: ReportScope) -> str:
        """SQL condition: message `m` belongs to a conversation the filters keep. The
        matching conversation ids are gathered once into an in-memory index, so each
        message costs a lookup there, not a read of its conversation's row."""
        # merging moves messages to the surviving conversation, so without filters no test is needed
        if not scope.filtered:
            return "1"
        return f"m.conversation_id IN (SELECT f.conversation_id FROM report_facts f WHERE {scope.facts_where()})"

    # -- satisfaction ---------------------------------------------------------------

    def report_satisfaction(self, scope: ReportScope, by: str | None = None, weeks: str | None = None) -> dict:
        """Survey figures in the period, overall (key None) or per `by`: 'assignee' or
        'channel' (of the conversation), 'template' (of the survey), 'week' (the index of
        the [start, end) pair in the JSON list `weeks` of stamps that holds the event):
        {key: (answers, score_sum, great, not_good, surveys_sent, surveys_answered)}.

        An answer is an event 'satisfaction' with data {"score": 1..5}: great is 4 or 5,
        not good 1 or 2; a survey sent is an event 'survey_sent'; a sent survey counts
        as answered when an answer on the same conversation followed it."""
        group = {"assignee": "f.assignee", "channel": "f.channel", "week": "w.key",
                 "template": "coalesce(e.data ->> 'template',"
                             " (SELECT s.template_id FROM surveys s WHERE s.id = e.data ->> 'survey'))"}.get(by, "NULL")
        # the conversation matters only for filters and grouping (events of merged-away
        # conversations count like any: the customer did answer); report_facts has what
        # they need in narrow rows
        join = (f"JOIN report_facts f ON f.conversation_id = e.conversation_id AND {scope.facts_where()}"
                if scope.filtered or by in ("assignee", "channel") else "")
        if by == "week":
            join += (" JOIN json_each(:weeks) w ON e.at >= w.value ->> 0 AND e.at < w.value ->> 1")
        answer = "(e.kind = 'satisfaction' AND e.data ->> 'score' BETWEEN 1 AND 5)"
        rows = self.d.tuples(
            f"""SELECT {group} AS k, sum({answer}), sum(CASE WHEN {answer} THEN e.data ->> 'score' END),
                sum({answer} AND e.data ->> 'score' >= 4), sum({answer} AND e.data ->> 'score' <= 2),
                sum(e.kind = 'survey_sent'),
                sum(e.kind = 'survey_sent' AND EXISTS (SELECT 1 FROM events a WHERE a.conversation_id = e.conversation_id
                    AND a.kind = 'satisfaction' AND a.at >= e.at))
            FROM events e INDEXED BY events_surveys {join}
            WHERE e.kind IN ('satisfaction', 'survey_sent') AND e.at >= :since AND e.at < :until
            {"GROUP BY k" if group != "NULL" else ""}""",
            scope.params(weeks=weeks or "[]"))
        return {k: (a or 0, total or 0, great or 0, bad or 0, sent or 0, answered or 0)
                for k, a, total, great, bad, sent, answered in rows if a or sent}

    # -- templates ------------------------------------------------------------------

    def report_template_uses(self, scope: ReportScope, close_days: int) -> list[tuple]:
        """Template replies sent in the period (agent replies with template_id set; the
        outbox writes them, with a 'template_used' event), with what followed each, as
        (template, at, solved_at, next_out_at, next_in_at, satisfaction, deadline): the
        first solve at or after the use, the next outgoing message, the next message from
        the customer, the first satisfaction score after it, and the use + `close_days`
        (a stamp). The same rows as Store.template_uses(), for one period and the
        report's filters; every lookup is answered from an index (m070). The uses are
        taken in conversation order, so the lookups walk each index forward instead of
        jumping about it (half the time warm, and far fewer pages read cold)."""
        return self.d.tuples(
            f"""SELECT m.template_id, m.received_at,
                (SELECT min(e.at) FROM events e INDEXED BY events_solved WHERE e.conversation_id = m.conversation_id
                    AND e.kind = 'status' AND e.data ->> 'to' = 'solved' AND e.at >= m.received_at),
                (SELECT min(o.received_at) FROM messages o INDEXED BY messages_flow WHERE o.conversation_id = m.conversation_id
                    AND o.direction = 'out' AND o.received_at > m.received_at),
                (SELECT min(i.received_at) FROM messages i INDEXED BY messages_flow
                    WHERE i.conversation_id = m.conversation_id AND i.direction = 'in' AND i.automatic IS NULL
                    AND i.received_at > m.received_at),
                (SELECT a.data ->> 'score' FROM events a WHERE a.conversation_id = m.conversation_id
                    AND a.kind = 'satisfaction' AND a.at > m.received_at ORDER BY a.at LIMIT 1),
                strftime('%Y-%m-%dT%H:%M:%fZ', m.received_at, :shift)
            FROM (SELECT m.conversation_id, m.template_id, m.received_at FROM messages m INDEXED BY messages_template_use
                WHERE m.template_id IS NOT NULL AND m.direction = 'out' AND {self._in_scope(scope)}
                AND m.received_at >= :since AND m.received_at < :until ORDER BY m.conversation_id) m""",
            scope.params(shift=f"+{int(close_days)} days"))

    # -- traffic ---------------------------------------------------------------------

    def report_inbound_slots(self, scope: ReportScope, intervals: str) -> dict[int, int]:
        """Messages from people per slot. `intervals` is a JSON list of [start, end, slot]
        (store stamps, end exclusive); returns {slot: count}. Each interval is counted on
        its own (one index range each), so only the ~9,000 interval counts are grouped,
        not the messages."""
        rows = self.d.tuples(
            f"""SELECT slot, sum(n) FROM (SELECT j.value ->> 2 AS slot,
                    (SELECT count(*) FROM messages m INDEXED BY messages_person_in
                     WHERE {PERSON_IN} AND {self._in_scope(scope)} AND m.received_at >= j.value ->> 0 AND m.received_at < j.value ->> 1) AS n
                FROM json_each(:intervals) j)
            WHERE n > 0 GROUP BY slot""", scope.params(intervals=intervals))
        return {int(slot): count for slot, count in rows}

    # -- backlog ---------------------------------------------------------------------

    def report_backlog_buckets(self, scope: ReportScope, edges_days: list[float]) -> list[tuple]:
        """Backlog at the end of the period as (status, bucket, count); bucket i means an age
        (end of period − created) below edges_days[i], len(edges) meaning older than all.
        A conversation solved only after the end counts with status 'open'."""
        bucket = "CASE " + " ".join(
            f"WHEN julianday(:until) - julianday(c.created_at) < {float(e)} THEN {i}" for i, e in enumerate(edges_days)
        ) + f" ELSE {len(edges_days)} END"
        return self.d.tuples(
            f"""SELECT CASE WHEN c.status IN {_in(OPEN_STATUSES)} THEN c.status ELSE 'open' END AS s,
                {bucket} AS b, count(*)
            FROM conversations c NOT INDEXED WHERE c.created_at < :until AND {scope.where()}
                AND (c.status IN {_in(OPEN_STATUSES)} OR c.solved_at >= :until)
            GROUP BY s, b""", scope.params())

    def report_waiting(self, scope: ReportScope, limit: int) -> list[Row]:
        """Backlog conversations whose customer spoke last (no agent reply since their
        latest message), longest waiting first."""
        return self.d.all(
            f"""SELECT c.id, c.status, c.subject, c.channel, c.assignee, c.priority, c.last_inbound_at,
                cu.name AS customer_name,
                (SELECT address FROM identities WHERE customer_id = c.customer_id ORDER BY id LIMIT 1) AS customer_address
            FROM conversations c NOT INDEXED LEFT JOIN customers cu ON cu.id = c.customer_id
            WHERE c.created_at < :until AND {scope.where()} AND c.last_inbound_at < :until
                AND (c.status IN {_in(OPEN_STATUSES)} OR c.solved_at >= :until)
                AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id AND {AGENT_REPLY}
                    AND m.received_at >= c.last_inbound_at AND m.received_at < :until)
            ORDER BY c.last_inbound_at, c.id LIMIT :limit""", scope.params(limit=limit))


def _has_tag(column: str) -> str:
    """SQL: the JSON array in `column` holds :tag. A substring test first (the tag as a
    JSON string), which rules out most rows at a fraction of the cost of json_each; an
    array with any escape in it (written by another JSON encoder) is always looked into."""
    return (f"((instr({column}, json_quote(:tag)) OR instr({column}, '\\'))"
            f" AND EXISTS (SELECT 1 FROM json_each({column}) WHERE value = :tag))")


def _key(by: str | None) -> str:
    columns = {None: "NULL", "priority": "f.priority", "channel": "f.channel",
               "assignee": "f.assignee", "first_reply_by": "f.first_reply_by"}
    return columns[by]


def _ints(packed: str | None) -> list[int]:
    # whole seconds packed as "3600,86400,...": the JSON parser reads them 3x faster than int()
    return json.loads(f"[{packed}]") if packed else []


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
