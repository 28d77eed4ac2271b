"""Running the rules: on the events sync queued, on timers, and as a dry run.

`run_pending` is called by sync right after each batch commits. The queue row of an
event is deleted in the same transaction as its rules' actions, so a crash between a
batch and its rules loses nothing (the next run finds the row) and applies nothing
twice (a rolled-back transaction applied nothing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..config import Config
from ..errors import DeskError
from ..store import Store
from ..model import ParsedMessage
from .engine import Actions, Firing, matching
from .facts import derive, from_message
from .guard import may_auto_reply
from .spec import PRECOMPUTED, RuleSet

BATCH = 200
"""Events per transaction: the write lock is held this long at most."""


@dataclass
class RunResult:
    events: int = 0
    fired: int = 0
    applied: int = 0
    suppressed: int = 0
    errors: list[str] = field(default_factory=list)
    demoted: list[str] = field(default_factory=list)
    """Templates taken out of auto by the review after the rules (templates.stages)."""

    def add(self, firings: list[Firing]) -> None:
        for firing in firings:
            if firing.recorded:
                self.fired += 1
            self.applied += sum(1 for o in firing.outcomes if o.changed and not o.suppressed)
            self.suppressed += sum(1 for o in firing.outcomes if o.suppressed)

    def absorb(self, other: "RunResult") -> None:
        """Add another run's counts (sync runs the rules after every batch)."""
        self.events += other.events
        self.fired += other.fired
        self.applied += other.applied
        self.suppressed += other.suppressed
        self.errors += other.errors
        self.demoted += other.demoted

    def as_json(self) -> dict:
        return {"events": self.events, "fired": self.fired, "applied": self.applied, "suppressed": self.suppressed,
                "demoted": self.demoted}


def evaluate(actions: Actions, conversation_id: int, events: set[str], message_id: int | None = None,
             raw: dict | None = None, rules: RuleSet | None = None,
             precomputed: tuple[bool, ...] | None = None) -> list[Firing]:
    """Fire the rules matching one event (dry or for real, as `actions` was made);
    `raw`: its facts when the caller read them already; `rules`: only these;
    `precomputed`: the message conditions' results for the event's message."""
    if raw is None:
        raw = actions.store.rule_facts(conversation_id, message_id)
    if raw is None or raw["merged_into"] is not None:
        return []
    facts = derive(raw, actions.config, actions.hours, actions.now)
    if precomputed is not None:
        facts[PRECOMPUTED] = precomputed
    fired = matching(rules or actions.ruleset, events, facts)
    if not fired:
        return []
    event = " ".join(sorted(events))
    with actions.store.transaction():  # a savepoint: one event's failure undoes only its own actions
        return [actions.fire(rule, conversation_id, facts, event) for rule in fired]


def run_pending(config: Config, store: Store, ruleset: RuleSet, *, now: dt.datetime | None = None,
                precomputed: dict[int, tuple[bool, ...]] | None = None) -> RunResult:
    """Apply the rules to every queued event, then the timer rules. `precomputed`:
    message id -> its message conditions' results (sync's parse workers test them)."""
    precomputed = precomputed or {}
    result = RunResult()
    if not ruleset:
        store.drop_rule_events()
        return result
    now = now or dt.datetime.now(dt.timezone.utc)
    actions = Actions(config, store, ruleset, now)
    while True:
        with store.transaction():
            pending = store.pending_rule_events(BATCH)
            touched: set[int] = set()  # conversations whose facts this batch's actions changed
            for event in pending:
                cid = event["conversation_id"]
                try:
                    firings = evaluate(actions, cid, set(event["events"].split()), event["message_id"],
                                       raw=None if cid in touched else event,
                                       precomputed=precomputed.get(event["message_id"]))
                    if any(f.recorded for f in firings):
                        touched.add(cid)
                    result.add(firings)
                except DeskError as exc:
                    result.errors.append(f"rules on conversation {cid}: {exc}")
            if pending:
                store.rule_events_done(pending[-1]["event_id"])
        result.events += len(pending)
        if len(pending) < BATCH:
            break
    _timers(actions, result)
    from ..templates.stages import review  # templates in auto that fell below the gate go back to draft
    result.demoted += [d.template for d in review(config, store, now)]
    return result


