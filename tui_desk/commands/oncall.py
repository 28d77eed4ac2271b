"""`tui-desk oncall …`: the on-call rotation from the command line.

Thin: parse options, call tui_desk.oncall.service, print a table or `--json`. Times are
shown in the viewer's zone (--tz, else the agent's roster zone, else the desk's).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from ..errors import UsageError
from ..oncall.service import Oncall
from ..store import stamp
from ..textsafe import one_line
from .common import cell, error_line, options, out, print_json
from .oncall_common import JSON, ROTATION, TZ, _desk, _t, _table, _zone_line

if TYPE_CHECKING:  # paging, escalation and the calendar are imported where used: `oncall now` stays quick
    from ..oncall.schedule import Segment

app = typer.Typer(help="The on-call rotation: who carries the emergency phone, and when.")
rotation_app = typer.Typer(help="Add, list, show and remove rotations.")
override_app = typer.Typer(help="One person covers an interval instead of the shift's holder.")
app.add_typer(rotation_app, name="rotation")
app.add_typer(override_app, name="override")


def _help_without_subcommand(ctx: typer.Context) -> None:
    """A group given no subcommand prints its help and exits 0 (no_args_is_help would
    end in an exception the CLI reports as an internal error)."""
    if ctx.invoked_subcommand is None:
        print(ctx.get_help())
        raise typer.Exit(0)


for _group in (app, rotation_app, override_app):
    _group.callback(invoke_without_command=True)(_help_without_subcommand)

# --- rotations ---------------------------------------------------------------------------

@rotation_app.command("add")
def rotation_add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Short name, e.g. support."),
    members: str = typer.Option(..., "--members", help="Comma-separated person ids, in order."),
    length: str = typer.Option("1w", "--length", help="Shift length: 12h, 1d, 1w, 2w..."),
    handoff: str = typer.Option("mon 09:00", "--handoff", help='Local handoff time: "mon 09:00" or "09:00".'),
    tz: str = typer.Option(..., "--tz", help="The rotation's IANA zone; handoffs keep its wall-clock time."),
    start: str = typer.Option(None, "--start", help="First day (default today); the first handoff is on or after it."),
    only: str = typer.Option("always", "--only", help="after-hours (nobody paged while the desk is open) or always."),
    json_out: bool = JSON,
) -> None:
    """Create a rotation."""
    with _desk(ctx) as desk:
        rot = desk.add_rotation(name, members, length, handoff, tz, start, only)
        zone = rot.tz
        shown = desk.describe(rot, zone)
        later = desk.first_shift_later(rot)
    if later:  # on stderr, also with --json: a person or a script should see it
        first, day = later
        error_line(f"tui-desk: warning: nobody in rotation {rot.name} is on call until its first shift,"
                   f" {_t(first, zone)}; to have someone on call now, remove it and add it again with"
                   f" --start {day.isoformat()}")
    if json_out:
        print_json(shown)
    else:
        out.print(f"rotation {rot.name}: {', '.join(rot.members)}; first shift {_t(shown['starts'], zone)}", markup=False)


@rotation_app.command("list")
def rotation_list(ctx: typer.Context, tz: str = TZ, json_out: bool = JSON) -> None:
    """Every rotation."""
    with _desk(ctx) as desk:
        zone = desk.viewer_tz(tz)
        rows = [desk.describe(r, zone) for r in _all(desk)]
    if json_out:
        print_json(rows)
        return
    grid = _table("name", "members", "length", "handoff", "zone", "only", "starts")
    for r in rows:
        grid.add_row(cell(r["name"]), cell(", ".join(r["members"])), cell(r["length"]), cell(r["handoff"]),
                     cell(r["timezone"]), cell(r["only"]), cell(_t(r["starts"], zone)))
    _zone_line(zone)
    out.print(grid)


def _all(desk: Oncall) -> list:
    from ..oncall.service import to_rotation
    desk.seed()
    return [to_rotation(r) for r in desk.store.oncall_rotations()]


@rotation_app.command("show")
def rotation_show(ctx: typer.Context, name: str = typer.Argument(...), tz: str = TZ, json_out: bool = JSON) -> None:
    """One rotation: members, handoff, overrides, swaps."""
    with _desk(ctx) as desk:
        zone = desk.viewer_tz(tz)
        shown = desk.describe(desk.rotation(name), zone)
    if json_out:
        print_json(shown)
        return
    out.print(f"{name}: every {shown['length']} at {shown['handoff']} ({shown['timezone']}), {shown['only']}",
              markup=False)
    out.print(f"members: {', '.join(shown['members'])}; first shift {_t(shown['starts'], zone)}", markup=False)
    for o in shown["overrides"]:
        out.print(f"override {o['id']}: {o['who']} {_t(o['from'], zone)} → {_t(o['to'], zone)} {one_line(o['reason'])}", markup=False)
    for s in shown["swaps"]:
        out.print(f"swap {s['id']}: shifts {s['shift_a']} ⇄ {s['shift_b']} (asked by {s['requested_by']})",
                  markup=False)


@rotation_app.command("remove")
def rotation_remove(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Delete a rotation with its overrides and swaps."""
    with _desk(ctx) as desk:
        desk.store.oncall_remove_rotation(name, desk.actor)
    out.print(f"removed rotation {name}", markup=False)


