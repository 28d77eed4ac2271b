"""`templates list|show|check|stats|suggest|promote|demote`: the reply templates from the command line."""

from __future__ import annotations

import typer

from ..errors import EXIT_FAILED, NotFound, UsageError
from ..textsafe import clean
from ..templates import TemplateLibrary, check_library
from ..templates.quick import preview
from ..templates.stages import GateRefused, automatic, change_stage, stage_of
from ..templates.stats import CLOSE_DAYS, TemplateStats, template_stats
from ..templates.suggest import suggest as suggest_for
from .common import cell, options, out, print_json, since_time, table

app = typer.Typer(help="Reply templates: list, show, check, stats, suggest, promote, demote.",
                  invoke_without_command=True)


@app.callback()
def default(ctx: typer.Context) -> None:
    """With no subcommand: list."""
    if ctx.invoked_subcommand is None:
        list_templates(ctx, json_out=False)


def _library(ctx: typer.Context) -> TemplateLibrary:
    return TemplateLibrary.for_config(options(ctx).config())


def _summary(t) -> dict:
    return {"id": t.id, "title": t.title, "tags": list(t.tags), "keywords": list(t.keywords), "key": t.key,
            "channels": list(t.channels), "language": t.language, "auto": t.auto, "path": str(t.path)}


def _stages(ctx: typer.Context) -> dict[str, str]:
    """The stages the team set (none yet without a database: listing creates none)."""
    opts = options(ctx)
    if not opts.database().exists():
        return {}
    with opts.store() as store:
        return store.template_stages()


def _stage_history(ctx: typer.Context, template) -> dict:
    """{"stage", "history": [stage changes, oldest first]} (no database: none yet)."""
    opts = options(ctx)
    if not opts.database().exists():
        return {"stage": stage_of({}, template), "history": []}
    with opts.store() as store:
        changes = store.stage_history(template.id)
        return {"stage": stage_of(store.template_stages(), template),
                "history": [{k: c[k] for k in ("at", "actor", "from", "to", "reason")} for c in changes]}


