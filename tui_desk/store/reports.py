"""Read side of `tui-desk report`: SQL aggregates over conversations, messages and events.

Every figure is defined in docs/reports.md; the queries here are the only place it is
computed from rows. What a report needs per conversation (created, first agent reply,
solved) comes back as `Facts`: lists of whole epoch seconds in step, one scan of the
conversations for both clocks, so the service can do the business-hours arithmetic and
percentiles without parsing 200,000 timestamps.

Conventions: an *agent reply* is a message with direction 'out' and automatic NULL
(notes, automatic acknowledgements and surveys are not); a *person's message* is
direction 'in' with automatic NULL; merged-away conversations are never counted.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
import sqlite3
from dataclasses import dataclass

from .db import Database
from .schema import PRIORITIES

OPEN_STATUSES = ("new", "open", "pending", "snoozed")


def epoch(column: str) -> str:
    """SQL for a stamp column as whole epoch seconds (twice as fast as julianday arithmetic;
    reports never need the milliseconds)."""
    return f"unixepoch({column})"


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
            clauses.append(f"EXISTS (SELECT 1 FROM json_each({alias}.tags) WHERE value = :tag)")
        return " AND ".join(clauses)

    @property
    def filtered(self) -> bool:
        return any(v is not None for v in (self.channel, self.agent, self.tag))

    def params(self, **more) -> dict:
        return {"since": self.since, "until": self.until, "channel": self.channel,
                "agent": self.agent, "tag": self.tag, **more}


OPENED, SOLVED, ONE_TOUCH, REOPENED = 1, 2, 4, 8
RANK = 16  # flags // RANK: the priority's place in schema.PRIORITIES (with by="priority")
"""Bits of `Facts.flags`: opened in the period, solved in the period, solved with exactly
one agent reply, reopened (a status event from solved to open) before the solve."""


@dataclass
class Facts:
    """Every conversation opened or solved in the period, as lists in step: the instants
    of both clocks (epoch seconds) and what the counts need.

    first_reply is -1 while unanswered; solved is -1 unless the conversation was solved
    in the period (its current solved_at falls in it); keys holds each conversation's
    group column (None when not grouped)."""

    created: list[int]
    first_reply: list[int]
    solved: list[int]
    flags: list[int]
    keys: list | None = None


class ReportsMixin:
    """Aggregates for the report services. Read-only; no transaction needed."""

    d: Database

    def _access(self, scope: ReportScope) -> str:
        """How to reach the period's conversations. Through the created_at/solved_at indexes
        each row costs a random lookup; when the period spans most of the history, reading
        the whole table in order is many times faster ("NOT INDEXED")."""
        # two subqueries: each is one step down the created_at index (min and max together are not)
        first, last = self.d.one("SELECT (SELECT min(created_at) FROM conversations),"
                                 " (SELECT max(created_at) FROM conversations)")
        if first is None or last <= first:
            return ""
        span = _days(last) - _days(first)
        covered = min(_days(scope.until), _days(last)) - max(_days(scope.since), _days(first))
        return "NOT INDEXED" if covered > 0.25 * span else ""

    def _tuples(self, sql: str, params: dict) -> list[tuple]:
        cursor = self.d.conn.cursor()
        cursor.row_factory = None  # plain tuples: several times cheaper than Row for 200k rows
        return cursor.execute(sql, params).fetchall()

    # -- per conversation -----------------------------------------------------------

    def report_facts(self, scope: ReportScope, by: str | None = None, solved: bool = True) -> Facts:
        """One pass over the conversations created or solved in the period (with
        solved=False only those created in it), `by` a conversation column to group by
        later ('priority', 'channel', 'assignee', 'first_reply_by') or None.

        The lists come packed by SQLite (group_concat) and are unpacked by one JSON parse
        each: 200,000 conversations cost milliseconds instead of a Python row each. Every
        aggregate of one SELECT sees the rows in the same order, so the lists stay in step;
        no GROUP BY (it would sort every row)."""
        opened = "(c.created_at >= :since AND c.created_at < :until)"
        if not solved:  # opened only: the first clock alone, every row flagged OPENED
            (row,) = self._tuples(
                f"""SELECT group_concat({epoch('c.created_at')}), group_concat(coalesce({epoch('c.first_reply_at')}, -1)),
                    {'json_group_array(' + _group(by) + ')' if by else 'NULL'}
                FROM conversations c {self._access(scope)} WHERE {opened} AND {scope.where()}""", scope.params())
            created, first_reply = _floats(row[0]), _floats(row[1])
            return Facts(created, first_reply, [-1] * len(created), [OPENED] * len(created),
                         json.loads(row[2]) if by else None)
        solved_in = "(c.solved_at >= :since AND c.solved_at < :until)"
        # priorities are a fixed set: their number rides in the flags (above the 4 bits),
        # which saves building and parsing a JSON array of 200,000 strings
        rank = ("CASE c.priority " + " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PRIORITIES)) + " END"
                if by == "priority" else "0")
        keys = "json_group_array(k)" if by not in (None, "priority") else "NULL"
        (row,) = self._tuples(
            f"""SELECT group_concat({epoch('created_at')}), group_concat(coalesce({epoch('first_reply_at')}, -1)),
                group_concat(CASE WHEN s THEN {epoch('solved_at')} ELSE -1 END),
                group_concat(o + {SOLVED} * s + {ONE_TOUCH} * (agent_replies = 1) + {REOPENED} * (reopens > 0)
                             + {RANK} * r), {keys}
            FROM (SELECT c.created_at, c.first_reply_at, c.solved_at, c.agent_replies, c.reopens,
                    {_group(by)} AS k, {rank} AS r, {opened} AS o, coalesce({solved_in}, 0) AS s
                FROM conversations c {self._access(scope)} WHERE ({opened} OR {solved_in}) AND {scope.where()})""",
            scope.params())
        created, first_reply, solved_at, flags = map(_floats, row[:4])
        if by == "priority":
            return Facts(created, first_reply, solved_at, flags,
                         list(map(PRIORITIES.__getitem__, map(operator.rshift, flags, itertools.repeat(4)))))
        return Facts(created, first_reply, solved_at, flags, json.loads(row[4]) if by else None)

    def report_solved_by(self, scope: ReportScope, by: str) -> dict[object, int]:
        """Conversations solved in the period, counted per conversation column `by`."""
        rows = self._tuples(
            f"""SELECT {_group(by)} AS k, count(*) FROM conversations c {self._access(scope)}
            WHERE c.solved_at >= :since AND c.solved_at < :until AND {scope.where()} GROUP BY k""", scope.params())
        return dict(rows)

    def report_backlog_count(self, scope: ReportScope) -> int:
        """Conversations not solved at the end of the period: created before it and either
        in an open status now or solved only after it."""
        # two counts: open ones by reading the table in order (an index lookup per row costs
        # more than the whole scan once the backlog is a few percent of the table), and
        # those solved after the end through the solved_at index (none when the period ends now)
        return self.d.scalar(
            f"SELECT (SELECT count(*) FROM conversations c NOT INDEXED WHERE c.status IN {_in(OPEN_STATUSES)}"
            f" AND c.created_at < :until AND {scope.where()})"
            f" + (SELECT count(*) FROM conversations c WHERE c.solved_at >= :until"
            f" AND c.status NOT IN {_in(OPEN_STATUSES)} AND c.created_at < :until AND {scope.where()})",
            scope.params())

    def report_inbound_by_channel(self, scope: ReportScope) -> dict[str, int]:
        """Messages from people received in the period, per channel."""
        rows = self._tuples(
            f"SELECT m.channel, count(*) FROM messages m {self._join_conversation(scope)}"
            f" WHERE {PERSON_IN} AND m.received_at >= :since AND m.received_at < :until GROUP BY m.channel",
            scope.params())
        return dict(rows)

    def report_replies_by_author(self, scope: ReportScope) -> dict[str, int]:
        """Agent replies written in the period, per author."""
        rows = self._tuples(
            f"SELECT m.author, count(*) FROM messages m {self._join_conversation(scope)}"
            f" WHERE {AGENT_REPLY} AND m.received_at >= :since AND m.received_at < :until GROUP BY m.author",
            scope.params())
        return dict(rows)

    def _join_conversation(self, scope: ReportScope) -> str:
        # merging moves messages to the surviving conversation, so without filters no join is needed
        if not scope.filtered:
            return ""
        return f"JOIN conversations c ON c.id = m.conversation_id AND {scope.where()}"

    # -- satisfaction ---------------------------------------------------------------

    def report_satisfaction(self, scope: ReportScope, by: str | None = None) -> dict:
        """Survey figures in the period, overall (key None) or per conversation `by`
        ('assignee' or 'channel'): {key: (answers, score_sum, surveys_sent, surveys_answered)}.

        An answer is an event 'satisfaction' with data {"score": 1..5}; a survey sent is
        an event 'survey_sent'; a sent survey counts as answered when an answer on the same
        conversation followed it."""
        group = f"c.{by}" if by in ("assignee", "channel") else "NULL"
        # the conversation matters only for filters and grouping (events of merged-away
        # conversations count like any: the customer did answer)
        join = (f"JOIN conversations c ON c.id = e.conversation_id AND {scope.where()}"
                if scope.filtered or group != "NULL" else "")
        answer = "(e.kind = 'satisfaction' AND e.data ->> 'score' BETWEEN 1 AND 5)"
        rows = self._tuples(
            f"""SELECT {group} AS k, sum({answer}), sum(CASE WHEN {answer} THEN e.data ->> 'score' END),
                sum(e.kind = 'survey_sent'),
                sum(e.kind = 'survey_sent' AND EXISTS (SELECT 1 FROM events a WHERE a.conversation_id = e.conversation_id
                    AND a.kind = 'satisfaction' AND a.at >= e.at))
            FROM events e INDEXED BY events_surveys {join}
            WHERE e.kind IN ('satisfaction', 'survey_sent') AND e.at >= :since AND e.at < :until GROUP BY k""",
            scope.params())
        return {k: (a or 0, total or 0, sent or 0, answered or 0) for k, a, total, sent, answered in rows}

    # -- templates ------------------------------------------------------------------

    def report_template_uses(self, scope: ReportScope, close_days: int) -> list[tuple]:
        """Template replies sent in the period (agent replies with template_id set; the
        outbox writes them, with a 'template_used' event), with what followed each, as
        (template, at, solved_at, next_out_at, next_in_at, satisfaction, deadline): the
        first solve at or after the use, the next outgoing message, the next message from
        the customer, the first satisfaction score after it, and the use + `close_days`
        (a stamp). The same rows as Store.template_uses(), for one period and the
        report's filters; every lookup is answered from an index (m070)."""
        join = self._join_conversation(scope)
        return self._tuples(
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
            FROM messages m INDEXED BY messages_template_use {join}
            WHERE m.template_id IS NOT NULL AND m.direction = 'out'
                AND m.received_at >= :since AND m.received_at < :until""",
            scope.params(shift=f"+{int(close_days)} days"))

    # -- traffic ---------------------------------------------------------------------

    def report_inbound_slots(self, scope: ReportScope, intervals: str) -> dict[int, int]:
        """Messages from people per slot. `intervals` is a JSON list of [start, end, slot]
        (store stamps, end exclusive); returns {slot: count}."""
        join = self._join_conversation(scope)
        rows = self._tuples(
            f"""SELECT j.value ->> 2 AS slot, count(*) FROM json_each(:intervals) j
            CROSS JOIN messages m INDEXED BY messages_person_in {join}
            WHERE {PERSON_IN} AND m.received_at >= j.value ->> 0 AND m.received_at < j.value ->> 1
            GROUP BY slot""", scope.params(intervals=intervals))
        return {int(slot): count for slot, count in rows}

    # -- backlog ---------------------------------------------------------------------

    def report_backlog_buckets(self, scope: ReportScope, edges_days: list[float]) -> list[tuple]:
        """Backlog at the end of the period as (status, bucket, count); bucket i means an age
        (end of period − created) below edges_days[i], len(edges) meaning older than all.
        A conversation solved only after the end counts with status 'open'."""
        bucket = "CASE " + " ".join(
            f"WHEN julianday(:until) - julianday(c.created_at) < {float(e)} THEN {i}" for i, e in enumerate(edges_days)
        ) + f" ELSE {len(edges_days)} END"
        return self._tuples(
            f"""SELECT CASE WHEN c.status IN {_in(OPEN_STATUSES)} THEN c.status ELSE 'open' END AS s,
                {bucket} AS b, count(*)
            FROM conversations c NOT INDEXED WHERE c.created_at < :until AND {scope.where()}
                AND (c.status IN {_in(OPEN_STATUSES)} OR c.solved_at >= :until)
            GROUP BY s, b""", scope.params())

    def report_waiting(self, scope: ReportScope, limit: int) -> list[sqlite3.Row]:
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


def _group(by: str | None) -> str:
    columns = {None: "NULL", "priority": "c.priority", "channel": "c.channel",
               "assignee": "c.assignee", "first_reply_by": "c.first_reply_by"}
    return columns[by]


def _days(stamp_text: str) -> float:
    """A stamp as days since the epoch (coarse, for comparing spans)."""
    return dt.datetime.fromisoformat(stamp_text.replace("Z", "+00:00")).timestamp() / 86400


def _floats(packed: str | None) -> list[float]:
    # whole seconds packed as "1762079400,1762083000,...": the JSON parser reads them 3x faster than float()
    return json.loads(f"[{packed}]") if packed else []


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
