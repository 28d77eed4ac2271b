"""The inbox screen: the sidebar of views with live counts beside the virtual queue list."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, OptionList, Static

from ...errors import DeskError
from ...oncall import escalation
from ...store.inbox import SORTS, InboxQuery
from ..actions import CHANGE_BINDINGS, ChangeActions
from ..data import DeskData
from ..format import header_line
from ..messages import ChangeApplied, DatabaseChanged
from ..replies import TEMPLATE_BINDINGS, TemplateReplies
from ..widgets.footer import Footer
from ..widgets.pages_banner import PagesBanner
from ..widgets.queue import QueueList
from ..widgets.quickbar import QuickBar
from ..widgets.sidebar import ViewsSidebar
from .base import DeskScreen
from .pickers import InputScreen
from .reports import ReportsScreen


class ColumnHeader(Static):
    """The queue's column titles, sized like its rows."""

    def render(self) -> Text:
        return header_line(self.size.width)


class InboxScreen(ChangeActions, TemplateReplies, DeskScreen):
    """Work the queue: pick a view, move, open, act on one or many conversations."""

    BINDINGS = [
        *CHANGE_BINDINGS,
        *TEMPLATE_BINDINGS,
        Binding("slash", "search", "Search", id="search", tooltip="Full-text search over all messages"),
        Binding("f", "filter", "Filter", id="filter", tooltip="Narrow this view by subject or customer"),
        Binding("o", "sort", "Sort", id="sort", tooltip="Last activity / longest waiting"),
        Binding("escape", "clear", "Clear", id="clear", show=False, tooltip="Clear marks, filter and search"),
        Binding("tab", "switch_pane", "Views", id="views", show=False, tooltip="Move between views and queue"),
        Binding("R", "reports", "Reports", id="reports", show=False, tooltip="Reports: summary and volume per hour"),
        Binding("exclamation_mark", "ack_page", "Ack page", id="ack_page", show=False,
                tooltip="Acknowledge the open page (this conversation's, else the oldest)"),
    ]

    def __init__(self, data: DeskData) -> None:
        super().__init__()
        self.data = data
        self.query_state = InboxQuery(view="open", agent=data.agent)

    def compose(self) -> ComposeResult:
        yield Header()
        yield PagesBanner(id="pages-banner")
        with Horizontal():
            yield ViewsSidebar(self.data.channel_kinds, id="views")
            with Vertical(id="queue-pane"):
                yield ColumnHeader(id="queue-header")
                yield QueueList(self.data, self.query_state, id="queue")
        yield QuickBar()
        yield Footer()

    @property
    def queue(self) -> QueueList:
        return self.query_one(QueueList)

    def on_mount(self) -> None:
        self.queue.focus()
        self.reload()

    @on(QueueList.CursorMoved)
    def _follow_cursor(self, event: QueueList.CursorMoved) -> None:
        """What the digits send follows the row under the cursor (None: the view is empty),
        told by the list when it changes; a worker only for another conversation."""
        if event.conversation_id != self.suggesting:
            self.load_suggestions(event.conversation_id)

    def on_screen_resume(self) -> None:
        if self.queue.loaded:  # back from a conversation: unread markers, statuses may differ
            self.reload()

    def reload(self) -> None:
        self.queue.reload()
        self._load_counts()
        self._retitle()

    def _retitle(self) -> None:
        q = self.query_state
        bits = [q.title]
        if q.text:
            bits.append(f"filter “{q.text}”")
        bits.append(f"by {SORTS[q.sort]}")
        self.title = self.desk_app.desk_title
        self.sub_title = " · ".join(bits)

    @work(thread=True, exclusive=True, group="counts", exit_on_error=False)
    def _load_counts(self) -> None:
        with self.data.store() as store:
            counts = store.view_counts(self.data.agent, self.data.groups)
            pages = store.pages(unresolved=True, limit=20)
        self.app.call_from_thread(self._show_counts, counts)
        self.app.call_from_thread(self.query_one(PagesBanner).show_pages, pages)

    def _show_counts(self, counts: dict[str, int]) -> None:
        sidebar = self.query_one(ViewsSidebar)
        sidebar.set_counts(counts, sidebar.size.width or 22)
        if sidebar.highlighted is None:
            sidebar.highlighted = sidebar.get_option_index(self._view_key())

    def _view_key(self) -> str:
        q = self.query_state
        return f"{q.view}:{q.arg}" if q.view in ("channel", "tag") else q.view

    def set_query(self, query: InboxQuery) -> None:
        self.query_state = query
        self.queue.set_query(query)
        self._retitle()

    # -- events -------------------------------------------------------------------

    @on(DatabaseChanged)
    def _changed(self) -> None:
        self.reload()

    @on(ChangeApplied)
    def _applied(self, event: ChangeApplied) -> None:
        if event.done:
            self.notify(f"{event.label}: {len(event.done)} conversation{'s' * (len(event.done) != 1)}")
        for error in event.errors:
            self.notify(error, severity="error")
        self.queue.marked.clear()
        self.reload()

    @on(OptionList.OptionSelected, "#views")
    def _view_chosen(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id or "open"
        view, _, arg = key.partition(":")
        sort = "activity" if self.query_state.sort == "relevance" else self.query_state.sort
        self.set_query(self.query_state.with_(view=view, arg=arg or None, ids=None, text="", sort=sort))
        self.queue.focus()

    @on(QueueList.Opened)
    def _open(self, event: QueueList.Opened) -> None:
        self.desk_app.open_conversation(event.conversation_id)

    def change_targets(self) -> list[int]:
        return self.queue.targets()

    def reply_target(self) -> tuple[int, int | None] | None:
        row = self.queue.current
        return (row["id"], row["version"]) if row else None

    # -- keys ----------------------------------------------------------------------

    def action_ack_page(self) -> None:
        pages = self.query_one(PagesBanner).pages
        if not pages:
            self.notify("No page is open", severity="warning")
            return
        row = self.queue.current
        mine = [p for p in pages if row and p["conversation_id"] == row["id"]]
        self._ack_page((mine or pages[-1:])[0]["id"])  # this conversation's, else the oldest

    @work(thread=True, group="change", exit_on_error=False)
    def _ack_page(self, page_id: int) -> None:
        with self.data.store() as store:
            try:
                page = escalation.acknowledge(store, self.data.agent, page_id=page_id, via="console")
            except DeskError as exc:
                self.app.call_from_thread(self.notify, Text(str(exc)), severity="error")
                return
        self.app.call_from_thread(self.notify, f"Page {page['id']} (#{page['conversation_id']}) acknowledged")
        self.app.call_from_thread(self.reload)

    def action_switch_pane(self) -> None:
        (self.query_one(ViewsSidebar) if self.queue.has_focus else self.queue).focus()

    def action_reports(self) -> None:
        self.app.push_screen(ReportsScreen(self.data))

    def action_sort(self) -> None:
        q = self.query_state
        orders = ["relevance", "activity", "waiting"] if q.view == "search" else ["activity", "waiting"]
        following = orders[(orders.index(q.sort) + 1) % len(orders)] if q.sort in orders else orders[0]
        self.set_query(q.with_(sort=following))

    def action_clear(self) -> None:
        self.queue.marked.clear()
        q = self.query_state
        if q.view == "search" or q.text:
            self.set_query(q.with_(view="open" if q.view == "search" else q.view, ids=None, text="",
                                   arg=None if q.view == "search" else q.arg,
                                   sort="activity" if q.sort == "relevance" else q.sort))
        self.queue.refresh()

    def action_filter(self) -> None:
        def chosen(text: str | None) -> None:
            if text is not None:
                self.set_query(self.query_state.with_(text=text.strip()))
        self.app.push_screen(InputScreen("Filter this view", "words in subject or customer name",
                                         value=self.query_state.text), chosen)

    def action_search(self) -> None:
        def chosen(words: str | None) -> None:
            if words and words.strip():
                self._search(words.strip())
        self.app.push_screen(InputScreen("Search all messages", "words (all must occur)"), chosen)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, words: str) -> None:
        with self.data.store() as store:
            ids = store.search_conversations(words)
        self.app.call_from_thread(
            self.set_query, self.query_state.with_(view="search", arg=words, ids=ids, text="", sort="relevance"))
