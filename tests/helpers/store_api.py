"""Reading a whole test desk through the store's public API (never `store.d` or SQL):
what the desk holds, as its front ends would list it."""

from __future__ import annotations

from tui_desk.store import Cursor, ListFilter, Store

PAGE = 500


def conversations(store: Store, where: ListFilter = ListFilter()) -> list[dict]:
    """Every conversation a list shows (merged-away ones are not listed), oldest first."""
    out: list[dict] = []
    after = None
    while True:
        page = store.conversations(where, limit=PAGE, after=after)
        out.extend(page)
        if len(page) < PAGE:
            return sorted(out, key=lambda c: c["id"])
        after = Cursor(page[-1]["last_message_at"], page[-1]["id"])


def conversation_ids(store: Store, where: ListFilter = ListFilter()) -> list[int]:
    return [c["id"] for c in conversations(store, where)]


def messages(store: Store, where: ListFilter = ListFilter()) -> list[dict]:
    """Every message of those conversations, with its conversation's id, channel and customer."""
    return [{**m, "conversation_id": c["id"], "channel": c["channel"], "customer_id": c["customer_id"]}
            for c in conversations(store, where) for m in store.messages(c["id"])]


def room_messages(store: Store, room: str) -> list[dict]:
    """Every message of a chat room's conversations (oldest conversation first), each with
    its conversation's id, status and customer name."""
    out = []
    for c in conversations(store):
        shown = store.conversation(c["id"])
        if shown["thread_key"] == room:
            out.extend({**m, "conversation_id": c["id"], "status": shown["status"],
                        "customer": shown["customer_name"]} for m in store.messages(c["id"]))
    return out


def outbox(store: Store) -> list[dict]:
    """Every outbox row, oldest first, each with its reply's text and template."""
    listed = store.outbox_items(limit=1_000_000)
    return [{**store.outbox_item(o["id"]), "text": o["text"], "template_id": o["template_id"]}
            for o in reversed(listed)]