@app.command("members")
def members(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Rotation name."),
    add: list[str] = typer.Option(None, "--add", help="Person id(s) to append to the order."),
    remove: list[str] = typer.Option(None, "--remove", help="Person id(s) to take out; their future shifts go to the others."),
    order: str = typer.Option(None, "--order", help="The new order, every member once: a,c,b."),
    json_out: bool = JSON,
) -> None:
    """Change members from the next handoff on; past and current shifts never change."""
    with _desk(ctx) as desk:
        result = desk.change_members(name, add, remove, order)
        zone = desk.viewer_tz(None)
    if json_out:
        print_json(result)
    else:
        out.print(f"{name}: {', '.join(result['members'])} from {_t(result['effective'], zone)}", markup=False)


# --- who is on call --------------------------------------------------------------------

def _print_who(rows: list[dict], json_out: bool, zone: ZoneInfo) -> None:
    if json_out:
        print_json(rows)
        return
    grid = _table("rotation", "who", "since", "until", "next", "note")
    for r in rows:
        note = ("override" if r["override"] else "") + ("" if r["active"] or r["who"] is None else " desk open")
        if r["who"] is None:
            note = f"starts {_t(r.get('starts'), zone)}"
        grid.add_row(cell(r["rotation"]), cell(r["name"] or r["who"] or "nobody"), cell(_t(r["since"], zone)),
                     cell(_t(r["until"], zone)), cell(r["next_name"] or r["next"] or "-"), cell(note.strip()))
    _zone_line(zone)
    out.print(grid)


@app.command("now")
def now(ctx: typer.Context, rotation: str = ROTATION, tz: str = TZ, json_out: bool = JSON) -> None:
    """Who is on call now, since when, until when, and who is next."""
    with _desk(ctx) as desk:
        rows = desk.who(None, rotation, tz)
        zone = desk.viewer_tz(tz)
    _print_who(rows, json_out, zone)


@app.command("who")
def who(ctx: typer.Context, at: str = typer.Option(..., "--at", help='An instant: "2026-12-24 22:00".'),
        rotation: str = ROTATION, tz: str = TZ, json_out: bool = JSON) -> None:
    """Who is on call at a given time (in --tz, else your zone)."""
    with _desk(ctx) as desk:
        rows = desk.who(at, rotation, tz)
        zone = desk.viewer_tz(tz)
    _print_who(rows, json_out, zone)


def segment_dict(desk: Oncall, seg: Segment, tz: ZoneInfo) -> dict:
    return {"rotation": seg.rotation, "who": seg.who, "name": desk.display_name(seg.who),
            "start": stamp(seg.start), "end": stamp(seg.end),
            "hours": round(seg.hours, 2), "shift": seg.shift, "override": seg.override, "base": seg.base}


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    start: str = typer.Option(None, "--from", help="First day (default today)."),
    weeks: int = typer.Option(4, "--weeks", help="How many weeks."),
    rotation: str = ROTATION, tz: str = TZ, json_out: bool = JSON,
) -> None:
    """The final schedule (swaps and overrides applied), in your zone."""
    with _desk(ctx) as desk:
        zone = desk.viewer_tz(tz)
        rows = [segment_dict(desk, s, zone) for s in desk.schedule(rotation, start, weeks, zone)]
    if json_out:
        print_json(rows)
        return
    grid = _table("rotation", "who", "from", "to", "hours", "note")
    for r in rows:
        note = f"override {r['override']} (for {r['base']})" if r["override"] else ""
        grid.add_row(cell(r["rotation"]), cell(r["name"] or r["who"]), cell(_t(r["start"], zone)), cell(_t(r["end"], zone)),
                     cell(f"{r['hours']:g}"), cell(note))
    _zone_line(zone)
    out.print(grid)


# --- overrides and swaps ---------------------------------------------------------------

@override_app.command("add")
def override_add(
    ctx: typer.Context,
    who: str = typer.Option(..., "--who", help="Who covers."),
    start: str = typer.Option(..., "--from", help='Start: "2026-12-24 18:00".'),
    end: str = typer.Option(..., "--to", help="End (exclusive)."),
    rotation: str = ROTATION, tz: str = TZ,
    reason: str = typer.Option("", "--reason"),
    json_out: bool = JSON,
) -> None:
    """Have someone cover exactly [from, to)."""
    with _desk(ctx) as desk:
        shown = desk.add_override(rotation, who, start, end, tz, reason)
        zone = desk.viewer_tz(tz)
    if json_out:
        print_json(shown)
    else:
        out.print(f"override {shown['id']}: {shown['who']} {_t(shown['from'], zone)} → {_t(shown['to'], zone)}", markup=False)


