"""Shared by the TUI tests: a fixture desk and a way to let workers finish.

The fixtures are imported by the test modules that use them (`anyio_backend` runs the
Pilot tests on asyncio; `desk` syncs the fixture mail and chat into the test database)."""

from __future__ import annotations

import pytest

from tests.helpers.desk import FROZEN_NOW, build_desk, conversation_id
from tui_desk.store import Store
from tui_desk.tui import make_app
from tui_desk.tui.widgets.queue import QueueList


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def desk(tmp_path, db_path):
    return build_desk(tmp_path, db_path)


def frozen_app(config, db_path, **kwargs):
    # a long poll interval: tests call poll_database() themselves, so nothing depends on timing
    return make_app(config, db_path, clock=lambda: FROZEN_NOW, poll_seconds=3600, **kwargs)


async def settle(pilot, rounds: int = 3) -> None:
    """Let workers finish and the messages they post be handled (counts lead to pages...)."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def queue(app) -> QueueList:
    return app.screen.query_one(QueueList)


def visible_rows(app) -> list[str]:
    q = queue(app)
    return [q.render_line(y).text for y in range(min(q.size.height, q.cache.total))]


async def open_conversation(app, pilot, cid: int) -> None:
    """Open conversation `cid` and let it load."""
    from tui_desk.tui.screens.conversation import ConversationScreen
    app.open_conversation(cid)
    await settle(pilot)
    assert isinstance(app.screen, ConversationScreen)


async def open_order(app, pilot) -> int:
    """Open the fixture's "Where is my order?" conversation (Mike Jones, by mail); its id."""
    with Store.open(app.data.db_path) as store:
        cid = conversation_id(store, "Where is my order")
    await open_conversation(app, pilot, cid)
    return cid


class StaleLoad:
    """Makes one conversation reload answer late: the chosen load reads, then waits until
    `release` while newer loads read and are shown, then hands its (older) answer to the
    screen. A worker's answer arriving after a newer one is what a busy machine does to
    thread workers now and then; this makes it happen on purpose.

    Use: `gate = StaleLoad(monkeypatch, app)`, `gate.arm()` before the keys whose reload
    should be held, then `await gate.deliver()` once the newer state is on screen."""

    def __init__(self, monkeypatch, app) -> None:
        import threading

        from tui_desk.tui.screens import conversation

        self._threading = threading
        self.real = conversation.load_bundle
        self.armed = False
        self.held_thread: int | None = None
        self.held_worker = None
        self.read = threading.Event()
        """The held load has read the database."""
        self.release = threading.Event()
        self.delivered = threading.Event()
        """The held load's answer was handed to the screen (and handled)."""
        monkeypatch.setattr(conversation, "load_bundle", self._load)
        real_call = app.call_from_thread

        def call_from_thread(callback, *args, **kwargs):
            try:
                return real_call(callback, *args, **kwargs)
            finally:
                if threading.get_ident() == self.held_thread:
                    self.delivered.set()
        monkeypatch.setattr(app, "call_from_thread", call_from_thread)

    def arm(self) -> None:
        """Hold the next reload made in a worker."""
        self.armed, self.held_thread = True, None
        self.read.clear(), self.release.clear(), self.delivered.clear()

    def _load(self, store, conversation_id, agent):
        bundle = self.real(store, conversation_id, agent)
        if self.armed and self._threading.current_thread() is not self._threading.main_thread():
            from textual.worker import get_current_worker
            self.armed, self.held_thread = False, self._threading.get_ident()
            self.held_worker = get_current_worker()
            self.read.set()
            self.release.wait(timeout=60)  # bounded: a test that forgets to release still ends
        return bundle

    async def until_read(self) -> None:
        """Wait (bounded) until the held load has read, while the console runs on."""
        import asyncio

        assert await asyncio.to_thread(self.read.wait, 60), "no reload was held"

    async def settle(self, pilot, rounds: int = 3) -> None:
        """`settle`, but without waiting for the held load."""
        import asyncio

        for _ in range(rounds):
            await pilot.pause()
            others = [w for w in pilot.app.workers if w is not self.held_worker]
            await asyncio.gather(*(w.wait() for w in others), return_exceptions=True)
        await pilot.pause()

    async def deliver(self, pilot) -> None:
        """Let the held load answer now, and wait until the screen has handled it."""
        import asyncio

        assert self.read.is_set(), "no reload was held"
        self.release.set()
        assert await asyncio.to_thread(self.delivered.wait, 60), "the held reload never answered"
        await settle(pilot)


async def open_composer(app, pilot, cid: int, key: str = "r") -> None:
    """Open conversation `cid`, then its composer (`r` reply, `n` note), and let both load."""
    await open_conversation(app, pilot, cid)
    await pilot.press(key)
    await settle(pilot)
