"""The conversation screen: messages in order beside the customer card.

Loaded in a thread worker (conversation, messages, customer, history, presence), shown
when it arrives, and loaded again whenever the database changes; the thread is rebuilt
only when the conversation itself changed, so live presence updates do not jump.

Reloads overlap (every change and every commit the watch sees starts one), and a thread
worker that was superseded still answers, sometimes after a newer one. So each load reads
one snapshot, answers are shown one at a time, and an answer older than the conversation
version on screen is dropped: a note just written never disappears again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Header, Static

from ... import outbox
from ...errors import DeskError
from ...history import describe
from ...paths import attachments_dir
from ...textsafe import one_line
from ..actions import CHANGE_BINDINGS, ChangeActions
from ..card_actions import CARD_BINDINGS, CardActions, card_extras
from ..data import DeskData
from ..format import local_time
from ..messages import ChangeApplied, DatabaseChanged
from ..replies import TEMPLATE_BINDINGS, TemplateReplies
from ..widgets.card import CustomerCard
from ..widgets.footer import Footer
from ..widgets.quickbar import QuickBar
from ..widgets.thread import ThreadView
from .base import DeskScreen
from .pickers import ChoiceScreen, InputScreen


def load_bundle(store, conversation_id: int, agent: str) -> dict | None:
    """Everything the screen shows: a few indexed reads of one conversation (milliseconds),
    in one snapshot, so the version read belongs to exactly these messages."""
    with store.snapshot():
        conversation = store.conversation(conversation_id)
        if conversation is None:
            return None
        messages = store.messages(conversation_id)
        attachments = {m["id"]: store.attachments(m["id"]) for m in messages if m["attachments"]}
        customer = store.customer(conversation["customer_id"]) if conversation["customer_id"] else None
        return {
            "conversation": conversation, "messages": messages, "attachments": attachments, "customer": customer,
            **(card_extras(store, customer) if customer else {}),
            "past": store.customer_conversations(customer["id"], limit=30) if customer else [],
            "scores": store.customer_scores(customer["id"], limit=3) if customer else [],
            "present": store.present(conversation_id, exclude=agent),
        }


_UNREAD = object()


class EventsScreen(ModalScreen[None]):
    """The conversation's event history (the audit trail)."""

    BINDINGS = [Binding("escape,e,q", "dismiss", "Close")]

    def __init__(self, events: list[dict]) -> None:
        super().__init__()
        self.events = events

    def compose(self) -> ComposeResult:
        text = Text()
        for e in self.events:
            line = describe(e)
            if line:
                text.append(f"{local_time(e['at'])}  ", "dim")
                text.append(line + "\n")
        with VerticalScroll(classes="dialog wide"):
            yield Static(Text("History"), classes="dialog-title")
            yield Static(text or Text("(no events)"))


