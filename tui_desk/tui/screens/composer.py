"""The composer: a reply or an internal note in a TextArea, $EDITOR for long ones.

Sending goes through the outbox with the conversation version the agent was looking at
when they began; if anything happened since (a colleague's reply, a CLI or rule reply,
a new customer message), the outbox raises ConversationChanged and the reply is held:
the new messages are shown and the agent decides. A draft put away with esc keeps that
version, so it is held just the same when it comes back; once the hold has shown the
new messages, they count as seen.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static, TextArea

from ... import outbox
from ...channel_kinds import MEDIUM
from ...errors import ConfigError, UsageError
from ...templates.quick import Draft
from ...textsafe import clean, one_line
from ..data import DeskData
from ..format import local_time
from ..session import PendingReply
from ..widgets.footer import Footer
from .base import DeskScreen
from .pickers import HeldReplyScreen, InputScreen, PathSuggester


def recipient_name(bundle: dict) -> str:
    customer = bundle.get("customer")
    name = one_line(customer["name"]) if customer else ""
    address = one_line(bundle["conversation"].get("customer_address"))
    return f"{name} <{address}>" if name else address or "(no address)"


def recipient(bundle: dict, note: bool) -> Text:
    conversation = bundle["conversation"]
    if note:
        return Text(f"Internal note on #{conversation['id']}: colleagues see it, the customer does not.")
    text = Text(f"Reply on #{conversation['id']} via {one_line(conversation['channel'])} to ")
    text.append(recipient_name(bundle), "bold")
    return text


CONTEXT_LINES = 6
"""How much of the customer's latest message stays in view while writing."""


def customer_words(message: dict | None) -> list[str]:
    """The customer's own lines of a message (quotes and the split-off history left out)."""
    if not message:
        return []
    lines = [line.rstrip() for line in clean(message.get("text")).strip().splitlines()]
    return [line for line in lines if not line.lstrip().startswith(">")]


def context(message: dict | None) -> Text:
    """"Mike wrote at 10:12:" and the first lines of what they wrote, dim: what the reply answers."""
    if not message:
        return Text("(the customer has not written in this conversation)", style="dim")
    author = one_line(message.get("author") or message.get("author_address")) or "The customer"
    text = Text(f"{author} wrote, {local_time(message.get('received_at'))}:\n", style="bold")
    words = customer_words(message)
    shown = [line for line in words if line.strip()][:CONTEXT_LINES]
    text.append("\n".join(shown) or "(no text)", "dim")
    if len([line for line in words if line.strip()]) > CONTEXT_LINES:
        text.append("\n…", "dim")
    return text


def quoted(message: dict) -> str:
    """The customer's message as an email quote, to answer point by point."""
    author = one_line(message.get("author") or message.get("author_address")) or "you"
    lines = customer_words(message)
    while lines and not lines[-1].strip():
        lines.pop()
    body = "\n".join(f"> {line}" if line.strip() else ">" for line in lines)
    return f"On {local_time(message.get('received_at'))}, {author} wrote:\n{body}\n\n"


def _as_dict(message) -> dict:
    if isinstance(message, dict):
        return message
    if dataclasses.is_dataclass(message):
        return dataclasses.asdict(message)
    return dict(vars(message))


