"""Template replies as a service: preview, the digit keys, and sending with an undo window.

What the TUI (and the CLI's `reply --template`) call; one store query set per call, so
a digit press is queued in a few milliseconds:

    choices = quick_choices(config, store, library, conversation_id) # suggestions, then pinned
    digit_choice(choices, 3)                                        # which template 3 means
    picker = open_picker(config, store, library, conversation_id, choices)   # `t`
    picker.rank("refu")                                             # each keystroke
    context = reply_context(config, store, conversation_id, agent=me)
    draft = context.draft(template)                                 # live preview, no database
    request = template_request(config, conversation_id, agent=me, expected_version=v)
    sent = queue_template(config, store, template, request)        # digit keys: render and queue
    outbox.cancel(store, sent.queued.outbox_id, me)                 # `u` within the window
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from .. import outbox
from ..config import Config
from ..errors import NotFound, UsageError
from ..store import Store
from ..textsafe import one_line
from .library import Template, TemplateLibrary
from .picker import Picker, context_scores
from .render import Rendered, render, variables_for
from .suggest import Suggestion, offer


class NeedsComposer(UsageError):
    """The template cannot go out as it is (slots to fill, or a problem): open the
    composer with `draft` instead of sending."""

    def __init__(self, draft: "Draft") -> None:
        self.draft = draft
        why = "; ".join(draft.rendered.problems) or "fill in: " + ", ".join(draft.rendered.missing)
        super().__init__(f"template {draft.template.id} was not sent: {why}")


@dataclass
class Draft:
    """A template rendered for one conversation."""

    template: Template
    rendered: Rendered
    conversation_id: int
    to: str
    """Who it goes to, for the status bar: "Mike Jones <mike@…>" or the chat handle."""


@dataclass
class QuickReply:
    """A template reply that was queued."""

    queued: outbox.QueuedReply
    template: Template
    to: str
    text: str


def _conversation(store: Store, conversation_id: int) -> tuple[dict, dict | None]:
    conversation = store.conversation(conversation_id)
    if conversation is None:
        raise NotFound(f"no conversation {conversation_id}")
    customer = store.customer(conversation["customer_id"]) if conversation["customer_id"] else None
    return conversation, customer


def _channel_kind(config: Config, name: str) -> str:
    return next((c.kind for c in config.channels if c.name == name), "")


@dataclass
class QuickChoices:
    """What the digits send in one conversation: the suggestions first, then the pinned
    templates that may be offered here (by their key), numbered from 1."""

    suggested: list[Suggestion]
    digits: list[Template]
    """Digit N sends digits[N - 1]."""

    def digit_of(self) -> dict[str, int]:
        return {t.id: n for n, t in enumerate(self.digits, 1)}


def quick_choices(config: Config, store: Store, library: TemplateLibrary, conversation_id: int) -> QuickChoices:
    """The suggestions for the conversation and what each digit sends there."""
    found = offer(config, store, library, conversation_id)
    allowed = {t.id for t in found.candidates}
    digits = [s.template for s in found.suggested]
    for _, template in sorted(library.pinned().items()):
        if template.id in allowed and all(t.id != template.id for t in digits):
            digits.append(template)
    return QuickChoices(found.suggested, digits[:9])


def open_picker(config: Config, store: Store, library: TemplateLibrary, conversation_id: int,
                choices: QuickChoices | None = None) -> Picker:
    """A picker for this conversation: templates fitting its channel, context computed
    once, the suggestions first (with their reasons) while nothing is typed."""
    conversation, _ = _conversation(store, conversation_id)
    choices = choices or quick_choices(config, store, library, conversation_id)
    templates = library.templates()
    context = context_scores(store.last_inbound_text(conversation_id), templates, store.answered_before())
    return Picker(templates, context=context, channel=conversation["channel"],
                  channel_kind=_channel_kind(config, conversation["channel"]),
                  suggested=[(s.template.id, s.reason) for s in choices.suggested], digits=choices.digit_of())


def digit_choice(choices: QuickChoices, digit: int) -> Template | None:
    """The template digit N sends here (the one the quick bar shows beside it)."""
    return choices.digits[digit - 1] if 1 <= digit <= len(choices.digits) else None


@dataclass
class ReplyContext:
    """One conversation's variables, read once: rendering for it needs no database,
    so the picker's live preview costs a render per highlight and nothing more."""

    conversation_id: int
    to: str
    variables: dict[str, dict]

    def draft(self, template: Template, answers: dict[str, str] | None = None) -> Draft:
        return Draft(template, render(template, self.variables, answers), self.conversation_id, self.to)


