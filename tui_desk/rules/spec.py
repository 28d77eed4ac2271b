"""Rules as written in the config: `[[rules]]` tables, checked and compiled once.

A mistake is a ConfigError naming the file, the rule's id and the key, so `rules
check`, `config check` and a sync all refuse a broken rule the same way. Regexes are
compiled here, never per message.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, GroupSection
from ..configload import build
from ..errors import ConfigError
from ..store.schema import PRIORITIES, STATUSES
from ..durations import parse_duration
from .conditions import LIST_FIELDS, PRECOMPUTED, Condition, _fold, _plain, required_literal

EVENTS = ("conversation.new", "message.new", "customer.reply", "status.changed", "timer")
FIELDS = ("channel", "channel.kind", "from", "from.domain", "to", "subject", "text", "customer.tags",
          "conversation.tags", "priority", "status", "assignee", "group", "hours", "class", "attachments",
          "age", "waiting")
MESSAGE_FIELDS = ("subject", "text")
"""What a condition can test of a message alone, before it is stored (in sync's parse
workers, which run in parallel with the single writer: long mail is scanned there)."""
RECEIVED = "\0received"
"""The facts key of the event's message time (an aware datetime), for the after-hours check."""
DURATION_FIELDS = ("age", "waiting")
OPERATORS = ("is", "is_not", "contains", "contains_any", "matches", "has", "gt", "lt")
ACTIONS = ("tag", "priority", "status", "snooze", "assign", "note", "reply_template", "after_hours_ack", "auto_reply",
           "page")
RULE_KEYS = ("id", "on", "all", "any", "none", "actions", "stop", "force_reply")
@dataclass(frozen=True)
class Action:
    kind: str
    value: Any


@dataclass(frozen=True)
class Rule:
    id: str
    on: tuple[str, ...]
    all: tuple[Condition, ...] = ()
    any: tuple[Condition, ...] = ()
    none: tuple[Condition, ...] = ()
    actions: tuple[Action, ...] = ()
    stop: bool = False
    force_reply: bool = False
    digest: str = ""
    """A hash of the rule's text: the audit trail says which version of a rule fired."""

    def matches(self, facts: dict) -> bool:
        for c in self.all:
            if not c.test(facts):
                return False
        if self.any:
            for c in self.any:
                if c.test(facts):
                    break
            else:
                return False
        for c in self.none:
            if c.test(facts):
                return False
        return True

    @property
    def always(self) -> bool:
        """Matches every event it listens to (no conditions at all)."""
        return not (self.all or self.any or self.none)


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    groups: dict[str, GroupSection] = field(default_factory=dict)
    file: str = "config"
    message_conditions: tuple[Condition, ...] = ()
    """One of each distinct condition on `MESSAGE_FIELDS`: what a parse worker tests."""
    _listeners: dict[frozenset[str], "_Listeners"] = field(default_factory=dict, init=False, repr=False)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def listening(self, events: set[str]) -> bool:
        return bool(self._for(events).rules)

    def listeners(self, events: set[str] | frozenset[str]) -> list[Rule]:
        """The rules, in order, that listen to any of these events."""
        return self._for(events).rules

    def may_fire(self, events: set[str] | frozenset[str], known: dict) -> bool:
        """Whether some listener to these events could match, given only the `known`
        facts (a message's own, before its conversation is read): false when every
        listener needs a known fact to be what it is not. Sync queues only such events."""
        return self._for(events).may_fire(known)

    def candidates(self, events: set[str] | frozenset[str], facts: dict) -> list[Rule]:
        """The listeners, in order, that can match these facts: a rule that requires
        `field is value` is left out when the field holds another value (a rule set of
        sender domains and classes is mostly such rules, and a sync asks for every message)."""
        return self._for(events).candidates(facts)

    def _for(self, events: set[str] | frozenset[str]) -> "_Listeners":
        key = frozenset(events)  # worked out once per combination of events
        found = self._listeners.get(key)
        if found is None:
            found = self._listeners[key] = _Listeners([r for r in self.rules if key.intersection(r.on)])
        return found


