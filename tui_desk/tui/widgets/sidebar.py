"""The sidebar of inbox views (fixed views, then each channel, then each tag) with live counts.

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
from ..format import fit


def view_label(key: str) -> str:
    if key.startswith("channel:"):
        return "✉ " + one_line(key.split(":", 1)[1])
    if key.startswith("tag:"):
        return "# " + one_line(key.split(":", 1)[1])
    return VIEW_TITLES.get(key, key)


class ViewsSidebar(OptionList):
    """Pick a view with j/k and enter; counts update as the database changes."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.counts: dict[str, int] = {}

    def set_counts(self, counts: dict[str, int], width: int = 22) -> None:
        """Rebuild the entries; the highlighted view stays highlighted."""
        self.counts = counts
        current = self.highlighted_option.id if self.highlighted_option else None
        keys = [k for k in VIEW_TITLES] + [k for k in counts if k.startswith("channel:")] \
            + [k for k in counts if k.startswith("tag:")]
        inner = max(width - 4, 8)
        options = []
        for key in keys:
            count = str(counts.get(key, 0))
            label = Text(fit(view_label(key), inner - cell_len(count) - 1) + " ", no_wrap=True)
            label.append(count, "bold" if key in ("unassigned", "mine") and counts.get(key) else "dim")
            options.append(Option(label, id=key))
        self.set_options(options)
        if current is not None:
            try:
                self.highlighted = self.get_option_index(current)
            except Exception:  # the channel or tag went away
                self.highlighted = 0
