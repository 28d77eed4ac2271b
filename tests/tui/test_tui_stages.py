"""Template stages in the console with Pilot: `r` opens the composer pre-filled with a
template in the draft stage when the match is confident (and empty otherwise), and an
automatic demotion shows as a notice."""

from __future__ import annotations

import pytest

from tests.helpers.tui import frozen_app, open_order, settle
from tui_desk.store import Store
from tui_desk.templates.quick import preview
from tui_desk.templates.stages import CONFIDENT
from tui_desk.templates.suggest import suggest
from tui_desk.tui.screens.composer import ComposerScreen

pytestmark = pytest.mark.anyio


def best_for(app, cid: int):
    with Store.open(app.data.db_path) as store:
        return suggest(app.data.config, store, app.data.library, cid)[0]


async def test_r_opens_the_composer_pre_filled_with_a_confident_draft_template(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        cid = await open_order(app, pilot)
        best = best_for(app, cid)
        assert best.template.id == "order-status" and best.score >= CONFIDENT
        await pilot.press("r")  # still in suggest: an empty composer
        await settle(pilot)
        assert isinstance(app.screen, ComposerScreen) and app.screen.query_one("TextArea").text == ""
        await pilot.press("escape")
        await settle(pilot)
        with Store.open(db_path) as store:
            store.set_template_stage("order-status", "draft", "ana")
            expected = preview(app.data.config, store, best.template, cid, agent=app.data.agent).rendered.text
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ComposerScreen)
        assert app.screen.template.template.id == "order-status"  # its use is recorded when sent
        assert app.screen.query_one("TextArea").text == expected and expected.startswith("Hi Mike,")


async def test_an_automatic_demotion_is_a_console_notice(desk, db_path):
    app = frozen_app(desk, db_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        with Store.open(db_path) as store:
            store.set_template_stage("shipping-delay", "auto", "ana")  # a person's change: no notice
            store.set_template_stage("shipping-delay", "draft", "desk",
                                     "demoted automatically: CSAT 2.0 over its last 10 automatic replies (needs 4.0)")
        app.poll_database()
        await settle(pilot)
        notes = [(n.title, str(n.message)) for n in app._notifications]
        assert ("Template shipping-delay: auto → draft",
                "demoted automatically: CSAT 2.0 over its last 10 automatic replies (needs 4.0)") in notes
        assert not any("suggest → auto" in title for title, _ in notes)
