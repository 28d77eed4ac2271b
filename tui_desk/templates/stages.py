"""Stages per template, the team's decision kept in the database:

- `manual`: picked by hand only (the picker, its pinned digit), never suggested;
- `suggest`: offered among the suggestions (the default);
- `draft`: also, when its match is confident, the composer opens pre-filled with it
  for the agent to review (`r` in the console);
- `auto`: also, an `auto_reply` rule sends it without an agent (the loop guard, the
  outbox's undo window, marked automatic, ending with the "reply to reach a person" line).

    change_stage(config, store, library, ruleset, "order-status", "auto", actor="ana")
    review(config, store)           # after each rules run: demotes what fell below the gate

Going up to `auto` needs the measured gate (templates.gate). While in auto, a template
is demoted to `draft` by itself when its last `[templates] auto_review_uses` automatic
uses can no longer reach the gate's close rate, or their CSAT falls below 4.0: a
'template.stage' event (the template's history), a 'template.demoted' event in the
conversation that tipped it, and a notice in the console.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..config import Config
from ..errors import NotFound, UsageError
from ..rules.spec import RuleSet
from ..store import Store
from ..store.stages import AUTO_PREFIX, DEFAULT_STAGE
from .gate import MIN_CSAT, Gate, gate, measure
from .library import Template, TemplateLibrary

STAGES = ("manual", "suggest", "draft", "auto")
CONFIDENT = 0.5
"""A suggestion's score from which a template in draft (or auto) pre-fills the composer."""
DEMOTED_TO = "draft"


class GateRefused(UsageError):
    """The gate does not hold: the message says which checks failed (exit 2, like every
    refusal: nothing was changed)."""

    def __init__(self, found: Gate) -> None:
        self.gate = found
        super().__init__(f"template {found.template} stays out of auto: {found.refusal()}")


@dataclass
class StageChange:
    template: str
    before: str
    after: str
    gate: Gate | None = None

    def as_json(self) -> dict:
        return {"template": self.template, "from": self.before, "to": self.after,
                "gate": self.gate.as_json() if self.gate else None}


def change_stage(config: Config, store: Store, library: TemplateLibrary, ruleset: RuleSet, template_id: str,
                 stage: str | None, *, actor: str, up: bool) -> StageChange:
    """Promote (`up`) or demote the template to `stage` (None, demoting: one stage
    down). UsageError for an unknown template or stage, or a stage on the wrong side; GateRefused when `auto` is asked
    and the gate does not hold."""
    template = library.get(template_id)
    if template is None:
        raise NotFound(f"no template {template_id!r} (see `tui-desk templates list`)")
    if template.auto:
        raise UsageError(f"template {template_id} has auto = true: rules send it as it is (reply_template,"
                         " after_hours_ack) and it is never offered, so it has no stage")
    if stage is not None and stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r} (one of: {', '.join(STAGES)})")
    before = store.template_stage(template_id)
    if stage is None and not up:
        stage = STAGES[max(STAGES.index(before) - 1, 0)]
    if stage is None:
        raise UsageError("promote needs --to STAGE (manual, suggest, draft or auto)")
    if (STAGES.index(stage) <= STAGES.index(before)) if up else (STAGES.index(stage) >= STAGES.index(before)):
        verb, other = ("promote", "demote") if up else ("demote", "promote")
        raise UsageError(f"template {template_id} is in {before}: cannot {verb} it to {stage} (use {other})")
    found = None
    if stage == "auto":
        found = gate(config, store, library, ruleset, template_id)
        if not found.ok:
            raise GateRefused(found)
    reason = "the gate holds" if found else ""
    store.set_template_stage(template_id, stage, actor, reason)
    return StageChange(template_id, before, stage, found)


@dataclass
class Demotion:
    template: str
    reason: str
    conversation_id: int | None


def review(config: Config, store: Store, now: dt.datetime | None = None) -> list[Demotion]:
    """Demote every template in auto whose last automatic uses (since it went to auto)
    fell below the gate."""
    autos = store.in_auto()
    if not autos:
        return []
    now = now or dt.datetime.now(dt.timezone.utc)
    n, needed = config.templates.auto_review_uses, config.templates.automate_min_close_rate
    out = []
    for template_id, since in autos.items():  # only since it (last) went to auto: a new chance each time
        uses = store.template_uses(since, template_id=template_id, automatic_like=AUTO_PREFIX + "%")[-n:]
        if not uses:
            continue
        found = measure(uses, now)
        failed = found.reopened + found.unsolved  # more than the gate allows in N: it cannot reach it
        reason = ""
        if failed > n * (1 - needed) + 1e-9:
            reason = (f"{failed} of its last {len(uses)} automatic replies were not closed (the customer wrote"
                      f" again, or it was never solved): below the gate's {needed:.0%} over {n}")
        elif found.satisfaction is not None and found.satisfaction < MIN_CSAT:
            reason = (f"CSAT {found.satisfaction:.1f} over its last {len(uses)} automatic replies"
                      f" (needs {MIN_CSAT:.1f})")
        if not reason:
            continue
        latest = uses[-1]["conversation_id"]
        with store.transaction():
            store.set_template_stage(template_id, DEMOTED_TO, "desk", "demoted automatically: " + reason)
            store.add_event(latest, "template.demoted", "desk",
                            {"template": template_id, "to": DEMOTED_TO, "reason": reason})
        out.append(Demotion(template_id, reason, latest))
    return out


def confident_draft(config: Config, store: Store, library: TemplateLibrary, conversation_id: int) -> Template | None:
    """The template a reply begins from: the best suggestion when it is in draft or auto
    and its score is at least CONFIDENT (None: an empty composer)."""
    from .suggest import offer
    best = offer(config, store, library, conversation_id, 1).suggested
    if best and best[0].score >= CONFIDENT and store.template_stage(best[0].template.id) in ("draft", "auto"):
        return best[0].template
    return None


def handoff_line(config: Config, template: Template) -> str:
    """The "reply to reach a person" line an automatic reply ends with."""
    return template.handoff or config.templates.auto_handoff


def stage_of(stages: dict[str, str], template: Template) -> str:
    return "" if template.auto else stages.get(template.id, DEFAULT_STAGE)


@dataclass
class Automatic:
    """How a template's automatic replies did."""

    uses: int
    precision: float | None
    """Of those whose outcome is known, the share after which the customer did not write
    again within 7 days: answers that needed no person."""


def automatic(store: Store, template_id: str, now: dt.datetime | None = None) -> Automatic:
    found = measure(store.template_uses(template_id=template_id, automatic_like=AUTO_PREFIX + "%"),
                    now or dt.datetime.now(dt.timezone.utc))
    return Automatic(found.uses, (found.decided - found.reopened) / found.decided if found.decided else None)
