"""How templates do: uses, close rate, handling time, satisfaction after use.

A template reply **closed** the conversation when the conversation was solved after it
with no further agent reply before the solve, or when the customer did not write again
within `days` (default 3). It **reopened** when the customer wrote again within
`days` (and it was not solved first without another reply). Until `days` have passed
with neither, the outcome is **pending** and left out of the close rate.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from ..store import Store, parse_stamp, stamp

CLOSE_DAYS = 3


def outcome(use: dict, now: dt.datetime | str, days: int = CLOSE_DAYS) -> str:
    """"closed", "reopened" or "pending" for one row of `store.template_uses()`.

    `now` may be given as a stamp and the row may carry its "deadline" (the use + `days`,
    a stamp): report templates does both, to judge 40,000 uses without date arithmetic."""
    solved, next_out, next_in = use["solved_at"], use["next_out_at"], use["next_in_at"]
    if solved and (next_out is None or next_out > solved):
        return "closed"
    deadline = use.get("deadline") or stamp(parse_stamp(use["at"]) + dt.timedelta(days=days))
    if next_in is not None and next_in <= deadline:
        return "reopened"
    return "closed" if (now if isinstance(now, str) else stamp(now)) >= deadline else "pending"


GATE_DAYS = 7
"""The automation gate's close rate: solved, and the customer quiet this many days."""


def gate_outcome(use: dict, now: dt.datetime) -> str:
    """The gate's stricter outcome of one use: "reopened" (the customer wrote again within
    GATE_DAYS), "pending" (not that long ago yet), else "closed" if it was solved and
    "unsolved" if not (nobody marked it solved: no proof it answered)."""
    deadline = stamp(parse_stamp(use["at"]) + dt.timedelta(days=GATE_DAYS))
    if use["next_in_at"] is not None and use["next_in_at"] <= deadline:
        return "reopened"
    if stamp(now) < deadline:
        return "pending"
    return "closed" if use["solved_at"] else "unsolved"


def mean_score(uses: list[dict]) -> tuple[float | None, int]:
    """(average of the first satisfaction answer after each use, how many answered)."""
    scores = [float(u["satisfaction"]) for u in uses if isinstance(u["satisfaction"], (int, float))]
    return (statistics.fmean(scores) if scores else None), len(scores)


@dataclass
class TemplateStats:
    template: str
    uses: int
    closed: int
    reopened: int
    pending: int
    median_handling_seconds: float | None
    """Median time from the customer's message to the template reply."""
    satisfaction: float | None
    """Average score of the first satisfaction answer after a use (events of kind 'satisfaction')."""
    satisfaction_answers: int

    @property
    def close_rate(self) -> float | None:
        decided = self.closed + self.reopened
        return self.closed / decided if decided else None

    def as_json(self) -> dict:
        rate = self.close_rate
        return {
            "template": self.template, "uses": self.uses, "closed": self.closed, "reopened": self.reopened,
            "pending": self.pending, "close_rate": None if rate is None else round(rate, 4),
            "median_handling_seconds": self.median_handling_seconds,
            "satisfaction": None if self.satisfaction is None else round(self.satisfaction, 2),
            "satisfaction_answers": self.satisfaction_answers,
        }


def template_stats(store: Store, since: dt.datetime | None = None, now: dt.datetime | None = None,
                   days: int = CLOSE_DAYS) -> list[TemplateStats]:
    """Per template used since `since`, most used first."""
    now = now or dt.datetime.now(dt.timezone.utc)
    groups: dict[str, list[dict]] = {}
    for use in store.template_uses(stamp(since) if since else None):
        groups.setdefault(use["template_id"], []).append(use)
    out = []
    for template_id, uses in groups.items():
        results = [outcome(u, now, days) for u in uses]
        handling = [(parse_stamp(u["at"]) - parse_stamp(u["asked_at"])).total_seconds() for u in uses if u["asked_at"]]
        satisfaction, answers = mean_score(uses)
        out.append(TemplateStats(
            template=template_id, uses=len(uses), closed=results.count("closed"),
            reopened=results.count("reopened"), pending=results.count("pending"),
            median_handling_seconds=statistics.median(handling) if handling else None,
            satisfaction=satisfaction, satisfaction_answers=answers,
        ))
    out.sort(key=lambda s: (-s.uses, s.template))
    return out
