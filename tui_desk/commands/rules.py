"""`tui-desk rules check|test|replay|stats` and `tui-desk agents …`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from ..errors import EXIT_USAGE, ConfigError, UsageError
from ..textsafe import one_line
from ..store import stamp
from .common import cell, error_line, known_name, options, out, print_json, table

app = typer.Typer(help="Automation rules: lint them, try them, replay them, count them.", no_args_is_help=True)
agents_app = typer.Typer(help="The team: who can be assigned, and who is away.", no_args_is_help=True)


def _known_agents(opts) -> set[str]:
    """The agents the database knows (besides the config's), for checking rules."""
    if not opts.database().exists():
        return set()
    with opts.store() as store:
        return set(store.agent_names())


def _ruleset(ctx: typer.Context):
    """The config and its rules, checked (a mistake exits 2 naming file, rule and key)."""
    from ..rules.spec import load_rules

    opts = options(ctx)
    config = opts.config()
    return config, load_rules(config, known_agents=_known_agents(opts))


def lint(config, opts) -> list[ConfigError]:
    """Every problem of the rules (config check runs this too)."""
    from ..rules.spec import problems
    from ..templates.library import TemplateLibrary

    return problems(config, {t.id for t in TemplateLibrary.for_config(config).templates()}, _known_agents(opts))


@app.command("check")
def check(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Lint the rules; exit 2 on a problem.

    Finds unknown fields, operators, actions, templates, agents and groups, bad regexes,
    and rules that an earlier rule always stops before."""
    opts = options(ctx)
    config = opts.config()
    errors = lint(config, opts)
    if json_out:
        print_json({"ok": not errors, "config": str(config.path),
                    "errors": [{"file": str(e.path), "key": e.key, "problem": e.problem} for e in errors]})
    elif not errors:
        print(f"{config.path or 'config'}: {len(config.rules)} rules, no problems")
    for error in errors:
        error_line(f"tui-desk: {error}")
    if errors:
        raise typer.Exit(EXIT_USAGE)


@app.command("test")
def test(ctx: typer.Context,
         conversation: int = typer.Option(None, "--conversation", help="Try the rules on this conversation."),
         file: Path = typer.Option(None, "--file", help="Try them on a mail file, as a new conversation."),
         channel: str = typer.Option(None, "--channel", help="With --file: the channel it arrives on."),
         event: list[str] = typer.Option(None, "--event", help="With --conversation: the event(s) to try (default: its"
                                         " latest message's: message.new and conversation.new or customer.reply)."),
         json_out: bool = typer.Option(False, "--json")) -> None:
    """Which rules match, what they would do, what the loop guard says. Changes nothing."""
    from ..rules.runner import dry_run_conversation, dry_run_message
    from ..rules.spec import EVENTS

    unknown = [e for e in event or [] if e not in EVENTS]
    if unknown:
        raise UsageError(f"unknown event {unknown[0]!r} (one of: {', '.join(EVENTS)})")
    if (conversation is None) == (file is None):
        raise UsageError("give one of --conversation ID or --file MAIL.eml")
    config, ruleset = _ruleset(ctx)
    with options(ctx).store() as store:
        if file is not None:
            from ..parse.mail import parse_email
            try:
                raw = file.read_bytes()
            except OSError as exc:
                raise UsageError(f"cannot read {file}: {exc.strerror}") from None
            name = channel or (config.channels[0].name if config.channels else "mail")
            result = dry_run_message(config, store, ruleset, parse_email(raw, dt.datetime.now(dt.timezone.utc)), name)
        else:
            result = dry_run_conversation(config, store, ruleset, conversation, set(event) if event else None)
    if json_out:
        print_json(result.as_json())
        return
    data = result.as_json()
    out.print(f"events: {', '.join(data['events'])}; class: {data['class']}; automatic reply: {data['auto_reply']}",
              markup=False)
    if not result.firings:
        out.print("no rule matches", markup=False)
    for firing in result.firings:
        out.print(one_line(firing.words()) + ("  (stop)" if firing.rule.stop else ""), markup=False)


@app.command("replay")
def replay(ctx: typer.Context,
           since: str = typer.Option("7d", "--since", help="An age (7d, 4w, 12h) or a date."),
           json_out: bool = typer.Option(False, "--json")) -> None:
    """What the rules would have done over a period; changes nothing.

    Runs them inside a transaction that is rolled back, and prints per rule how many
    messages matched and what it would have done."""
    from ..reports.period import parse_when
    from ..rules.runner import replay as run_replay

    config, ruleset = _ruleset(ctx)
    start = parse_when(since, config.desk.timezone, dt.datetime.now(dt.timezone.utc))
    with options(ctx).store() as store:
        result = run_replay(config, store, ruleset, start)
    if json_out:
        print_json(result.as_json())
        return
    out.print(f"{result.messages} messages since {since}", markup=False)
    grid = table("rule", "matched", "would have done")
    for rule_id, entry in result.rules.items():
        done = "; ".join(f"{words} ×{n}" for words, n in entry["actions"].items()) or "-"
        grid.add_row(cell(rule_id), cell(entry["matched"]), cell(done))
    out.print(grid)


@app.command("stats")
def stats(ctx: typer.Context,
          since: str = typer.Option(None, "--since", help="An age (7d, 4w) or a date; default: ever."),
          json_out: bool = typer.Option(False, "--json")) -> None:
    """How often each rule fired, and when last."""
    from ..reports.period import parse_when

    config, ruleset = _ruleset(ctx)
    start = parse_when(since, config.desk.timezone, dt.datetime.now(dt.timezone.utc)) if since else None
    with options(ctx).store() as store:
        fired = store.rule_stats(start)
    rows = [{"rule": r.id, "fired": fired.get(r.id, {}).get("fired", 0), "last": fired.get(r.id, {}).get("last")}
            for r in ruleset.rules]
    rows += [{"rule": rule_id, "fired": v["fired"], "last": v["last"], "removed": True}
             for rule_id, v in fired.items() if rule_id not in {r.id for r in ruleset.rules}]
    if json_out:
        print_json(rows)
        return
    grid = table("rule", "fired", "last")
    for row in rows:
        grid.add_row(cell(row["rule"] + (" (no longer configured)" if row.get("removed") else "")),
                     cell(row["fired"]), cell(row["last"] or "-"))
    out.print(grid)


# -- agents ---------------------------------------------------------------------------


@agents_app.command("list")
def agents_list(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Every agent: from the config, the groups and the database; who is away."""
    from ..rules.spec import all_groups
    config = options(ctx).config()
    groups = all_groups(config)
    with options(ctx).store() as store:
        rows = {r["name"]: r for r in store.agent_rows()}
    now = stamp(dt.datetime.now(dt.timezone.utc))
    names = sorted(set(rows) | {a.name for a in config.agents} | {m for g in groups for m in g.members})
    emails = {a.name: a.email for a in config.agents}
    listed = []
    for name in names:
        row = rows.get(name, {})
        away = row.get("away_until") if (row.get("away_until") or "") > now else None
        listed.append({"name": name, "email": emails.get(name) or row.get("email") or "",
                       "away_until": away, "groups": [g.name for g in groups if name in g.members]})
    if json_out:
        print_json(listed)
        return
    grid = table("agent", "email", "groups", "away")
    for a in listed:
        grid.add_row(cell(a["name"]), cell(a["email"]), cell(", ".join(a["groups"])),
                     cell(("until " + a["away_until"]) if a["away_until"] else ""))
    out.print(grid)


@agents_app.command("add")
def agents_add(ctx: typer.Context, name: str, email: str = typer.Option("", "--email")) -> None:
    """Add an agent (or set their email)."""
    with options(ctx).store() as store:
        new = store.add_agent(name, email)
    print(f"{'added' if new else 'updated'} {one_line(name)}")


@agents_app.command("remove")
def agents_remove(ctx: typer.Context, name: str,
                  unassign: bool = typer.Option(False, "--unassign",
                                                help="Leave their conversations still going unassigned.")) -> None:
    """Take an agent off the team (someone who left). Exit 2 while they hold conversations
    (see --unassign), or while the config names them ([[agents]], [[groups]])."""
    from ..rules.spec import all_groups
    opts = options(ctx)
    config = opts.config()
    named = [a.name for a in config.agents] + [m for g in all_groups(config) for m in g.members]
    if name in named:
        raise UsageError(f"{name} is in {config.path or 'the config'} ([[agents]] or [[groups]]):"
                         " remove them there; the database keeps no other record to remove")
    with opts.store() as store:
        name = known_name("NAME", name, "agent", config, store)
        listed, unassigned = store.remove_agent(name, unassign, config.agent.name)
    print(f"removed {one_line(name)}" + (f"; {unassigned} conversations left unassigned" if unassigned else "")
          + ("" if listed else " (they were only an assignee)"))


@agents_app.command("away")
def agents_away(ctx: typer.Context, name: str,
                until: str = typer.Option(None, "--until", help='When they are back: "2026-12-24 09:00" or a date.')) -> None:
    """Mark an agent away: groups skip them when assigning."""
    from ..oncall.timeparse import parse_when, zone

    config = options(ctx).config()
    back = parse_when(until, zone(config.desk.timezone)) if until else dt.datetime(9999, 1, 1, tzinfo=dt.timezone.utc)
    with options(ctx).store() as store:
        name = known_name("NAME", name, "agent", config, store)
        store.set_away(name, back)
    print(f"{one_line(name)} is away" + (f" until {until}" if until else " (until `agents back`)"))


@agents_app.command("back")
def agents_back(ctx: typer.Context, name: str) -> None:
    """An away agent is back."""
    with options(ctx).store() as store:
        name = known_name("NAME", name, "agent", options(ctx).config(), store)
        store.set_away(name, None)
    print(f"{one_line(name)} is back")

