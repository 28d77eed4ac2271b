"""The inbox list: a virtual list over the store (Line API), never every row in memory.

Like Toolong's log view: a ScrollView whose virtual height is the view's row count;
`render_line` draws rows from a small page cache and asks a thread worker for pages it
does not have (showing a placeholder until they arrive). The cursor is an index; the
selected conversation id survives reloads (live updates keep it on its conversation).

A key press must repaint within a frame or two: a cursor move repaints only the two
lines it touches, and drawn lines are kept (keyed by the row object, which is replaced
whenever its page is fetched again), so a scroll re-draws only the lines that are new.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import on, work
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...store.inbox import InboxQuery
from ..data import DeskData, PageCache, fetch_pages
from ..format import queue_line


class QueueList(ScrollView, can_focus=True):
    """The conversations of one inbox view, one line each."""

    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", show=False, id="down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="up"),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "open", "Open", id="open", tooltip="Open the conversation under the cursor"),
        Binding("space", "mark", "Mark", id="mark", tooltip="Mark or unmark for a bulk action"),
    ]

    COMPONENT_CLASSES = {
        "queue--cursor", "queue--mark", "queue--unread", "queue--unread-name", "queue--late",
        "queue--status-new", "queue--status-pending", "queue--status-snoozed", "queue--status-solved",
        "queue--placeholder",
    }

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)  # watch_cursor repaints

    class Opened(Message):
        """Enter on a row."""

        def __init__(self, conversation_id: int) -> None:
            self.conversation_id = conversation_id
            super().__init__()

    class CursorMoved(Message):
        """Another conversation is under the cursor (it moved, or a page arrived under it),
        or none (None: the view is empty). Screens follow the cursor by this, never by polling."""

        def __init__(self, conversation_id: int | None) -> None:
            self.conversation_id = conversation_id
            super().__init__()

    class Loaded(Message):
        """Pages arrived from a worker."""

        def __init__(self, generation: int, pages: dict[int, list[dict]]) -> None:
            self.generation = generation
            self.pages = pages
            super().__init__()

    class Counted(Message):
        """The view's row count (and where the selected conversation is now)."""

        def __init__(self, generation: int, total: int, position: int | None) -> None:
            self.generation = generation
            self.total = total
            self.position = position
            super().__init__()

    def __init__(self, data: DeskData, query: InboxQuery, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.query = query
        self.cache = PageCache()
        self.marked: set[int] = set()
        self.selected_id: int | None = None
        self.loaded = False
        self._announced: int | None = None
        """The conversation the last CursorMoved named."""
        self._lines: LRUCache[tuple, tuple[dict, Strip]] = LRUCache(1024)
        self._styles_now: dict[str, Style] | None = None
        self._now = data.now()
        self._warming = False

    def on_mount(self) -> None:
        self.set_interval(30, self.tick)

    def tick(self) -> None:
        """Waiting times move on: draw every line again with the time now."""
        self._now = self.data.now()
        self._lines.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()  # a theme or focus change: colours of every line
        self._styles_now = None
        self._lines.clear()

    def on_focus(self) -> None:
        self._lines.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._lines.clear()
        self.refresh()

    # -- data ------------------------------------------------------------------------

    def set_query(self, query: InboxQuery) -> None:
        """Show another view (or sort, or filter): start at the top."""
        self.query = query
        self.cache.reset()  # first, so the cursor move below does not re-select an old row
        self.cursor = 0
        self.selected_id = None
        self.scroll_to(y=0, animate=False)
        self.reload()

    def reload(self) -> None:
        """Count again and drop cached pages (the data changed); the cursor follows its row."""
        self.cache.reset()
        self._count(self.cache.generation, self.query, self.selected_id)

    @work(thread=True, exclusive=True, group="queue-count", exit_on_error=False)
    def _count(self, generation: int, query: InboxQuery, selected: int | None) -> None:
        with self.data.store() as store:
            if not self.loaded:  # first paint: the top rows before the (slower) count
                first = store.inbox_page(query, limit=self.cache.page_size)
                self.post_message(self.Loaded(generation, {0: first}))
            total = store.inbox_count(query)
            position = store.inbox_position(query, selected) if selected is not None else None
        self.post_message(self.Counted(generation, total, position))

    @on(Counted)
    def _counted(self, event: Counted) -> None:
        event.stop()
        if event.generation != self.cache.generation:
            return
        self.cache.total = event.total
        self.loaded = True
        self.virtual_size = Size(self.size.width, event.total)
        if event.position is not None:
            self.cursor = event.position
        else:
            self.cursor = min(self.cursor, max(event.total - 1, 0))
        if not event.total:  # nothing under the cursor now: the screen's followers are told
            self._announce(None)
        self._request_visible()
        self.refresh()

    def _request_visible(self) -> None:
        top = int(self.scroll_offset.y)
        first, last = min(top, self.cursor), max(top + self.size.height, self.cursor)
        # a screen ahead either way, so a page key finds its rows already here
        numbers = self.cache.wanted(first - self.size.height, last + self.size.height)
        if numbers:
            self._fetch(self.cache.generation, self.query, self.cache.requests(numbers, self.query.sort))

    @work(thread=True, group="queue-pages", exit_on_error=False)
    def _fetch(self, generation: int, query: InboxQuery, requests: list) -> None:
        with self.data.store() as store:
            pages = fetch_pages(store, query, requests, self.cache.page_size)
        self.post_message(self.Loaded(generation, pages))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        event.stop()
        if self.cache.put(event.generation, event.pages):
            if not self.loaded:  # rows before the count: show them as far as they go
                self.cache.total = max(self.cache.total, len(event.pages.get(0, [])))
                self.virtual_size = Size(self.size.width, self.cache.total)
            row = self.cache.row(self.cursor)
            if row is not None:
                self._select(row["id"])
            self.refresh()

    def _select(self, conversation_id: int) -> None:
        self.selected_id = conversation_id
        self._announce(conversation_id)

    def _announce(self, conversation_id: int | None) -> None:
        if conversation_id != self._announced:
            self._announced = conversation_id
            self.post_message(self.CursorMoved(conversation_id))

    # -- what the screen asks ------------------------------------------------------

    @property
    def current(self) -> dict | None:
        return self.cache.row(self.cursor)

    def targets(self) -> list[int]:
        """Marked conversations, else the one under the cursor."""
        if self.marked:
            return sorted(self.marked)
        return [self.current["id"]] if self.current else []

    def next_id(self) -> int | None:
        """The conversation below the cursor (to move on after acting)."""
        row = self.cache.row(self.cursor + 1)
        return row["id"] if row else None

    # -- drawing ----------------------------------------------------------------------

    def empty_text(self) -> str:
        """What an empty view says: on a desk with no channel yet, how to add one."""
        config = self.data.config
        if config.channels:
            return "Nothing here."
        where = config.path or "your config (tui-desk config path)"
        return (f"No channels yet: add a [[channels]] table to {where} (config.example.toml shows each kind),"
                " then run tui-desk sync. tui-desk demo opens the demo desk.")

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        width = self.size.width
        if index >= self.cache.total:
            if index == 0 and self.loaded:
                return Strip([Segment(f" {self.empty_text()}".ljust(width),
                                      self.get_component_rich_style("queue--placeholder"))], width)
            return Strip.blank(width, self.rich_style)
        row = self.cache.row(index)
        if row is None:
            self.call_after_refresh(self._request_visible)
            return Strip([Segment("  …".ljust(width), self.get_component_rich_style("queue--placeholder"))], width)
        return self._strip(index, row, width)

    def _strip(self, index: int, row: dict, width: int) -> Strip:
        """Row `index` drawn, from the cache of drawn lines when it is there."""
        key = (row["id"], width, index == self.cursor, row["id"] in self.marked)
        drawn = self._lines.get(key)
        if drawn is not None and drawn[0] is row:
            return drawn[1]
        styles = self._styles()
        text = queue_line(row, width, self._now, marked=key[3],
                          channel_kind=self.data.channel_kinds.get(row["channel"], ""), styles=styles)
        if key[2]:
            text.stylize(styles["cursor"])
        strip = Strip(list(text.render(self.app.console)), width).simplify()
        self._lines.set(key, (row, strip))
        return strip

    def _styles(self) -> dict[str, Style]:
        if self._styles_now is None:
            get = self.get_component_rich_style
            self._styles_now = {
                "cursor": get("queue--cursor"), "mark": get("queue--mark"), "unread": get("queue--unread"),
                "unread-name": get("queue--unread-name"), "late": get("queue--late"),
                **{f"status-{s}": get(f"queue--status-{s}") for s in ("new", "pending", "snoozed", "solved")}}
        return self._styles_now

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.cache.total)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._request_visible()

    def watch_cursor(self, old: int, new: int) -> None:
        row = self.cache.row(new)
        if row is not None:
            self._select(row["id"])
        # a scroll repaints the whole list by itself; otherwise only the two lines change
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, force=True, immediate=True)
        self._request_visible()
        self.refresh_line(old)
        self.refresh_line(new)
        if not self._warming:
            self._warming = True
            self.call_after_refresh(self._warm)

    def _warm(self) -> None:
        """After a frame: draw the screens above and below ahead, so a page key finds
        its lines drawn (a few milliseconds, while the agent reads)."""
        self._warming = False
        top, height, width = int(self.scroll_offset.y), self.size.height, self.size.width
        for index in range(max(top - height, 0), min(top + 2 * height, self.cache.total)):
            row = self.cache.row(index)
            if row is not None:
                self._strip(index, row, width)

    # -- keys -------------------------------------------------------------------------

    def _move(self, delta: int) -> None:
        if self.cache.total:
            self.cursor = max(0, min(self.cursor + delta, self.cache.total - 1))

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(max(self.size.height - 1, 1))

    def action_page_up(self) -> None:
        self._move(-max(self.size.height - 1, 1))

    def action_first(self) -> None:
        self._move(-self.cursor)

    def action_last(self) -> None:
        self._move(self.cache.total)

    def action_open(self) -> None:
        if self.current:
            self.post_message(self.Opened(self.current["id"]))

    def action_mark(self) -> None:
        row = self.current
        if row:
            self.marked ^= {row["id"]}
            self.refresh_line(self.cursor)
            self._move(1)

    def on_click(self, event) -> None:
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < self.cache.total:
            self.cursor = index
            if event.chain >= 2:
                self.action_open()