class ConversationScreen(ChangeActions, CardActions, TemplateReplies, DeskScreen):
    """Read and act on one conversation."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back", tooltip="Back to the inbox"),
        Binding("r", "reply", "Reply", id="reply", tooltip="Reply to the customer"),
        Binding("n", "note", "Note", id="note", tooltip="Write an internal note"),
        *CHANGE_BINDINGS,
        *TEMPLATE_BINDINGS,
        Binding("e", "events", "History", id="events", tooltip="Show the event history"),
        Binding("x", "quotes", "Quotes", id="quotes", tooltip="Fold or unfold quoted text"),
        Binding("o", "attachment", "Open file", id="attachment", tooltip="Open an attachment"),
        *CARD_BINDINGS,
        Binding("R", "retry_reply", "Retry", id="retry_reply", show=False,
                tooltip="Send the reply that was not sent (✗ in the thread) again"),
        Binding("T", "customer_zone", "Customer's zone", id="customer_zone", show=False,
                tooltip="Set the customer's time zone (their local time, the next opening in replies)"),
        Binding("j,down", "scroll_down", "Down", id="scroll_down", show=False),
        Binding("k,up", "scroll_up", "Up", id="scroll_up", show=False),
    ]

    def __init__(self, data: DeskData, conversation_id: int) -> None:
        super().__init__()
        self.data = data
        self.conversation_id = conversation_id
        self.bundle: dict | None = None
        self.shown_version: int | None = None
        self._shown_deliveries: tuple = ()
        self._read_inbound: object = _UNREAD
        self._showing = asyncio.Lock()
        """One answer at a time: two shows interleaved at an await would mix their threads."""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ThreadView(id="thread")
            yield CustomerCard(id="card")
        yield QuickBar()
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#thread").focus()
        self.title = f"#{self.conversation_id}"
        # The first read is made here, on the UI thread, so the first frame has the thread:
        # a worker's answer waits behind the frames the event loop is drawing (60-350 ms
        # with 100,000 conversations), the reads take milliseconds. Reloads use the worker.
        with self.data.store() as store:
            bundle = load_bundle(store, self.conversation_id, self.data.agent)
        await self._show(bundle)

    def on_unmount(self) -> None:
        self.desk_app.set_presence(None)

    def reload(self) -> None:
        self._load(self.conversation_id)

    @work(thread=True, exclusive=True, group="conversation", exit_on_error=False)
    def _load(self, conversation_id: int) -> None:
        with self.data.store() as store:
            bundle = load_bundle(store, conversation_id, self.data.agent)
        self.app.call_from_thread(self._show, bundle)

    async def _show(self, bundle: dict | None) -> None:
        async with self._showing:
            await self._show_one(bundle)

    async def _show_one(self, bundle: dict | None) -> None:
        if bundle is None:
            self.notify(f"conversation {self.conversation_id} is gone", severity="error")
            self.dismiss_screen()
            return
        if self.shown_version is not None and bundle["conversation"]["version"] < self.shown_version:
            return  # a superseded load answering late: what is on screen is newer
        self.bundle = bundle
        conversation = bundle["conversation"]
        self.title = f"#{conversation['id']} {one_line(conversation['subject'])}"
        self.sub_title = f"{conversation['channel']} · {conversation['status']}"
        self.query_one(CustomerCard).show(bundle, self.data.now())
        if conversation["last_inbound_at"] != self._read_inbound:  # only when the customer wrote:
            self._read_inbound = conversation["last_inbound_at"]  # each write wakes every reader
            self._mark_read()
        # a reply's delivery (queued → sent, failed) changes the outbox, not the version
        deliveries = tuple((m["outbox_id"], m["delivery"]) for m in bundle["messages"] if m["outbox_id"])
        if conversation["version"] != self.shown_version or deliveries != self._shown_deliveries:
            if conversation["version"] != self.shown_version:
                self.call_after_refresh(self.load_suggestions, self.conversation_id)  # after the frame
            self.shown_version, self._shown_deliveries = conversation["version"], deliveries
            await self.query_one(ThreadView).show(bundle["messages"], bundle["attachments"])

    @work(thread=True, group="mark-read", exit_on_error=False)
    def _mark_read(self) -> None:
        with self.data.store() as store:
            store.mark_read(self.data.agent, self.conversation_id)

    def dismiss_screen(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    # -- events ----------------------------------------------------------------------

    @on(DatabaseChanged)
    def _changed(self) -> None:
        self.reload()

    @on(ChangeApplied)
    def _applied(self, event: ChangeApplied) -> None:
        for error in event.errors:
            self.notify(error, severity="error")
        if event.done:
            self.notify(event.label)
        if event.label.startswith("merge") and event.done:
            self.dismiss_screen()
            return
        self.reload()

    def change_targets(self) -> list[int]:
        return [self.conversation_id]

    def reply_target(self) -> tuple[int, int | None] | None:
        # the version on screen: a digit pressed before a new message is drawn is held
        return (self.conversation_id, self.shown_version) if self.bundle else None

    # -- keys ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss_screen()

    def action_reply(self) -> None:
        self._open_composer(note=False)

    def action_note(self) -> None:
        self._open_composer(note=True)

    def _open_composer(self, note: bool) -> None:
        if self.bundle is not None:
            if note:
                self.open_composer(self.bundle, note=True)
            else:
                self.open_reply(self.bundle)

    def action_scroll_down(self) -> None:
        self.query_one("#thread", VerticalScroll).scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        self.query_one("#thread", VerticalScroll).scroll_up(animate=False)

    def action_quotes(self) -> None:
        self.query_one(ThreadView).toggle_quotes()

    def action_events(self) -> None:
        self._events()

    @work(thread=True, group="events", exit_on_error=False)
    def _events(self) -> None:
        with self.data.store() as store:
            events = store.events(self.conversation_id)
        self.app.call_from_thread(self.app.push_screen, EventsScreen(events))

    def action_retry_reply(self) -> None:
        failed = [m for m in (self.bundle or {}).get("messages", []) if m.get("delivery") == "failed"]
        if not failed:
            self.notify("No reply here failed to go out", severity="warning")
            return
        self._retry(failed[-1]["outbox_id"])

    @work(thread=True, group="retry", exit_on_error=False)
    def _retry(self, outbox_id: int) -> None:
        with self.data.store() as store:
            try:
                outbox.retry(store, outbox_id, self.data.agent)
            except DeskError as exc:
                self.app.call_from_thread(self.notify, Text(str(exc)), severity="error")
                return
        self.app.call_from_thread(self.notify, f"Reply {outbox_id} queued again: it goes out with the next delivery")
        self.app.call_from_thread(self.reload)

    def action_customer_zone(self) -> None:
        customer = (self.bundle or {}).get("customer")
        if customer is None:
            self.notify("This conversation has no customer", severity="warning")
            return

        def chosen(text: str | None) -> None:
            if text is not None:
                self._set_zone(customer["id"], text.strip())
        self.app.push_screen(InputScreen("Customer's time zone", "an IANA zone like America/Chicago (empty: unknown)",
                                         value=customer.get("timezone") or ""), chosen)

    @work(thread=True, group="zone", exit_on_error=False)
    def _set_zone(self, customer_id: int, zone_name: str) -> None:
        with self.data.store() as store:
            try:
                store.set_customer_timezone(customer_id, zone_name or None, self.data.agent)
            except DeskError as exc:
                self.app.call_from_thread(self.notify, Text(str(exc)), severity="error")
                return
        self.app.call_from_thread(self.notify, f"Time zone: {one_line(zone_name) or 'unknown'}")
        self.app.call_from_thread(self.reload)

    def action_attachment(self) -> None:
        files = [a for items in (self.bundle or {}).get("attachments", {}).values() for a in items]
        if not files:
            self.notify("No attachments here", severity="warning")
            return
        by_id = {str(a["id"]): a for a in files}

        def chosen(key: str | None) -> None:
            if key:
                self._open_file(by_id[key])
        self.app.push_screen(ChoiceScreen("Open attachment",
                                          [(k, a["filename"] or "(no name)") for k, a in by_id.items()]), chosen)

    @work(thread=True, group="open-file", exit_on_error=False)
    def _open_file(self, attachment: dict) -> None:
        source = attachments_dir(self.data.db_path) / attachment["sha256"][:2] / attachment["sha256"]
        # a copy under a harmless name, so the opener can pick an app by its extension
        name = Path(one_line(attachment["filename"]).replace("/", "_").replace("\\", "_")).name.lstrip(".-")
        target = Path(tempfile.mkdtemp(prefix="tui-desk-")) / (name or "attachment")
        shutil.copyfile(source, target)
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        if shutil.which(opener) is None:
            self.app.call_from_thread(self.notify, f"saved to {target} (no {opener} here)")
            return
        subprocess.Popen([opener, os.fspath(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
