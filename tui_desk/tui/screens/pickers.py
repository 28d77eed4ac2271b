"""Small modal dialogs: pick one of a few choices, type a line, confirm a held reply."""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...textsafe import clean, one_line


class ChoiceScreen(ModalScreen[str | None]):
    """Choose one option (enter) or nothing (esc). Returns the option id."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel"),
                Binding("j", "down", show=False), Binding("k", "up", show=False)]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            yield OptionList(*[Option(Text(one_line(label)), id=key) for key, label in self.choices])

    def action_down(self) -> None:
        self.query_one(OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one(OptionList).action_cursor_up()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


class PathSuggester(Suggester):
    """Completes a file path as it is typed (→ takes the completion), like a shell's tab."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        typed = Path(value).expanduser()
        folder, start = (typed, "") if value.endswith("/") else (typed.parent, typed.name)
        try:
            names = sorted(e.name + ("/" if e.is_dir() else "") for e in os.scandir(folder)
                           if e.name.startswith(start) and (start.startswith(".") or not e.name.startswith(".")))
        except OSError:
            return None
        return value + names[0][len(start):] if names else None


class InputScreen(ModalScreen[str | None]):
    """Type one line (enter) or cancel (esc)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "", hint: str = "",
                 suggester: Suggester | None = None) -> None:
        super().__init__()
        self.title_text, self.placeholder, self.value, self.hint = title, placeholder, value, hint
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text), classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, suggester=self.suggester)
            if self.hint:
                yield Static(Text(self.hint), classes="dialog-hint")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class HeldReplyScreen(ModalScreen[str]):
    """The conversation changed since the reply was begun: show what is new and ask.
    Returns "send", "edit" or "discard"."""

    BINDINGS = [
        Binding("s", "dismiss('send')", "Send anyway"),
        Binding("e,escape", "dismiss('edit')", "Keep editing"),
        Binding("d", "dismiss('discard')", "Discard"),
    ]

    def __init__(self, newer: list[dict]) -> None:
        super().__init__()
        self.newer = newer

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text("Your reply is held: the conversation changed since you began it."),
                         classes="dialog-title")
            with VerticalScroll():
                for message in self.newer:
                    head = Text(f"{one_line(message.get('author') or message.get('direction', ''))}"
                                f" · {message.get('direction', '')}", style="bold")
                    yield Static(head)
                    yield Static(Text(clean(message.get("text") or "")), classes="held-text")
            yield Static(Text("s send anyway · e keep editing · d discard"), classes="dialog-hint")


class ConfirmScreen(ModalScreen[bool]):
    """Ask before something that cannot be undone: y does it, n or esc does not. Enter
    does nothing here, so the enter that closed the previous dialog cannot confirm."""

    BINDINGS = [Binding("y", "dismiss(True)", "Yes"), Binding("n,escape", "dismiss(False)", "No")]

    def __init__(self, title: str, lines: list[str], yes: str) -> None:
        super().__init__()
        self.title_text, self.lines, self.yes = title, lines, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static(Text(self.title_text), classes="dialog-title")
            for line in self.lines:
                yield Static(Text(one_line(line)))
            yield Static(Text(f"y {self.yes} · n or esc cancel"), classes="dialog-hint")
