"""`tui-desk sync`: pull every channel (from cron every minute, or by hand)."""

from __future__ import annotations

import sys

import typer

from .. import sync as sync_service
from ..errors import EXIT_FAILED
from .common import error_line, options, print_json


def sync(
    ctx: typer.Context,
    channel: str = typer.Option(None, "--channel", help="Sync only this channel."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object with the counts."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing unless something failed."),
    watch: bool = typer.Option(False, "--watch", help="Keep running: IMAP IDLE brings new mail in within seconds."),
    interval: float = typer.Option(60.0, "--interval", min=1.0, help="With --watch: sync at least this often (s)."),
) -> None:
    """Pull new messages from every channel, then deliver due replies. Exit 0 ok, 1 a channel failed, 2 config error,
    75 another sync is running."""
    opts = options(ctx)
    config = opts.config()
    if watch:
        _watch(opts, config, channel, interval, json_out, quiet)
        return
    progress = _progress if (sys.stderr.isatty() and not quiet and not json_out) else None
    with opts.store() as store:
        result = sync_service.run(config, store, only=channel, progress=progress)
    if progress:
        sys.stderr.write("\r\033[K")
    for outcome in result.channels.values():
        if outcome.error:
            error_line(outcome.error)
    for error in result.outbox_errors:
        error_line(f"outbox: {error}")
    if json_out:
        print_json(result.as_json())
    elif not quiet and sys.stdout.isatty():
        for name, r in result.channels.items():
            print(f"{name}: {r.new} new, {r.duplicates} duplicates, {r.fetched} fetched")
        if result.sent or result.failed:
            print(f"outbox: {result.sent} sent, {result.failed} failed")
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _progress(channel: str, fetched: int) -> None:
    sys.stderr.write(f"\r\033[K{channel}: {fetched} messages")
    sys.stderr.flush()


def _watch(opts, config, channel: str | None, interval: float, json_out: bool, quiet: bool) -> None:
    """`--watch`: one line (or JSON object) per pass that found something or failed."""
    def on_result(result) -> None:
        for outcome in result.channels.values():
            if outcome.error:
                error_line(outcome.error)
        if json_out:
            print_json(result.as_json())
        elif not quiet:
            for name, r in result.channels.items():
                if r.new:
                    print(f"{name}: {r.new} new", flush=True)

    def on_error(message: str) -> None:
        error_line(message)

    with opts.store() as store:
        sync_service.watch(config, store, only=channel, interval=interval, on_result=on_result, on_error=on_error)
