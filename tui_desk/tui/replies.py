"""Template replies from the inbox and the conversation: `t` opens the picker, a digit
sends the template shown beside it at once (queued with the undo window), and `u` (an
app key, so it works on every screen) takes the latest reply back.

The digits send what the quick bar shows: the suggestions are computed once per
conversation in a worker, and the same list decides what a digit means. `r` opens the
composer pre-filled with a template in the draft stage when the match is confident.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.binding import Binding

from .. import outbox
from ..errors import UsageError
from ..templates.quick import (Draft, NeedsComposer, QuickChoices, digit_choice, open_picker, preview,
                               quick_choices, reply_context, send_template)
from ..templates.stages import confident_draft
from ..textsafe import one_line
from .data import DeskData
from .widgets.quickbar import QuickBar

TEMPLATE_BINDINGS = [
    Binding("t", "templates", "Templates", id="templates", tooltip="Pick a template reply"),
    *[Binding(str(n), f"quick_reply({n})", f"Send {n}", id=f"quick_reply_{n}", show=False,
              tooltip=f"Send template {n} (pinned or suggested) now, with an undo window") for n in range(1, 10)],
]


@dataclass
class PendingReply:
    """A reply this console queued, while it can still be taken back."""

    outbox_id: int
    conversation_id: int
    label: str
    """The template's title, or "reply"."""
    to: str
    deliver_at: dt.datetime
    text: str
    from_composer: bool = False
    """Taking it back puts the text back into the composer's draft."""


@dataclass
class KeptDraft:
    """Composer text left unsent (esc, or a reply taken back), kept while the console runs."""

    text: str
    seen_version: int | None = None
    """The conversation version the agent had seen when they began it: the collision
    hold compares against it when the draft is sent, however often it was put away.
    None: against what the screen shows when the composer opens again."""


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


class TemplateReplies:
    """Mixin for screens with a QuickBar: needs `data` and `reply_target()`."""

    data: DeskData
    suggested_for: int | None = None
    suggested: QuickChoices | None = None

    def reply_target(self) -> tuple[int, int | None] | None:
        """(conversation id, the version the agent is looking at), or None."""
        raise NotImplementedError

    # -- what the digits mean here ------------------------------------------------

    def load_suggestions(self, conversation_id: int | None) -> None:
        if conversation_id is None:
            self.suggested_for, self.suggested = None, None
            self.query_one(QuickBar).set_choices([])  # type: ignore[attr-defined]
            return
        self._suggest(conversation_id)

    @work(thread=True, exclusive=True, group="suggest", exit_on_error=False)
    def _suggest(self, conversation_id: int) -> None:
        with self.data.store() as store:
            suggested = quick_choices(self.data.config, store, self.data.library, conversation_id)
        choices = digit_choices(suggested)
        self.app.call_from_thread(self._suggested, conversation_id, suggested, choices)  # type: ignore[attr-defined]

    def _suggested(self, conversation_id: int, suggested: QuickChoices, choices: list[tuple[int, str]]) -> None:
        target = self.reply_target()
        if target is None or target[0] != conversation_id:
            return  # the cursor moved on meanwhile
        self.suggested_for, self.suggested = conversation_id, suggested
        self.query_one(QuickBar).set_choices(choices)  # type: ignore[attr-defined]

    # -- digits ---------------------------------------------------------------------

    def action_quick_reply(self, digit: int) -> None:
        target = self.reply_target()
        if target is None:
            self.notify("No conversation here", severity="warning")  # type: ignore[attr-defined]
            return
        suggested = self.suggested if self.suggested_for == target[0] else None
        self._quick_send(*target, digit, suggested)

    @work(thread=True, group="quick", exit_on_error=False)
    def _quick_send(self, conversation_id: int, version: int | None, digit: int,
                    suggested: QuickChoices | None) -> None:
        config, library, app = self.data.config, self.data.library, self.app  # type: ignore[attr-defined]
        with self.data.store() as store:
            if suggested is None:  # pressed before the bar was drawn: what it would have shown
                suggested = quick_choices(config, store, library, conversation_id)
            template = digit_choice(suggested, digit)
            if template is None:
                app.call_from_thread(app.notify, f"No template on {digit} here", severity="warning")
                return
            try:
                sent = send_template(config, store, template, conversation_id, agent=self.data.agent,
                                     expected_version=version)
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
            self.notify("No conversation here", severity="warning")  # type: ignore[attr-defined]
            return
        self._open_picker(*target)

    @work(thread=True, exclusive=True, group="picker", exit_on_error=False)
    def _open_picker(self, conversation_id: int, version: int | None) -> None:
        config, app = self.data.config, self.app  # type: ignore[attr-defined]
        with self.data.store() as store:
            known = self.suggested if self.suggested_for == conversation_id else None
            picker = open_picker(config, store, self.data.library, conversation_id, known)
            context = reply_context(config, store, conversation_id, agent=self.data.agent)
            bundle = composer_bundle(store, conversation_id, version)  # held against what is on screen
        from .screens.templates import TemplatePickerScreen

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
        from .screens.pickers import InputScreen
        label = missing[0]

        def answered(value: str | None) -> None:
            if value is None or not value.strip():
                self.notify(f"Not sent: “{label}” was left empty", severity="warning")  # type: ignore[attr-defined]
                return
            self.fill_slots(draft, bundle, {**answers, label: value.strip()})
        self.app.push_screen(InputScreen(f"{draft.template.title}: {label}", label,  # type: ignore[attr-defined]
                                         hint="enter fills it in · esc cancels"), answered)

    @work(thread=True, group="picker", exit_on_error=False)
    def _render_filled(self, draft: Draft, bundle: dict, answers: dict[str, str]) -> None:
        with self.data.store() as store:
            filled = preview(self.data.config, store, draft.template, draft.conversation_id,
                             agent=self.data.agent, answers=answers)
        self.app.call_from_thread(self.open_composer, bundle, filled)  # type: ignore[attr-defined]

    def open_reply(self, bundle: dict) -> None:
        """`r`: the composer, pre-filled for review with the template in draft (or auto)
        when the match is confident and nothing unsent waits for this conversation."""
        if (bundle["conversation"]["id"], False) in self.app.drafts:  # type: ignore[attr-defined]
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
            self.app.call_from_thread(self.open_composer, bundle)  # type: ignore[attr-defined]
        else:
            self.app.call_from_thread(self.fill_slots, draft, bundle)  # type: ignore[attr-defined]

    def open_composer(self, bundle: dict, draft: Draft | None = None, *, note: bool = False) -> None:
        from .screens.composer import ComposerScreen
        if draft is not None and not draft.rendered.ok:
            self.notify(Text(one_line("; ".join(draft.rendered.problems) or "slots left empty")),  # type: ignore[attr-defined]
                        severity="error", title="Not sent")
            return
        self.app.push_screen(ComposerScreen(self.data, bundle, note=note, template=draft))  # type: ignore[attr-defined]
