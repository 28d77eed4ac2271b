"""`conversations list|show` and `search`: the queue from the command line (the changes,
`assign|status|tag|note`, are in conversation_changes.py)."""

from __future__ import annotations

import json

import typer

from ..errors import NotFound
from ..history import describe
from ..parse.defects import problem_text
from ..store import ListFilter
from ..store.inbox import ACTIVE
from ..store.schema import STATUSES
from ..textsafe import clean, one_line
from .common import cell, known_name, one_of, options, out, print_json, summary, table

app = typer.Typer(help="List and show conversations.", no_args_is_help=False, invoke_without_command=True)


@app.callback()
def default(ctx: typer.Context) -> None:
    """With no subcommand: list."""
    if ctx.invoked_subcommand is None:
        list_conversations(ctx, status=None, assignee=None, channel=None, group=None, limit=50, json_out=False)


@app.command("list")
def list_conversations(
    ctx: typer.Context,
    status: list[str] = typer.Option(None, "--status", help="new, open, pending, snoozed, solved, closed (repeatable)."),
    assignee: str = typer.Option(None, "--assignee", help="An agent, 'me' or 'none'."),
    channel: str = typer.Option(None, "--channel", help="Only this channel (a configured name)."),
    group: str = typer.Option(None, "--group", help="Only the group's conversations still going (see docs/rules.md)."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (stable shape)."),
) -> None:
    """Conversations, latest activity first."""
    opts = options(ctx)
    config = opts.config()
    for s in status or ():
        one_of("--status", s, STATUSES, "status")
    if group is not None:
        from ..rules.spec import all_groups
        one_of("--group", group, [g.name for g in all_groups(config)], "group")
        status = status or list(ACTIVE)
    with opts.store() as store:
        if assignee != "none":
            assignee = known_name("--assignee", assignee, "agent", config, store)
        channel = known_name("--channel", channel, "channel", config, store)
        rows = store.conversations(ListFilter(tuple(status) if status else None, assignee, channel, group=group),
                                   limit=limit)
    if json_out:
        print_json([summary(r) for r in rows])
        return
    grid = table("id", "channel", "customer", "subject", "status", "assignee", "last activity")
    for r in rows:
        grid.add_row(cell(r["id"]), cell(r["channel"]), cell(r["customer_name"] or r["customer_address"]),
                     cell((r["subject"] or "")[:60]), cell(r["status"]), cell(r["assignee"] or "-"),
                     cell(r["last_message_at"][:16].replace("T", " ")))
    out.print(grid)


@app.command("show")
def show(ctx: typer.Context, conversation_id: int = typer.Argument(..., metavar="ID"),
         json_out: bool = typer.Option(False, "--json")) -> None:
    """One conversation: customer, messages in order, events."""
    with options(ctx).store() as store:
        conversation = store.conversation(conversation_id)
        if conversation is None:
            raise NotFound(f"no conversation {conversation_id}")
        customer = store.customer(conversation["customer_id"]) if conversation["customer_id"] else None
        messages = store.messages(conversation_id)
        for m in messages:
            m["attachments"] = store.attachments(m["id"]) if m["attachments"] else []
        events = store.events(conversation_id)
    if json_out:
        print_json({"conversation": summary(conversation), "customer": customer,
                    "messages": messages, "events": events})
        return
    name = customer["name"] if customer else ""
    address = customer["identities"][0]["address"] if customer and customer["identities"] else ""
    print(f"#{conversation['id']}  {one_line(conversation['subject'])}")
    print(f"{conversation['channel']} · {conversation['status']} · {conversation['assignee'] or 'unassigned'}"
          f" · {one_line(name)} <{one_line(address)}>")
    for m in messages:
        flags = [f"automatic: {m['automatic']}"] if m["automatic"] else []
        flags += [f"class: {m['class']}"] if m["direction"] == "in" and m["class"] != "human" else []
        flags += [f"problem: {problem_text(p)}" for p in m["problems"]]
        print(f"\n--- {m['direction']} · {one_line(m['author'] or m['author_address'])} · {m['received_at'][:16]}"
              + (f" · {'; '.join(one_line(f) for f in flags)}" if flags else ""))
        print(clean(m["text"]))
        for a in m["attachments"]:
            print(f"[attachment] {one_line(a['filename']) or '(no name)'} ({a['content_type']}, {a['size']} bytes)")
    lines = [(e["at"], describe(e)) for e in events]
    if any(line for _, line in lines):
        print("\n--- history")
        for at, line in lines:
            if line:
                print(f"{at[:16]}  {line}")
    for e in events:  # the text of a differing copy, which was not stored as a message
        if e["kind"] == "other_copy" and e["data"].get("text"):
            print(f"\n--- other copy under {one_line(e['data'].get('message_id'))}"
                  f" · {one_line(e['data'].get('from'))} · {str(e['data'].get('received_at'))[:16]}")
            print(clean(e["data"]["text"]))


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="Words to find (all must occur)."),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Full-text search over subjects and messages, best match first."""
    with options(ctx).store() as store:
        hits = store.search(query, limit=limit)
    if json_out:
        print_json(hits)
        return
    grid = table("conv", "status", "subject", "snippet")
    for h in hits:
        grid.add_row(cell(h["conversation_id"]), cell(h["status"]), cell((h["subject"] or "")[:40]), cell(h["snippet"]))
    out.print(grid)


@app.command("unmerge")
def unmerge(ctx: typer.Context, conversation_id: int = typer.Argument(..., metavar="ID"),
            json_out: bool = typer.Option(False, "--json")) -> None:
    """Undo a merge, at any time: ID is the conversation merged away (or the one merged
    into: its latest merge); the messages that moved go back."""
    opts = options(ctx)
    with opts.store() as store:
        found = store.unmerge(conversation_id, opts.config().agent.name)
    moved = len(json.loads(found["message_ids"]))
    if json_out:
        print_json({"merge": found["id"], "source": found["source_id"], "target": found["target_id"], "messages": moved})
        return
    print(f"#{found['source_id']} is separate from #{found['target_id']} again ({moved} messages moved back)")


def _register_changes() -> None:
    from . import conversation_changes as changes
    app.command("assign")(changes.assign)
    app.command("status")(changes.status)
    # "-spam" is a tag word, not an option
    app.command("tag", context_settings={"ignore_unknown_options": True})(changes.tag)
    app.command("note")(changes.note)


_register_changes()