@override_app.command("list")
def override_list(ctx: typer.Context, rotation: str = ROTATION, tz: str = TZ, json_out: bool = JSON) -> None:
    """Overrides, earliest first."""
    with _desk(ctx) as desk:
        zone = desk.viewer_tz(tz)
        rows = [desk.override_dict(r, o, zone) for r in desk.rotations(rotation) for o in r.overrides]
    if json_out:
        print_json(rows)
        return
    grid = _table("id", "rotation", "who", "from", "to", "reason")
    for r in rows:
        grid.add_row(cell(r["id"]), cell(r["rotation"]), cell(r["who"]), cell(_t(r["from"], zone)), cell(_t(r["to"], zone)),
                     cell(r["reason"]))
    _zone_line(zone)
    out.print(grid)


@override_app.command("remove")
def override_remove(ctx: typer.Context, override_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Delete an override."""
    with _desk(ctx) as desk:
        desk.store.oncall_remove_override(override_id, desk.actor)
    out.print(f"removed override {override_id}", markup=False)


@app.command("swap")
def swap(
    ctx: typer.Context,
    rotation: str = ROTATION,
    shift: str = typer.Option(..., "--shift", help="A day (the shift starting that day) or an instant."),
    other: str = typer.Option(..., "--with", help="The other shift, the same way."),
    json_out: bool = JSON,
) -> None:
    """Two people exchange shifts (recorded with who asked)."""
    with _desk(ctx) as desk:
        result = desk.swap(rotation, shift, other)
    if json_out:
        print_json(result)
    else:
        out.print(f"swapped: {result['b_was']} takes shift {result['shift_a']}, "
                  f"{result['a_was']} takes shift {result['shift_b']}", markup=False)


# --- export, report, page --------------------------------------------------------------

@app.command("export")
def export(
    ctx: typer.Context,
    ics_file: Path = typer.Option(..., "--ics", help="Calendar file to write (RFC 5545); - writes it to stdout."),
    weeks: int = typer.Option(12, "--weeks"),
    start: str = typer.Option(None, "--from", help="First day (default today)."),
    rotation: str = ROTATION,
    who: str = typer.Option(None, "--who", help="Only this person's shifts ('me': the [agent] name)."),
) -> None:
    """Write the schedule as an .ics calendar (stable UIDs: re-import updates)."""
    with _desk(ctx) as desk:
        zone = desk.viewer_tz(None)
        segments = desk.schedule(rotation, start, weeks, zone)
        name = f"{desk.config.desk.name} on call"
        if who is not None:
            person = desk.actor.lower() if who == "me" else who
            desk.check_people([person], {m for r in desk.rotations(rotation) for m in r.members})
            segments = [s for s in segments if s.who == person]
            name += f": {desk.display_name(person)}"
        from ..oncall import ics
        data = ics.calendar(segments, name=name, stamp=desk.now)
    if str(ics_file) == "-":  # a pipe: `oncall export --ics - | ssh host 'cat > oncall.ics'`
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        ics_file.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {ics_file}: {exc.strerror}") from None
    out.print(f"wrote {len(segments)} events to {ics_file}", markup=False)


@app.command("report")
def report(
    ctx: typer.Context,
    since: str = typer.Option(None, "--since", help="Start: a day (from its midnight) or a time (default 28 days before --until)."),
    until: str = typer.Option(None, "--until", help="End: a day (included, to its end) or a time (default now)."),
    rotation: str = ROTATION, tz: str = TZ, json_out: bool = JSON,
) -> None:
    """Per person: hours, nights, weekends, holidays, overrides, conversations, compensation."""
    with _desk(ctx) as desk:
        result = desk.report(since, until, rotation, tz)
        zone = desk.viewer_tz(tz)
    if json_out:
        print_json(result)
        return
    grid = _table("who", "hours", "nights", "weekend", "holiday", "shifts", "ovr in", "ovr out", "convs", "comp")
    for p in result["people"]:
        grid.add_row(*(cell(p[k]) for k in ("who", "hours", "nights", "weekends", "holidays", "shifts",
                                            "overrides_taken", "overrides_given", "conversations", "comp_days")))
    out.print(f"{_t(result['since'], zone)} to {_t(result['until'], zone)} {zone.key} "
              "(hours; comp = compensation days)", style="dim", markup=False)
    out.print(grid)
    night = result["night"]
    if night["weeks"]:
        weeks = _table("week of", "after hours", "urgent", "paged")
        for w in night["weeks"]:
            weeks.add_row(w["week"], str(w["after_hours"]), str(w["urgent"]), str(w["paged"]))
        out.print(weeks)
    if night["people"]:
        out.print("pages: " + ", ".join(f"{p['who']} {p['pages']} ({p['nights_disturbed']} nights disturbed)"
                                        for p in night["people"]) +
                  f"; median minutes to acknowledge {cell(night['median_minutes_to_ack'] or '-')},"
                  f" acknowledgement to reply {cell(night['median_minutes_ack_to_reply'] or '-')}", markup=False)
    for f in result["rotations"]:
        if f["suggested_next"]:
            out.print(f"{f['rotation']}: uneven load (spread {f['spread_hours']} weighted hours); "
                      f"suggested next: {f['suggested_next']}", markup=False)


from . import oncall_pages  # noqa: E402 (page, ack, pages: they use the helpers above)
for _name in ("page", "ack", "pages"):
    app.command(_name)(getattr(oncall_pages, _name))
