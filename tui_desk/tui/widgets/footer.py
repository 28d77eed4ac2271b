"""The key bar at the bottom of each screen: Textual's Footer, fitted to the width and
cheaper to rebuild.

Fitted: `? Help` comes first and keeps its label, since it lists every other key. When
the bar does not fit, the command palette's label goes first, then long labels take their
short form ("Assign me" → "Me") from the end of the bar, then labels go, from the end,
leaving their keys: the first keys keep their words longest, and no key is cut off.

Cheaper: Textual's Footer re-creates every key widget each time the screen's bindings may
have changed (each focus change, each screen pushed or popped; several times for one
screen change) and each FooterKey restyles itself twice while mounting. This one rebuilds
once per refresh and only when the keys it would show differ, and starts each key with the
footer's compact value so mounting it restyles nothing.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey

# The short form of a long label, by action; labels of one short word have none.
SHORT_LABELS = {
    "assign_to_me": "Me",
    "assign_to": "Assign",
    "templates": "Tmpl",
    "attachment": "File",
    "refresh": "Sync",
    "repeat": "Again",
}
PALETTE_WIDTH = 2  # the palette key's border and right padding, beside its text


def key_width(key_display: str, label: str) -> int:
    """Cells one key takes in the bar: ` k ` and, with a label, `label `."""
    return cell_len(key_display) + 2 + (cell_len(label) + 1 if label else 0)


def fit_labels(keys: list[tuple[str, str, str]], width: int, palette: str | None = None) -> tuple[list[str], str]:
    """The label for each (key display, label, short label) and for the palette key, so that
    the bar fits in `width`; the first key's label is kept whatever the width."""
    labels = [label for _, label, _ in keys]
    palette_label = "palette" if palette else ""

    def used() -> int:
        bar = sum(key_width(display, label) for (display, _, _), label in zip(keys, labels))
        return bar + (key_width(palette, palette_label) + PALETTE_WIDTH if palette else 0)

    if used() <= width:
        return labels, palette_label
    palette_label = ""
    # from the end of the bar: first the short forms, then no label at all
    for shorten in (lambda i: keys[i][2] or labels[i], lambda i: ""):
        for i in range(len(keys) - 1, 0, -1):
            if used() <= width:
                return labels, palette_label
            labels[i] = shorten(i)
    return labels, palette_label


class Key(FooterKey):
    """A footer key; one whose label gave way keeps the padding around its key."""

    def render(self) -> Text:
        if self.description:
            return super().render()
        padding = self.get_component_styles("footer-key--key").padding
        text = Text(" " * padding.left + self.key_display + " " * padding.right,
                    self.get_component_rich_style("footer-key--key"))
        text.stylize_before(self.rich_style)
        return text


class Footer(TextualFooter):
    """The key bar at the bottom of each screen."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shown: tuple | None = None
        self._pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        self._schedule()

    def on_resize(self) -> None:
        if self._bindings_ready:
            self._schedule()

    def _schedule(self) -> None:
        if not self._pending:
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

    def _keys_to_show(self) -> list[tuple]:
        """(binding, enabled, tooltip, key display) once per action, `? Help` first."""
        seen: dict[str, tuple] = {}
        for _, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen[binding.action] = (binding, enabled, tooltip, self.app.get_key_display(binding))
        return sorted(seen.values(), key=lambda entry: entry[0].action != "help")

    def _palette_key(self) -> tuple | None:
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        active = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        return None if active is None else (active.binding, active.enabled, active.tooltip,
                                            self.app.get_key_display(active.binding))

    def _layout(self) -> tuple[list[tuple], list[str], tuple | None, str]:
        bindings, palette = self._keys_to_show(), self._palette_key()
        keys = [(display, binding.description, SHORT_LABELS.get(binding.action, ""))
                for binding, _, _, display in bindings]
        labels, palette_label = fit_labels(keys, self.app.size.width, palette[3] if palette else None)
        return bindings, labels, palette, palette_label

    def _keys_shown(self) -> tuple:
        bindings, labels, palette, palette_label = self._layout()
        return (self.compact, palette_label, palette and palette[1], tuple(
            (binding.key, binding.action, label, enabled, tooltip, display)
            for (binding, enabled, tooltip, display), label in zip(bindings, labels)))

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        bindings, labels, palette, palette_label = self._layout()
        for (binding, enabled, tooltip, display), label in zip(bindings, labels):
            yield self._settled(Key(binding.key, display, label, binding.action, disabled=not enabled,
                                    tooltip=tooltip or binding.description))
        if palette:
            binding, enabled, tooltip, display = palette
            yield self._settled(Key(binding.key, display, palette_label, binding.action,
                                    classes="-command-palette", disabled=not enabled,
                                    tooltip=binding.tooltip or binding.description))

    def _settled(self, key: Key) -> Key:
        key.set_reactive(FooterKey.compact, self.compact)
        key.set_class(self.compact, "-compact", update=False)
        return key