@app.command("list")
def list_templates(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Every readable template with its stage (broken files: see `templates check`)."""
    library = _library(ctx)
    templates = library.templates()
    stages = _stages(ctx)
    if json_out:
        print_json([{**_summary(t), "stage": stage_of(stages, t)} for t in templates])
        return
    grid = table("key", "id", "title", "tags", "channels", "auto", "stage")
    for t in templates:
        grid.add_row(cell(t.key or ""), cell(t.id), cell(t.title), cell(", ".join(t.tags)),
                     cell(", ".join(t.channels) or "all"), cell("yes" if t.auto else ""), cell(stage_of(stages, t)))
    out.print(grid)
    out.print(f"{len(templates)} templates in {library.folder}", markup=False, highlight=False)


@app.command("show")
def show(ctx: typer.Context, template_id: str = typer.Argument(..., metavar="ID"),
         conversation: int = typer.Option(None, "--conversation", "-C",
                                          help="Render it for this conversation (a preview)."),
         json_out: bool = typer.Option(False, "--json")) -> None:
    """A template's front matter and body, or its rendering for a conversation."""
    opts = options(ctx)
    template = _library(ctx).get(template_id)
    if template is None:
        raise NotFound(f"no template {template_id!r} (see `tui-desk templates list`)")
    data = {**_summary(template), "body": template.body, **_stage_history(ctx, template)}
    if conversation is not None:
        with opts.store() as store:
            draft = preview(opts.config(), store, template, conversation, agent=opts.config().agent.name)
        data["preview"] = {"to": draft.to, "text": draft.rendered.text, "ok": draft.rendered.ok,
                           "problems": draft.rendered.problems, "slots": draft.rendered.slots}
    if json_out:
        print_json(data)
        return
    print(f"{template.id}: {clean(template.title)}  (key {template.key or '-'}, tags {', '.join(template.tags) or '-'})")
    if data["stage"]:
        print(f"stage: {data['stage']}")
    for change in data["history"]:
        print(f"  {change['at']} {clean(change['actor'])}: {change['from']} → {change['to']}"
              + (f" ({clean(change['reason'])})" if change["reason"] else ""))
    if conversation is None:
        print(clean(template.body))
        return
    print(f"to: {data['preview']['to']}\n")
    print(clean(data["preview"]["text"]))
    for problem in data["preview"]["problems"]:
        print(f"problem: {clean(problem)}")
    if draft.rendered.missing:
        print("to fill in: " + ", ".join(draft.rendered.missing))


@app.command("check")
def check(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Front matter, syntax, unknown variables, duplicate keys. Exit 1 on problems."""
    library = _library(ctx)
    if not library.folder.is_dir():
        raise UsageError(f"templates folder {library.folder} does not exist ([templates] dir)")
    problems = check_library(library)
    if json_out:
        print_json({"folder": str(library.folder), "ok": not problems, "problems": problems})
    else:
        for name, found in sorted(problems.items()):
            for problem in found:
                print(f"{name}: {clean(problem)}")
        if not problems:
            print(f"{library.folder}: {len(library.templates())} templates, no problems")
    if problems:
        raise typer.Exit(EXIT_FAILED)


@app.command("suggest")
def suggest(ctx: typer.Context, conversation: int = typer.Argument(..., metavar="CONVERSATION_ID"),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """The 3 templates most likely to answer the conversation, learnt from the desk's replies."""
    opts = options(ctx)
    with opts.store() as store:
        found = suggest_for(opts.config(), store, _library(ctx), conversation)
    if json_out:
        print_json([s.as_json() for s in found])
        return
    if not found:
        print(f"no template suggestion for #{conversation}")
        return
    grid = table("template", "title", "score", "reason")
    for s in found:
        grid.add_row(cell(s.template.id), cell(s.template.title), cell(f"{s.score:.2f}"), cell(s.reason))
    out.print(grid)


@app.command("stats")
def stats(ctx: typer.Context,
          since: str = typer.Option(None, "--since", help="A date (2026-03-01) or an age (7d, 4w)."),
          days: int = typer.Option(CLOSE_DAYS, "--days", min=1, help="Quiet days after which a reply counts as closed."),
          json_out: bool = typer.Option(False, "--json")) -> None:
    """Stage, uses, close rate, median handling time, satisfaction and automatic precision per template."""
    library = _library(ctx)
    with options(ctx).store() as store:
        rows = {r.template: r for r in template_stats(store, since_time(since), days=days)}
        stages = store.template_stages()
        known = {t.id: t for t in library.templates()}
        ids = [*rows, *sorted(set(known) - set(rows))]
        autos = {tid: automatic(store, tid) for tid in ids}
    data = []
    for tid in ids:
        base = rows[tid].as_json() if tid in rows else TemplateStats(tid, 0, 0, 0, 0, None, None, 0).as_json()
        auto = autos[tid]
        stage = stage_of(stages, known[tid]) if tid in known else stages.get(tid, "")
        data.append({**base, "stage": stage, "automatic_uses": auto.uses,
                     "automatic_precision": None if auto.precision is None else round(auto.precision, 4)})
    if json_out:
        print_json(data)
        return
    grid = table("template", "stage", "uses", "closed", "reopened", "pending", "close rate", "median handling",
                 "satisfaction", "automatic", "precision")
    for r in data:
        rate = "-" if r["close_rate"] is None else f"{r['close_rate']:.0%}"
        handling = "-" if r["median_handling_seconds"] is None else _duration(r["median_handling_seconds"])
        score = "-" if r["satisfaction"] is None else f"{r['satisfaction']:.1f} ({r['satisfaction_answers']})"
        precision = "-" if r["automatic_precision"] is None else f"{r['automatic_precision']:.0%}"
        grid.add_row(cell(r["template"]), cell(r["stage"] or "auto-only"), cell(r["uses"]), cell(r["closed"]),
                     cell(r["reopened"]), cell(r["pending"]), cell(rate), cell(handling), cell(score),
                     cell(r["automatic_uses"]), cell(precision))
    out.print(grid)


def _change(ctx: typer.Context, template_id: str, stage: str, json_out: bool, up: bool) -> None:
    from ..rules.spec import load_rules
    opts = options(ctx)
    config = opts.config()
    with opts.store() as store:
        ruleset = load_rules(config, known_agents=set(store.agent_names()))
        try:
            change = change_stage(config, store, _library(ctx), ruleset, template_id, stage,
                                  actor=config.agent.name or "cli", up=up)
        except GateRefused as refused:
            if json_out:
                print_json({"template": template_id, "from": store.template_stage(template_id), "to": stage,
                            "refused": str(refused), "gate": refused.gate.as_json()})
            raise
    if json_out:
        print_json(change.as_json())
        return
    print(f"template {change.template}: {change.before} → {change.after}")
    if change.gate:
        for check in change.gate.checks:
            print(f"  {check.words}")


@app.command("promote")
def promote(ctx: typer.Context, template_id: str = typer.Argument(..., metavar="ID"),
            to: str = typer.Option(..., "--to", help="manual, suggest, draft or auto (auto needs the gate)."),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """Raise a template's stage; to auto only when its measured gate holds (else exit 2, with the reason)."""
    _change(ctx, template_id, to, json_out, up=True)


@app.command("demote")
def demote(ctx: typer.Context, template_id: str = typer.Argument(..., metavar="ID"),
           to: str = typer.Option(None, "--to", help="manual, suggest or draft (default: one stage down)."),
           json_out: bool = typer.Option(False, "--json")) -> None:
    """Lower a template's stage (from auto: rules stop sending it at once)."""
    _change(ctx, template_id, to, json_out, up=False)


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
