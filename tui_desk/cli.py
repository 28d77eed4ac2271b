"""tui-desk: a terminal support desk for small teams. The `tui-desk` command.

    tui-desk [--config PATH] [--db PATH] COMMAND

With no command it opens the agent console. Exit codes: 0 ok; 1 something failed
(e.g. a channel; the others still ran); 2 bad config or input; 75 another sync holds
the lock; 130 interrupted. No traceback reaches a user (TUI_DESK_DEBUG=1 shows it).
"""

from __future__ import annotations

import os
import sys

import typer

from .commands.common import Options, error_line, options
from .commands.lazy import SETTINGS, Lazy, LazyGroup
from .errors import EXIT_FAILED, DeskError

C = "tui_desk.commands."
COMMANDS: dict[str, Lazy] = {
    # name in `tui-desk --help` order: (module, attribute, the first sentence of its help).
    # A module is imported only when its command runs, so each command starts fast.
    "init": Lazy(C + "setup", "init", "Write a starter config and create the database."),
    "demo": Lazy(C + "setup", "demo", "Open the demo desk, built from data/demo the first time (or with --fresh)."),
    "sync": Lazy(C + "sync", "sync", "Pull new messages from every channel, then deliver due replies."),
    "search": Lazy(C + "conversations", "search", "Full-text search over subjects and messages, best match first."),
    "reply": Lazy(C + "outbox", "reply", "Reply to (or note on) a conversation."),
    "conversations": Lazy(C + "conversations", "app", "List and show conversations."),
    "customers": Lazy(C + "customers", "app", "Customers: list, show, link identities, merge and unmerge records."),
    "config": Lazy(C + "setup", "config_app", "Where the config is, and whether it is valid."),
    "outbox": Lazy(C + "outbox", "app", "Replies waiting to go out, sent, or failed."),
    "templates": Lazy(C + "templates", "app", "Reply templates: list, show, check, stats, suggest, promote, demote."),
    "faq": Lazy(C + "faq", "app", "The FAQ site built from templates with faq = true, and what it does not answer yet."),
    "oncall": Lazy(C + "oncall", "app", "The on-call rotation: who carries the emergency phone, and when."),
    "report": Lazy(C + "reports", "app", "The numbers a small team steers by (see docs/reports.md)."),
    "rules": Lazy(C + "rules", "app", "Automation rules: lint them, try them, replay them, count them."),
    "agents": Lazy(C + "rules", "agents_app", "The team: who can be assigned, and who is away."),
}


class Root(LazyGroup):
    table = COMMANDS


app = typer.Typer(
    name="tui-desk",
    help="A terminal support desk: email and chat in one keyboard-driven queue.",
    invoke_without_command=True,
    cls=Root,
    # pretty_exceptions_enable=False, add_completion=False and plain help (Rich markup
    # would eat "[storage] database" and show flags as "<bool>"), for every command
    **SETTINGS,
)


@app.callback()
def main_options(
    ctx: typer.Context,
    config: str = typer.Option(None, "--config", "-c", help="Config file (else $TUI_DESK_CONFIG, else the user config dir)."),
    db: str = typer.Option(None, "--db", help="Database file (else [storage] database, else the user data dir)."),
) -> None:
    """Open the agent console when no command is given."""
    ctx.obj = Options(config_path=config, db_path=db)
    if ctx.invoked_subcommand is None:
        from .commands.inbox import open_tui
        open_tui(options(ctx))


def main() -> None:
    """Console-script entry point: run the app, turn errors into one line and an exit code."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except DeskError as exc:
        error_line(f"tui-desk: {exc}")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage mistakes: Typer prints usage and the problem
        show = getattr(exc, "show", None)
        if show:
            show()
        else:
            error_line(f"tui-desk: {exc.format_message()}")
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        error_line("tui-desk: interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("TUI_DESK_DEBUG"):
            raise
        error_line(f"tui-desk: internal error: {type(exc).__name__}: {exc} (TUI_DESK_DEBUG=1 shows details)")
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
