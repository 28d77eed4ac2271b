"""`init`, `demo` and `config path|check`: getting a desk going."""

from __future__ import annotations

from pathlib import Path

import typer

from .. import demo as demo_mod, paths
from ..config import find_config_path, load
from ..errors import EXIT_FAILED, EXIT_USAGE, ConfigError, UsageError
from ..textsafe import one_line
from .common import err, error_line, options, out, print_json

config_app = typer.Typer(help="Where the config is, and whether it is valid.", no_args_is_help=True)


def init(ctx: typer.Context, force: bool = typer.Option(False, "--force", help="Overwrite an existing config.")) -> None:
    """Write a starter config and create the database."""
    opts = options(ctx)
    target = Path(opts.config_path).expanduser() if opts.config_path else paths.config_dir() / "config.toml"
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    example = paths.shipped_root() / "config.example.toml"
    target.write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    target.chmod(0o600)  # it will hold passwords (or say where they are)
    opts.config_path = str(target)
    with opts.store():
        pass
    err.print(f"wrote {target}; database at {opts.database()}", markup=False, highlight=False)
    warnings = _channel_warnings(opts.config())
    for warning in warnings:
        error_line(f"tui-desk: warning: {warning}")
    if warnings:
        err.print(f"next: point the channels in {target} at your mail and chat, then run `tui-desk config check`"
                  " (`tui-desk demo` still opens the demo desk)", markup=False, highlight=False)


def demo(
    ctx: typer.Context,
    db: Path = typer.Option(None, "--db", help="Where to build the demo database."),
    no_tui: bool = typer.Option(False, "--no-tui", help="Build it and print its path; do not open the TUI."),
    fresh: bool = typer.Option(False, "--fresh", help="Build it anew, even if it was built before."),
) -> None:
    """Open the demo desk, built from data/demo the first time (or with --fresh)."""
    opts = options(ctx)
    db = db or (Path(opts.db_path) if opts.db_path else None)
    built = None if fresh else demo_mod.existing(db)
    if built:
        config_path, result = built[0], None
    else:
        config_path, result = demo_mod.build(db)
    opts.config_path, opts.db_path, opts._config = str(config_path), None, None
    database = opts.database()
    print(database)
    if built:
        err.print(f"the demo desk built {built[1]} UTC, as you left it (--fresh builds it anew)",
                  markup=False, highlight=False)
    err.print(f"demo FAQ site: {demo_mod.faq_dir(database) / 'index.html'}", markup=False, highlight=False)
    if result is not None and not result.ok:
        for outcome in result.channels.values():
            if outcome.error:
                err.print(outcome.error, markup=False)
    if not no_tui:
        from .inbox import open_tui
        open_tui(opts)


@config_app.command("path")
def config_path(ctx: typer.Context) -> None:
    """Print the config file in use (and whether it exists) and the database path."""
    opts = options(ctx)
    path = find_config_path(opts.config_path)
    print(f"config:   {path}{'' if path.exists() else '  (missing: built-in defaults apply)'}")
    print(f"database: {opts.database()}")


@config_app.command("check")
def config_check(ctx: typer.Context, json_out: bool = typer.Option(False, "--json"),
                 connect: bool = typer.Option(False, "--connect", help="Also log in to every channel's server"
                                              " and SMTP server, reading and sending nothing (exit 1 if one fails).")
                 ) -> None:
    """Validate the config as the console does ([keys] included); exit 2 naming the file
    and key of every mistake."""
    opts = options(ctx)
    try:
        config = load(opts.config_path, required=True)
    except ConfigError as exc:
        config, errors = None, [exc]
    else:
        from .rules import lint
        for warning in config.warnings:
            error_line(f"tui-desk: {warning}")
        opts._config = config  # checked once: the rules lint reads the same config
        errors = _keymap_errors(config) + lint(config, opts)
    if errors:
        if json_out:
            print_json({"ok": False, "config": str(config.path if config else find_config_path(opts.config_path)),
                        "errors": [{"file": str(e.path), "key": e.key, "problem": e.problem} for e in errors]})
        for error in errors:
            error_line(f"tui-desk: {error}")
        raise typer.Exit(EXIT_USAGE)
    warnings = _channel_warnings(config)
    for warning in warnings:
        error_line(f"tui-desk: warning: {warning}")
    summary = {
        "config": str(config.path),
        "database": str(config.database_path(opts.db_path)),
        "channels": [{"name": c.name, "kind": c.kind} for c in config.channels],
    }
    reached = _reach_servers(config) if connect else None
    if json_out:
        print_json({"ok": True, **summary, "warnings": warnings, **({"connect": reached} if connect else {})})
    else:
        out.print(f"{config.path}: ok ({len(config.channels)} channels"
                  + (f", {len(warnings)} warning{'s' * (len(warnings) > 1)}" if warnings else "") + ")", markup=False)
        for r in reached or ():
            print(f"{'ok  ' if r['ok'] else 'FAIL'}  {r['channel']}: {one_line(r['what'])}"
                  + ("" if r["ok"] else f": {one_line(r['error'])}"))
    if reached and not all(r["ok"] for r in reached):
        raise typer.Exit(EXIT_FAILED)


def _reach_servers(config) -> list[dict]:
    """`--connect`: every channel's servers, then the SMTP server of [oncall.smtp]."""
    from ..channels import attempt, probe, smtp
    found = [(c.name, *pair) for c in config.channels for pair in probe(config, c)]
    if config.oncall.smtp is not None:
        from ..oncall.page import endpoint
        pages = endpoint(config)
        found.append(("oncall", *attempt(f"SMTP for pages at {pages.host}:{pages.port}", lambda: smtp.probe(pages))))
    return [{"channel": name, "what": what, "ok": error is None, "error": error} for name, what, error in found]


def _channel_warnings(config) -> list[str]:
    """What would not work as meant, seen without a network: a Maildir or chat export
    path that is not there (a starter config's example path, say), or an unreadable
    signature file."""
    from ..channels import local_problem
    found = []
    for entry in (config.agent, *config.agents):  # a signature file that cannot be read signs nothing
        if entry.signature_file and not config.signing(entry.name)[1] and not entry.signature:
            found.append(f"agent {entry.name}: signature_file {entry.signature_file} cannot be read")
    for channel_config in config.channels:
        problem = local_problem(config, channel_config)
        if problem:
            found.append(f"channel {channel_config.name}: {problem}")
    return found


def _keymap_errors(config) -> list[ConfigError]:
    """The console's own [keys] check (unknown actions, clashing keys). It needs the
    console's bindings, so Textual is imported, but only when there is a [keys] table."""
    if not config.keys:
        return []
    from ..tui.app import keymap_errors
    return keymap_errors(config)
