"""The measured gate a template passes before rules may send it alone (`auto`).

    found = gate(config, store, library, ruleset, "order-status")
    found.ok, found.refusal()     # "12 uses (needs 20); close rate 71% (needs 80%)"

Its four checks, each readable by the team (`templates promote --to auto --json`):

- **uses**: at least `[templates] automate_min_uses` replies with the template;
- **close rate**: at least `automate_min_close_rate` of its decided uses were solved and
  the customer did not write again within 7 days (stats.gate_outcome);
- **CSAT**: the average first satisfaction answer after a use, when there is any, at
  least 4.0 (of 5);
- **backtest**: over the past customer messages agents answered with a template, those
  an `auto_reply` rule naming this template would have fired on (the latest 2,000): the
  suggester (each message left out of its own history) picked this template first, and
  it was the one the agent sent, for at least 90% of them. No such rule, or no such message: refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..config import Config
from ..rules.facts import derive
from ..rules.spec import RuleSet
from ..store import Store, parse_stamp
from ..survey.language import detect
from .library import TemplateLibrary
from .similar import SimilarIndex
from .stats import gate_outcome, mean_score
from .suggest import offered, rank, unsuggested

MIN_CSAT = 4.0
MIN_BACKTEST = 0.9
BACKTEST_LIMIT = 2000
"""The backtest asks the suggester about the latest this many messages the rules fire on."""


@dataclass(frozen=True)
class Check:
    """One condition of the gate."""

    name: str
    ok: bool
    value: float | int | None
    needed: float | int
    words: str
    """What was measured, in words: "12 uses (needs 20)"."""

    def as_json(self) -> dict:
        value = round(self.value, 4) if isinstance(self.value, float) else self.value
        return {"check": self.name, "ok": self.ok, "value": value, "needed": self.needed, "words": self.words}


@dataclass
class Measures:
    """What a template's uses (all of them, or its automatic ones) came to."""

    uses: int = 0
    closed: int = 0
    reopened: int = 0
    unsolved: int = 0
    pending: int = 0
    satisfaction: float | None = None
    satisfaction_answers: int = 0

    @property
    def decided(self) -> int:
        return self.closed + self.reopened + self.unsolved

    @property
    def close_rate(self) -> float | None:
        return self.closed / self.decided if self.decided else None


def measure(uses: list[dict], now: dt.datetime) -> Measures:
    """The gate's outcomes of rows of `store.template_uses()`."""
    found = Measures(uses=len(uses))
    for use in uses:
        kind = gate_outcome(use, now)
        setattr(found, kind, getattr(found, kind) + 1)
    found.satisfaction, found.satisfaction_answers = mean_score(uses)
    return found


@dataclass
class Backtest:
    rules: list[str] = field(default_factory=list)
    """The ids of the auto_reply rules naming the template."""
    fired: int = 0
    """Past answered messages those rules would have fired on."""
    correct: int = 0
    """Of them, where the suggester's first pick was this template and the agent sent it."""

    @property
    def precision(self) -> float | None:
        return self.correct / self.fired if self.fired else None


def auto_rules(ruleset: RuleSet, template_id: str) -> list:
    return [r for r in ruleset.rules if any(a.kind == "auto_reply" and a.value == template_id for a in r.actions)]


def backtest(config: Config, store: Store, library: TemplateLibrary, ruleset: RuleSet, template_id: str) -> Backtest:
    """Replay the template's auto_reply rules over the desk's answered messages, newest
    first (each judged as when it arrived), and ask the suggester about each they fire
    on, up to BACKTEST_LIMIT of them."""
    rules = auto_rules(ruleset, template_id)
    result = Backtest([r.id for r in rules])
    if not rules:
        return result
    answers = store.template_answers()
    index = SimilarIndex((a.template_id, a.asked) for a in answers)
    answered = store.answered_inbound()
    hours, templates, stages = config.desk.hours(), library.templates(), store.template_stages()
    for doc in range(len(answers) - 1, -1, -1):  # newest first, up to BACKTEST_LIMIT fired on
        if result.fired >= BACKTEST_LIMIT:
            break
        answer = answers[doc]
        where = answered.get(answer.message_id)
        raw = store.rule_facts(*where) if where else None
        if raw is None:
            continue
        facts = derive(raw, config, hours, parse_stamp(raw["received_at"]))
        if not any(r.matches(facts) for r in rules):
            continue
        result.fired += 1
        language = detect([answer.asked])
        candidates = unsuggested(offered(templates, facts["channel"], facts["channel.kind"], language, answer.asked),
                                 stages)
        best = rank(index, answer.asked, candidates, 1, language, skip=doc)
        result.correct += bool(best) and best[0].template.id == template_id == answer.template_id
    return result


@dataclass
class Gate:
    template: str
    checks: list[Check]
    measures: Measures
    backtest: Backtest

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def refusal(self) -> str:
        """The failed checks, in words ("" when the gate holds)."""
        return "; ".join(c.words for c in self.checks if not c.ok)

    def as_json(self) -> dict:
        return {"template": self.template, "ok": self.ok, "checks": [c.as_json() for c in self.checks],
                "backtest_rules": self.backtest.rules}


def gate(config: Config, store: Store, library: TemplateLibrary, ruleset: RuleSet, template_id: str,
         now: dt.datetime | None = None) -> Gate:
    """Whether `template_id` may go to the automatic stage, check by check."""
    now = now or dt.datetime.now(dt.timezone.utc)
    limits = config.templates
    found = measure(store.template_uses(template_id=template_id), now)
    rate = found.close_rate
    test = backtest(config, store, library, ruleset, template_id)
    precision = test.precision
    checks = [
        Check("uses", found.uses >= limits.automate_min_uses, found.uses, limits.automate_min_uses,
              f"{found.uses} uses (needs {limits.automate_min_uses})"),
        Check("close_rate", rate is not None and rate >= limits.automate_min_close_rate, rate,
              limits.automate_min_close_rate,
              f"close rate {_pct(rate)} of {found.decided} decided uses (needs {_pct(limits.automate_min_close_rate)};"
              " solved, and no word from the customer within 7 days)"),
        Check("csat", found.satisfaction is None or found.satisfaction >= MIN_CSAT, found.satisfaction, MIN_CSAT,
              "no satisfaction answers yet" if found.satisfaction is None else
              f"CSAT {found.satisfaction:.1f} from {found.satisfaction_answers} answers (needs {MIN_CSAT:.1f})"),
        Check("backtest", precision is not None and precision >= MIN_BACKTEST, precision, MIN_BACKTEST,
              f"no rule has {{ auto_reply = \"{template_id}\" }}: the backtest replays its conditions" if not test.rules
              else f"no past answered message the rule {', '.join(test.rules)} would fire on" if not test.fired
              else f"backtest {_pct(precision)}: the suggester picked it for {test.correct} of {test.fired} past"
                   f" messages the rule {', '.join(test.rules)} would fire on (needs {_pct(MIN_BACKTEST)})"),
    ]
    return Gate(template_id, checks, found, test)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"
