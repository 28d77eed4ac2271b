"""Conditions of rules: one field, an operator and a value, compiled once into a test
of an event's facts. A rule set is tested against every message a sync brings, so
what can be decided once (folded values, regexes, the literal every match of a regex
contains) is decided here, never per message."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

LIST_FIELDS = ("customer.tags", "conversation.tags", "attachments")
PRECOMPUTED = "\0precomputed"
"""The facts key of the message conditions' results, in `RuleSet.message_conditions` order."""

# The only non-ASCII characters a case-insensitive regex matches to ASCII letters (İ ı ſ
# and the Kelvin sign; tests/unit/test_rules.py checks the list against every character).
# Without them in the text, an ASCII literal is in every match exactly when its lower
# case is in the text's lower case.
ASCII_LOOKALIKES = "\u0130\u0131\u017f\u212a"
_ASCII_LOOKALIKES = re.compile(f"[{ASCII_LOOKALIKES}]")


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any
    regex: re.Pattern | None = None
    literal: str | None = None
    """Text every match of `regex` contains (lower-cased when it ignores case): a message
    without it is passed over without running the regex, which on long mail costs
    100 times more than the substring test."""
    lead: int = 0
    """The most characters a match can take before `literal`: the regex is run from
    there on, not over the whole text (a long mail's first lines are passed over)."""
    test: Callable[[dict], bool] = field(default=None, init=False, repr=False, compare=False)
    """The condition compiled once into a function of an event's facts: a rule set is
    tested against every message a sync brings, so nothing is decided twice."""

    slot: int = field(default=-1, init=False, repr=False, compare=False)
    """Its place in an event's `PRECOMPUTED` results (-1: it is always worked out here)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile(self))

    # sync ships the message conditions to its parse workers: the compiled test stays behind
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "test"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        object.__setattr__(self, "test", _compile(self))

    def precomputed_at(self, slot: int) -> None:
        """From now on its result may come with the facts, at `PRECOMPUTED`[slot]."""
        computed = _compile(self)

        def test(facts: dict) -> bool:
            results = facts.get(PRECOMPUTED)
            return results[slot] if results is not None else computed(facts)
        object.__setattr__(self, "slot", slot)
        object.__setattr__(self, "test", test)


def _compile(c: Condition) -> Callable[[dict], bool]:
    name, op, value = c.field, c.op, c.value
    if op in ("gt", "lt"):
        if op == "gt":
            return lambda facts: (have := facts.get(name)) is not None and have > value
        return lambda facts: (have := facts.get(name)) is not None and have < value
    want = tuple(_fold(v) for v in value) if op == "contains_any" else _fold(value) if isinstance(value, str) else value
    if name in LIST_FIELDS:
        if op == "has" and isinstance(value, bool):
            return lambda facts: bool(facts.get(name)) == value
        if op == "is_not":
            return lambda facts: all(_fold(i) != want for i in facts.get(name) or ())
        on_text = _text_test(op, want, c.regex, c.literal, c.lead)
        return lambda facts: any(on_text(_fold(i), str(i), None) for i in facts.get(name) or ())
    on_text = _text_test(op, want, c.regex, c.literal, c.lead, name)
    if op == "matches":
        return lambda facts: on_text("", _plain(facts.get(name)), facts)
    key = name + "\0folded"  # each field is folded once per event, not once per rule

    def test(facts: dict) -> bool:
        folded = facts.get(key)
        if folded is None:
            folded = facts[key] = _fold(_plain(facts.get(name)))
        return on_text(folded, "", None)
    return test


def _plain(have: Any) -> str:
    return "" if have is None else str(have)


def _text_test(op: str, want: Any, regex: re.Pattern | None, literal: str | None, lead: int = 0,
               name: str = "") -> Callable[[str, str, dict | None], bool]:
    """A test of (folded text, text, facts) for one operator."""
    if op == "is":
        return lambda folded, _text, _facts: folded == want
    if op == "is_not":
        return lambda folded, _text, _facts: folded != want
    if op in ("contains", "has"):
        return lambda folded, _text, _facts: want in folded
    if op == "contains_any":
        return lambda folded, _text, _facts: any(map(folded.__contains__, want))
    if regex is None:
        return lambda folded, _text, _facts: False
    search = regex.search
    if literal is None or (regex.flags & re.IGNORECASE and not literal.isascii()):
        return lambda _folded, text, _facts: search(text) is not None

    def from_literal(seen: str, text: str) -> bool:
        # every match holds the literal, so none starts before its first place - lead
        # (`search` from a position still sees the characters before it, for \b and ^)
        at = seen.find(literal)
        return at >= 0 and search(text, max(at - lead, 0)) is not None
    if not regex.flags & re.IGNORECASE:
        return lambda _folded, text, _facts: from_literal(text, text)

    def test(_folded: str, text: str, facts: dict | None) -> bool:
        lower = _lower(text, facts, name)  # aligned with `text`, character for character
        return search(text) is not None if lower is None else from_literal(lower, text)
    return test


def _lower(text: str, facts: dict | None, field: str) -> str | None:
    """`text` lower-cased, when that keeps it aligned with a case-insensitive regex's view
    of ASCII letters (no look-alike characters in it); None otherwise. Once per event."""
    key = field + "\0lower"
    if facts is not None and key in facts:
        return facts[key]
    lower = text.lower() if text.isascii() or not _ASCII_LOOKALIKES.search(text) else None
    if facts is not None:
        facts[key] = lower
    return lower


def required_literal(regex: re.Pattern) -> tuple[str, int] | None:
    """The longest run of plain characters at the top level of `regex` (so in every
    match), lower-cased under IGNORECASE, and the most characters a match can take
    before it; None when there is no such run of 3 or more."""
    try:
        from re import _constants as C, _parser as parser  # the stdlib's own regex parser
        tree = parser.parse(regex.pattern, regex.flags)
        items = list(tree)
        best, best_start, run, start = "", 0, [], 0
        for i, (op, arg) in enumerate(items + [(None, None)]):
            if op is C.LITERAL:
                if not run:
                    start = i
                run.append(chr(arg))
            elif op is C.AT and arg in (C.AT_BOUNDARY, C.AT_NON_BOUNDARY):
                continue  # takes no characters: the run goes on
            else:
                if len(run) > len(best):
                    best, best_start = "".join(run), start
                run = []
        if len(best) < 3:
            return None
        lead = parser.SubPattern(tree.state, items[:best_start]).getwidth()[1]
    except Exception:  # noqa: BLE001 - an optimisation only: without it the regex still runs
        return None
    return (best.lower() if regex.flags & re.IGNORECASE else best), lead


def _fold(value: Any) -> str:
    return str(value).casefold()
