"""The sidebar of inbox views (fixed views, then each group, channel and tag) with live counts.

A bounded list (a few dozen entries at most), so Textual's OptionList is the right tool.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...store.inbox import VIEW_TITLES
from ...textsafe import one_line
from ..format import channel_glyph, fit


def view_label(key: str, channel_kinds: dict[str, str] | None = None) -> str:
    """A view's name; a channel's is marked by its kind (✉ mail, 💬 chat), a tag's by #,
    a group's by @."""
    if key.startswith("channel:"):
        name = key.split(":", 1)[1]
        return channel_glyph((channel_kinds or {}).get(name, "")) + " " + one_line(name)
    if key.startswith("tag:"):
        return "# " + one_line(key.split(":", 1)[1])
    if key.startswith("group:"):
        return "@ " + one_line(key.split(":", 1)[1])
    return VIEW_TITLES.get(key, key)


def short_count(n: int) -> str:
    """12, 9999, 12k, 100k, 2M: a count that fits a narrow sidebar."""
    if n < 10_000:
        return str(n)
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n // 1_000_000}M"


class ViewsSidebar(OptionList):
    """Pick a view with j/k and enter; counts update as the database changes."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, channel_kinds: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.counts: dict[str, int] = {}
        self.channel_kinds = channel_kinds or {}
        self._drawn_width = 0

    def on_resize(self) -> None:
        if self.counts and self.size.width != self._drawn_width:  # narrow or wide layout
            self.set_counts(self.counts, self.size.width)

    def set_counts(self, counts: dict[str, int], width: int = 22) -> None:
        """Rebuild the entries; the highlighted view stays highlighted."""
        self.counts = counts
        self._drawn_width = width
        current = self.highlighted_option.id if self.highlighted_option else None
        # "Not delivered" only while a reply needs a person (its count is left out otherwise)
        keys = [k for k in VIEW_TITLES if k != "undelivered" or counts.get(k)] \
            + [k for k in counts if k.startswith("group:")] \
            + [k for k in counts if k.startswith("channel:")] + [k for k in counts if k.startswith("tag:")]
        inner = max(width - 4, 8)
        options = []
        for key in keys:
            count = short_count(counts.get(key, 0))
            label = Text(fit(view_label(key, self.channel_kinds), inner - cell_len(count) - 1) + " ", no_wrap=True)
            label.append(count, "bold" if key in ("unassigned", "mine", "undelivered") and counts.get(key) else "dim")
            options.append(Option(label, id=key))
        self.set_options(options)
        if current is not None:
            try:
                self.highlighted = self.get_option_index(current)
            except Exception:  # the channel or tag went away
                self.highlighted = 0
