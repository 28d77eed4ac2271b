"""`faq build|suggest`: the FAQ site from the templates, and what it should answer next."""

from __future__ import annotations

from pathlib import Path

import typer

from ..faq import build as build_site
from ..faq.suggest import suggest as suggest_clusters
from ..store import stamp
from ..templates import TemplateLibrary
from ..textsafe import one_line
from .common import cell, error_line, options, out, print_json, since_time, table

app = typer.Typer(help="The FAQ site built from templates with faq = true, and what it does not answer yet.",
                  no_args_is_help=True)


@app.command("build")
def build(ctx: typer.Context, out_dir: Path = typer.Argument(..., metavar="OUT_DIR",
                                                            help="Folder to write the site into (empty, or an earlier build)."),
          json_out: bool = typer.Option(False, "--json")) -> None:
    """Write the FAQ site: one page per language, most used answers first, with search.
    Exit 2 naming each template that cannot be published (and nothing is written)."""
    opts = options(ctx)
    config = opts.config()
    with opts.store() as store:
        entries, files, broken = build_site(config, store, out_dir)
    for name, problem in sorted(broken.items()):
        error_line(f"tui-desk: left out {name}: {problem} (see `tui-desk templates check`)")
    languages = sorted({e.language for e in entries})
    if json_out:
        print_json({"folder": str(out_dir), "index": str(files[0]), "entries": len(entries), "languages": languages,
                    "files": [str(f) for f in files], "left_out": broken})
        return
    print(f"{files[0]}: {len(entries)} entries in {len(languages)} languages ({', '.join(languages)})")


@app.command("suggest")
def suggest(ctx: typer.Context,
            since: str = typer.Option("90d", "--since", help="A date (2026-03-01) or an age (7d, 4w, 3m)."),
            min_count: int = typer.Option(2, "--min-count", min=1, help="Leave out questions asked fewer times."),
            limit: int = typer.Option(10, "--limit", min=1, help="How many clusters to list."),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """The questions answered by hand most often that no FAQ entry covers: what to write next."""
    opts = options(ctx)
    templates = TemplateLibrary.for_config(opts.config()).templates()
    start = since_time(since)
    with opts.store() as store:
        clusters = suggest_clusters(store, templates, since=stamp(start) if start else None,
                                    min_count=min_count, limit=limit)
    if json_out:
        print_json([c.as_json() for c in clusters])
        return
    if not clusters:
        print(f"no question was answered by hand {min_count} times or more that the FAQ does not cover")
        return
    grid = table("count", "asked like", "conversations")
    for c in clusters:
        shown = one_line(c.example.text or c.example.subject)
        grid.add_row(cell(c.count), cell(shown[:80] + ("…" if len(shown) > 80 else "")),
                     cell(", ".join(map(str, c.conversations[:6])) + (" …" if c.count > 6 else "")))
    out.print(grid)