class _Listeners:
    """A rule set's listeners to one combination of events, indexed by the value each
    requires of one text field (the first `is` condition of its `all`)."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self.free: list[tuple[int, Rule]] = []  # rules no single value rules out
        self.by_value: dict[str, dict[str, list[tuple[int, Rule]]]] = {}
        self._left: dict[tuple, list[Rule]] = {}
        for place, rule in enumerate(rules):
            key = next((c for c in rule.all if c.op == "is" and isinstance(c.value, str)
                        and c.field not in LIST_FIELDS), None)
            if key is None:
                self.free.append((place, rule))
            else:
                self.by_value.setdefault(key.field, {}).setdefault(_fold(key.value), []).append((place, rule))

    def may_fire(self, known: dict) -> bool:
        results = known.get(PRECOMPUTED)
        if results is None:
            return any(_possible(rule, known) for rule in self.candidates(known, partial=True))
        # most messages share their results (nothing matched) and the values the index
        # asks of them: the rules those leave are worked out once per combination
        key = (results, tuple(self._index_key(name, values, known) for name, values in self.by_value.items()))
        left = self._left.get(key)
        if left is None:
            if len(self._left) >= 4096:
                self._left.clear()
            left = self._left[key] = [rule for rule in self.candidates(known, partial=True)
                                      if _slots_possible(rule, results)]
        return any(_possible(rule, known) for rule in left)

    @staticmethod
    def _index_key(name: str, values: dict, known: dict) -> str:
        if name not in known:
            return "\0unknown"
        folded = _fold(_plain(known[name]))
        return folded if folded in values else "\0other"

    def candidates(self, facts: dict, partial: bool = False) -> list[Rule]:
        """`partial`: facts may be missing, and a missing one rules nothing out."""
        if not self.by_value:
            return self.rules
        found = list(self.free)
        for name, values in self.by_value.items():
            if partial and name not in facts:
                found += [entry for entries in values.values() for entry in entries]
                continue
            folded = facts.get(name + "\0folded")  # the same cache the conditions fill
            if folded is None:
                folded = facts[name + "\0folded"] = _fold(_plain(facts.get(name)))
            found += values.get(folded, ())
        found.sort(key=lambda item: item[0])
        return [rule for _, rule in found]


def _possible(rule: Rule, known: dict) -> bool:
    """Rule.matches over the facts known so far: a condition on a missing fact may go
    either way."""
    for c in rule.all:
        if c.field in known and not c.test(known):
            return False
    if rule.any and all(c.field in known for c in rule.any) and not any(c.test(known) for c in rule.any):
        return False
    return not any(c.field in known and c.test(known) for c in rule.none)


def _slots_possible(rule: Rule, results: tuple[bool, ...]) -> bool:
    """`_possible` over the message conditions a parse worker tested, and nothing else."""
    for c in rule.all:
        if c.slot >= 0 and not results[c.slot]:
            return False
    if rule.any and all(c.slot >= 0 for c in rule.any) and not any(results[c.slot] for c in rule.any):
        return False
    return not any(c.slot >= 0 and results[c.slot] for c in rule.none)


def load_rules(config: Config, templates: set[str] | None = None, known_agents: set[str] = frozenset()) -> RuleSet:
    """The config's rules (and those of its rules_file), checked. `templates`: the ids a
    reply_template may name (None: not checked); `known_agents`: agents the store knows
    beside the config's."""
    file = str(config.path or "config")
    tables = list(config.rules)
    groups = list(config.groups)
    if config.rules_file:
        _, extra_rules, extra_groups = _rules_file(config)
        tables += extra_rules
        groups += extra_groups
    agents = team(config, groups) | set(known_agents)
    ruleset = RuleSet(groups={g.name: g for g in groups}, file=file)
    seen: set[str] = set()
    for i, table in enumerate(tables):
        rule = _rule(table, file, i, ruleset.groups, templates, agents)
        if rule.id in seen:
            raise ConfigError(file, f"rules[{i}].id", f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        ruleset.rules.append(rule)
    ruleset.message_conditions = _message_conditions(ruleset.rules)
    return ruleset


def _message_conditions(rules: list[Rule]) -> tuple[Condition, ...]:
    """The distinct conditions on a message's own text, each given its slot (equal
    conditions of several rules share one)."""
    slots: dict[tuple, int] = {}
    distinct: list[Condition] = []
    for rule in rules:
        for c in rule.all + rule.any + rule.none:
            if c.field in MESSAGE_FIELDS and c.op not in ("gt", "lt"):
                key = (c.field, c.op, repr(c.value), c.regex and (c.regex.pattern, c.regex.flags))
                if key not in slots:
                    slots[key] = len(distinct)
                    distinct.append(c)
                c.precomputed_at(slots[key])
    return tuple(distinct)


def message_results(conditions: tuple[Condition, ...], subject: str, text: str) -> tuple[bool, ...]:
    """The results of `message_conditions` on a message not stored yet."""
    facts = {"subject": subject, "text": text}
    return tuple(c.test(facts) for c in conditions)


def all_groups(config: Config) -> list[GroupSection]:
    """The config's [[groups]] and those of its rules_file."""
    return list(config.groups) + (_rules_file(config)[2] if config.rules_file else [])


def team(config: Config, groups: list[GroupSection] | None = None) -> set[str]:
    """Every agent the config knows: [[agents]], group members, this terminal's agent."""
    groups = config.groups if groups is None else groups
    return {a.name for a in config.agents} | {m for g in groups for m in g.members} | {config.agent.name}


def problems(config: Config, templates: set[str] | None = None,
             known_agents: set[str] = frozenset()) -> list[ConfigError]:
    """What `rules check` and `config check` report: the first mistake in the rules'
    form, else every rule that can never run."""
    try:
        ruleset = load_rules(config, templates, known_agents)
    except ConfigError as exc:
        return [exc]
    return [ConfigError(ruleset.file, f"rules (id {rule.id!r})",
                        f"can never run: rule {earlier.id!r} before it always stops")
            for rule, earlier in unreachable(ruleset)]


def unreachable(ruleset: RuleSet) -> list[tuple[Rule, Rule]]:
    """(rule, the earlier rule that always stops before it) for rules that can never run."""
    found = []
    for i, rule in enumerate(ruleset.rules):
        for earlier in ruleset.rules[:i]:
            if earlier.stop and earlier.always and set(rule.on) <= set(earlier.on):
                found.append((rule, earlier))
                break
    return found


def _rules_file(config: Config) -> tuple[str, list, list]:
    path = Path(config.rules_file).expanduser()
    if not path.is_absolute() and config.path is not None:
        path = config.path.parent / path
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(config.path or "config", "rules_file", f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"not valid TOML: {exc}") from None
    unknown = set(data) - {"rules", "groups"}
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], "unknown key (a rules file holds [[rules]] and [[groups]])")
    if not isinstance(data.get("rules", []), list):
        raise ConfigError(path, "rules", "expected a list of [[rules]] tables")
    groups = [build(GroupSection, g, path, f"groups[{i}]", channel_kinds={})
              for i, g in enumerate(data.get("groups", []))]
    return str(path), data.get("rules", []), groups