class ComposerScreen(DeskScreen):
    """Write, then ctrl+s to queue it (it leaves after the outbox's undo window)."""

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="send", priority=True, tooltip="Queue the reply or note"),
        Binding("ctrl+e", "editor", "$EDITOR", id="editor", priority=True, tooltip="Edit in your $EDITOR"),
        Binding("ctrl+o", "quote", "Quote", id="quote", priority=True,
                tooltip="Insert the customer's latest message, quoted (email)"),
        Binding("ctrl+t", "toggle_context", "Context", id="toggle_context", priority=True,
                tooltip="Show or hide the customer's latest message above the text"),
        Binding("ctrl+a", "attach", "Attach", id="attach", priority=True,
                tooltip="Attach a file to the email reply (the path completes as you type: →)"),
        Binding("ctrl+b", "copies", "Cc/Bcc", id="copies", priority=True,
                tooltip="Send copies of the email reply: addresses, bcc: before one that should stay unseen"),
        Binding("escape", "close", "Back (keep draft)", id="close_composer"),
    ]

    def __init__(self, data: DeskData, bundle: dict, *, note: bool, template: Draft | None = None) -> None:
        super().__init__(classes="-note" if note else "-reply")
        self.data = data
        self.bundle = bundle
        self.note = note
        self.template = template
        """The template this reply began from (its use is recorded when it is sent)."""
        self.conversation_id = bundle["conversation"]["id"]
        self.files: list[Path] = []
        self.cc: list[str] = []
        self.bcc: list[str] = []
        """What the email reply carries besides its text (ctrl+a, ctrl+b)."""
        self.their_cc: tuple[str, ...] = ()
        """Whom the customer copied: what ctrl+b offers, as a reply to all."""
        inbound = [m for m in bundle.get("messages", []) if m["direction"] == "in"]  # (the conversation's bundle)
        self.last_inbound: dict | None = bundle.get("last_inbound") or (inbound[-1] if inbound else None)
        """The customer's latest message: in view while writing, and what ctrl+o quotes."""
        # what the agent saw when they began: the collision check at send time
        self.expected_version: int = bundle.get("seen_version", bundle["conversation"]["version"])

    def compose(self) -> ComposeResult:
        yield Static(recipient(self.bundle, self.note), id="composer-to")
        yield Static(context(self.last_inbound), id="composer-context")
        kept = None if self.template else self.desk_app.session.draft((self.conversation_id, self.note))
        if kept is not None and kept.seen_version is not None:
            self.expected_version = kept.seen_version  # begun then, whatever was shown since
        start = self.template.rendered.text if self.template else (kept.text if kept else self._signed())
        yield TextArea(start, id="composer-text",
                       soft_wrap=True, show_line_numbers=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = ("Note" if self.note else "Reply") + f" · #{self.conversation_id}"
        if self.template:
            self.sub_title = f"from template “{one_line(self.template.template.title)}”"
        self.query_one(TextArea).focus()
        if not self.note:
            self._load_their_cc()
        self.desk_app.set_presence(self.conversation_id, "writing")

    def on_unmount(self) -> None:
        self.desk_app.set_presence(self.conversation_id, "viewing")

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def _signed(self) -> str:
        """A new reply starts with the agent's signature below an empty first line."""
        signature = "" if self.note else self.data.config.signing(self.data.agent)[1]
        return f"\n\n{signature}" if signature else ""

    def action_attach(self) -> None:
        if self.note or self._is_chat():
            self.notify("Attachments go with email replies", severity="warning")
            return

        def chosen(path: str | None) -> None:
            if not path or not path.strip():
                return
            file = Path(path.strip()).expanduser()
            if not file.is_file():
                self.notify(Text(f"No file {one_line(str(file))}"), severity="error")
                return
            self.files.append(file)
            self._show_copies()
        self.app.push_screen(InputScreen("Attach a file", "~/invoices/A-17.pdf", value=str(Path.cwd()) + "/",
                                         hint="→ completes the path · enter attaches · esc cancels",
                                         suggester=PathSuggester()), chosen)

    def action_copies(self) -> None:
        if self.note or self._is_chat():
            self.notify("Cc and Bcc go with email replies", severity="warning")
            return

        def chosen(text: str | None) -> None:
            if text is None:
                return
            words = text.replace(",", " ").split()
            self.bcc = [w[4:] for w in words if w.lower().startswith("bcc:") and w[4:]]
            self.cc = [w for w in words if not w.lower().startswith("bcc:")]
            self._show_copies()
        now = " ".join(self.cc + [f"bcc:{a}" for a in self.bcc]) or " ".join(self.their_cc)
        hint = "addresses; bcc: before one the others must not see"
        if self.their_cc and not (self.cc or self.bcc):
            hint = "the customer's own Cc is filled in (reply to all); " + hint
        self.app.push_screen(InputScreen("Copies of this reply", "accounts@customer.example bcc:books@our.example",
                                         value=now, hint=hint), chosen)

    @work(thread=True, group="their-cc", exit_on_error=False)
    def _load_their_cc(self) -> None:
        with self.data.store() as store:
            found = outbox.reply_all(self.data.config, store, self.conversation_id)
        self.app.call_from_thread(setattr, self, "their_cc", found)

    def _show_copies(self) -> None:
        text = recipient(self.bundle, self.note)
        for label, values in (("Cc", self.cc), ("Bcc", self.bcc), ("files", [f.name for f in self.files])):
            if values:
                text.append(f" · {label}: " + ", ".join(one_line(v) for v in values))
        self.query_one("#composer-to", Static).update(text)

    def action_toggle_context(self) -> None:
        shown = self.query_one("#composer-context")
        shown.display = not shown.display

    def action_quote(self) -> None:
        message = self.last_inbound
        if message is None:
            self.notify("Nothing to quote: the customer has not written here", severity="warning")
            return
        if self._is_chat():
            self.notify("Chat replies do not quote: the customer sees the thread", severity="warning")
            return
        area = self.query_one(TextArea)
        area.insert(("\n\n" if area.cursor_location[1] else "") + quoted(message))  # on lines of its own

    def _is_chat(self) -> bool:
        try:
            return MEDIUM[self.data.config.channel(self.bundle["conversation"]["channel"]).kind] == "chat"
        except ConfigError:  # a channel this console's config lacks: judged by its messages
            return (self.last_inbound or {}).get("message_id") is None

    def action_close(self) -> None:
        # nothing written: forgotten, so the next composer starts from what is on screen then
        self.desk_app.session.keep_draft((self.conversation_id, self.note), self.text, self.expected_version)
        self.app.pop_screen()

    def action_editor(self) -> None:
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write(self.text)
        path = Path(handle.name)
        try:
            with self.app.suspend():
                subprocess.run([*shlex.split(editor), str(path)], check=False)
            self.query_one(TextArea).text = path.read_text(encoding="utf-8")
        except OSError as exc:
            self.notify(f"cannot run {editor}: {exc.strerror}", severity="error")
        finally:
            path.unlink(missing_ok=True)

    def action_send(self) -> None:
        if not self.text.strip():
            self.notify("Nothing to send", severity="warning")
            return
        self._send(self.text, self.expected_version)

    @work(thread=True, exclusive=True, group="send", exit_on_error=False)
    def _send(self, text: str, expected_version: int | None) -> None:
        # a reply waits out the undo window (`u` takes it back) and leaves the
        # conversation pending, waiting on the customer; a note just stays
        reply = not self.note
        with self.data.store() as store:
            try:
                queued = outbox.queue(store, outbox.ReplyRequest(
                    conversation_id=self.conversation_id, text=text, agent=self.data.agent, note=self.note,
                    status="pending" if reply else None, expected_version=expected_version,
                    template_id=self.template.template.id if self.template and reply else None,
                    undo_seconds=self.data.config.templates.undo_seconds if reply else 0,
                    copies=outbox.Copies(tuple(self.cc), tuple(self.bcc), tuple(self.files))),
                    config=self.data.config)
            except outbox.ConversationChanged as changed:
                self.app.call_from_thread(self._held, [_as_dict(m) for m in changed.newer], changed.current)
                return
            except UsageError as refused:  # e.g. no usable address: the draft stays here
                self.app.call_from_thread(self.notify, Text(one_line(str(refused))), severity="error",
                                          title="Not sent")
                return
        self.app.call_from_thread(self._sent, queued)

    def _held(self, newer: list[dict], current: int) -> None:
        def decided(choice: str | None) -> None:
            if choice == "send":
                self._send(self.text, None)
            elif choice == "discard":
                self.desk_app.session.drop_draft((self.conversation_id, self.note))
                self.app.pop_screen()
            else:  # keep editing: the agent has seen what was new; later changes hold again
                self.expected_version = current
        self.app.push_screen(HeldReplyScreen(newer), decided)

    def _sent(self, queued) -> None:
        self.desk_app.session.drop_draft((self.conversation_id, self.note))
        self.desk_app.poll_database()  # committed: the thread shows it now, not at the watch's next tick
        if self.note:
            self.notify("Note saved")
        else:
            to = self.template.to if self.template else recipient_name(self.bundle)
            label = self.template.template.title if self.template else "reply"
            self.desk_app.track_reply(PendingReply(queued.outbox_id, self.conversation_id, label, to,
                                                   queued.deliver_at, self.text, from_composer=True))
        if self.app.screen is self:
            self.app.pop_screen()
