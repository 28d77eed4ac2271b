"""What the rules engine reads and writes: its event queue, the facts of an event,
groups and away agents, and the counts behind the loop guard's caps."""

from __future__ import annotations

import datetime as dt
import json

from ..errors import UsageError
from .db import Database
from .stamps import now, stamp

_FACTS_COLUMNS = """
       c.id AS conversation_id, c.channel, c.status, c.priority, c.assignee, c.tags, c.group_name,
       c.created_at, c.last_message_at, c.merged_into,
       cu.tags AS customer_tags,
       m.id AS message_id, m.author_address, m.subject AS message_subject, c.subject, m.text, m.class,
       m.headers ->> 'to' AS to_header, m.received_at,
       (SELECT json_group_array(filename) FROM attachments WHERE message_id = m.id) AS attachments"""
_LATEST_INBOUND = ("(SELECT id FROM messages WHERE conversation_id = c.id AND direction = 'in'"
                   " ORDER BY received_at DESC, id DESC LIMIT 1)")
_FACTS = f"""
SELECT {_FACTS_COLUMNS}
FROM conversations c
LEFT JOIN customers cu ON cu.id = c.customer_id
LEFT JOIN messages m ON m.id = coalesce(:message_id, {_LATEST_INBOUND})
WHERE c.id = :conversation_id
"""
# the queued events and their facts in one statement (sync's batches queue hundreds)
_PENDING = f"""
SELECT q.id AS event_id, q.events, {_FACTS_COLUMNS}
FROM rule_queue q
JOIN conversations c ON c.id = q.conversation_id
LEFT JOIN customers cu ON cu.id = c.customer_id
LEFT JOIN messages m ON m.id = coalesce(q.message_id, {_LATEST_INBOUND})
ORDER BY q.id LIMIT ?
"""


def _facts(row) -> dict:
    facts = dict(row)
    facts["tags"] = json.loads(facts["tags"] or "[]")
    facts["customer_tags"] = json.loads(facts["customer_tags"] or "[]")
    attachments = facts["attachments"]
    facts["attachments"] = [a for a in json.loads(attachments) if a is not None] if attachments != "[null]" else []
    return facts


