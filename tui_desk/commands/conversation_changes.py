"""`conversations assign|status|tag|note`: every change the console makes, from a shell
(the on-call person on a phone's SSH client, or a script). Each prints what it did, or
with --json the conversation as `conversations list --json` shows it; an unknown id,
agent or status exits 2 and changes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from ..changes import SNOOZE_PRESETS, parse_tags, snooze_until
from ..errors import NotFound, UsageError
from ..store import Store
from ..store.schema import STATUSES
from .common import err, known_name, one_of, options, print_json, summary

AGENT_HELP = "An agent, 'me' ([agent] name) or 'none' (unassign)."


def assign(ctx: typer.Context, conversation_id: int = typer.Argument(..., metavar="ID"),
           agent: str = typer.Argument(..., metavar="AGENT", help=AGENT_HELP),
           json_out: bool = typer.Option(False, "--json")) -> None:
    """Assign a conversation to an agent, to yourself (me), or to nobody (none)."""
    opts = options(ctx)
    config = opts.config()
    with opts.store() as store:
        _existing(store, conversation_id)
        target = None if agent == "none" else known_name("AGENT", agent, "agent", config, store)
        store.assign(conversation_id, target, config.agent.name)
        _done(store, conversation_id, json_out, f"assigned to {target}" if target else "unassigned")


def status(ctx: typer.Context, conversation_id: int = typer.Argument(..., metavar="ID"),
           new_status: str = typer.Argument(..., metavar="STATUS", help=", ".join(STATUSES) + "."),
           snooze_until_text: str = typer.Option(
               None, "--snooze-until", metavar="WHEN",
               help="For snoozed: " + ", ".join(p for p, _ in SNOOZE_PRESETS)
                    + ', or a time ("2026-12-24 09:00", desk time zone).'),
           json_out: bool = typer.Option(False, "--json")) -> None:
    """Set a conversation's status; snoozed needs --snooze-until (it wakes up open then)."""
    opts = options(ctx)
    config = opts.config()
    one_of("STATUS", new_status, STATUSES, "status")
    if (new_status == "snoozed") != (snooze_until_text is not None):
        raise UsageError("--snooze-until goes with the status snoozed, and snoozed needs it"
                         " (e.g. `status 12 snoozed --snooze-until tomorrow`)")
    until = _when(snooze_until_text, config.desk.timezone) if snooze_until_text else None
    with opts.store() as store:
        _existing(store, conversation_id)
        store.set_status(conversation_id, new_status, config.agent.name, snoozed_until=until)
        _done(store, conversation_id, json_out,
              f"snoozed until {until:%Y-%m-%d %H:%M} UTC" if until else f"status {new_status}")


def tag(ctx: typer.Context, conversation_id: int = typer.Argument(..., metavar="ID"),
        words: list[str] = typer.Argument(..., metavar="+TAG|-TAG...",
                                          help="+x (or x) adds the tag x, -y removes y."),
        json_out: bool = typer.Option(False, "--json")) -> None:
    """Add and remove tags: `conversations tag 12 +billing -spam`."""
    opts = options(ctx)
    add, remove = parse_tags(" ".join(words))
    if not add and not remove:
        raise UsageError("name a tag to add (+x) or remove (-x)")
    with opts.store() as store:
        _existing(store, conversation_id)
        tags = store.set_tags(conversation_id, add, remove, opts.config().agent.name)
        _done(store, conversation_id, json_out, "tags: " + (" ".join(tags) or "none"))


def note(ctx: typer.Context, conversation_id: int = typer.Argument(..., metavar="ID"),
         text: str = typer.Option(None, "--text", help="The note."),
         file: Path = typer.Option(None, "--file", "-f", help="Read the note from a file ('-' for stdin)."),
         json_out: bool = typer.Option(False, "--json")) -> None:
    """Add an internal note: stored and shown to the team, never sent to the customer."""
    from .. import outbox as outbox_service  # (the outbox and templates: only for a note)
    from .outbox import read_text
    if (text is None) == (file is None):
        raise UsageError("give exactly one of --text, --file")
    body = text if text is not None else read_text(file)
    if not body.strip():
        raise UsageError("the note is empty")
    opts = options(ctx)
    config = opts.config()
    with opts.store() as store:
        _existing(store, conversation_id)
        queued = outbox_service.queue(store, outbox_service.ReplyRequest(
            conversation_id=conversation_id, text=body, agent=config.agent.name, note=True), config=config)
        if json_out:
            print_json({"message_id": queued.message_id, "conversation": summary(store.conversation(conversation_id))})
        else:
            err.print(f"note added to conversation {conversation_id}", markup=False)


def _existing(store: Store, conversation_id: int) -> None:
    conversation = store.conversation(conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    if conversation["merged_into"] is not None:
        raise UsageError(f"conversation {conversation_id} was merged into {conversation['merged_into']}; change that one")


def _when(text: str, zone: str) -> dt.datetime:
    from ..oncall.timeparse import parse_when
    now = dt.datetime.now(dt.timezone.utc)
    until = snooze_until(text, now, zone) if text in dict(SNOOZE_PRESETS) else parse_when(text, ZoneInfo(zone))
    if until <= now:
        raise UsageError(f"--snooze-until {text!r} is in the past")
    return until


def _done(store: Store, conversation_id: int, json_out: bool, what: str) -> None:
    if json_out:
        print_json(summary(store.conversation(conversation_id)))
    else:
        err.print(f"conversation {conversation_id}: {what}", markup=False)
