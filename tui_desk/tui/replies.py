"""Template replies from the inbox and the conversation: `t` opens the picker, a digit
sends the template shown beside it at once (queued with the undo window), and `u` (an
app key, so it works on every screen) takes the latest reply back.

The digits send what the quick bar shows: the suggestions are computed once per
conversation in a worker, and the same list decides what a digit means. `r` opens the
composer pre-filled with a template in the draft stage when the match is confident.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.binding import Binding

from .. import outbox
from ..errors import UsageError
from ..templates.quick import (Draft, NeedsComposer, QuickChoices, digit_choice, open_picker, preview,
                               queue_template, quick_choices, reply_context, template_request)
from ..templates.stages import confident_draft
from ..textsafe import one_line
from .data import DeskData
from .screens.base import ScreenMixin
from .screens.composer import ComposerScreen
from .screens.pickers import InputScreen
from .screens.templates import TemplatePickerScreen
from .session import PendingReply
from .widgets.quickbar import QuickBar

TEMPLATE_BINDINGS = [
    Binding("t", "templates", "Templates", id="templates", tooltip="Pick a template reply"),
    *[Binding(str(n), f"quick_reply({n})", f"Send {n}", id=f"quick_reply_{n}", show=False,
              tooltip=f"Send template {n} (pinned or suggested) now, with an undo window") for n in range(1, 10)],
]


def composer_bundle(store, conversation_id: int, seen_version: int | None = None) -> dict | None:
    """What the composer needs: the conversation and its customer, the customer's latest
    message (shown while writing), and the version the agent was looking at
    (`seen_version`; the one read here when not known)."""
    conversation = store.conversation(conversation_id)
    if conversation is None:
        return None
    customer = store.customer(conversation["customer_id"]) if conversation["customer_id"] else None
    seen = conversation["version"] if seen_version is None else seen_version
    inbound = [m for m in store.messages(conversation_id) if m["direction"] == "in"]
    return {"conversation": conversation, "customer": customer, "seen_version": seen,
            "last_inbound": inbound[-1] if inbound else None}


def digit_choices(choices: QuickChoices) -> list[tuple[int, str]]:
    """(digit, title) for every digit that sends something here."""
    return [(digit, template.title) for digit, template in enumerate(choices.digits, 1)]


class TemplateReplies(ScreenMixin):
    """Mixin for screens with a QuickBar: needs `data` and `reply_target()`."""

    data: DeskData
    suggested_for: int | None = None
    suggested: QuickChoices | None = None
    suggesting: int | None = None
    """The conversation whose suggestions were asked for last (an older answer is dropped)."""

    def reply_target(self) -> tuple[int, int | None] | None:
        """(conversation id, the version the agent is looking at), or None."""
        raise NotImplementedError

    # -- what the digits mean here ------------------------------------------------

    def load_suggestions(self, conversation_id: int | None) -> None:
        self.suggesting = conversation_id
        if conversation_id is None:
            self.suggested_for, self.suggested = None, None
            self.query_one(QuickBar).set_choices([])
            return
        self._suggest(conversation_id)

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False)
    def _suggest(self, conversation_id: int) -> None:
        with self.data.store() as store:
            suggested = quick_choices(self.data.config, store, self.data.library, conversation_id)
        choices = digit_choices(suggested)
        self.app.call_from_thread(self._suggested, conversation_id, suggested, choices)

    def _suggested(self, conversation_id: int, suggested: QuickChoices, choices: list[tuple[int, str]]) -> None:
        target = self.reply_target()
        if conversation_id != self.suggesting or (target is not None and target[0] != conversation_id):
            return  # the cursor moved on meanwhile (None: its row is being read again, the answer stands)
        self.suggested_for, self.suggested = conversation_id, suggested
        self.query_one(QuickBar).set_choices(choices)

    # -- digits ---------------------------------------------------------------------

    def action_quick_reply(self, digit: int) -> None:
        target = self.reply_target()
        if target is None:
            self.notify("No conversation here", severity="warning")
            return
        suggested = self.suggested if self.suggested_for == target[0] else None
        self._quick_send(*target, digit, suggested)

    @work(thread=True, group="quick", exit_on_error=False)
    def _quick_send(self, conversation_id: int, version: int | None, digit: int,
                    suggested: QuickChoices | None) -> None:
        config, library, app = self.data.config, self.data.library, self.desk_app
        with self.data.store() as store:
            if suggested is None:  # pressed before the bar was drawn: what it would have shown
                suggested = quick_choices(config, store, library, conversation_id)
            template = digit_choice(suggested, digit)
            if template is None:
                app.call_from_thread(app.notify, f"No template on {digit} here", severity="warning")
                return
            try:
                request = template_request(config, conversation_id, agent=self.data.agent,
                                           expected_version=version)
                sent = queue_template(config, store, template, request)
            except NeedsComposer as needs:
                if needs.draft.rendered.problems:  # a broken template: never sent, say why
                    app.call_from_thread(app.notify, Text(one_line(str(needs))), severity="error",
                                         title="Not sent")
                    return
                bundle = composer_bundle(store, conversation_id, version)
                app.call_from_thread(self.fill_slots, needs.draft, bundle)
                return
            except outbox.ConversationChanged:
                app.call_from_thread(app.notify, f"#{conversation_id} changed since you looked at it: nothing"
                                     " was sent. Have a look, then press the digit again.", severity="warning")
                return
            except UsageError as refused:  # e.g. the conversation has no usable address
                app.call_from_thread(app.notify, Text(one_line(str(refused))), severity="error", title="Not sent")
                return
        app.call_from_thread(app.track_reply, PendingReply(
            sent.queued.outbox_id, conversation_id, template.title, sent.to, sent.queued.deliver_at, sent.text))

    # -- the picker and the composer --------------------------------------------------

    def action_templates(self) -> None:
        target = self.reply_target()
        if target is None:
            self.notify("No conversation here", severity="warning")
            return
        self._open_picker(*target)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def _open_picker(self, conversation_id: int, version: int | None) -> None:
        config, app = self.data.config, self.desk_app
        with self.data.store() as store:
            known = self.suggested if self.suggested_for == conversation_id else None
            picker = open_picker(config, store, self.data.library, conversation_id, known)
            context = reply_context(config, store, conversation_id, agent=self.data.agent)
            bundle = composer_bundle(store, conversation_id, version)  # held against what is on screen

        def chosen(draft: Draft | None) -> None:
            self.load_suggestions(conversation_id)  # the picker read the files afresh: so does the bar
            if draft is not None:
                self.fill_slots(draft, bundle)
        app.call_from_thread(app.push_screen, TemplatePickerScreen(picker, context), chosen)

    def fill_slots(self, draft: Draft, bundle: dict | None, answers: dict[str, str] | None = None) -> None:
        """Ask for each unfilled `ask("…")` slot in turn, then open the composer."""
        if bundle is None:
            return
        answers = dict(answers or {})
        missing = [label for label in draft.rendered.missing if not answers.get(label, "").strip()]
        if not missing:
            if answers:
                self._render_filled(draft, bundle, answers)
            else:
                self.open_composer(bundle, draft)
            return
        label = missing[0]

        def answered(value: str | None) -> None:
            if value is None or not value.strip():
                self.notify(f"Not sent: “{label}” was left empty", severity="warning")
                return
            self.fill_slots(draft, bundle, {**answers, label: value.strip()})
        self.app.push_screen(InputScreen(f"{draft.template.title}: {label}", label,
                                         hint="enter fills it in · esc cancels"), answered)

    @work(thread=True, group="picker", exit_on_error=False)
    def _render_filled(self, draft: Draft, bundle: dict, answers: dict[str, str]) -> None:
        with self.data.store() as store:
            filled = preview(self.data.config, store, draft.template, draft.conversation_id,
                             agent=self.data.agent, answers=answers)
        self.app.call_from_thread(self.open_composer, bundle, filled)

    def open_reply(self, bundle: dict) -> None:
        """`r`: the composer, pre-filled for review with the template in draft (or auto)
        when the match is confident and nothing unsent waits for this conversation."""
        if self.desk_app.session.draft((bundle["conversation"]["id"], False)) is not None:
            self.open_composer(bundle)
            return
        self._draft_reply(bundle)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def _draft_reply(self, bundle: dict) -> None:
        conversation_id = bundle["conversation"]["id"]
        with self.data.store() as store:
            template = confident_draft(self.data.config, store, self.data.library, conversation_id)
            draft = preview(self.data.config, store, template, conversation_id, agent=self.data.agent) \
                if template is not None else None
        if draft is None or draft.rendered.problems:
            self.app.call_from_thread(self.open_composer, bundle)
        else:
            self.app.call_from_thread(self.fill_slots, draft, bundle)

    def open_composer(self, bundle: dict, draft: Draft | None = None, *, note: bool = False) -> None:
        if draft is not None and not draft.rendered.ok:
            self.notify(Text(one_line("; ".join(draft.rendered.problems) or "slots left empty")),
                        severity="error", title="Not sent")
            return
        self.app.push_screen(ComposerScreen(self.data, bundle, note=note, template=draft))
