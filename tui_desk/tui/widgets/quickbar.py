"""The status bar above the footer: what the digits send here, or the reply on its way
with the seconds left to take it back (`u`)."""

from __future__ import annotations

import datetime as dt

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from ...textsafe import one_line
from ..format import fit


def countdown_line(pending: list, now: dt.datetime) -> Text | None:
    """"Sending “Refund issued” to Mike Jones <mike@…> in 8 s · u undo" for the latest
    reply still in its undo window (None when there is none)."""
    waiting = [p for p in pending if p.deliver_at > now]
    if not waiting:
        return None
    latest = waiting[-1]
    seconds = max(1, int((latest.deliver_at - now).total_seconds() + 0.999))
    text = Text("↩ Sending ", style="bold")
    text.append(f"“{one_line(latest.label)}”", style="bold")
    text.append(f" to {one_line(latest.to)} in {seconds} s")
    if len(waiting) > 1:
        text.append(f" (+{len(waiting) - 1} more)")
    text.append(" · u undo", style="bold")
    return text


DIGIT_CELLS = 6
"""What a digit takes besides its title: " 1 ", a space before the title and two after."""
MIN_TITLE = 6
"""Titles are shortened to fit every digit on the line, but not below this."""
ALL_DIGITS_FROM = 120
"""From this width on, titles are shortened so every digit shows; narrower bars keep
whole titles (shortened to a few letters they would say nothing) and cut the end."""


def digits_line(choices: list[tuple[int, str]], width: int = 0) -> Text:
    """"1 Order status  2 Refund issued  …": what each digit sends here. Given the bar's
    `width` (120 columns or more), long titles are shortened so that every digit shows."""
    titles = [one_line(title) for _, title in choices]
    room = (width // len(choices) - DIGIT_CELLS) if width and choices else 0
    if width >= ALL_DIGITS_FROM and sum(cell_len(t) + DIGIT_CELLS for t in titles) > width and room >= MIN_TITLE:
        titles = [fit(t, room).rstrip() if cell_len(t) > room else t for t in titles]
    text = Text()
    for (digit, _), title in zip(choices, titles):
        text.append(f" {digit} ", style="reverse")
        text.append(f" {title}  ")
    return text


class QuickBar(Static):
    """One line; its screen sets `choices`, the app's session holds the replies in their window."""

    DEFAULT_CSS = """
    QuickBar { height: 1; background: $panel; color: $text-muted; }
    QuickBar.-sending { background: $warning 30%; color: $text; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(Text(""), **kwargs)
        self.choices: list[tuple[int, str]] = []

    def on_mount(self) -> None:
        self.set_interval(0.5, self.update_line)  # the countdown ticks; drawing reads memory only

    def set_choices(self, choices: list[tuple[int, str]]) -> None:
        self.choices = choices
        self.update_line()

    def update_line(self) -> None:
        session = getattr(self.app, "session", None)  # the console's (DeskApp); none in a bare app
        pending = session.pending_replies if session is not None else []
        sending = countdown_line(pending, dt.datetime.now(dt.timezone.utc))
        self.set_class(sending is not None, "-sending")
        self.update(sending if sending is not None else digits_line(self.choices, self.size.width))

    def on_resize(self) -> None:
        self.update_line()
