"""`customers list|show|link|unlink|merge|unmerge`: one person across channels.

A CUSTOMER argument is a customer number, '#conversation' or one of their identities
(an email address, a chat handle, a Matrix id). A merge is undone with `unmerge`.
"""

from __future__ import annotations

import typer

from .. import customers as service
from ..errors import NotFound
from ..store.customers import KINDS
from ..textsafe import one_line
from .common import cell, one_of, options, out, print_json, table

app = typer.Typer(help="Customers: list, show, link identities, merge and unmerge records.",
                  no_args_is_help=False, invoke_without_command=True)

CUSTOMER = typer.Argument(..., metavar="CUSTOMER", help="A customer number, #conversation or identity.")
JSON = typer.Option(False, "--json", help="Print JSON (stable shape).")


@app.callback()
def default(ctx: typer.Context) -> None:
    """With no subcommand: list."""
    if ctx.invoked_subcommand is None:
        list_customers(ctx, search="", limit=50, json_out=False)


@app.command("list")
def list_customers(
    ctx: typer.Context,
    search: str = typer.Option("", "--search", help="Only names or identities containing this."),
    limit: int = typer.Option(50, "--limit", min=1, max=10000),
    json_out: bool = JSON,
) -> None:
    """Customers, latest activity first (records merged into another are left out)."""
    with options(ctx).store() as store:
        rows = store.customers_list(search, limit)
    if json_out:
        print_json(rows)
        return
    grid = table("id", "name", "identities", "conversations", "last activity")
    for r in rows:
        grid.add_row(cell(r["id"]), cell(r["name"]), cell(r["identities"]), cell(r["conversations"]),
                     cell((r["last_message_at"] or "")[:16].replace("T", " ")))
    out.print(grid)


@app.command("show")
def show(ctx: typer.Context, customer: str = CUSTOMER, json_out: bool = JSON) -> None:
    """One customer: identities, organization, conversations on every channel, merges, likely matches."""
    with options(ctx).store() as store:
        customer_id = service.resolve(store, customer)
        profile = store.customer_profile(customer_id)
        if profile is None:
            raise NotFound(f"no customer {customer_id}")
        profile["organization"] = service.organization(profile["identities"])
        profile["likely_matches"] = [{"id": m.customer_id, "name": m.name, "reason": m.reason,
                                      "identities": list(m.identities)}
                                     for m in service.likely_matches(store, customer_id)]
    if json_out:
        print_json(profile)
        return
    print(f"customer {profile['id']}: {one_line(profile['name']) or '(no name)'}"
          + (f" · {profile['organization']}" if profile["organization"] else ""))
    for i in profile["identities"]:
        print(f"  {i['kind']}: {one_line(i['address'])}")
    if profile["tags"]:
        print("  tags: " + ", ".join(one_line(t) for t in profile["tags"]))
    if profile["notes"]:
        print("  notes: " + one_line(profile["notes"]))
    for c in profile["conversations"]:
        print(f"  #{c['id']} {c['channel']} {c['status']} {c['last_message_at'][:16].replace('T', ' ')}"
              f" {one_line(c['subject'])}")
    for m in profile["merges"]:
        print(f"  merge {m['id']}: customer {m['other_id']} joined ({one_line(m['reason']) or m['actor']})")
    for m in profile["likely_matches"]:
        print(f"  likely the same person: customer {m['id']} {one_line(m['name'])} ({m['reason']});"
              f" tui-desk customers merge {profile['id']} {m['id']}")


def _kind(address: str, kind: str | None) -> str:
    if kind is not None:
        return one_of("--kind", kind, KINDS, "identity kind")
    if address.startswith("@") and ":" in address:
        return "matrix"
    return "email" if "@" in address and ":" not in address else "chat"


@app.command("link")
def link(ctx: typer.Context, customer: str = CUSTOMER,
         identity: str = typer.Argument(..., metavar="IDENTITY", help="An email address, chat handle or Matrix id."),
         kind: str = typer.Option(None, "--kind", help="email, chat or matrix (else guessed from IDENTITY)."),
         json_out: bool = JSON) -> None:
    """Give a customer one more identity (one another customer has: use merge)."""
    opts = options(ctx)
    with opts.store() as store:
        customer_id = service.resolve(store, customer)
        store.add_identity(customer_id, _kind(identity, kind), identity, opts.config().agent.name, evidence="by hand")
        profile = store.customer_profile(customer_id)
    _done(json_out, {"customer": customer_id, "identities": profile["identities"]},
          _identities_line(customer_id, profile["identities"]))


@app.command("unlink")
def unlink(ctx: typer.Context, customer: str = CUSTOMER,
           identity: str = typer.Argument(..., metavar="IDENTITY"),
           kind: str = typer.Option(None, "--kind", help="email, chat or matrix (else guessed from IDENTITY)."),
           json_out: bool = JSON) -> None:
    """Take an identity no message came from off a customer (to separate two people: unmerge)."""
    opts = options(ctx)
    with opts.store() as store:
        customer_id = service.resolve(store, customer)
        store.remove_identity(customer_id, _kind(identity, kind), identity, opts.config().agent.name)
        profile = store.customer_profile(customer_id)
    _done(json_out, {"customer": customer_id, "identities": profile["identities"]},
          _identities_line(customer_id, profile["identities"]))


@app.command("merge")
def merge(ctx: typer.Context,
          keep: str = typer.Argument(..., metavar="KEEP", help="The customer who stays."),
          other: str = typer.Argument(..., metavar="OTHER", help="The customer whose record joins KEEP."),
          dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would move."),
          json_out: bool = JSON) -> None:
    """One person, two records: OTHER's identities, conversations and messages join KEEP (undo: unmerge)."""
    opts = options(ctx)
    with opts.store() as store:
        keep_id, other_id = service.resolve(store, keep), service.resolve(store, other)
        moves = store.merge_preview(keep_id, other_id)
        names = store.customer_label(keep_id), store.customer_label(other_id)
        merge_id = None if dry_run else store.merge_customers(keep_id, other_id, opts.config().agent.name, "by hand")
    moved = ", ".join(f"{n} {t}" for t, n in moves.items())
    said = (f"would move {moved} from {names[1]} to {names[0]}" if dry_run else
            f"merge {merge_id}: {names[1]} joined {names[0]} ({moved}); undo: tui-desk customers unmerge {keep_id}")
    _done(json_out, {"merge": merge_id, "keep": keep_id, "other": other_id, "moves": moves}, said)


@app.command("unmerge")
def unmerge(ctx: typer.Context, customer: str = CUSTOMER,
            merge_id: int = typer.Option(None, "--merge", help="This merge (else the latest into CUSTOMER)."),
            json_out: bool = JSON) -> None:
    """Undo a customer merge: the record that joined gets back exactly what it had."""
    opts = options(ctx)
    with opts.store() as store:
        customer_id = service.resolve(store, customer)
        if merge_id is None:
            merge_id = store.latest_customer_merge(customer_id)
            if merge_id is None:
                raise NotFound(f"customer {customer_id} has no merge to undo")
        row = store.unmerge_customers(merge_id, opts.config().agent.name)
    _done(json_out, {"merge": merge_id, "keep": row["keep_id"], "other": row["other_id"]},
          f"merge {merge_id} undone: customer {row['other_id']} is separate again")


def _done(json_out: bool, data: dict, text: str) -> None:
    if json_out:
        print_json(data)
    else:
        print(one_line(text))


def _identities_line(customer_id: int, identities: list[dict]) -> str:
    return f"customer {customer_id} now has {len(identities)} identit{'y' if len(identities) == 1 else 'ies'}"
