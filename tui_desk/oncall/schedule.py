"""Rotation arithmetic: from a rotation, its members, swaps and overrides to shifts.

A rotation has an anchor (the local wall-clock start of shift 0) and a length in hours.
Shift k starts at anchor + k × length *on the wall clock* of the rotation's zone, so a
Monday 09:00 handoff stays at Monday 09:00 across DST changes (that week's shift is then
an hour shorter or longer). Who holds shift k comes from the member epoch in force at k
(member changes never rewrite past shifts), then the swaps, applied in order. Overrides
then replace the holder on an exact interval. Everything here is pure: aware datetimes
in, aware datetimes out, no I/O.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from .timeparse import UTC, localize

# how far `handover` looks for the next person: beyond this many shifts, "nobody else"
LOOKAHEAD_SHIFTS = 500


@dataclass(frozen=True)
class Epoch:
    """The member order in force from shift `from_shift` on."""

    from_shift: int
    members: tuple[str, ...]
    start_pos: int = 0
    """Index in `members` of the person holding shift `from_shift`."""


@dataclass(frozen=True)
class Swap:
    """Two shifts whose holders exchange places."""

    shift_a: int
    shift_b: int
    id: int = 0
    requested_by: str = ""


@dataclass(frozen=True)
class Override:
    """`who` is on call over [start, end) whoever the shift says."""

    who: str
    start: dt.datetime
    end: dt.datetime
    id: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Segment:
    """A stretch of time with one person on call."""

    rotation: str
    who: str
    start: dt.datetime
    end: dt.datetime
    shift: int
    """Index of the underlying shift (0 = the first one after the anchor)."""
    base: str
    """Who the shift itself belongs to (after swaps); differs from `who` under an override."""
    override: int | None = None
    """The override's id when this segment comes from one."""
    reason: str = ""
    """The override's reason ("Bo's dentist"), when it has one."""

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600


