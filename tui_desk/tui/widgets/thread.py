"""One conversation's messages in order, chat-like: quotes folded, notes set apart.

Opening a conversation must be quick however long it is, so the thread mounts only its
newest messages (about two screens), bottom first, and mounts older ones a batch at a
time when the reader scrolls up to them. Each message is ONE widget drawing one Text
(head, text, folds, attachments): a widget per part made a 60-message thread cost
hundreds of widgets to style and lay out.

Quotes are folded wherever they are: the quoted history split off at sync (`quoted`),
and quote blocks left inside the text (bottom-posted replies, Outlook's "From:/Sent:"
block and "-----Original Message-----", which `parse.text.quote_blocks` finds).
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from ...outbox import UNCERTAIN_HINT
from ...parse.defects import problem_text
from ...parse.text import quote_blocks
from ...textsafe import clean, one_line
from ..format import local_time

FIRST_SCREENS = 1
"""How many screens of the newest messages to mount when the thread opens."""
BATCH = 10
"""Older messages mounted at a time when the reader scrolls up to them."""


def message_head(message: dict) -> Text:
    """"Mike Jones <mike@…> · 2026-05-01 10:12" (and what kind of message it is)."""
    direction = message["direction"]
    author = one_line(message.get("author")) or one_line(message.get("author_address")) or "(unknown)"
    head = Text(no_wrap=True, overflow="ellipsis")
    label = {"in": "", "out": "reply · ", "note": "internal note · "}[direction]
    head.append(label, "italic")
    head.append(author, "bold")
    address = one_line(message.get("author_address"))
    if address and address != author and direction == "in":
        head.append(f" <{address}>")
    head.append(f" · {local_time(message.get('received_at'))}", "dim")
    if message.get("automatic"):
        head.append(f" · automatic: {one_line(message['automatic'])}", "dim italic")
    if direction == "in" and message.get("class", "human") not in ("human", None):
        head.append(f" · {one_line(message['class'])}", "dim italic")
    delivery = delivery_text(message)
    if delivery:
        head.append(f" · {delivery[0]}", delivery[1])
    return head


def delivery_text(message: dict) -> tuple[str, str] | None:
    """Where an outgoing message stands in the outbox, and its style: queued (until when),
    sending, sent, failed (why, and `R` to retry), may have been sent, or cancelled."""
    state = message.get("delivery")
    if not state:
        return None
    if state == "queued" and message.get("delivery_error"):  # a try failed: it is tried again
        reason = one_line(message["delivery_error"])[:120]
        return f"⟳ not sent yet, tried again {local_time(message.get('deliver_at'))[-5:]}: {reason}", "bold"
    if state == "queued":
        return f"queued, goes out {local_time(message.get('deliver_at'))[-5:]} (u takes it back)", "italic"
    if state == "sending":
        return "sending…", "italic"
    if state == "sent":
        return f"✓ sent {local_time(message.get('sent_at'))[-5:]}", "dim"
    if state == "failed":
        reason = one_line(message.get("delivery_error")) or "no reason given"
        return f"✗ not sent: {reason[:120]} (R retries)", "bold"
    if state == "uncertain":
        return f"⚠ {UNCERTAIN_HINT} (outbox {message.get('outbox_id')})", "bold"
    return "cancelled: not sent", "dim"


def message_parts(message: dict) -> list[tuple[bool, str]]:
    """The message's text as (is_quote, text) pieces, the split-off history last."""
    parts = [(is_quote, piece.strip("\n")) for is_quote, piece in quote_blocks(clean(message.get("text")).strip())]
    parts = [(is_quote, piece) for is_quote, piece in parts if piece.strip()]
    quoted = clean(message.get("quoted")).strip()
    if quoted:
        parts.append((True, quoted))
    return parts or [(False, "(no text)")]


