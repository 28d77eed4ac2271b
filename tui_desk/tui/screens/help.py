"""`?`: every key of every screen, as currently bound (config [keys] applied).

The screen shows what it is given (the App's key sections and keymap): it imports no
other screen and not the App."""

from __future__ import annotations

from collections.abc import Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...keymap import SHOWN

KeySections = list[tuple[str, list[Binding]]]
"""(title, bindings) per screen, in the order shown: the App hands them to HelpScreen."""


def keys_of(binding: Binding, keymap: Mapping[str, str]) -> str:
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    names = {**SHOWN, "space": "space", "escape": "esc"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """A table of keys per screen; esc or ? closes it."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
        # the list is longer than a small terminal: read it as a pager
        Binding("j,down", "scroll('down')", "Down", show=False),
        Binding("k,up", "scroll('up')", "Up", show=False),
        Binding("space,pagedown", "scroll('page_down')", "Page down", show=False),
        Binding("b,pageup", "scroll('page_up')", "Page up", show=False),
        Binding("g,home", "scroll('home')", "Top", show=False),
        Binding("G,end", "scroll('end')", "Bottom", show=False),
    ]

    def __init__(self, sections: KeySections, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self.sections = sections
        self.keymap = keymap

    def action_scroll(self, where: str) -> None:
        pane = self.query_one("#help", VerticalScroll)
        getattr(pane, f"scroll_{where}")(animate=False)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(Text("Keys  (rebind in config [keys]: action id = \"keys\")"), classes="dialog-title")
            for title, bindings in self.sections:
                table = Table(box=None, show_header=False, pad_edge=False, expand=True)
                table.add_column(width=14, no_wrap=True)
                table.add_column(ratio=1)
                table.add_column(width=14, no_wrap=True, style="dim")
                digits = [b for b in bindings if (b.id or "").startswith("quick_reply_")]
                for b in bindings:
                    if b in digits[1:]:
                        continue  # the nine digit keys share one row
                    keys, what, ids = keys_of(b, self.keymap), b.tooltip, b.id or ""
                    if b is (digits[0] if digits else None):
                        keys = " ".join(keys_of(d, self.keymap) for d in digits)
                        what, ids = "Send the template shown beside the digit now (undo window: u)", "quick_reply_N"
                    table.add_row(Text(keys, style="bold"),
                                  Text(what or (b.description if isinstance(b.description, str) else "")),
                                  Text(ids))
                yield Static(Text(title, style="bold underline"))
                yield Static(table)
