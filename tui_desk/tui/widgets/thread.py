"""One conversation's messages in order, chat-like: quotes folded, notes set apart."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Collapsible, Static

from ...textsafe import clean, one_line
from ..format import local_time


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
    return head


class MessageItem(Vertical):
    """One message: a header line, the text, folded quotes, attachments."""

    def __init__(self, message: dict, attachments: list[dict]) -> None:
        super().__init__(classes=f"message -{message['direction']}")
        self.message = message
        self.attachments = attachments

    def compose(self) -> ComposeResult:
        m = self.message
        yield Static(message_head(m), classes="message-head")
        yield Static(Text(clean(m.get("text")).strip() or "(no text)"), classes="message-body")
        quoted = clean(m.get("quoted")).strip()
        if quoted:
            lines = quoted.count("\n") + 1
            with Collapsible(title=f"quoted text ({lines} line{'s' * (lines != 1)})", collapsed=True):
                yield Static(Text(quoted), classes="message-quoted")
        for problem in m.get("problems") or []:
            yield Static(Text(f"⚠ {one_line(problem)}"), classes="message-problem")
        for a in self.attachments:
            name = one_line(a.get("filename")) or "(no name)"
            yield Static(Text(f"📎 {name} ({one_line(a.get('content_type'))}, {a.get('size', 0):,} bytes)"),
                         classes="message-attachment")
