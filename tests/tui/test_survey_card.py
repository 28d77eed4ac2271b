"""The customer card shows the customer's latest survey scores and comments, as text."""

from __future__ import annotations

import pytest

from tests.helpers.desk import conversation_id
from tests.helpers.tui import frozen_app, open_conversation, settle
from tui_desk.store import Store
from tui_desk.tui.widgets.card import CustomerCard

pytestmark = pytest.mark.anyio

MARKUP = "[bold red]x[/] [@click=app.quit]quit[/]"


def card_text(app) -> str:
    return " ".join(str(s.render()) for s in app.screen.query_one(CustomerCard).query("Static"))


async def test_card_lists_the_latest_scores_with_their_comments(desk, db_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
        with store.transaction():
            store.add_event(cid, "satisfaction", "customer", {"score": 5, "comment": "", "survey": 1})
            store.add_event(cid, "satisfaction", "customer", {"score": 2, "comment": "slow refund " + MARKUP,
                                                              "survey": 2})
        assert [s["score"] for s in store.customer_scores(
            store.conversation(cid)["customer_id"])] == [2, 5]
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        text = card_text(app)
        assert "2/5" in text and "5/5" in text and text.index("2/5") < text.index("5/5")
        assert "slow refund [bold red]x[/] [@click=app.quit]quit[/]" in text   # markup stays text
        assert app.is_running


async def test_card_without_scores_says_so(desk, db_path):
    with Store.open(db_path) as store:
        cid = conversation_id(store, "Where is my order")
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await open_conversation(app, pilot, cid)
        assert "satisfaction: –" in card_text(app)
