"""Read side of `tui-desk report`: SQL aggregates over conversations, messages and events.

Every figure is defined in docs/reports.md; the queries here are the only place it is
computed from rows. What a report needs per conversation (created, first agent reply,
solved) comes back as plain tuples of epoch seconds, so the service can do the
business-hours arithmetic and percentiles without parsing 200,000 timestamps.

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


@dataclass
class Clocks:
    """Conversations of one group: counts, and the instants (epoch seconds) of two clocks.

    first_reply: per conversation opened in the period, created → first agent reply (-1 while
    unanswered). resolution: per conversation solved in the period, created → solved_at.
    one_touch and reopened count solved conversations with exactly one agent reply, and
    with a reopen (a status event from solved to open) before the solve."""

    opened: int
    solved: int
    one_touch: int
    reopened: int
    opened_at: list[float]
    first_reply_at: list[float]
    solved_created_at: list[float]
    solved_at: list[float]
    opened_keys: list | None = None
    """With report_conversations(split=False): the group key of each opened conversation."""


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

    def report_conversations(self, scope: ReportScope, by: str | None = None,
                             solved: bool = True, split: bool = True) -> dict[object, "Clocks"]:
        """One pass over the conversations created or solved in the period, split by a
        conversation column (None: all together): counts and clock instants per group.

        The instants come packed by SQLite (group_concat) and are unpacked by one JSON
        parse: 200,000 conversations cost milliseconds instead of a Python row each. No
        GROUP BY (it would sort every row): the group of each row comes packed as well and
        the lists are split here. With solved=False only conversations opened in the period are read; with split=False
        everything stays in one group (key None) and `opened_keys` holds each opened
        conversation's `by` value."""
        want_solved = solved
        opened = "(c.created_at >= :since AND c.created_at < :until)"
        solved = "(c.solved_at >= :since AND c.solved_at < :until)" if want_solved else "0"
        where = f"FROM conversations c {self._access(scope)} WHERE ({opened} OR {solved}) AND {scope.where()}"
        key = _group(by)
        (row,) = self._tuples(
            f"""SELECT group_concat({epoch('c.created_at')}) FILTER (WHERE {opened}),
                group_concat(coalesce({epoch('c.first_reply_at')}, -1)) FILTER (WHERE {opened}),
                json_group_array({key}) FILTER (WHERE {opened}),
                group_concat({epoch('c.created_at')}) FILTER (WHERE {solved}),
                group_concat({epoch('c.solved_at')}) FILTER (WHERE {solved}),
                json_group_array({key}) FILTER (WHERE {solved}),
                group_concat((c.agent_replies = 1) + 2 * (c.reopens > 0)) FILTER (WHERE {solved})
            {where}""", scope.params())
        opened_at, first_reply_at, solved_created_at, solved_at, flags = map(_floats, (row[0], row[1], row[3], row[4], row[6]))
        opened_keys, solved_keys = json.loads(row[2] or "[]"), json.loads(row[5] or "[]")
        if by is None or not split:
            if not (opened_at or solved_at):
                return {}
            whole = _clocks(opened_at, first_reply_at, solved_created_at, solved_at, flags)
            whole.opened_keys = opened_keys
            return {None: whole}
        first = _split(opened_keys, opened_at, first_reply_at)
        second = _split(solved_keys, solved_created_at, solved_at, flags)
        return {k: _clocks(*first.get(k, ([], [])), *second.get(k, ([], [], []))) for k in {*first, *second}}

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
            FROM events e {join}
            WHERE e.kind IN ('satisfaction', 'survey_sent') AND e.at >= :since AND e.at < :until GROUP BY k""",
            scope.params())
        return {k: (a or 0, total or 0, sent or 0, answered or 0) for k, a, total, sent, answered in rows}

    # -- templates ------------------------------------------------------------------

    def report_template_uses(self, scope: ReportScope) -> list[tuple]:
        """Template replies sent in the period (agent replies with template_id set; the
        outbox writes them, with a 'template_used' event), with what followed each, as
        (template, at, solved_at, next_out_at, next_in_at, satisfaction): the first solve
        at or after the use, the next outgoing message, the next message from the customer,
        the first satisfaction score after it. The same rows as Store.template_uses(), for
        one period and the report's filters."""
        join = self._join_conversation(scope)
        return self._tuples(
            f"""SELECT m.template_id, m.received_at,
                (SELECT min(e.at) FROM events e WHERE e.conversation_id = m.conversation_id AND e.kind = 'status'
                    AND e.data ->> 'to' = 'solved' AND e.at >= m.received_at),
                (SELECT min(o.received_at) FROM messages o WHERE o.conversation_id = m.conversation_id
                    AND o.direction = 'out' AND o.received_at > m.received_at),
                (SELECT min(i.received_at) FROM messages i INDEXED BY messages_conversation
                    WHERE i.conversation_id = m.conversation_id AND i.direction = 'in' AND i.automatic IS NULL
                    AND i.received_at > m.received_at),
                (SELECT a.data ->> 'score' FROM events a WHERE a.conversation_id = m.conversation_id
                    AND a.kind = 'satisfaction' AND a.at > m.received_at ORDER BY a.at LIMIT 1)
            FROM messages m {join}
            WHERE m.template_id IS NOT NULL AND m.direction = 'out'
                AND m.received_at >= :since AND m.received_at < :until""", scope.params())

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


def _clocks(opened_at: list, first_reply_at: list, solved_created_at: list, solved_at: list, flags: list) -> "Clocks":
    one_touch = sum(f & 1 for f in flags)
    reopened = sum(1 for f in flags if f & 2)
    return Clocks(len(opened_at), len(solved_at), one_touch, reopened,
                  opened_at, first_reply_at, solved_created_at, solved_at)


def _split(keys: list, *lists: list) -> dict[object, tuple[list, ...]]:
    """Lists in step, split by the key of each position. For the usual handful of keys
    (priorities, channels, agents) one C-level mask per key beats a Python loop."""
    distinct = set(keys)
    if len(distinct) <= 12:
        out = {}
        for k in distinct:
            mask = list(map(operator.eq, keys, itertools.repeat(k)))
            out[k] = tuple(list(itertools.compress(values, mask)) for values in lists)
        return out
    positions: dict[object, list[int]] = {}
    for i, k in enumerate(keys):
        positions.setdefault(k, []).append(i)
    return {k: tuple(list(map(values.__getitem__, where)) for values in lists) for k, where in positions.items()}


def _days(stamp_text: str) -> float:
    """A stamp as days since the epoch (coarse, for comparing spans)."""
    return dt.datetime.fromisoformat(stamp_text.replace("Z", "+00:00")).timestamp() / 86400


def _floats(packed: str | None) -> list[float]:
    # whole seconds packed as "1762079400,1762083000,...": the JSON parser reads them 3x faster than float()
    return json.loads(f"[{packed}]") if packed else []


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
