"""What the customer card offers by keyboard: the customer's conversations on every
channel (c), and linking another record of the same person (L), likely matches first,
always with a preview of what will move. The merge is undone with
`tui-desk customers unmerge`."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.binding import Binding

from .. import customers as customer_service
from ..errors import DeskError
from ..textsafe import one_line
from .data import DeskData
from .format import age
from .screens.base import ScreenMixin
from .screens.pickers import ChoiceScreen, ConfirmScreen, InputScreen

OTHER = "-other-"

CARD_BINDINGS = [
    Binding("c", "customer_conversations", "Their conversations", id="customer_conversations", show=False,
            tooltip="Open another conversation of this customer (every channel)"),
    Binding("L", "link_customer", "Link customer", id="link_customer", show=False,
            tooltip="Same person as another customer: likely matches first, with a preview of what moves"),
]


class CardActions(ScreenMixin):
    """Mixin for the conversation screen: needs `data`, `bundle`, `conversation_id`."""

    data: DeskData
    bundle: dict | None
    conversation_id: int

    def dismiss_screen(self) -> None:
        raise NotImplementedError

    def action_customer_conversations(self) -> None:
        past = (self.bundle or {}).get("past", [])
        others = [p for p in past if p["id"] != self.conversation_id]
        if not others:
            self.notify("This customer has no other conversation", severity="warning")
            return
        now = self.data.now()
        choices = [(str(p["id"]), f"#{p['id']} {p['channel']} · {p['status']} · {age(p['last_message_at'], now)}"
                    f" · {one_line(p['subject'])}") for p in others]

        def chosen(key: str | None) -> None:
            if key:
                self.dismiss_screen()
                self.desk_app.open_conversation(int(key))
        self.app.push_screen(ChoiceScreen("Their conversations", choices), chosen)

    def action_link_customer(self) -> None:
        customer = (self.bundle or {}).get("customer")
        if customer is None:
            self.notify("This conversation has no customer to link", severity="warning")
            return
        matches = (self.bundle or {}).get("matches", [])
        if not matches:
            self._ask_who(customer["id"])
            return
        choices = [(str(m.customer_id), f"{m.name} · {', '.join(m.identities)} · {m.reason}") for m in matches]
        choices.append((OTHER, "someone else: their email, chat handle or #conversation"))

        def chosen(key: str | None) -> None:
            if key == OTHER:
                self._ask_who(customer["id"])
            elif key:
                self._preview_link(customer["id"], key)
        self.app.push_screen(ChoiceScreen("Likely the same person", choices), chosen)

    def _ask_who(self, keep_id: int) -> None:
        def chosen(text: str | None) -> None:
            if text and text.strip():
                self._preview_link(keep_id, text.strip())
        self.app.push_screen(InputScreen("Same person as", "their email, chat handle or #conversation",
                                         hint="you see what moves before anything does"), chosen)

    @work(thread=True, group="link", exit_on_error=False)
    def _preview_link(self, keep_id: int, text: str) -> None:
        with self.data.store() as store:
            other = store.find_customer(text)
            if other is None:
                self.app.call_from_thread(self.notify, Text(f"No customer known as {one_line(text)}"),
                                          severity="warning")
                return
            try:
                moves = store.merge_preview(keep_id, other)
            except DeskError as exc:
                self.app.call_from_thread(self.notify, Text(one_line(str(exc))), severity="error")
                return
            profile = store.customer_profile(other)
            lines = [f"{store.customer_label(other)} joins {store.customer_label(keep_id)}",
                     "moves: " + ", ".join(f"{n} {table}" for table, n in moves.items() if n)]
            lines += [f"{i['kind']}: {i['address']}" for i in profile["identities"]]
            lines += [f"#{c['id']} {c['channel']} · {c['subject']}" for c in profile["conversations"][:8]]
        self.app.call_from_thread(self._ask_link, keep_id, other, lines)

    def _ask_link(self, keep_id: int, other: int, lines: list[str]) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self._link(keep_id, other)
        self.app.push_screen(ConfirmScreen("Link these two records of one person?"
                                           " (tui-desk customers unmerge undoes it)", lines, "link"), confirmed)

    @work(thread=True, group="link", exit_on_error=False)
    def _link(self, keep_id: int, other: int) -> None:
        with self.data.store() as store:
            try:
                store.merge_customers(keep_id, other, self.data.agent, "linked in the console")
            except DeskError as exc:
                self.app.call_from_thread(self.notify, Text(one_line(str(exc))), severity="error")
                return
            label = store.customer_label(keep_id)
        self.app.call_from_thread(self.notify, Text(f"Linked: one customer now, {label}"))


def card_extras(store, customer: dict) -> dict:
    """What the card shows beyond the customer row: organization, language, notes, matches."""
    return {
        "organization": customer_service.organization(customer["identities"]),
        "language": customer_service.language(store, customer["id"]),
        "matches": customer_service.likely_matches(store, customer["id"]),
    }
