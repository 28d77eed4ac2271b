"""`reply` and `outbox list|retry|cancel|flush`: replies from the command line."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer

from .. import outbox as outbox_service
from ..errors import EXIT_FAILED, NotFound, UsageError
from ..store import schema
from ..templates import TemplateLibrary
from ..templates.quick import queue_template
from .common import cell, err, one_of, options, out, print_json, table

app = typer.Typer(help="Replies waiting to go out, sent, or failed.", invoke_without_command=True)


@app.callback()
def default(ctx: typer.Context) -> None:
    """With no subcommand: list."""
    if ctx.invoked_subcommand is None:
        list_outbox(ctx, state=None, limit=50, json_out=False)


@app.command("list")
def list_outbox(
    ctx: typer.Context,
    state: list[str] = typer.Option(None, "--state",
                                    help="queued, sending, uncertain, sent, failed, cancelled (repeatable)."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Replies, newest first, with their delivery state ("uncertain": may have been sent)."""
    for s in state or ():
        one_of("--state", s, schema.DELIVERY_STATES, "state")
    with options(ctx).store() as store:
        rows = store.outbox_items(tuple(state) if state else None, limit)
    if json_out:
        print_json(rows)
        return
    grid = table("id", "state", "conv", "channel", "tries", "due / sent", "by", "text", "last error")
    for r in rows:
        when = r["sent_at"] if r["state"] == "sent" else r["next_try_at"]
        error = (r["last_error"] or "")[:60]
        if r["state"] == "uncertain":  # the hint first: the row needs a person
            when, error = "", f"{outbox_service.UNCERTAIN_HINT}" + (f" · {error}" if error else "")
        grid.add_row(cell(r["id"]), cell(r["state"]), cell(r["conversation_id"]), cell(r["channel"]),
                     cell(r["tries"]), cell(when[:19].replace("T", " ")), cell(r["created_by"]),
                     cell(r["text"][:40]), cell(error))
    out.print(grid)
    for r in rows:  # a line of its own, so no table width hides it
        if r["state"] == "uncertain":
            print(f"reply {r['id']} {outbox_service.UNCERTAIN_HINT}:"
                  f" tui-desk outbox retry {r['id']} | tui-desk outbox cancel {r['id']}")


