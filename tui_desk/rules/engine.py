"""Evaluating rules for one event, and carrying out (or describing) their actions.

Rules run in file order; each fires at most once per event; `stop` ends the event's
evaluation. Every rule sees the event as it arrived: what an earlier rule did does
not change what a later one tests, and the actions raise no new events, so nothing
recurses. A rule whose actions change nothing records nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..config import Config
from ..store import Store, parse_stamp, stamp
from . import assign
from ..durations import parse_duration
from .guard import may_auto_reply
from .spec import RECEIVED, Action, Rule, RuleSet

if TYPE_CHECKING:  # the outbox, templates and paging are imported by the actions that use them:
    from ..templates.library import TemplateLibrary  # a sync with nothing to act on needs none


@dataclass
class Outcome:
    action: Action
    words: str
    """What it did (or would do), in plain words: "tagged billing"."""
    changed: bool = False
    suppressed: str | None = None
    """Why the loop guard (or a missing template) held it back."""


@dataclass
class Firing:
    rule: Rule
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def recorded(self) -> bool:
        return any(o.changed or o.suppressed for o in self.outcomes)

    def words(self) -> str:
        said = [o.words if not o.suppressed else f"{o.words} suppressed ({o.suppressed})" for o in self.outcomes
                if o.changed or o.suppressed]
        return f"rule {self.rule.id}: " + (", ".join(said) or "nothing to change")


def matching(ruleset: RuleSet, events: set[str], facts: dict) -> list[Rule]:
    """The rules that fire for this event, in order, up to the first that stops."""
    fired = []
    for rule in ruleset.candidates(events, facts):
        if rule.matches(facts):
            fired.append(rule)
            if rule.stop:
                break
    return fired


class Actions:
    """Carries out a rule's actions through the store (inside the caller's transaction),
    or with `dry`, only says what they would do. `replaying`: each message is judged as
    at the time it came in (`rules replay`), not as of `now`."""

    def __init__(self, config: Config, store: Store, ruleset: RuleSet, now: dt.datetime, *,
                 dry: bool = False, library: TemplateLibrary | None = None, replaying: bool = False) -> None:
        self.config, self.store, self.ruleset, self.now, self.dry = config, store, ruleset, now, dry
        self.replaying = replaying
        self.library = library
        self.hours = config.desk.hours()
        self._away: set[str] | None = None
        self._open: dict[str, int] = {}

    def fire(self, rule: Rule, conversation_id: int | None, facts: dict, event: str) -> Firing:
        firing = Firing(rule, [self._one(rule, action, conversation_id, facts) for action in rule.actions])
        if firing.recorded and not self.dry:
            actor = f"rule:{rule.id}"
            events = [(conversation_id, "rule.matched", actor,
                       {"rule": rule.id, "hash": rule.digest, "event": event, "words": firing.words()})]
            for o in firing.outcomes:
                if o.suppressed:
                    events.append((conversation_id, "action.suppressed", actor,
                                   {"rule": rule.id, "action": o.action.kind, "reason": o.suppressed}))
                elif o.changed:
                    events.append((conversation_id, "action.applied", actor,
                                   {"rule": rule.id, "action": o.action.kind, "words": o.words}))
            self.store.add_events(events)
        return firing

    # -- one action -------------------------------------------------------------------

    def _one(self, rule: Rule, action: Action, conversation_id: int, facts: dict) -> Outcome:
        handler = getattr(self, "_" + action.kind)
        return handler(rule, action, conversation_id, facts)

    def _changes(self, conversation_id: int, write) -> bool:
        """Run `write` (unless dry) and tell whether it changed the conversation."""
        if self.dry:
            return True
        before = self.store.conversation_version(conversation_id)
        write()
        return self.store.conversation_version(conversation_id) != before

    def _tag(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        add = [t.lstrip("+") for t in action.value if not t.startswith("-")]
        remove = [t[1:] for t in action.value if t.startswith("-")]
        have = facts["conversation.tags"]
        would = any(t not in have for t in add) or any(t in have for t in remove)
        words = ", ".join([f"tagged {t}" for t in add] + [f"untagged {t}" for t in remove])
        changed = would and self._changes(cid, lambda: self.store.set_tags(cid, add, remove, f"rule:{rule.id}"))
        return Outcome(action, words, changed)

    def _priority(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        changed = facts["priority"] != action.value and self._changes(
            cid, lambda: self.store.set_priority(cid, action.value, f"rule:{rule.id}"))
        return Outcome(action, f"priority {action.value}", changed)

    def _status(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        changed = facts["status"] != action.value and self._changes(
            cid, lambda: self.store.set_status(cid, action.value, f"rule:{rule.id}"))
        return Outcome(action, f"status {action.value}", changed)

    def _snooze(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        until = self.now + parse_duration(action.value)
        changed = facts["status"] != "snoozed" and self._changes(
            cid, lambda: self.store.set_status(cid, "snoozed", f"rule:{rule.id}", snoozed_until=until))
        return Outcome(action, f"snoozed for {action.value}", changed)

    def _assign(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        actor = f"rule:{rule.id}"
        if not action.value.startswith("group:"):
            agent = None if action.value == "none" else action.value
            changed = (facts["assignee"] or None) != agent and self._changes(
                cid, lambda: self.store.assign(cid, agent, actor))
            return Outcome(action, f"assigned to {agent}" if agent else "unassigned", changed)
        group = self.ruleset.groups[action.value[6:]]
        agent = None if facts["assignee"] else assign.pick(self.store, group, self.away(), self.open_counts)
        words = f"assigned to group {group.name}" + (f" → {agent}" if agent else
                                                      " (kept by " + facts["assignee"] + ")" if facts["assignee"] else
                                                      " (nobody available: waits in the group's view)")

        if self.dry:
            return Outcome(action, words, facts["group"] != group.name or agent is not None)
        changed = self.store.route(cid, group.name, agent, actor)
        if changed and agent in self._open:
            self._open[agent] += 1
        return Outcome(action, words, changed)

    def _note(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        from .. import outbox

        def write() -> None:
            outbox.queue_reply(self.store, cid, action.value, agent=f"rule:{rule.id}", note=True)
        return Outcome(action, "noted: " + action.value[:60], self._changes(cid, write))

    def _after_hours_ack(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        """The template, once per customer per closed period, only while the desk is
        closed, and not when a person answered in the conversation just now.

        A message that came in while closed but is synced only now (a first sync, a
        catch-up after downtime) is not acknowledged once the desk has opened since:
        "we are closed" would be false by then."""
        words = f"acknowledged after hours with template {action.value}"
        if facts["hours"] == "open":
            return Outcome(action, words)
        received = facts[RECEIVED]
        now = received if self.replaying else self.now
        if self.hours.is_open(now):
            return Outcome(action, words, suppressed="the desk is open again")
        since = self.hours.closed_since(now)
        if received < since:
            return Outcome(action, words, suppressed="it came in before the desk last opened")
        address = facts["from"]
        if address and self.store.acknowledged_since(address, since):
            return Outcome(action, words, suppressed="already acknowledged since the desk closed")
        last = self.store.last_agent_reply(cid) if cid is not None else None
        quiet = parse_duration(self.config.automation.ack_quiet_after_agent)
        if last and parse_stamp(last) > now - quiet:
            return Outcome(action, words, suppressed=f"an agent replied within {self.config.automation.ack_quiet_after_agent}")
        return self._send_template(rule, action, cid, facts, words, f"after-hours rule {rule.id}")

    def _reply_template(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        template = self._library().get(action.value)
        if template is not None and not template.auto:  # an answer, not an acknowledgement: as auto_reply
            return self._auto_reply(rule, action, cid, facts)
        return self._send_template(rule, action, cid, facts, f"replied with template {action.value}", f"rule {rule.id}")

    def _auto_reply(self, rule: Rule, action: Action, cid: int | None, facts: dict) -> Outcome:
        """A template the team put in the `auto` stage, when the suggester picks it first
        for this conversation; at most `[templates] auto_daily_cap` a day, and never
        again in a conversation it answered automatically (the customer who writes back
        gets a person). It ends with the template's "reply to reach a person" line."""
        from ..store.stages import AUTO_PREFIX
        from ..templates.stages import handoff_line
        from ..templates.suggest import offer
        words, template_id = f"answered automatically with template {action.value}", action.value
        template = self._library().get(template_id)
        if template is None:
            return Outcome(action, words, suppressed=f"no template {template_id!r}")
        stage = self.store.template_stage(template_id)
        if stage != "auto":
            return Outcome(action, words, suppressed=f"template {template_id} is in stage {stage}, not auto")
        guard = may_auto_reply(facts["class"], facts["from"], force=rule.force_reply) or self._cap(facts["from"])
        if guard is not None:  # before anything is asked of the suggester
            return Outcome(action, words, suppressed=guard)
        if cid is None:  # a mail file tried with `rules test`: no history to suggest from
            return Outcome(action, words, True)
        if self.store.answered_automatically(cid, template_id):
            return Outcome(action, words, suppressed=f"the customer wrote again after an automatic answer with"
                                                     f" {template_id}: a person answers")
        cap = self.config.templates.auto_daily_cap
        if self.store.automatic_uses_since(template_id, self.now - dt.timedelta(days=1)) >= cap:
            return Outcome(action, words, suppressed=f"daily cap reached: {cap} automatic replies with {template_id}")
        best = offer(self.config, self.store, self._library(), cid, 1).suggested
        if not best or best[0].template.id != template_id:
            picked = f"it picks {best[0].template.id}" if best else "it has no suggestion"
            return Outcome(action, words, suppressed=f"the suggester is not sure: {picked}")
        return self._send_template(rule, action, cid, facts, words, AUTO_PREFIX + f"rule {rule.id}",
                                   handoff_line(self.config, template))

    def _send_template(self, rule: Rule, action: Action, cid: int | None, facts: dict, words: str,
                       reason: str, footer: str = "") -> Outcome:
        from .. import outbox
        from ..templates.quick import preview
        address = facts["from"]
        why = may_auto_reply(facts["class"], address, force=rule.force_reply) or self._cap(address)
        template = self._library().get(action.value)
        if why is None and template is None:
            why = f"no template {action.value!r}"
        if why is None and not template.auto and action.kind == "after_hours_ack":  # an answer earns it: the gate
            stage = self.store.template_stage(template.id)
            if stage != "auto":
                why = (f"template {template.id} is an answer in stage {stage}: rules send it only in auto"
                       " (templates promote), or mark it auto = true")
        if why is None and cid is not None:  # it could never be delivered (no usable address)
            why = outbox.reply_problem(self.config, self.store, cid)
        if why is None and cid is not None:  # (a dry run of a mail file has no conversation to render for)
            draft = preview(self.config, self.store, template, cid, agent=self.config.desk.name)
            if not draft.rendered.ok:
                why = "the template needs a person: " + ("; ".join(draft.rendered.problems)
                                                         or "fill in " + ", ".join(draft.rendered.missing))
        if why is not None:
            return Outcome(action, words, suppressed=why)
        if self.dry:
            return Outcome(action, words, True)

        def write() -> None:
            text = draft.rendered.text.rstrip() + (f"\n\n{footer}" if footer else "")
            outbox.queue_reply(self.store, cid, text, agent=f"rule:{rule.id}",
                               template_id=template.id, undo_seconds=self.config.templates.undo_seconds,
                               automatic=reason, recipient=address)
        return Outcome(action, words, self._changes(cid, write))

    def _page(self, rule: Rule, action: Action, cid: int, facts: dict) -> Outcome:
        """Open a page for the conversation (or add this message to its unresolved one);
        the sync delivers and escalates it after this transaction (oncall.escalation)."""
        words = f"paged {action.value}"
        if cid is None or self.dry:
            existing = self.store.unresolved_page(cid) if cid is not None else None
            return Outcome(action, f"added to page {existing['id']}" if existing else words, True)
        from ..oncall.escalation import summary as escalation_summary
        summary = escalation_summary(facts, facts["subject"], facts["text"])
        page_id, new = self.store.page_request(cid, rule.id, action.value, summary, stamp(self.now))
        return Outcome(action, words + f" (page {page_id})" if new else f"added to page {page_id}", True)

    # -- helpers ----------------------------------------------------------------------

    def _cap(self, address: str) -> str | None:
        limits = self.config.automation
        for span, limit, word in ((dt.timedelta(hours=1), limits.max_per_hour, "an hour"),
                                  (dt.timedelta(days=1), limits.max_per_day, "a day")):
            if self.store.automatic_sent_to(address, self.now - span) >= limit:
                return f"cap reached: {limit} automatic messages {word} to {address}"
        return None

    def open_counts(self, agents: list[str]) -> dict[str, int]:
        """Open conversations per agent, read once per run and counted on as this run
        assigns: least-open assignment would otherwise count every agent's conversations
        once per new conversation. (A rule of the same run that solves one is seen at the
        next run.)"""
        unknown = [a for a in agents if a not in self._open]
        if unknown:
            self._open.update(self.store.open_counts(unknown))
        return {a: self._open[a] for a in agents}

    def away(self) -> set[str]:
        if self._away is None:
            self._away = self.store.away_agents(self.now)
        return self._away

    def _library(self) -> TemplateLibrary:
        if self.library is None:
            from ..templates.library import TemplateLibrary
            self.library = TemplateLibrary.for_config(self.config)
        return self.library
