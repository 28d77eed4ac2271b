"""Textual's Footer, made cheaper to rebuild: it was a third of the time it takes to open
a conversation.

Textual's Footer re-creates every key widget each time the screen's bindings may have
changed (each focus change, each screen pushed or popped; several times for one screen
change) and each FooterKey restyles itself twice while mounting. This one rebuilds once
per refresh and only when the keys it would show differ, and starts each key with the
footer's compact value so mounting it restyles nothing. `? Help` comes first, so a
narrow terminal cuts the end of the bar and never the key that lists every other.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    """The key bar at the bottom of each screen."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen or self._pending:
            return
        self._pending = True
        self.call_after_refresh(self._recompose_if_changed)

    async def _recompose_if_changed(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        shown = self._keys_shown()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _keys_shown(self) -> tuple:
        return (self.compact, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE, tuple(
            (binding.key, binding.action, binding.description, binding.group, enabled, tooltip,
             self.app.get_key_display(binding))
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show or binding.key == self.app.COMMAND_PALETTE_BINDING))

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        # `? Help` first: a narrow terminal cuts the end of the bar, never the key that lists the rest
        helps = [w for w in widgets if isinstance(w, FooterKey) and w.action == "help"]
        for widget in helps + [w for w in widgets if w not in helps]:
            self._settle(widget)
            yield widget

    def _settle(self, widget: Widget) -> None:
        if isinstance(widget, FooterKey):
            widget.set_reactive(FooterKey.compact, self.compact)
            widget.set_class(self.compact, "-compact", update=False)
        for child in widget._pending_children:  # keys inside a binding group
            self._settle(child)
