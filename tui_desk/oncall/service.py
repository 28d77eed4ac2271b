"""On-call operations over the store and the config: what the CLI (and rules) call.

`Oncall` reads rotations from the store into `schedule.Rotation` objects, validates
what people type (unknown person, overlapping override, bad dates and zones become
`UsageError`, exit 2) and records changes. `now` is injectable so tests pin the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from ..config import Config
from ..errors import ConfigError, UsageError
from ..store import Store, parse_stamp, stamp
from . import roster as roster_mod
from .schedule import Epoch, Override, Rotation, Segment, Swap
from .timeparse import (UTC, format_handoff, format_length, localize, parse_day, parse_handoff,
                        parse_length, parse_until, parse_when, zone)

ROTATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_WEEKS = 520


def to_rotation(row: dict) -> Rotation:
    """A store row (with epochs, overrides, swaps) as a schedule object."""
    return Rotation(
        name=row["name"], timezone=row["timezone"], anchor=dt.datetime.fromisoformat(row["anchor"]),
        length_hours=row["length_hours"], only=row["only"], id=row["id"],
        epochs=tuple(Epoch(e["from_shift"], tuple(e["members"]), e["start_pos"]) for e in row["epochs"]),
        swaps=tuple(Swap(s["shift_a"], s["shift_b"], s["id"], s["requested_by"]) for s in row["swaps"]),
        overrides=tuple(Override(o["who"], parse_stamp(o["starts_at"]), parse_stamp(o["ends_at"]), o["id"],
                                 o["reason"]) for o in row["overrides"]),
    )


def _names(text: str | list[str] | None) -> list[str]:
    """"ana,bo" or ["ana", "bo,chen"] → ["ana", "bo", "chen"]."""
    items = [text] if isinstance(text, str) else (text or [])
    return [n.strip().lower() for item in items for n in item.split(",") if n.strip()]


class Oncall:
    """The on-call desk: one store, one config, one clock."""

    def __init__(self, store: Store, config: Config, *, now: dt.datetime | None = None) -> None:
        self.store = store
        self.config = config
        self.now = (now or dt.datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.actor = config.agent.name
        self._roster: roster_mod.Roster | None = None

    # --- people and zones -----------------------------------------------------------

    @property
    def roster(self) -> dict[str, roster_mod.Person]:
        """People from the [oncall] roster file ({} when none is configured)."""
        return self._roster_file().people

    def _roster_file(self) -> roster_mod.Roster:
        if self._roster is None:
            path = self.config.oncall.roster
            if not path:
                self._roster = roster_mod.Roster({}, [])
            else:
                file = Path(path).expanduser()
                if not file.is_absolute() and self.config.path is not None:
                    file = self.config.path.parent / file
                self._roster = roster_mod.load(file)
        return self._roster

    def seed(self) -> list[str]:
        """Create the roster's [[rotations]] in a database that has never had one."""
        seeds = self._roster_file().rotations
        if not seeds or self.store.oncall_ever_used():
            return []
        for i, s in enumerate(seeds):
            try:
                self.add_rotation(s.name, ",".join(s.members), s.length, s.handoff, s.timezone, s.start or None,
                                  s.only)
            except UsageError as exc:
                raise ConfigError(self.config.oncall.roster, f"rotations[{i}]", str(exc)) from None
        return [s.name for s in seeds]

    def display_name(self, who: str | None) -> str:
        person = self.roster.get(who or "")
        return person.name if person and person.name else (who or "")

    def check_people(self, names: list[str], allowed: set[str] | None = None) -> None:
        """UsageError for a name that is not a person: not in the roster when there is
        one, not in `allowed` otherwise (when given), or not a valid id."""
        for name in names:
            if not roster_mod.PERSON_ID.match(name):
                raise UsageError(f"{name!r} is not a person id (lowercase letters, digits, '.', '_', '-')")
            known = set(self.roster) if self.roster else allowed
            if known is not None and name not in known:
                raise UsageError(f"unknown person {name!r} (known: {', '.join(sorted(known)) or 'nobody'})")

    def viewer_tz(self, option: str | None = None) -> ZoneInfo:
        """--tz, else the agent's own zone from the roster, else the desk's zone."""
        if option:
            return zone(option)
        me = self.roster.get(self.config.agent.name.lower())
        return zone(me.timezone if me and me.timezone else self.config.desk.timezone)

    # --- rotations ------------------------------------------------------------------

    def rotation(self, name: str) -> Rotation:
        self.seed()
        return to_rotation(self.store.oncall_rotation(name))

    def rotations(self, name: str | None = None) -> list[Rotation]:
        """The named rotation, or all of them (UsageError when there are none)."""
        self.seed()
        if name:
            return [self.rotation(name)]
        found = [to_rotation(r) for r in self.store.oncall_rotations()]
        if not found:
            raise UsageError("no rotations yet; add one with `tui-desk oncall rotation add`")
        return found

    def one_rotation(self, name: str | None) -> Rotation:
        """The named rotation, or the only one; UsageError when that is ambiguous."""
        found = self.rotations(name)
        if len(found) > 1:
            raise UsageError(f"several rotations: give --rotation ({', '.join(r.name for r in found)})")
        return found[0]

    def add_rotation(self, name: str, members: str, length: str, handoff: str, tz: str,
                     start: str | None = None, only: str = "always") -> Rotation:
        if not ROTATION_NAME.match(name or ""):
            raise UsageError(f"rotation name {name!r}: use lowercase letters, digits, '-' or '_' (at most 40)")
        if only not in ("always", "after-hours"):
            raise UsageError(f"--only must be after-hours or always, not {only!r}")
        people = _names(members)
        if not people:
            raise UsageError("a rotation needs at least one member (--members ana,bo)")
        if len(set(people)) != len(people):
            raise UsageError("a member is listed twice in --members")
        self.check_people(people)
        hours = parse_length(length)
        day, at = parse_handoff(handoff)
        zone_ = zone(tz)
        first = parse_day(start, zone_, now=self.now) if start else self.now.astimezone(zone_).date()
        if day is not None:
            first += dt.timedelta(days=(day - first.weekday()) % 7)
        anchor = dt.datetime.combine(first, at)
        self.store.oncall_add_rotation(
            name=name, timezone=zone_.key, anchor=anchor.isoformat(timespec="minutes"),
            handoff=format_handoff(day, at), length_hours=hours, only=only, members=people, actor=self.actor)
        return self.rotation(name)

    def first_shift_later(self, rot: Rotation) -> tuple[dt.datetime, dt.date] | None:
        """When a rotation's first shift is still ahead (nobody of it is on call until
        then): that instant, and the `--start` day whose handoff is already past."""
        first = rot.shift_start(0)
        if first <= self.now:
            return None
        weekly = parse_handoff(self.store.oncall_rotation(rot.name)["handoff"])[0] is not None
        return first, first.astimezone(rot.tz).date() - dt.timedelta(days=7 if weekly else 1)

    def describe(self, rot: Rotation, tz: ZoneInfo) -> dict:
        row = self.store.oncall_rotation(rot.name)
        start = rot.shift_start(0)
        return {
            "name": rot.name, "members": list(rot.members), "length": format_length(rot.length_hours),
            "length_hours": rot.length_hours, "handoff": row["handoff"], "timezone": rot.timezone,
            "only": rot.only, "starts": stamp(start), "period_hours":
            rot.length_hours * len(rot.members),
            "overrides": [self.override_dict(rot, o, tz) for o in rot.overrides],
            "swaps": [{"id": s.id, "shift_a": s.shift_a, "shift_b": s.shift_b, "requested_by": s.requested_by}
                      for s in rot.swaps],
        }

    def change_members(self, name: str, add: list[str] | None, remove: list[str] | None,
                       order: str | None) -> dict:
        add, remove, new_order = _names(add), _names(remove), _names(order)
        if not (add or remove or new_order):
            raise UsageError("say what changes: --add X, --remove Y or --order a,c,b")
        self.check_people(add)

        def decide(row: dict) -> tuple[int, list[str], int]:
            rot = to_rotation(row)
            members = list(rot.members)
            for person in remove:
                if person not in members:
                    raise UsageError(f"{person!r} is not a member of {name} ({', '.join(members)})")
                members.remove(person)
            for person in add:
                if person in members:
                    raise UsageError(f"{person!r} is already a member of {name}")
                members.append(person)
            if new_order:
                if sorted(new_order) != sorted(members) or len(set(new_order)) != len(new_order):
                    raise UsageError(f"--order must name every member exactly once ({', '.join(members)})")
                members = new_order
            if not members:
                raise UsageError("a rotation needs at least one member; remove the rotation instead")
            epoch = rot.next_epoch(rot.next_shift_after(self.now), members)
            return epoch.from_shift, list(epoch.members), epoch.start_pos

        from_shift, members, _ = self.store.oncall_change_members(name, decide, self.actor)
        rot = self.rotation(name)
        return {"rotation": name, "members": members, "from_shift": from_shift,
                "effective": stamp(rot.shift_start(from_shift))}

    # --- overrides and swaps --------------------------------------------------------

    def override_dict(self, rot: Rotation, o: Override, tz: ZoneInfo) -> dict:
        return {"id": o.id, "rotation": rot.name, "who": o.who, "from": stamp(o.start),
                "to": stamp(o.end), "reason": o.reason}

    def add_override(self, rotation: str | None, who: str, start: str, end: str, tz: str | None,
                     reason: str = "") -> dict:
        rot = self.one_rotation(rotation)
        zone_ = self.viewer_tz(tz)
        who = who.strip().lower()
        members = {m for e in rot.epochs for m in e.members}
        self.check_people([who], members)
        a, b = parse_when(start, zone_, now=self.now), parse_when(end, zone_, now=self.now)
        if b <= a:
            raise UsageError("--to must be after --from")
        oid = self.store.oncall_add_override(rot.name, who=who, starts_at=stamp(a), ends_at=stamp(b),
                                             reason=reason, actor=self.actor)
        rot = self.rotation(rot.name)
        return self.override_dict(rot, next(o for o in rot.overrides if o.id == oid), zone_)

    def swap(self, rotation: str | None, first: str, second: str) -> dict:
        rot = self.one_rotation(rotation)
        ka, kb = self._shift_of(rot, first), self._shift_of(rot, second)
        if ka == kb:
            raise UsageError("both dates fall in the same shift")
        for k, text in ((ka, first), (kb, second)):
            if rot.shift_start(k + 1) <= self.now:
                raise UsageError(f"the shift of {text} is over; past shifts do not change")
        a, b = rot.holder(ka), rot.holder(kb)
        if a == b:
            raise UsageError(f"both shifts are {a}'s; nothing to swap")
        detail = {"shift_a": ka, "shift_b": kb, "a_was": a, "b_was": b,
                  "a_start": stamp(rot.shift_start(ka)), "b_start": stamp(rot.shift_start(kb))}
        sid = self.store.oncall_add_swap(rot.name, ka, kb, self.actor, detail)
        return {"id": sid, "rotation": rot.name, "requested_by": self.actor, **detail}

    def _shift_of(self, rot: Rotation, text: str) -> int:
        tz = rot.tz
        if "T" in text or " " in text.strip():
            k = rot.shift_at(parse_when(text, tz, now=self.now))
        else:
            k = rot.first_shift_on(parse_day(text, tz, now=self.now))
        if k is None:
            raise UsageError(f"{text} is before rotation {rot.name} starts")
        return k

    # --- reading the schedule -------------------------------------------------------

    def active(self, rot: Rotation, instant: dt.datetime) -> bool:
        """False while the desk is open for an after-hours rotation: the team is at work,
        so automatic pages wait. An explicit `oncall page` still reaches whoever's turn it is."""
        return rot.only != "after-hours" or not self.config.desk.hours().is_open(instant)

    def who(self, at: str | None, rotation: str | None, tz: str | None) -> list[dict]:
        zone_ = self.viewer_tz(tz)
        instant = parse_when(at, zone_, now=self.now) if at else self.now
        out = []
        for rot in self.rotations(rotation):
            info = rot.handover(instant)
            out.append(self._who_dict(rot, instant, info, zone_))
        return out

    def _who_dict(self, rot: Rotation, instant: dt.datetime, info: dict | None, tz: ZoneInfo) -> dict:
        iso = lambda t: stamp(t) if t else None  # noqa: E731
        if info is None:
            return {"rotation": rot.name, "at": iso(instant), "who": None, "name": None, "since": None,
                    "until": None, "next": None, "next_name": None, "override": None, "active": False,
                    "starts": iso(rot.shift_start(0))}
        seg: Segment = info["segment"]
        return {"rotation": rot.name, "at": iso(instant), "who": info["who"], "name": self.display_name(info["who"]),
                "since": iso(info["since"]), "until": iso(info["until"]), "next": info["next"],
                "next_name": self.display_name(info["next"]) if info["next"] else None, "override": seg.override, "active": self.active(rot, instant)}

    def current_name(self) -> str | None:
        """The display name of who is on call now (the first rotation with somebody)."""
        for rot in [to_rotation(r) for r in self.store.oncall_rotations()]:
            info = rot.handover(self.now)
            if info is not None:
                return self.display_name(info["who"])
        return None

    def status(self) -> str | None:
        """One line for a status bar: "on call: Ana Lima until Mon 09:00" (None without
        rotations). Several rotations: the first one with somebody on call."""
        for rot in [to_rotation(r) for r in self.store.oncall_rotations()]:
            info = rot.handover(self.now)
            if info is not None:
                until = info["until"].astimezone(self.viewer_tz()).strftime(" until %a %H:%M") if info["until"] else ""
                return f"on call: {self.display_name(info['who'])}{until}"
        return None

    def window(self, start: str | None, weeks: int, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        if not 1 <= weeks <= MAX_WEEKS:
            raise UsageError(f"--weeks must be between 1 and {MAX_WEEKS}")
        day = parse_day(start, tz, now=self.now) if start else self.now.astimezone(tz).date()
        begin = localize(dt.datetime.combine(day, dt.time()), tz, strict=False)
        end = localize(dt.datetime.combine(day + dt.timedelta(weeks=weeks), dt.time()), tz, strict=False)
        return begin, end

    def schedule(self, rotation: str | None, start: str | None, weeks: int, tz: ZoneInfo) -> list[Segment]:
        """Whole shifts touching the window (so none is cut at its edges), overrides applied."""
        begin, end = self.window(start, weeks, tz)
        out: list[Segment] = []
        for rot in self.rotations(rotation):
            first = rot.shift_at(begin)
            last = rot.shift_at(end - dt.timedelta(microseconds=1))
            if last is None:
                continue
            a = rot.shift_start(first) if first is not None else rot.shift_start(0)
            out.extend(rot.segments(a, rot.shift_start(last + 1)))
        return sorted(out, key=lambda s: (s.start, s.rotation))

    def hours(self, since: dt.datetime, until: dt.datetime) -> dict[str, float] | None:
        """Hours each person (by id) was on call over [since, until), counted as the
        report's `hours`; None when the database has no rotation. Only reads: the
        roster's rotations are not created here."""
        rows = self.store.oncall_rotations()
        if not rows:
            return None
        if until <= since:
            return {}
        from . import report as report_mod  # the report's arithmetic: `oncall now` never needs it
        return report_mod.hours_on_call([to_rotation(r) for r in rows], since, until, self.config.desk.hours())

    def report(self, since: str | None, until: str | None, rotation: str | None, tz: str | None) -> dict:
        zone_ = self.viewer_tz(tz)
        end = parse_until(until, zone_, now=self.now) if until else self.now
        begin = parse_when(since, zone_, now=self.now) if since else end - dt.timedelta(days=28)
        if end <= begin:
            raise UsageError("--until must be after --since")
        from . import night as night_mod, report as report_mod
        oc = self.config.oncall
        weights = report_mod.Weights(oc.comp_days_per_shift, oc.weekend_weight, oc.holiday_weight)

        def handled(who: str, intervals: list) -> int:
            names = [who] + ([self.roster[who].name] if who in self.roster and self.roster[who].name else [])
            return self.store.oncall_handled(names, [(stamp(a), stamp(b)) for a, b in intervals])

        result = report_mod.build(
            self.rotations(rotation), begin, end, holidays=self.config.desk.hours().holidays, weights=weights,
            hours=self.config.desk.hours(), conversations=handled,
            person_tz={pid: p.timezone for pid, p in self.roster.items() if p.timezone})
        result["since"], result["until"] = stamp(begin), stamp(end)
        result["night"] = night_mod.night(self.store, begin, end, self.config.desk.hours(),
                                          {pid: p.timezone for pid, p in self.roster.items() if p.timezone})
        return result
