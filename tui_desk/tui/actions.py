"""State changes shared by the inbox and conversation screens: assign, status, snooze,
tags, merge, and `.` to repeat the last one. Each runs in a thread worker over the
target conversations (the marked ones, or the current one) and ends with ChangeApplied.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.binding import Binding

from ..changes import SNOOZE_PRESETS, parse_tags, snooze_until
from ..errors import DeskError
from ..store import Store
from ..textsafe import one_line
from .data import DeskData
from .messages import ChangeApplied
from .screens.base import ScreenMixin
from .screens.pickers import ChoiceScreen, ConfirmScreen, InputScreen
from .session import Change

NOBODY = "-nobody-"

STATUS_CHOICES = [(s, s) for s in ("open", "pending", "solved", "closed", "new")]

CHANGE_BINDINGS = [
    Binding("a", "assign_to_me", "Assign me", id="assign_to_me", tooltip="Assign to me"),
    Binding("A", "assign_to", "Assign…", id="assign_to", tooltip="Assign to a colleague (or nobody)"),
    Binding("s", "status", "Status", id="status", tooltip="Set the status"),
    Binding("z", "snooze", "Snooze", id="snooze", tooltip="Snooze until a preset time"),
    Binding("number_sign", "tags", "Tags", id="tags", tooltip="Add or remove tags"),
    Binding("m", "merge", "Merge", id="merge", tooltip="Merge into another conversation"),
    Binding("full_stop", "repeat", "Repeat", id="repeat", tooltip="Repeat the last action here"),
]


def _merge_line(store: Store, conversation_id: int) -> str:
    """"#12 “Invoice question” · Ana Lima": what a merge would move, for the question."""
    conversation = store.conversation(conversation_id)
    if conversation is None:
        return f"#{conversation_id} (no such conversation)"
    who = conversation["customer_name"] or conversation["customer_address"] or ""
    count = conversation["message_count"]
    return (f"#{conversation_id} “{one_line(conversation['subject'] or '')[:60]}” · {one_line(who)[:40] or 'unknown customer'}"
            f" · {count} message{'s' * (count != 1)}")


class ChangeActions(ScreenMixin):
    """Mixin for screens: needs `data` (DeskData) and `change_targets()`. The last change
    is the session's, so `.` repeats on this screen a change made on another."""

    data: DeskData

    def change_targets(self) -> list[int]:
        raise NotImplementedError

    def apply_change(self, label: str, change: Change) -> None:
        ids = self.change_targets()
        if not ids:
            self.notify("Nothing selected", severity="warning")
            return
        self.desk_app.session.remember_change(label, change)  # "." repeats it on any screen
        self._run_change(label, change, ids)

    @work(thread=True, group="change", exit_on_error=False)
    def _run_change(self, label: str, change: Change, ids: list[int]) -> None:
        done, errors = [], []
        with self.data.store() as store:
            for conversation_id in ids:
                try:
                    change(store, conversation_id)
                    done.append(conversation_id)
                except DeskError as exc:
                    errors.append(str(exc))
        if label.startswith("merge") and done:  # `u` right after undoes it
            self.app.call_from_thread(self.desk_app.session.remember_merge, done)
        self.post_message(ChangeApplied(label, done, errors))

    # -- the actions ---------------------------------------------------------------

    def action_assign_to_me(self) -> None:
        agent = self.data.agent
        self.apply_change(f"assign to {agent}", lambda store, cid: store.claim(cid, agent))

    def action_assign_to(self) -> None:
        self._pick_agent()

    @work(thread=True, group="pick", exit_on_error=False)
    def _pick_agent(self) -> None:
        with self.data.store() as store:
            names = sorted(set(store.agent_names()) | self.data.team)
        self.app.call_from_thread(self._ask_agent, names)

    def _ask_agent(self, names: list[str]) -> None:
        def chosen(agent: str | None) -> None:
            if agent is None:
                return
            target, actor = (None if agent == NOBODY else agent), self.data.agent
            self.apply_change(f"assign to {target or 'nobody'}", lambda store, cid: store.assign(cid, target, actor))
        choices = [(n, n) for n in names] + [(NOBODY, "nobody (unassign)")]
        self.app.push_screen(ChoiceScreen("Assign to", choices), chosen)

    def action_status(self) -> None:
        def chosen(status: str | None) -> None:
            if status:
                actor = self.data.agent
                self.apply_change(f"status {status}", lambda store, cid: store.set_status(cid, status, actor))
        self.app.push_screen(ChoiceScreen("Set status", STATUS_CHOICES), chosen)

    def action_snooze(self) -> None:
        def chosen(preset: str | None) -> None:
            if preset:
                until = snooze_until(preset, self.data.now(), self.data.config.desk.timezone)
                actor = self.data.agent
                self.apply_change(f"snooze {preset}",
                                  lambda store, cid: store.set_status(cid, "snoozed", actor, snoozed_until=until))
        self.app.push_screen(ChoiceScreen("Snooze until", SNOOZE_PRESETS), chosen)

    def action_tags(self) -> None:
        def chosen(text: str | None) -> None:
            add, remove = parse_tags(text or "")
            if add or remove:
                actor = self.data.agent
                self.apply_change(f"tags {text.strip()}", lambda store, cid: store.set_tags(cid, add, remove, actor))
        self.app.push_screen(InputScreen("Tags", "+billing -spam", hint="+tag adds, -tag removes"),
                             chosen)

    def action_merge(self) -> None:
        def chosen(text: str | None) -> None:
            text = (text or "").strip().lstrip("#")
            if not text:
                return
            if not text.isdigit():
                self.notify(f"not a conversation number: {text}", severity="error")
                return
            self._check_merge(self.change_targets(), int(text))
        self.app.push_screen(InputScreen("Merge into conversation #", "1234"), chosen)

    @work(thread=True, group="pick", exit_on_error=False)
    def _check_merge(self, ids: list[int], target: int) -> None:
        """Refused merges are named at once; the rest are shown (subject, customer,
        messages) and asked about before anything changes, with a warning when they
        belong to another customer than the target's."""
        with self.data.store() as store:
            try:
                refusals = [r for r in (store.merge_refusal(cid, target, across_customers=True) for cid in ids) if r]
                lines = [_merge_line(store, cid) for cid in ids]
                into = _merge_line(store, target)
                crossing = [cid for cid in ids if store.crosses_customers(cid, target)]
                to = store.customer_label(store.conversation(target)["customer_id"])
                others = sorted({store.customer_label(store.conversation(cid)["customer_id"]) for cid in crossing})
            except DeskError as exc:
                refusals = [str(exc)]
        if refusals:
            for refusal in refusals:
                self.app.call_from_thread(self.notify, Text(one_line(refusal)), severity="error")
            return
        warning = [f"⚠ different customers: {to} and {', '.join(others)}; each keeps getting the replies"
                   " to their own messages, on their own thread"] if crossing else []
        self.app.call_from_thread(self._ask_merge, ids, target, lines + warning, into, crossing)

    def _ask_merge(self, ids: list[int], target: int, lines: list[str], into: str, crossing: list[int]) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                actor = self.data.agent
                self.apply_change(f"merge into #{target} (u undoes it)", lambda store, cid: store.merge(
                    cid, target, actor, across_customers=cid in crossing))
        many = f"{len(ids)} conversation{'s' * (len(ids) != 1)}"
        title = (f"Merge {many} of another customer? A reply goes to whoever wrote the message it answers."
                 if crossing else f"Merge {many} into another? u right after undoes it.")
        self.app.push_screen(ConfirmScreen(title, [*lines, f"into {into}"], "merge"), confirmed)

    def action_repeat(self) -> None:
        last = self.desk_app.session.last_change
        if last is None:
            self.notify("No action to repeat yet", severity="warning")
            return
        if last.is_merge:  # never without asking: press m
            self.notify("A merge is not repeated with '.': press m", severity="warning")
            return
        self.apply_change(last.label, last.change)