@app.command("retry")
def retry(ctx: typer.Context, outbox_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Send a failed reply again at the next delivery (sync, flush or the TUI); for an
    uncertain one, after you checked that the customer did not get it."""
    opts = options(ctx)
    with opts.store() as store:
        outbox_service.retry(store, outbox_id, opts.config().agent.name)
    err.print(f"reply {outbox_id} queued again", markup=False)


@app.command("cancel")
def cancel(ctx: typer.Context, outbox_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Take back a reply that has not gone out, or stop an uncertain one from being tried
    again (it may have reached the customer). Exit 2 if it is already sent."""
    opts = options(ctx)
    with opts.store() as store:
        was = outbox_service.cancel(store, outbox_id, opts.config().agent.name)
    if was == "uncertain":
        err.print(f"reply {outbox_id} will not be tried again (it may have been sent)", markup=False)
    else:
        err.print(f"reply {outbox_id} cancelled; it will not be sent", markup=False)


@app.command("flush")
def flush(ctx: typer.Context, json_out: bool = typer.Option(False, "--json")) -> None:
    """Deliver every due reply now (cron runs `sync`, which does this too). Exit 1 if one
    failed or may have been sent (uncertain)."""
    opts = options(ctx)
    with opts.store() as store:
        result = outbox_service.deliver_due(opts.config(), store)
    for error in result.errors:
        err.print(f"outbox: {error}", markup=False)
    if json_out:
        print_json({"sent": result.sent, "failed": result.failed, "uncertain": result.uncertain})
    elif result.sent or result.failed or result.uncertain or sys.stdout.isatty():
        print(f"{result.sent} sent, {result.failed} failed"
              + (f", {result.uncertain} may have been sent" if result.uncertain else ""))
    if result.failed or result.uncertain:
        raise typer.Exit(EXIT_FAILED)


def reply(
    ctx: typer.Context,
    conversation_id: int = typer.Argument(..., metavar="CONVERSATION"),
    template: str = typer.Option(None, "--template", "-t", help="A template id (see `templates list`)."),
    text: str = typer.Option(None, "--text", help="The reply text."),
    file: Path = typer.Option(None, "--file", "-f", help="Read the reply text from a file ('-' for stdin)."),
    fill: list[str] = typer.Option(None, "--fill", help='A template slot: --fill "order number=A-17" (repeatable).'),
    note: bool = typer.Option(False, "--note", help="An internal note: stored, never sent."),
    status: str = typer.Option(None, "--status", help="pending or solved (default for a reply: pending)."),
    now: bool = typer.Option(False, "--now", help="No undo window: deliver at once."),
    cc: list[str] = typer.Option(None, "--cc", metavar="ADDR", help="Also to this address, openly (email; repeatable)."),
    bcc: list[str] = typer.Option(None, "--bcc", metavar="ADDR", help="Also to this address, unseen (email; repeatable)."),
    attach: list[Path] = typer.Option(None, "--attach", metavar="FILE", help="Send this file with it (email; repeatable)."),
    reply_all: bool = typer.Option(False, "--all", help="Also to whom the customer copied (their Cc), as reply-all."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Reply to (or note on) a conversation. Queued with the undo window unless --now."""
    opts = options(ctx)
    config = opts.config()
    if sum(x is not None for x in (template, text, file)) != 1:
        raise UsageError("give exactly one of --template, --text, --file")
    if status is not None:
        one_of("--status", status, ("pending", "solved", "open"), "status")
    status = status or (None if note else "pending")
    wait = 0 if now else config.templates.undo_seconds
    agent = config.agent.name
    copies = outbox_service.Copies(tuple(cc or ()), tuple(bcc or ()), tuple(attach or ()))
    if reply_all:
        with opts.store() as store:
            theirs = outbox_service.reply_all(config, store, conversation_id)
        copies = dataclasses.replace(copies, cc=tuple(dict.fromkeys((*theirs, *copies.cc))))
    request = outbox_service.ReplyRequest(conversation_id=conversation_id, agent=agent, note=note, status=status,
                                          undo_seconds=wait, copies=copies)
    with opts.store() as store:
        if template is not None:
            chosen = TemplateLibrary.for_config(config).get(template)
            if chosen is None:
                raise NotFound(f"no template {template!r} (see `tui-desk templates list`)")
            if note:
                raise UsageError("--template sends a reply; write a note with --text or --file")
            queued = queue_template(config, store, chosen, request, answers=_answers(fill)).queued
        else:
            body = text if text is not None else read_text(file)
            queued = outbox_service.queue(store, dataclasses.replace(request, text=body), config=config)
        delivered = outbox_service.deliver_due(config, store) if now and not note else None
        item = store.outbox_item(queued.outbox_id) if queued.outbox_id else None
    if json_out:
        print_json({"message_id": queued.message_id, "outbox_id": queued.outbox_id,
                    "state": item["state"] if item else None,
                    "deliver_at": queued.deliver_at})
    elif note:
        err.print(f"note added to conversation {conversation_id}", markup=False)
    elif item and item["state"] == "sent":
        err.print(f"reply {queued.outbox_id} sent", markup=False)
    elif item and item["state"] == "uncertain":
        err.print(f"reply {queued.outbox_id} {outbox_service.UNCERTAIN_HINT}", markup=False)
    else:
        err.print(f"reply {queued.outbox_id} queued; it goes out after {queued.deliver_at:%H:%M:%S} UTC"
                  f" (tui-desk outbox cancel {queued.outbox_id} takes it back)", markup=False)
    if delivered is not None and (delivered.failed or delivered.uncertain):
        for error in delivered.errors:
            err.print(f"outbox: {error}", markup=False)
        raise typer.Exit(EXIT_FAILED)


def _answers(fill: list[str] | None) -> dict[str, str]:
    answers = {}
    for item in fill or ():
        label, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f'--fill {item!r}: write it as "label=value"')
        answers[label.strip()] = value
    return answers


def read_text(file: Path) -> str:
    try:
        return sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {file}: {exc}") from None