def estimated_lines(message: dict, width: int = 80) -> int:
    """Roughly how many lines a message takes folded (to decide how many to mount)."""
    lines = 3
    for is_quote, piece in message_parts(message):
        lines += 1 if is_quote else sum(len(line) // max(width, 20) + 1 for line in piece.split("\n"))
    return lines


class MessageItem(Widget):
    """One message: a header line, the text, folded quotes, problems, attachments."""

    DEFAULT_CSS = "MessageItem { height: auto; }"
    COMPONENT_CLASSES = {"message--head", "message--fold", "message--quoted", "message--problem",
                         "message--attachment"}

    unfolded: reactive[frozenset[int]] = reactive(frozenset(), layout=True)
    """Which quote pieces are open (by index into `parts`)."""

    def __init__(self, message: dict, attachments: list[dict], *, unfold: bool = False) -> None:
        super().__init__(classes=f"message -{message['direction']}")
        self.message = message
        self.attachments = attachments
        self.parts = message_parts(message)
        self.quotes = [i for i, (is_quote, _) in enumerate(self.parts) if is_quote]
        if unfold:
            self.set_reactive(MessageItem.unfolded, frozenset(self.quotes))

    @property
    def folded(self) -> bool:
        """True while any quote of this message is folded."""
        return any(i not in self.unfolded for i in self.quotes)

    def fold_all(self, fold: bool) -> None:
        self.unfolded = frozenset() if fold else frozenset(self.quotes)

    def toggle(self, index: int) -> None:
        self.unfolded = self.unfolded ^ {index}

    def render(self) -> Text:
        get = self.get_component_rich_style
        text = message_head(self.message)
        text.stylize(get("message--head"))
        text.no_wrap, text.overflow = False, "fold"
        for i, (is_quote, piece) in enumerate(self.parts):
            text.append("\n")
            if not is_quote:
                text.append(piece)
                continue
            lines = piece.count("\n") + 1
            toggle = Style.from_meta({"fold": i})
            if i in self.unfolded:
                text.append("▾ quoted text\n", get("message--fold") + toggle)
                text.append(piece, get("message--quoted"))
            else:
                text.append(f"▸ quoted text ({lines} line{'s' * (lines != 1)})", get("message--fold") + toggle)
        for problem in self.message.get("problems") or []:
            text.append(f"\n⚠ {one_line(problem_text(problem))}", get("message--problem"))
        for a in self.attachments:
            name = one_line(a.get("filename")) or "(no name)"
            text.append(f"\n📎 {name} ({one_line(a.get('content_type'))}, {a.get('size', 0):,} bytes)",
                        get("message--attachment"))
        return text

    def on_click(self, event: events.Click) -> None:
        index = event.style.meta.get("fold")
        if index is not None:
            self.toggle(index)


class ThreadView(VerticalScroll):
    """The messages of one conversation, newest mounted first, older ones on demand."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.messages: list[dict] = []
        self.attachments: dict[int, list[dict]] = {}
        self.first_mounted = 0
        """Index in `messages` of the oldest message mounted."""
        self.unfold = False
        """`x` state: quotes of messages mounted later open like the others."""
        self._loading = False

    async def show(self, messages: list[dict], attachments: dict[int, list[dict]]) -> None:
        """Show these messages (all of the conversation's, oldest first): the newest now."""
        at_end = not self.messages or self.scroll_y >= self.max_scroll_y - 1
        known = len(self.messages)
        if known and messages[:known] == self.messages:  # only new messages: add them below
            self.messages, self.attachments = messages, attachments
            await self.mount_all([self._item(m) for m in messages[known:]])
            if at_end and not self.is_anchored:
                self.scroll_end(animate=False)
            return
        self.messages, self.attachments = messages, attachments
        height = self.size.height or self.app.size.height
        width = self.size.width or self.app.size.width * 2 // 3
        budget = FIRST_SCREENS * height
        start = len(messages)
        while start > 0 and (budget > 0 or len(messages) - start < 2):
            start -= 1
            budget -= estimated_lines(messages[start], width)
        self.first_mounted = start
        await self.remove_children()
        await self.mount_all([self._earlier(), *(self._item(m) for m in messages[start:])])
        self._update_earlier()
        # Anchored, the first frame already shows the newest message (scrolling after the
        # layout would draw the top first); a thread shorter than the view stays at the top.
        self.anchor(at_end and FIRST_SCREENS * height - budget > height // 2)
        self.call_after_refresh(self._fill)

    def _fill(self) -> None:
        """Mount older messages while the mounted ones do not fill the view."""
        if self.max_scroll_y >= self.size.height or self._loading:
            return
        if self.first_mounted > 0:
            self._loading = True
            self.call_later(self._mount_earlier)
        elif self.max_scroll_y == 0 and self.is_anchored:
            self.anchor(False)  # it all fits after all: from the top
            self.scroll_home(animate=False, immediate=True)

    def _item(self, message: dict) -> MessageItem:
        return MessageItem(message, self.attachments.get(message["id"], []), unfold=self.unfold)

    @staticmethod
    def _earlier() -> Static:
        return Static(id="thread-earlier", classes="thread-earlier")

    def _update_earlier(self) -> None:
        earlier = self.query_one("#thread-earlier", Static)
        earlier.display = self.first_mounted > 0
        count = self.first_mounted
        earlier.update(Text(f"↑ {count} earlier message{'s' * (count != 1)} (scroll up to read)"))

    def toggle_quotes(self) -> None:
        """Unfold every quote when any is folded, else fold them all."""
        items = list(self.query(MessageItem))
        self.unfold = any(item.folded for item in items)
        for item in items:
            item.fold_all(not self.unfold)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new <= 1 and new < old and self.first_mounted > 0 and not self._loading:
            self._loading = True
            self.call_later(self._mount_earlier)

    async def _mount_earlier(self) -> None:
        """Mount the next older batch above, keeping the view on what the reader sees."""
        try:
            start = max(self.first_mounted - BATCH, 0)
            anchor = self.query(MessageItem).first()
            before = anchor.virtual_region.y
            items = [self._item(m) for m in self.messages[start:self.first_mounted]]
            self.first_mounted = start
            await self.mount_all(items, after="#thread-earlier")
            self._update_earlier()
            self.call_after_refresh(self._keep_place, anchor, before)
        except Exception:
            self._loading = False
            raise

    def _keep_place(self, anchor: MessageItem, before: int) -> None:
        if not self.is_anchored or self._anchor_released:
            self.scroll_to(y=self.scroll_y + anchor.virtual_region.y - before, animate=False, immediate=True)
        self._loading = False
        self._fill()
