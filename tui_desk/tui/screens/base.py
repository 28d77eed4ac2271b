"""DeskScreen: a console screen that reaches its DeskApp typed (`desk_app`).

Textual types `self.app` as any App; the console's screens and the mixins they share
(actions, template replies, card actions) call the DeskApp's own methods (presence,
the session, opening a conversation), so they go through `desk_app`. The mixins are
plain classes at run time; for a type checker they are DeskScreens (`ScreenMixin`),
so their `notify`, `query_one` and `app` calls are checked like a screen's own.
The App is imported for type checking only: screens never import the app module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from ..app import DeskApp


class DeskScreen(Screen):
    """A screen of the console."""

    @property
    def desk_app(self) -> DeskApp:
        """The console's App, typed."""
        return cast("DeskApp", self.app)


if TYPE_CHECKING:
    ScreenMixin = DeskScreen
else:
    ScreenMixin = object
"""The base of a mixin for DeskScreens: DeskScreen for a type checker, object at run time."""
