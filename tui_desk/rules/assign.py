"""Picking the agent of a group: round-robin, least-open or manual, skipping the away."""

from __future__ import annotations

from typing import Callable

from ..config import GroupSection
from ..store import Store


def pick(store: Store, group: GroupSection, away: set[str],
         open_counts: Callable[[list[str]], dict[str, int]] | None = None) -> str | None:
    """The member who gets the next conversation, or None (manual, or everyone away:
    it stays in the group's view, unassigned). `open_counts`: how many conversations
    each holds (default: asked of the store)."""
    present = [m for m in group.members if m not in away]
    if group.assign == "manual" or not present:
        return None
    if group.assign == "least-open":
        counts = (open_counts or store.open_counts)(present)
        return min(present, key=lambda m: (counts[m], present.index(m)))
    last = store.group_last_agent(group.name)
    order = group.members
    start = order.index(last) + 1 if last in order else 0
    for offset in range(len(order)):
        member = order[(start + offset) % len(order)]
        if member not in away:
            return member
    return None
