"""tui-desk: a terminal support desk for small teams. The `tui-desk` command.

    tui-desk [--config PATH] [--db PATH] COMMAND

With no command it opens the agent console. Exit codes: 0 ok; 1 something failed
(e.g. a channel; the others still ran); 2 bad config or input; 75 another sync holds
the lock; 130 interrupted. No traceback reaches a user (TUI_DESK_DEBUG=1 shows it).
"""

from __future__ import annotations

import os
import sqlite3
import sys

import typer

from tui_desk.commands import (
    conversations, faq as faq_cmd, oncall, outbox as outbox_cmd, reports, rules as rules_cmd, setup, sync as sync_cmd,
    templates as templates_cmd,
)
from tui_desk.commands import customers as customers_cmd
from tui_desk.commands.common import Options, error_line, options
from tui_desk.errors import EXIT_FAILED, DeskError

app = typer.Typer(
    name="tui-desk",
    help="A terminal support desk: email and chat in one keyboard-driven queue.",
    invoke_without_command=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # plain help: Rich markup would eat "[storage] database" and show flags as "<bool>"
    rich_markup_mode=None,
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
        from tui_desk.commands.inbox import open_tui
        open_tui(options(ctx))


app.command("init")(setup.init)
app.command("demo")(setup.demo)
app.command("sync")(sync_cmd.sync)
app.command("search")(conversations.search)
app.add_typer(conversations.app, name="conversations")
app.add_typer(customers_cmd.app, name="customers")
app.add_typer(setup.config_app, name="config")
app.command("reply")(outbox_cmd.reply)
app.add_typer(outbox_cmd.app, name="outbox")
app.add_typer(templates_cmd.app, name="templates")
app.add_typer(faq_cmd.app, name="faq")
app.add_typer(oncall.app, name="oncall")
app.add_typer(reports.app, name="report")
app.add_typer(rules_cmd.app, name="rules")
app.add_typer(rules_cmd.agents_app, name="agents")


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
    except sqlite3.OperationalError as exc:  # e.g. locked for longer than the busy timeout
        error_line(f"tui-desk: database problem: {exc} (is another process holding it? try again)")
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # a bug: say so in one line; the traceback only on request
        if os.environ.get("TUI_DESK_DEBUG"):
            raise
        error_line(f"tui-desk: internal error: {type(exc).__name__}: {exc} (TUI_DESK_DEBUG=1 shows details)")
        sys.exit(EXIT_FAILED)


if __name__ == "__main__":
    main()