def _rule(table: Any, file: str, index: int, groups: dict, templates: set[str] | None, agents: set[str]) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(file, where, "expected a table")
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise ConfigError(file, f"{where}.id", "required: a stable name for the rule (the audit trail uses it)")
    where = f"rules[{index}] (id {rule_id!r})"

    def fail(key: str, why: str):
        raise ConfigError(file, f"{where}.{key}", why)

    for key in table:
        if key not in RULE_KEYS:
            fail(key, f"unknown key (known: {', '.join(RULE_KEYS)})")
    on = table.get("on")
    on = [on] if isinstance(on, str) else on
    if not on or not isinstance(on, list) or any(e not in EVENTS for e in on):
        fail("on", f"expected a list of events among: {', '.join(EVENTS)}")
    conditions = {}
    for part in ("all", "any", "none"):
        items = table.get(part, [])
        if not isinstance(items, list):
            fail(part, "expected a list of conditions, e.g. [{ field = \"subject\", contains = \"refund\" }]")
        conditions[part] = tuple(_condition(c, lambda k, w, j=j: fail(f"{part}[{j}].{k}", w))
                                 for j, c in enumerate(items))
    actions = table.get("actions", [])
    if not isinstance(actions, list) or not actions:
        fail("actions", f"expected a non-empty list of actions among: {', '.join(ACTIONS)}")
    parsed = tuple(_action(a, lambda k, w, j=j: fail(f"actions[{j}].{k}", w), groups, templates, agents)
                   for j, a in enumerate(actions))
    for flag in ("stop", "force_reply"):
        if not isinstance(table.get(flag, False), bool):
            fail(flag, "expected true or false")
    digest = hashlib.sha256(json.dumps(table, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return Rule(rule_id, tuple(on), conditions["all"], conditions["any"], conditions["none"], parsed,
                table.get("stop", False), table.get("force_reply", False), digest)


def _condition(item: Any, fail) -> Condition:
    if not isinstance(item, dict):
        fail("field", "expected a table like { field = \"subject\", contains = \"refund\" }")
    name = item.get("field")
    if name not in FIELDS:
        fail("field", f"unknown field {name!r} (known: {', '.join(FIELDS)})")
    ops = [k for k in item if k != "field"]
    if len(ops) != 1 or ops[0] not in OPERATORS:
        fail(ops[0] if ops else "field", f"expected exactly one operator among: {', '.join(OPERATORS)}")
    op = ops[0]
    value = item[op]
    regex = None
    if op == "matches":
        if not isinstance(value, str):
            fail(op, "expected a regular expression as a string")
        try:
            regex = re.compile(value)
        except re.error as exc:
            fail(op, f"bad regular expression: {exc}")
    elif op == "contains_any":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            fail(op, "expected a non-empty list of strings")
        value = tuple(value)
    elif op in ("gt", "lt"):
        if name in DURATION_FIELDS:
            try:
                value = parse_duration(value).total_seconds()
            except ValueError as exc:
                fail(op, str(exc))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            fail(op, "expected a number")
    elif op == "has":
        if not isinstance(value, (str, bool)):
            fail(op, "expected a string (an item of the list) or true/false")
    elif not isinstance(value, str):
        fail(op, "expected a string")
    if name == "class" and op in ("is", "is_not"):
        from .guard import CLASSES
        if value not in CLASSES:
            fail(op, f"unknown class {value!r} (one of: {', '.join(CLASSES)})")
    if name == "hours" and op in ("is", "is_not") and value not in ("open", "closed"):
        fail(op, "hours is \"open\" or \"closed\"")
    literal, lead = (required_literal(regex) if regex is not None else None) or (None, 0)
    return Condition(name, op, value, regex, literal, lead)


def _action(item: Any, fail, groups: dict, templates: set[str] | None, agents: set[str]) -> Action:
    if not isinstance(item, dict) or len(item) != 1:
        fail("action", f"expected a table with one action, e.g. {{ tag = \"+billing\" }} (one of: {', '.join(ACTIONS)})")
    (action, value), = item.items()
    if action not in ACTIONS:
        fail(action, f"unknown action (known: {', '.join(ACTIONS)})")
    if not isinstance(value, str) or not value.strip():
        fail(action, "expected a non-empty string")
    if action == "tag":
        value = tuple(value.split())
        if not all(t.lstrip("+-") for t in value):
            fail(action, "expected tags like \"+billing -spam\"")
    elif action == "priority" and value not in PRIORITIES:
        fail(action, f"unknown priority {value!r} (one of: {', '.join(PRIORITIES)})")
    elif action == "status" and (value not in STATUSES or value == "snoozed"):
        fail(action, f"unknown status {value!r} (one of: {', '.join(s for s in STATUSES if s != 'snoozed')}; "
                   "use snooze = \"2d\" to snooze)")
    elif action == "snooze":
        try:
            parse_duration(value)
        except ValueError as exc:
            fail(action, str(exc))
    elif action == "assign":
        if value.startswith("group:"):
            if value[6:] not in groups:
                fail(action, f"unknown group {value[6:]!r} (known: {', '.join(groups) or 'none: add [[groups]]'})")
        elif value != "none" and value not in agents:
            fail(action, f"unknown agent {value!r} (known: {', '.join(sorted(agents))}; or group:NAME, none)")
    elif action in ("reply_template", "after_hours_ack", "auto_reply") and templates is not None and value not in templates:
        fail(action, f"unknown template {value!r} (see `tui-desk templates list`)")
    return Action(action, value)
