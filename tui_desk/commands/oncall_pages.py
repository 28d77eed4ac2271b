"""`tui-desk oncall page|ack|pages`: waking the person on call, and the pages rules open
and escalate (registered on the `oncall` group by commands/oncall.py)."""

from __future__ import annotations

import typer

from ..textsafe import one_line
from .common import cell, out, print_json
from .oncall_common import JSON, ROTATION, TZ, _desk, _t, _table, _zone_line


def page(
    ctx: typer.Context,
    message: str = typer.Option(..., "--message", "-m", help="What the on-call person should know."),
    rotation: str = ROTATION,
    conversation: int = typer.Option(None, "--conversation", help="The conversation this is about."),
    json_out: bool = JSON,
) -> None:
    """Reach whoever is on call now through their roster contact (exit 1 if it failed)."""
    from ..oncall.page import PageFailed, page as send_page
    with _desk(ctx) as desk:
        try:
            results = send_page(desk, message, rotation, conversation)
        except PageFailed as failed:
            if json_out:
                print_json(failed.results)  # who was reached and who not; the error follows on stderr
            raise
    if json_out:
        print_json(results)
    else:
        for r in results:
            out.print(f"paged {r['who']} ({r['rotation']}) by {r['contact']}", markup=False)


def ack(
    ctx: typer.Context,
    page_id: int = typer.Argument(None, metavar="[PAGE_ID]", help="The page (default: the only open one)."),
    conversation: int = typer.Option(None, "--conversation", help="The page of this conversation."),
    json_out: bool = JSON,
) -> None:
    """Acknowledge a page: it stops escalating (you are on it). Exit 2 when there is none."""
    from ..oncall import escalation
    with _desk(ctx) as desk:
        done = escalation.acknowledge(desk.store, desk.actor, page_id=page_id, conversation_id=conversation)
    if json_out:
        print_json(page_json(done))
    else:
        out.print(f"page {done['id']} (conversation #{done['conversation_id']}) acknowledged by {done['acked_by']}",
                  markup=False)


def pages(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help="Only pages not resolved yet (open or acknowledged)."),
    tz: str = TZ, json_out: bool = JSON,
) -> None:
    """Every page with its state: open, acknowledged (by whom, when), escalated (to whom), resolved."""
    with _desk(ctx) as desk:
        found = [page_json(p) for p in desk.store.pages(unresolved=open_only)]
        zone = desk.viewer_tz(tz)
    if json_out:
        print_json(found)
        return
    grid = _table("page", "conv", "state", "opened", "notified", "by / when", "subject")
    for p in found:
        notified = ", ".join(f"{n['who']}{'' if n['state'] == 'sent' else ' (' + n['state'] + ')'}"
                             for n in p["notices"]) or "-"
        who_when = (f"{p['acked_by']} {_t(p['acked_at'], zone)}" if p["state"] == "acknowledged" else
                    f"{p['resolved_by']} {_t(p['resolved_at'], zone)}" if p["state"] == "resolved" else "-")
        grid.add_row(str(p["id"]), f"#{p['conversation_id']}", p["state"], _t(p["opened_at"], zone),
                     cell(notified), cell(who_when), cell(one_line(p["subject"])[:50]))
    _zone_line(zone)
    out.print(grid)


def page_json(page: dict) -> dict:
    """The stable shape of a page in `oncall pages --json` and `oncall ack --json`."""
    return {
        "id": page["id"], "conversation_id": page["conversation_id"], "state": page["state"],
        "rule": page["rule"], "target": page["target"], "messages": page["messages"],
        "subject": page["summary"].get("subject", ""), "customer": page["summary"].get("customer", ""),
        "opened_at": page["created_at"], "next_step_at": page["next_at"],
        "acked_by": page["acked_by"], "acked_at": page["acked_at"], "acked_via": page["acked_via"],
        "resolved_by": page["resolved_by"], "resolved_at": page["resolved_at"],
        "notices": [{"who": n["who"], "contact": n["contact"], "state": n["state"], "round": n["round"],
                     "step": n["step"], "at": n["at"], "error": n["detail"].get("error")}
                    for n in page.get("notices") or []],
    }