def _timers(actions: Actions, result: RunResult) -> None:
    """Timer rules ("pending for 3 days") are tested at every sync against each
    conversation still going, and fire once until the conversation changes again."""
    timed = [r for r in actions.ruleset.rules if "timer" in r.on]
    if not timed:
        return
    store = actions.store
    due: dict[int, set[str]] = {}
    for rule in timed:
        for conversation_id in store.timer_candidates(rule.id):
            due.setdefault(conversation_id, set()).add(rule.id)
    with store.transaction():
        for conversation_id, rule_ids in due.items():
            only = RuleSet([r for r in timed if r.id in rule_ids], actions.ruleset.groups)
            firings = evaluate(actions, conversation_id, {"timer"}, rules=only)
            result.add(firings)
            for firing in firings:  # fired: not again until the conversation changes
                store.timer_seen(firing.rule.id, conversation_id)


@dataclass
class DryRun:
    """What `rules test` shows: the event's class, the guard's verdict, and the firings."""

    events: set[str]
    facts: dict
    firings: list[Firing]

    def as_json(self) -> dict:
        return {
            "events": sorted(self.events),
            "class": self.facts["class"],
            "auto_reply": may_auto_reply(self.facts["class"], self.facts["from"]) or "allowed",
            "rules": [{"rule": f.rule.id, "stop": f.rule.stop,
                       "actions": [{"action": o.action.kind, "does": o.words, "suppressed": o.suppressed}
                                   for o in f.outcomes]} for f in self.firings],
        }


def dry_run_conversation(config: Config, store: Store, ruleset: RuleSet, conversation_id: int,
                         events: set[str] | None = None, now: dt.datetime | None = None) -> DryRun:
    """Which rules match the conversation's latest inbound message, and what they would
    do; changes nothing."""
    now = now or dt.datetime.now(dt.timezone.utc)
    raw = store.rule_facts(conversation_id)
    if raw is None:
        raise DeskError(f"no conversation {conversation_id}")
    facts = derive(raw, config, config.desk.hours(), now)
    if events is None:
        events = {"message.new", "conversation.new" if store.inbound_count(conversation_id) <= 1 else "customer.reply"}
    actions = Actions(config, store, ruleset, now, dry=True)
    firings = [actions.fire(r, conversation_id, facts, "test") for r in matching(ruleset, events, facts)]
    return DryRun(events, facts, firings)


def dry_run_message(config: Config, store: Store, ruleset: RuleSet, msg: ParsedMessage, channel: str,
                    now: dt.datetime | None = None) -> DryRun:
    """The same for a mail file, as if it started a new conversation on `channel`."""
    now = now or dt.datetime.now(dt.timezone.utc)
    facts = from_message(msg, channel, config, config.desk.hours(), now)
    events = {"conversation.new", "message.new"}
    actions = Actions(config, store, ruleset, now, dry=True)
    firings = [actions.fire(r, None, facts, "test") for r in matching(ruleset, events, facts)]
    return DryRun(events, facts, firings)


@dataclass
class Replay:
    messages: int = 0
    rules: dict[str, dict] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"messages": self.messages, "rules": self.rules}


def replay(config: Config, store: Store, ruleset: RuleSet, since: dt.datetime) -> Replay:
    """Run the rules over every inbound message since then, for real but inside a
    transaction that is rolled back: per rule, how many messages matched and what it
    would have done. Nothing stays, nothing is queued for sending."""
    result = Replay(rules={r.id: {"matched": 0, "actions": {}} for r in ruleset.rules})
    with store.rolled_back():
        actions = Actions(config, store, ruleset, dt.datetime.now(dt.timezone.utc), replaying=True)
        for conversation_id, message_id, first in store.inbound_since(since):
            result.messages += 1
            events = {"message.new", "conversation.new" if first else "customer.reply"}
            for firing in evaluate(actions, conversation_id, events, message_id):
                entry = result.rules[firing.rule.id]
                entry["matched"] += 1
                for o in firing.outcomes:
                    key = f"{o.words} (suppressed: {o.suppressed})" if o.suppressed else o.words
                    if o.changed or o.suppressed:
                        entry["actions"][key] = entry["actions"].get(key, 0) + 1
    return result