class RulesMixin:
    d: Database

    # -- the event queue -------------------------------------------------------------

    def queue_rule_event(self, conversation_id: int, events: list[str], message_id: int | None = None,
                         data: dict | None = None) -> None:
        """An event for the rules (inside the caller's transaction)."""
        self.d.execute(
            "INSERT INTO rule_queue (events, conversation_id, message_id, at, data) VALUES (?, ?, ?, ?, ?)",
            (" ".join(events), conversation_id, message_id, now(), json.dumps(data or {})),
        )

    def queue_message_events(self, events: list[tuple[int, str, int]]) -> None:
        """Sync's events of one batch, (conversation id, events, message id) each, in one
        statement (inside the batch's transaction)."""
        at = now()
        self.d.executemany(
            "INSERT INTO rule_queue (events, conversation_id, message_id, at, data) VALUES (?, ?, ?, ?, '{}')",
            [(names, conversation_id, message_id, at) for conversation_id, names, message_id in events],
        )

    def pending_rule_events(self, limit: int = 500) -> list[dict]:
        """The oldest queued events, each with the raw facts of `rule_facts`."""
        return [_facts(r) for r in self.d.all(_PENDING, (limit,))]

    def rule_events_done(self, up_to: int) -> None:
        """Every queued event up to this id is done (the caller took them oldest first,
        in this transaction: the events its actions queue come after)."""
        self.d.execute("DELETE FROM rule_queue WHERE id <= ?", (up_to,))

    def drop_rule_events(self) -> int:
        """With no rules configured nothing waits for the queue: empty it."""
        with self.d.tx():
            return self.d.execute("DELETE FROM rule_queue").rowcount

    # -- facts -----------------------------------------------------------------------

    def rule_facts(self, conversation_id: int, message_id: int | None = None) -> dict | None:
        """The raw facts of an event: the conversation, its customer and the message (the
        latest inbound one when none is given)."""
        row = self.d.one(_FACTS, {"conversation_id": conversation_id, "message_id": message_id})
        return _facts(row) if row is not None else None

    def inbound_since(self, since: dt.datetime) -> list[tuple[int, int, bool]]:
        """(conversation id, message id, first inbound of its conversation) for every
        inbound message since then, oldest first (what `rules replay` runs over)."""
        return [(c, m, bool(first)) for c, m, first in self.d.tuples(
            "SELECT conversation_id, id, NOT EXISTS (SELECT 1 FROM messages p WHERE p.conversation_id ="
            " m.conversation_id AND p.direction = 'in' AND (p.received_at, p.id) < (m.received_at, m.id))"
            " FROM messages m WHERE direction = 'in' AND received_at >= ? ORDER BY received_at, id",
            (stamp(since),))]

    def inbound_count(self, conversation_id: int) -> int:
        return self.d.scalar("SELECT count(*) FROM messages WHERE conversation_id = ? AND direction = 'in'",
                             (conversation_id,)) or 0

    def timer_candidates(self, rule_id: str) -> list[int]:
        """Conversations still going that this timer rule has not fired on in their current version."""
        return [r[0] for r in self.d.tuples(
            "SELECT c.id FROM conversations c LEFT JOIN rule_timers t ON t.rule_id = ? AND t.conversation_id = c.id"
            " WHERE c.merged_into IS NULL AND c.status != 'closed' AND (t.version IS NULL OR t.version != c.version)",
            (rule_id,))]

    def timer_seen(self, rule_id: str, conversation_id: int) -> None:
        self.d.execute(
            "INSERT INTO rule_timers (rule_id, conversation_id, version) SELECT ?, id, version FROM conversations"
            " WHERE id = ? ON CONFLICT (rule_id, conversation_id) DO UPDATE SET version = excluded.version",
            (rule_id, conversation_id),
        )

    def conversation_version(self, conversation_id: int) -> int:
        return self.d.scalar("SELECT version FROM conversations WHERE id = ?", (conversation_id,)) or 0

    # -- groups and agents -----------------------------------------------------------

    def set_group(self, conversation_id: int, group: str | None, actor: str) -> None:
        self.route(conversation_id, group, None, actor)

    def route(self, conversation_id: int, group: str | None, agent: str | None, actor: str) -> bool:
        """Put the conversation in `group` and, with `agent`, assign it to them (the group
        remembers them for its round-robin); whether anything changed. One statement
        for both: a rule routes every tenth message a sync brings."""
        with self.d.tx():
            row = self.d.one("SELECT group_name, assignee FROM conversations WHERE id = ?", (conversation_id,))
            if row is None:
                return False
            events = []
            if row["group_name"] != group:
                events.append((conversation_id, "group", actor, {"from": row["group_name"], "to": group}))
            if agent is not None and row["assignee"] != agent:
                events.append((conversation_id, "assignee", actor, {"from": row["assignee"], "to": agent}))
            if events:
                self.d.execute(
                    "UPDATE conversations SET group_name = ?, assignee = coalesce(?, assignee), version = version + 1"
                    " WHERE id = ?", (group, agent, conversation_id))
                self.add_events(events)
            if agent is not None and group is not None:
                self.set_group_last_agent(group, agent)
            return bool(events)

    def group_last_agent(self, group: str) -> str | None:
        return self.d.scalar("SELECT last_agent FROM group_state WHERE name = ?", (group,))

    def set_group_last_agent(self, group: str, agent: str) -> None:
        self.d.execute("INSERT INTO group_state (name, last_agent) VALUES (?, ?)"
                            " ON CONFLICT (name) DO UPDATE SET last_agent = excluded.last_agent", (group, agent))

    def open_counts(self, agents: list[str]) -> dict[str, int]:
        """Conversations each agent holds that still need work."""
        counts = dict.fromkeys(agents, 0)
        for name, count in self.d.tuples(
                "SELECT assignee, count(*) FROM conversations WHERE assignee IN (SELECT value FROM json_each(?))"
                " AND status IN ('new', 'open') AND merged_into IS NULL GROUP BY assignee", (json.dumps(agents),)):
            counts[name] = count
        return counts

    def add_agent(self, name: str, email: str = "") -> bool:
        """Add an agent (or update their email); True if they were new."""
        with self.d.tx():
            new = self.d.one("SELECT 1 FROM agents WHERE name = ?", (name,)) is None
            self.d.execute(
                "INSERT INTO agents (name, email, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET email = CASE WHEN excluded.email != '' THEN excluded.email"
                " ELSE agents.email END", (name, email, now()))
        return new

    def remove_agent(self, name: str, unassign: bool, actor: str) -> tuple[bool, int]:
        """Take `name` off the team: (whether they were listed, how many of their
        conversations still going were unassigned). UsageError while they hold some and
        `unassign` is not given: nothing is changed then."""
        with self.d.tx():
            held = [r[0] for r in self.d.tuples(
                "SELECT id FROM conversations WHERE assignee = ? AND status IN ('new', 'open', 'pending', 'snoozed')"
                " AND merged_into IS NULL", (name,))]
            if held and not unassign:
                raise UsageError(f"{name} still holds {len(held)} conversation{'s' * (len(held) > 1)} (e.g. #{held[0]});"
                                 " reassign them, or give --unassign to leave them for the team")
            for conversation_id in held:
                self.assign(conversation_id, None, actor)  # type: ignore[attr-defined]
            listed = self.d.execute("DELETE FROM agents WHERE name = ?", (name,)).rowcount > 0
        return listed, len(held)

    def set_away(self, name: str, until: dt.datetime | None) -> None:
        """Away until `until` (None: back now). Away without end: a far date."""
        with self.d.tx():
            self.d.execute("INSERT INTO agents (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                                (name, now()))
            self.d.execute("UPDATE agents SET away_until = ? WHERE name = ?",
                                (stamp(until) if until else None, name))

    def agent_rows(self) -> list[dict]:
        return [dict(r) for r in self.d.all("SELECT name, email, away_until FROM agents ORDER BY name")]

    def away_agents(self, at: dt.datetime | None = None) -> set[str]:
        at_text = stamp(at or dt.datetime.now(dt.timezone.utc))
        return {r[0] for r in self.d.tuples("SELECT name FROM agents WHERE away_until > ?", (at_text,))}

    # -- the loop guard's caps and the audit -----------------------------------------

    def automatic_sent_to(self, recipient: str, since: dt.datetime) -> int:
        """Automatic replies queued for `recipient` since then (cancelled ones excepted)."""
        return self.d.scalar(
            "SELECT count(*) FROM outbox WHERE automatic = 1 AND recipient = ? AND created_at >= ?"
            " AND state != 'cancelled'", (recipient.lower(), stamp(since))) or 0

    def acknowledged_since(self, recipient: str, since: dt.datetime) -> bool:
        """Whether an after-hours acknowledgement went (or waits to go) to `recipient` since then."""
        return self.d.one(
            "SELECT 1 FROM outbox o JOIN messages m ON m.id = o.message_id WHERE o.automatic = 1"
            " AND o.recipient = ? AND o.created_at >= ? AND o.state != 'cancelled'"
            " AND m.automatic LIKE 'after-hours %'", (recipient.lower(), stamp(since))) is not None

    def last_agent_reply(self, conversation_id: int) -> str | None:
        """When a person last replied in the conversation (automatic replies aside)."""
        return self.d.scalar("SELECT max(received_at) FROM messages WHERE conversation_id = ? AND direction = 'out'"
                             " AND automatic IS NULL", (conversation_id,))

    def rule_stats(self, since: dt.datetime | None = None) -> dict[str, dict]:
        """Per rule id: how often it fired, and its last firing."""
        rows = self.d.tuples(
            "SELECT data ->> 'rule', count(*), max(at) FROM events WHERE kind = 'rule.matched' AND at >= ?"
            " GROUP BY 1", (stamp(since) if since else "",))
        return {rule: {"fired": count, "last": last} for rule, count, last in rows}
