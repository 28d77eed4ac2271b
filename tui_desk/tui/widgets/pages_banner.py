"""The banner above the queue while a page is open: the on-call person sees at once
what woke them, and `!` acknowledges it (oncall.escalation)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ...textsafe import one_line


class PagesBanner(Static):
    """Hidden while no page is open; one line otherwise (customer text kept as text)."""

    DEFAULT_CSS = """
    PagesBanner { height: 1; background: $error; color: $text; padding: 0 1; display: none; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.pages: list[dict] = []

    def show_pages(self, pages: list[dict]) -> None:
        self.pages = [p for p in pages if p["state"] == "open"]
        self.display = bool(self.pages)
        if not self.pages:
            return
        count = len(self.pages)
        line = Text(f"⚠ {count} open page{'s' * (count != 1)}: ", style="bold")
        line.append(" · ".join(f"#{p['conversation_id']} {one_line(p['summary'].get('subject', ''))[:40]}"
                               for p in self.pages[:3]))
        line.append("  (! acknowledge)", style="italic")
        self.update(line)