@dataclass(frozen=True)
class Rotation:
    """A rotation with everything that decides who is on call."""

    name: str
    timezone: str
    anchor: dt.datetime
    """Naive local wall-clock time when shift 0 starts."""
    length_hours: int
    epochs: tuple[Epoch, ...]
    """Ordered by from_shift, later entries winning over earlier ones at the same shift."""
    swaps: tuple[Swap, ...] = ()
    """In the order they were made."""
    overrides: tuple[Override, ...] = ()
    only: str = "always"
    """"always", or "after-hours": nobody is paged while the desk is open."""
    id: int = 0
    _starts: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # --- shifts ---------------------------------------------------------------------

    def shift_start(self, k: int) -> dt.datetime:
        """When shift k begins (UTC). Memoised: the same shifts are asked for repeatedly."""
        found = self._starts.get(k)
        if found is None:
            naive = self.anchor + dt.timedelta(hours=self.length_hours * k)
            found = localize(naive, self.tz, strict=False).astimezone(UTC)
            self._starts[k] = found
        return found

    def shift_at(self, instant: dt.datetime) -> int | None:
        """Index of the shift running at `instant`; None before the rotation starts."""
        if instant < self.shift_start(0):
            return None
        local = instant.astimezone(self.tz).replace(tzinfo=None)
        k = max(0, int((local - self.anchor) // dt.timedelta(hours=self.length_hours)))
        # the wall-clock estimate is off by at most one around a DST change
        while k > 0 and self.shift_start(k) > instant:
            k -= 1
        while self.shift_start(k + 1) <= instant:
            k += 1
        return k

    def first_shift_on(self, day: dt.date) -> int | None:
        """The first shift starting on local `day`; else the one running at noon that day."""
        midnight = localize(dt.datetime.combine(day, dt.time()), self.tz, strict=False)
        k = self.shift_at(midnight)
        k = 0 if k is None else k
        while self.shift_start(k) < midnight:
            k += 1
        if self.shift_start(k).astimezone(self.tz).date() == day:
            return k
        return self.shift_at(localize(dt.datetime.combine(day, dt.time(12)), self.tz, strict=False))

    # --- who ------------------------------------------------------------------------

    def epoch_for(self, k: int) -> Epoch:
        chosen = self.epochs[0]
        for epoch in self.epochs:
            if epoch.from_shift <= k:
                chosen = epoch
        return chosen

    def rostered(self, k: int) -> str:
        """Who shift k belongs to by the member order alone (no swaps)."""
        epoch = self.epoch_for(k)
        return epoch.members[(epoch.start_pos + k - epoch.from_shift) % len(epoch.members)]

    def holder(self, k: int) -> str:
        """Who shift k belongs to after swaps (latest swap applied to the index first)."""
        index = k
        for swap in reversed(self.swaps):
            if index == swap.shift_a:
                index = swap.shift_b
            elif index == swap.shift_b:
                index = swap.shift_a
        return self.rostered(index)

    def segments(self, start: dt.datetime, end: dt.datetime) -> list[Segment]:
        """The final schedule over [start, end): shifts with overrides cut in, in order,
        clipped to the window. Consecutive segments never overlap and leave no gap
        from the rotation's start on."""
        first = self.shift_at(start)
        k = 0 if first is None else first
        out: list[Segment] = []
        overrides = sorted(self.overrides, key=lambda o: o.start)
        while self.shift_start(k) < end:
            s, e = max(self.shift_start(k), start), min(self.shift_start(k + 1), end)
            if s < e:
                out.extend(self._cut(k, s, e, overrides))
            k += 1
        return out

    def _cut(self, k: int, s: dt.datetime, e: dt.datetime, overrides: list[Override]) -> list[Segment]:
        base = self.holder(k)
        pieces: list[Segment] = []
        cursor = s
        for o in overrides:
            if o.end <= cursor or o.start >= e:
                continue
            if o.start > cursor:
                pieces.append(Segment(self.name, base, cursor, o.start, k, base))
            cursor = min(o.end, e)
            pieces.append(Segment(self.name, o.who, max(o.start, s), cursor, k, base, o.id, o.reason))
        if cursor < e:
            pieces.append(Segment(self.name, base, cursor, e, k, base))
        return pieces

    def at(self, instant: dt.datetime) -> Segment | None:
        """The whole segment running at `instant` (None before the rotation starts)."""
        k = self.shift_at(instant)
        if k is None:
            return None
        for seg in self.segments(self.shift_start(k), self.shift_start(k + 1)):
            if seg.start <= instant < seg.end:
                return seg
        return None

    def handover(self, instant: dt.datetime) -> dict | None:
        """Who is on call at `instant`, since and until when (the whole run of that
        person, across shifts and overrides), and who comes next."""
        current = self.at(instant)
        if current is None:
            return None
        tick = dt.timedelta(microseconds=1)
        since = current.start
        for _ in range(LOOKAHEAD_SHIFTS):  # back over earlier segments of the same person
            earlier = self.at(since - tick)
            if earlier is None or earlier.who != current.who:
                break
            since = earlier.start
        until = nxt = None
        cursor = current.end
        for _ in range(LOOKAHEAD_SHIFTS):
            later = self.at(cursor)
            if later is not None and later.who != current.who:
                until, nxt = cursor, later
                break
            cursor = later.end if later is not None else cursor
        return {"segment": current, "who": current.who, "since": since, "until": until,
                "next": nxt.who if nxt else None}

    # --- member changes -------------------------------------------------------------

    def next_epoch(self, from_shift: int, members: list[str]) -> Epoch:
        """The epoch that changes the order to `members` from `from_shift` on, keeping
        continuity: whoever would have held that shift keeps it if still a member,
        otherwise the next remaining person in the old order takes it."""
        old = self.epoch_for(from_shift)
        expected = self.rostered(from_shift)
        pos = old.members.index(expected)
        for step in range(len(old.members)):
            candidate = old.members[(pos + step) % len(old.members)]
            if candidate in members:
                return Epoch(from_shift, tuple(members), members.index(candidate))
        return Epoch(from_shift, tuple(members), 0)

    def next_shift_after(self, instant: dt.datetime) -> int:
        """The first shift starting after `instant`: where member changes take effect."""
        k = self.shift_at(instant)
        return 0 if k is None else k + 1

    @property
    def members(self) -> tuple[str, ...]:
        """The latest member order."""
        return self.epochs[-1].members if self.epochs else ()
