"""`tui-desk sync`: pull every channel (from cron every minute, or by hand)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys

import typer

from .. import sync as sync_service
from ..errors import EXIT_FAILED, EXIT_LOCKED, LockedError
from .common import cell, error_line, one_of, options, out, print_json, table


def sync(
    ctx: typer.Context,
    channel: str = typer.Option(None, "--channel", help="Sync only this channel."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object with the counts."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing unless something failed or needs attention."),
    watch: bool = typer.Option(False, "--watch", help="Keep syncing until interrupted: IMAP IDLE and Matrix"
                               " long-polls bring new messages in within seconds."),
    poll: float = typer.Option(30.0, "--poll", min=1.0, help="--watch: longest pause between runs (s)."),
    cycles: int = typer.Option(0, "--cycles", min=0, hidden=True, help="--watch: stop after N runs (tests)."),
    quarantined: bool = typer.Option(False, "--quarantined", help="Do not sync: list the messages given up on"
                                     " after repeated failures (with --json: as JSON)."),
) -> None:
    """Pull new messages from every channel, then deliver due replies. Exit 0 ok, 1 a channel failed, 2 config error,
    75 another sync is running."""
    opts = options(ctx)
    config = opts.config()
    if channel is not None:
        one_of("--channel", channel, [c.name for c in config.channels], "channel")
    if quarantined:
        _list_quarantined(opts, json_out, channel)
        return
    if not config.channels and sys.stderr.isatty() and not (quiet or json_out):
        # (the outbox is still delivered: replies queued before the channels were removed)
        error_line(f"tui-desk: no channels to sync: add a [[channels]] table to {config.path or 'your config'}"
                   " (see config.example.toml and docs/email.md)")
    with _stop_on_signals():
        if watch:
            _watch(opts, config, channel, json_out, quiet, poll, cycles)
        else:
            _sync_once(opts, config, channel, json_out, quiet)


def _sync_once(opts, config, channel: str | None, json_out: bool, quiet: bool) -> None:
    """One run; the summary on a terminal, JSON with --json, silence with --quiet."""
    progress = _progress if (sys.stderr.isatty() and not quiet and not json_out) else None
    try:
        with opts.store() as store:
            result = sync_service.run(config, store, only=channel, progress=progress)
    except LockedError:
        if quiet:  # cron's normal case while a long sync runs: exit 75 in silence
            raise typer.Exit(EXIT_LOCKED) from None
        raise
    if progress:
        sys.stderr.write("\r\033[K")
    _report_problems(result)
    if json_out:
        print_json(result.as_json())
    elif not quiet and sys.stdout.isatty():
        for name, r in result.channels.items():
            print(f"{name}: {r.new} new, {r.duplicates} duplicates, {r.fetched} fetched"
                  + (f" ({r.conflicts} with other bytes under a stored Message-ID: see `conversations show`)"
                     if r.conflicts else ""))
        if result.sent or result.failed or result.uncertain:
            print(f"outbox: {result.sent} sent, {result.failed} failed"
                  + (f", {result.uncertain} may have been sent" if result.uncertain else ""))
    if not json_out and not quiet:  # the team must hear of it, tty or cron mail
        for template in result.rules.demoted:
            print(f"template {template}: taken out of auto, back to draft (see `tui-desk templates stats`)")
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


def _watch(opts, config, channel: str | None, json_out: bool, quiet: bool, poll: float, cycles: int) -> None:
    """One line (or JSON object) per run that brought something or failed; Ctrl-C ends it."""
    failed = False

    def report(result) -> None:
        nonlocal failed
        if result is None:
            if not quiet:
                error_line("another sync is running; waiting")
            return
        failed = failed or not result.ok
        _report_problems(result)
        if json_out:
            # one line per round (JSON lines); ASCII-escaped, so no control character gets through
            print(json.dumps(result.as_json(), ensure_ascii=True), flush=True)
        elif not quiet and (result.sent or any(r.new for r in result.channels.values())):
            news = [f"{name}: {r.new} new" for name, r in result.channels.items() if r.new]
            if result.sent:
                news.append(f"outbox: {result.sent} sent")
            print(", ".join(news), flush=True)

    with opts.store() as store:
        sync_service.watch(config, store, only=channel, poll=poll, cycles=cycles, on_result=report,
                           on_error=error_line)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _report_problems(result) -> None:
    """Errors and warnings on stderr, one line each (also with --quiet: cron mails them)."""
    for name, outcome in result.channels.items():
        for warning in outcome.warnings:
            error_line(f"warning: channel {name}: {warning}")
        if outcome.error:
            error_line(outcome.error)
    for error in result.outbox_errors:
        error_line(f"outbox: {error}")
    for error in result.pages.errors:
        error_line(f"pages: {error}")


def _list_quarantined(opts, json_out: bool, channel: str | None) -> None:
    with opts.store() as store:
        items = [i for i in store.quarantined() if channel is None or i.channel == channel]
    if json_out:
        print_json([item._asdict() for item in items])
        return
    if not items:
        print("nothing quarantined")
        return
    grid = table("channel", "item", "tries", "quarantined", "last failure")
    for item in items:
        grid.add_row(cell(item.channel), cell(item.key), cell(item.tries), cell(item.at), cell(item.reason))
    out.print(grid)


def _progress(channel: str, fetched: int) -> None:
    sys.stderr.write(f"\r\033[K{channel}: {fetched} messages")
    sys.stderr.flush()


def _interrupted(signum, _frame) -> None:
    """Ctrl-C, SIGTERM or SIGHUP while the sync works: it ends at once, as a kill would
    end it (which loses nothing: every batch is a transaction, the lock goes with the
    process, the parse workers die with it). Not by raising: a KeyboardInterrupt raised
    in the middle of a fork's own callbacks is printed and swallowed there, and a normal
    exit would join the parse pool's manager thread, which an interrupt can leave waiting
    forever on a result a killed worker never finished writing."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    os.write(2, b"tui-desk: interrupted\n")  # unbuffered: the handler may run inside a write to stderr
    os._exit(130)


@contextlib.contextmanager
def _stop_on_signals():
    """While the sync works, Ctrl-C, SIGTERM and SIGHUP end it at once (exit 130). Once
    it is done the earlier handlers come back, so a signal during interpreter shutdown
    ends the process quietly instead of raising inside logging's exit hooks."""
    previous = {signum: signal.signal(signum, _interrupted) for signum in sync_service.HELD_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
