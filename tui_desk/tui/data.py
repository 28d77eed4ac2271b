"""How the console reaches the store: a connection per call, pages of the queue, the clock.

Widgets never run SQL. Their thread workers call `DeskData.store()` to open a Store
for that thread (sqlite3 objects belong to the thread that made them; opening one costs
well under a millisecond) and call its methods.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

from ..config import Config
from ..errors import ConfigError
from ..rules.spec import all_groups, team
from ..store import Store
from ..store.inbox import InboxQuery, sort_key
from ..templates import TemplateLibrary


class DeskData:
    """The database path, the agent, the templates, and the clock the console reads times from."""

    def __init__(self, config: Config, db_path: Path,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.config = config
        self.db_path = Path(db_path)
        self.agent = config.agent.name
        self.clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self.channel_kinds = {c.name: c.kind for c in config.channels}
        self.library = TemplateLibrary.for_config(config)
        """The reply templates, re-read as their files change."""
        try:
            groups = all_groups(config)
        except ConfigError:  # a broken rules file: sync says so; the console still opens
            groups = list(config.groups)
        self.groups = tuple(g.name for g in groups)
        """The groups rules route to: each is a view of its own."""
        self.team = team(config, groups)
        """Every agent the config names (the assign picker lists them from the first day)."""

    @contextlib.contextmanager
    def store(self) -> Iterator[Store]:
        """A Store for the calling thread, closed on exit."""
        store = Store.open(self.db_path, migrate=False)
        try:
            yield store
        finally:
            store.close()

    def now(self) -> dt.datetime:
        return self.clock()


class PageCache:
    """Pages of one inbox view, loaded on demand; only `keep` pages stay in memory.

    A page after a cached one is fetched by keyset (its last row's sort key); a page
    with no cached neighbour (a jump) by offset. `generation` changes whenever the view
    or the data changes, so answers to older requests are dropped.
    """

    def __init__(self, page_size: int = 100, keep: int = 10) -> None:
        self.page_size = page_size
        self.keep = keep
        self.pages: OrderedDict[int, list[dict]] = OrderedDict()
        self.pending: set[int] = set()
        self.total = 0
        self.generation = 0

    def reset(self, total: int | None = None) -> None:
        self.pages.clear()
        self.pending.clear()
        self.generation += 1
        if total is not None:
            self.total = total

    def row(self, index: int) -> dict | None:
        page = self.pages.get(index // self.page_size)
        if page is None:
            return None
        self.pages.move_to_end(index // self.page_size)
        offset = index % self.page_size
        return page[offset] if offset < len(page) else None

    def wanted(self, first: int, last: int) -> list[int]:
        """Page numbers covering rows first..last that are neither cached nor on their way."""
        if self.total == 0:
            return []
        last = min(last, self.total - 1)
        numbers = range(max(first, 0) // self.page_size, max(last, 0) // self.page_size + 1)
        return [n for n in numbers if n not in self.pages and n not in self.pending]

    def requests(self, numbers: list[int], sort: str) -> list[tuple[int, tuple | None]]:
        """(page, keyset anchor or None) for each page to fetch; marks them pending."""
        out = []
        for n in numbers:
            before = self.pages.get(n - 1)
            anchor = sort_key(before[-1], sort) if before and len(before) == self.page_size else None
            out.append((n, anchor))
            self.pending.add(n)
        return out

    def put(self, generation: int, pages: dict[int, list[dict]]) -> bool:
        """Store fetched pages; False when they belong to an older generation."""
        if generation != self.generation:
            return False
        for n, rows in pages.items():
            self.pending.discard(n)
            self.pages[n] = rows
            self.pages.move_to_end(n)
        while len(self.pages) > self.keep:
            self.pages.popitem(last=False)
        return True


def fetch_pages(store: Store, query: InboxQuery, requests: list[tuple[int, tuple | None]],
                page_size: int) -> dict[int, list[dict]]:
    """Run in a worker: the rows of each requested page."""
    return {n: store.inbox_page(query, after=anchor, offset=n * page_size, limit=page_size)
            for n, anchor in requests}
