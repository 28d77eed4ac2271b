"""`t`: the template picker. The suggestions come first, each with its reason; type to
search (title, tags, keywords, body, ranked also by what the customer wrote); the
highlighted template is rendered for this conversation beside the list; enter takes
it into the composer.

Ranking runs on the UI thread: it is in memory (the picker and the conversation's
variables were read before the screen opened) and takes a few milliseconds even over
thousands of templates. Rendering runs in a worker: a template is code someone wrote,
and though the sandbox bounds its work (up to a second), the console never waits
for it. Each template is rendered once per opening of the picker.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...templates.picker import Picker
from ...templates.quick import Draft, ReplyContext
from ...textsafe import clean, one_line

SHOWN = 30  # more than a tall terminal shows; each keystroke rebuilds the list


def option_label(template, digit: int | None, reason: str = "") -> Content:
    """"2 Refund issued  #billing #refund", or for a suggestion "1 Refund issued · answered
    14 similar messages" (Content: literal text, never markup)."""
    if reason:
        return Content.assemble((f"{digit} " if digit else "  ", "bold"), one_line(template.title),
                                (f"  ★ {one_line(reason)}", "italic"))
    tags = "  " + " ".join(f"#{one_line(t)}" for t in template.tags) if template.tags else ""
    return Content.assemble((f"{digit} " if digit else "  ", "bold"), one_line(template.title), (tags, "dim"))


def preview_text(draft: Draft) -> Text:
    """The rendered reply, or what stops it from being sent."""
    rendered = draft.rendered
    text = Text(f"To {one_line(draft.to)}\n\n", style="dim")
    if rendered.problems:
        text.append("Cannot be sent:\n", style="bold red")
        for problem in rendered.problems:
            text.append(f"• {one_line(problem)}\n", style="red")
        return text
    text.append(clean(rendered.text))
    if rendered.missing:
        text.append("\n\nYou fill in: " + ", ".join(rendered.missing), style="bold")
    return text


class TemplatePickerScreen(ModalScreen[Draft | None]):
    """Returns the chosen template rendered for the conversation, or None."""

    class DraftReady(Message):
        """A template was rendered for the conversation (in a worker)."""

        def __init__(self, draft: Draft, chosen: bool) -> None:
            super().__init__()
            self.draft = draft
            self.chosen = chosen
            """The agent pressed enter on it: take it once rendered."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    def __init__(self, picker: Picker, context: ReplyContext) -> None:
        super().__init__()
        self.picker = picker
        self.context = context
        self.shown: list = []
        self._options: dict[str, Option] = {}  # one per template: the list caches how each is drawn
        self._drafts: dict[str, Draft] = {}  # template id → its rendering, made once in a worker
        if picker.digits is not None:  # what the quick bar shows
            self.digit_of = picker.digits
        else:
            pinned = {t.key: t for t in picker.templates if t.key}
            self.digit_of = {t.id: key for key, t in sorted(pinned.items(), reverse=True)}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="picker"):
            yield Static(Text(f"Templates for #{self.context.conversation_id} · {one_line(self.context.to)}"),
                         classes="dialog-title")
            yield Input(placeholder="type to search titles, tags, keywords and text", id="picker-query")
            with Horizontal(id="picker-body"):
                yield OptionList(id="picker-list")
                with VerticalScroll(id="picker-preview"):
                    yield Static(id="picker-text")
            yield Static(Text("↑↓ choose · enter edit in the composer · esc cancel"), classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.show_ranked("")

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.show_ranked(event.value)

    def show_ranked(self, query: str) -> None:
        self.shown = [r.template for r in self.picker.rank(query, SHOWN)]
        options = self.query_one(OptionList)
        options.set_options([self._option(t) for t in self.shown])
        if self.shown:
            options.highlighted = 0
        self.show_preview()

    def _option(self, template) -> Option:
        if template.id not in self._options:
            self._options[template.id] = Option(option_label(template, self.digit_of.get(template.id),
                                                             self.picker.reasons.get(template.id, "")), id=template.id)
        return self._options[template.id]

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.show_preview()

    @property
    def current(self):
        index = self.query_one(OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def show_preview(self) -> None:
        template = self.current
        target = self.query_one("#picker-text", Static)
        if template is None:
            target.update(Text("No template matches.", style="dim"))
            return
        draft = self._drafts.get(template.id)
        if draft is not None:
            target.update(preview_text(draft))
            return
        target.update(Text("Rendering…", style="dim"))
        self._render_draft(template, chosen=False)

    @work(thread=True, group="template-render", exit_on_error=False)
    def _render_draft(self, template, chosen: bool) -> None:
        self.post_message(self.DraftReady(self.context.draft(template), chosen))

    @on(DraftReady)
    def _rendered(self, event: DraftReady) -> None:
        draft = event.draft
        self._drafts[draft.template.id] = draft
        current = self.current
        if current is None or current.id != draft.template.id:
            return  # the highlight moved on meanwhile: shown when it comes back
        self.query_one("#picker-text", Static).update(preview_text(draft))
        if event.chosen:
            self._take(draft)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            index = options.highlighted or 0
            options.highlighted = max(0, min(len(self.shown) - 1, index + delta))

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self._choose()

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self._choose()

    def _choose(self) -> None:
        template = self.current
        if template is None:
            return
        draft = self._drafts.get(template.id)
        if draft is None:
            self._render_draft(template, chosen=True)  # taken when rendered
            return
        self._take(draft)

    def _take(self, draft: Draft) -> None:
        if draft.rendered.problems:
            self.notify(Text(one_line("; ".join(draft.rendered.problems))), severity="error",
                        title=f"{one_line(draft.template.title)} cannot be sent")
            return
        self.dismiss(draft)
