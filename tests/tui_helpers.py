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