def on_call_name(config: Config, store: Store, now: dt.datetime | None = None) -> str | None:
    """Who carries the phone now (for `{{ on_call.name }}`); None without rotations."""
    from ..oncall.service import Oncall  # the on-call desk is only needed for this one name
    return Oncall(store, config, now=now).current_name()


def reply_context(config: Config, store: Store, conversation_id: int, *, agent: str,
                  on_call: str | None = None, now: dt.datetime | None = None) -> ReplyContext:
    """Everything a template needs to be rendered for this conversation."""
    conversation, customer = _conversation(store, conversation_id)
    if on_call is None:
        on_call = on_call_name(config, store, now)
    variables = variables_for(config, conversation, customer, agent=agent, on_call=on_call, now=now)
    name = one_line(conversation["customer_name"] or "")
    address = one_line(conversation["customer_address"] or "")
    to = f"{name} <{address}>" if name and address and name != address else (address or name or "the customer")
    return ReplyContext(conversation_id, to, variables)


def preview(config: Config, store: Store, template: Template, conversation_id: int, *, agent: str,
            answers: dict[str, str] | None = None, on_call: str | None = None,
            now: dt.datetime | None = None) -> Draft:
    """Render `template` for the conversation."""
    return reply_context(config, store, conversation_id, agent=agent, on_call=on_call, now=now).draft(template, answers)


def queue_template(config: Config, store: Store, template: Template, request: outbox.ReplyRequest, *,
                   answers: dict[str, str] | None = None, on_call: str | None = None) -> QuickReply:
    """Render `template` for the request's conversation and queue it as the reply the
    request describes (its text is the rendering; digit keys, `reply --template`, with
    Cc, Bcc, files: `reply --template T --attach F`).
    NeedsComposer when it has unfilled slots or problems: nothing is queued then."""
    draft = preview(config, store, template, request.conversation_id, agent=request.agent, answers=answers,
                    on_call=on_call)
    if not draft.rendered.ok:
        raise NeedsComposer(draft)
    reply = dataclasses.replace(request, text=draft.rendered.text, template_id=template.id)
    return QuickReply(outbox.queue(store, reply, config=config), template, draft.to, draft.rendered.text)


def template_request(config: Config, conversation_id: int, *, agent: str, status: str | None = "pending",
                     undo_seconds: float | None = None, expected_version: int | None = None,
                     copies: outbox.Copies = outbox.Copies()) -> outbox.ReplyRequest:
    """The request of a template reply: it leaves the conversation pending and waits out
    the desk's undo window ([templates] undo_seconds) unless told otherwise."""
    wait = config.templates.undo_seconds if undo_seconds is None else undo_seconds
    return outbox.ReplyRequest(conversation_id=conversation_id, agent=agent, status=status, undo_seconds=wait,
                               expected_version=expected_version, copies=copies)


def send_template(config: Config, store: Store, template: Template, conversation_id: int, *, agent: str,
                  answers: dict[str, str] | None = None, status: str | None = "pending",
                  undo_seconds: float | None = None, expected_version: int | None = None,
                  on_call: str | None = None, copies: outbox.Copies = outbox.Copies()) -> QuickReply:
    """`queue_template` with the request's fields as keywords (scripts, tests, benchmarks)."""
    request = template_request(config, conversation_id, agent=agent, status=status, undo_seconds=undo_seconds,
                               expected_version=expected_version, copies=copies)
    return queue_template(config, store, template, request, answers=answers, on_call=on_call)
