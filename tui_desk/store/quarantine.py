"""Items a channel gave up on after repeated failures (`tui-desk sync --quarantined`).

A channel that cannot fetch one item (a message the server refuses to hand over, or
leaves out of its answers) asks for it again at each sync; after a few tries it is
recorded here, in the same transaction as the batch that gave up on it, and no longer
asked for. The record is what keeps that gap visible.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from .db import Database

from .stamps import now


class QuarantinedItem(NamedTuple):
    channel: str
    key: str
    """The item within its channel, e.g. "INBOX UID 3 (UIDVALIDITY 1700000000)"."""
    reason: str
    tries: int
    at: str
    """When it was quarantined (UTC stamp)."""


class _Given(Protocol):
    key: str
    reason: str
    tries: int


class QuarantineMixin:
    d: Database

    def add_quarantined(self, channel: str, items: list[_Given]) -> None:
        """Record items given up on (inside the batch transaction)."""
        self.d.executemany(
            "INSERT INTO quarantine (channel, key, reason, tries, at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, key) DO UPDATE SET reason = excluded.reason, tries = excluded.tries,"
            " at = excluded.at",
            [(channel, i.key, i.reason, i.tries, now()) for i in items],
        )

    def quarantined(self) -> list[QuarantinedItem]:
        return [QuarantinedItem(*r) for r in self.d.all(
            "SELECT channel, key, reason, tries, at FROM quarantine ORDER BY at, id")]
