"""The agent console: the Textual App. Only wiring: screens, keymap, the database watch,
presence heartbeats, and turning worker errors into notifications.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from ..config import Config
from .. import keymap, outbox
from ..errors import ConfigError, DeskError
from ..oncall.service import Oncall
from ..store import Store, now
from ..textsafe import clean, one_line
from .commands import DeskCommands
from . import prefs
from .data import DeskData
from .messages import DatabaseChanged
from .screens.composer import ComposerScreen
from .screens.conversation import ConversationScreen
from .screens.help import HelpScreen, KeySections
from .screens.pickers import ConfirmScreen
from .screens.inbox import InboxScreen
from .screens.reports import ReportsScreen
from .session import DeskSession, PendingReply
from .widgets.queue import QueueList
from .widgets.quickbar import QuickBar

POLL_SECONDS = 1.0  # PRAGMA data_version is a read of a counter: cheap enough every second
HEARTBEAT_SECONDS = 15.0
WAKE_SECONDS = 60.0
DELIVER_SECONDS = 5.0  # undo windows are 10 s by default: delivery within a few seconds after
ONCALL_SECONDS = 60.0


class DeskApp(App):
    """tui-desk's console over one database, as one agent."""

    CSS_PATH = "desk.tcss"
    TITLE = "tui-desk"
    COMMANDS = App.COMMANDS | {DeskCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # screens get the class (desk.tcss)
    BINDINGS = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit tui-desk"),
        Binding("question_mark", "help", "Help", id="help", tooltip="Show every key"),
        Binding("ctrl+r", "refresh", "Refresh", id="refresh", tooltip="Sync every channel now and reload"),
        # not in the footer: the quick bar says "u undo" while a reply is in its window
        Binding("u", "undo", "Undo send", id="undo", show=False,
                tooltip="Take back the reply you just sent (within its undo window), or the merge you just made"),
    ]

    def __init__(self, config: Config, db_path: Path, *, clock: Callable[[], dt.datetime] | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__()
        self.data = DeskData(config, db_path, clock)
        self.poll_seconds = poll_seconds
        self.presence: tuple[int, str] | None = None
        self._watch: Store | None = None
        self._version: int | None = None
        self._inbound_mark = ""
        self._stage_mark = 0
        self.desk_title = config.desk.name
        """The desk's name and who is on call, for screen titles."""
        self.session = DeskSession()
        """What this console remembers across its screens: replies in their undo window,
        unsent drafts, the merge `u` undoes, the change `.` repeats."""

    def on_mount(self) -> None:
        self.title = self.data.config.desk.name
        self.set_keymap(dict(self.data.config.keys))
        chosen = prefs.load().get("theme")
        if chosen in self.available_themes:  # the theme picked last time (palette: "Change theme")
            self.theme = chosen
        self.theme_changed_signal.subscribe(self, lambda theme: prefs.save(theme=theme.name))
        # The watch connection lives on the UI thread and only reads PRAGMA data_version,
        # which changes when any other connection commits (sync, colleagues, our workers).
        self._watch = Store.open(self.data.db_path, migrate=False)
        self._version = self._watch.data_version()
        self._inbound_mark = now()
        self._stage_mark = self._watch.stage_history_mark()
        self.set_interval(self.poll_seconds, self.poll_database)
        self.set_interval(HEARTBEAT_SECONDS, self._beat)
        self.set_interval(WAKE_SECONDS, self._wake)
        self.set_interval(DELIVER_SECONDS, self._deliver)
        self.set_interval(ONCALL_SECONDS, self._oncall_status)
        self._oncall_status()
        self.push_screen(InboxScreen(self.data))
        for warning in self.data.config.warnings:  # also on stderr, hidden behind the console
            self.notify(Text(one_line(warning)), severity="warning", title="Config", timeout=20)

    def on_unmount(self) -> None:
        if self._watch is not None:
            self._watch.close()
        with self.data.store() as store:  # leaving: colleagues should not see us "viewing"
            store.clear_presence(self.data.agent)

    def notify(self, message, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every notification is plain text: messages carry customer names, subjects and
        server errors, which must never be read as markup (widgets' notify lands here)."""
        text = message.plain if isinstance(message, Text) else str(message)
        super().notify(clean(text), title=one_line(str(title)), severity=severity, timeout=timeout, markup=False)

    # -- live updates ----------------------------------------------------------------

    def poll_database(self) -> None:
        """Tell every open screen when another connection committed."""
        if self._watch is None:
            return
        version = self._watch.data_version()
        if version == self._version:
            return
        self._version = version
        for screen in self.screen_stack:
            screen.post_message(DatabaseChanged(version))
        self._check_mine()

    @work(thread=True, exclusive=True, group="mine", exit_on_error=False)
    def _check_mine(self) -> None:
        with self.data.store() as store:
            fresh = store.new_inbound(self.data.agent, self._inbound_mark)
            stages = store.stage_history(after_id=self._stage_mark)
        for change in stages:  # a template the desk took out of auto by itself: the team should know
            self._stage_mark = max(self._stage_mark, change["id"])
            if change["actor"] == "desk":
                self.call_from_thread(self.notify, Text(one_line(change["reason"])), severity="warning", timeout=30,
                                      title=f"Template {one_line(change['template'])}: {change['from']} → {change['to']}")
        for row in fresh:
            self._inbound_mark = max(self._inbound_mark, row["last_inbound_at"])
            who = one_line(row["customer_name"]) or "a customer"
            self.call_from_thread(self.notify, Text(f"#{row['id']} {one_line(row['subject'])}"),
                                  title=f"New message from {who}")

    @work(thread=True, group="wake", exit_on_error=False)
    def _wake(self) -> None:
        with self.data.store() as store:
            store.wake_snoozed(self.data.now())

    @work(thread=True, exclusive=True, group="deliver", exit_on_error=False)
    def _deliver(self) -> None:
        """Send replies whose undo window has passed (cron's sync does it when no TUI runs)."""
        with self.data.store() as store:
            result = outbox.deliver_due(self.data.config, store)
        for error in result.errors:
            title = "Reply may have been sent" if outbox.UNCERTAIN_HINT in error else "Reply not sent"
            self.call_from_thread(self.notify, Text(one_line(error)), severity="error", title=title)

    @work(thread=True, exclusive=True, group="oncall", exit_on_error=False)
    def _oncall_status(self) -> None:
        """"on call: NAME until …" beside the desk's name (read-only)."""
        with self.data.store() as store:
            desk = Oncall(store, self.data.config, now=self.data.now())
            desk.seed()  # the roster's rotations, the first time on a new desk
            status = desk.status()
        self.desk_title = self.data.config.desk.name + (f" · {status}" if status else "")
        self.call_from_thread(self._retitle)

    def _retitle(self) -> None:
        for screen in self.screen_stack:
            if screen.title and screen.title.startswith(self.data.config.desk.name):
                screen.title = self.desk_title

    # -- presence ---------------------------------------------------------------------

    def set_presence(self, conversation_id: int | None, mode: str = "viewing") -> None:
        """Where this agent is now (None: nowhere); written at once and every heartbeat."""
        old, self.presence = self.presence, ((conversation_id, mode) if conversation_id is not None else None)
        self._write_presence(old, self.presence)

    def _beat(self) -> None:
        if self.presence is not None:
            self._write_presence(None, self.presence)

    @work(thread=True, group="presence", exit_on_error=False)
    def _write_presence(self, old: tuple[int, str] | None, new: tuple[int, str] | None) -> None:
        with self.data.store() as store:
            if old is not None and (new is None or old[0] != new[0]):
                store.clear_presence(self.data.agent, old[0])
            if new is not None:
                store.set_presence(self.data.agent, *new)

    # -- the undo window ---------------------------------------------------------------

    def track_reply(self, reply: PendingReply) -> None:
        """A reply was queued here: the quick bar counts down, `u` can take it back."""
        # once sent, `u` still answers (clearly: too late) for a while, then forgets it
        self.session.track_reply(reply, dt.datetime.now(dt.timezone.utc))
        for bar in self.screen.query(QuickBar):
            bar.update_line()

    async def action_quit(self) -> None:
        """Quit, but ask first when something would be lost or leave unseen: unsent
        drafts (kept only in this console) and replies still in their undo window."""
        reasons = self.quit_reasons()
        if not reasons:
            self.exit()
            return
        self.push_screen(ConfirmScreen("Quit tui-desk?", reasons, "quit"), lambda yes: self.exit() if yes else None)

    def quit_reasons(self) -> list[str]:
        writing = {s.conversation_id for s in self.screen_stack if isinstance(s, ComposerScreen) and s.text.strip()}
        return self.session.quit_reasons(self.data.now(), writing)

    def action_undo(self) -> None:
        undo = self.session.take_undo()
        if undo is None:
            self.notify("Nothing to undo", severity="warning")
        elif isinstance(undo, PendingReply):
            self._take_back(undo)
        else:
            self._unmerge(undo)

    @work(thread=True, group="undo", exit_on_error=False)
    def _take_back(self, reply: PendingReply) -> None:
        with self.data.store() as store:
            try:
                outbox.cancel(store, reply.outbox_id, self.data.agent)
            except DeskError as exc:  # sent already, or being sent: say so plainly
                self.call_from_thread(self.notify, Text(one_line(str(exc))), severity="error", title="Too late to undo")
                return
        self.call_from_thread(self._taken_back, reply)

    @work(thread=True, group="undo", exit_on_error=False)
    def _unmerge(self, merged: list[int]) -> None:
        done = []
        with self.data.store() as store:
            for conversation_id in merged:
                try:
                    store.unmerge(conversation_id, self.data.agent)
                    done.append(f"#{conversation_id}")
                except DeskError as exc:
                    self.call_from_thread(self.notify, Text(one_line(str(exc))), severity="error", title="Not unmerged")
        if done:
            self.call_from_thread(self.notify, Text(f"Unmerged: {', '.join(done)} separate again"), title="Undone")

    def _taken_back(self, reply: PendingReply) -> None:
        # the words are not lost: `r` opens them again, compared when sent again with what
        # the screen shows then (the reply and its taking back are this agent's own changes)
        self.session.taken_back(reply)
        self.notify(Text(f"Not sent: “{one_line(reply.label)}” to {one_line(reply.to)}"), title="Undone")
        for bar in self.screen.query(QuickBar):
            bar.update_line()

    # -- navigation -------------------------------------------------------------------

    def open_conversation(self, conversation_id: int) -> None:
        self.set_presence(conversation_id, "viewing")
        self.push_screen(ConversationScreen(self.data, conversation_id))

    # -- app keys ----------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen(key_sections(), self._keymap))

    def action_refresh(self) -> None:
        if not self.data.config.channels:
            self.poll_database()
            self.notify("No channels configured; reloaded")
            return
        self.notify("Syncing…")
        self._sync()

    @work(thread=True, exclusive=True, group="sync", exit_on_error=False)
    def _sync(self) -> None:
        from .. import sync
        with self.data.store() as store:
            result = sync.run(self.data.config, store)
        new = sum(r.new for r in result.channels.values())
        errors = [r.error for r in result.channels.values() if r.error]
        warnings = [f"channel {name}: {w}" for name, r in result.channels.items() for w in r.warnings]
        self.call_from_thread(self.notify, Text(f"Sync: {new} new" + "".join(f"\n{e}" for e in errors + warnings)),
                              severity="error" if errors else "warning" if warnings else "information")

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            message = str(error) if isinstance(error, DeskError) else f"{type(error).__name__}: {error}"
            self.notify(Text(one_line(message)), severity="error", title="Something failed")


def key_sections() -> KeySections:
    """The console's keys per screen, as the help screen (`?`) lists them."""
    screens: list[tuple[str, type[DOMNode]]] = [
        ("Everywhere", DeskApp), ("Inbox list", QueueList), ("Inbox", InboxScreen),
        ("Conversation", ConversationScreen), ("Composer", ComposerScreen), ("Reports", ReportsScreen)]
    return [(title, [b for b in node.BINDINGS if isinstance(b, Binding)]) for title, node in screens]


def binding_scopes() -> list[keymap.Scope]:
    """The console's bindings as plain data, per screen with the app-wide ones (the keys
    active together), for `keymap.problems`."""
    sections = dict(key_sections())
    together = {"Inbox": ("Inbox list", "Inbox"), "Conversation": ("Conversation",),
                "Composer": ("Composer",), "Reports": ("Reports",)}
    return [(screen, [(b.id, b.key, b.tooltip or str(b.description)) for title in ("Everywhere", *titles)
                      for b in sections[title]])
            for screen, titles in together.items()]


def keymap_errors(config: Config) -> list[ConfigError]:
    """Unknown action ids and clashing keys in [keys], each a config error naming the key
    (`tui-desk config check` reports the same list)."""
    return [ConfigError(config.path or "config", key, problem)
            for key, problem in keymap.problems(config.keys, binding_scopes())]


def check_keymap(config: Config) -> None:
    """Refuse to start on a [keys] mistake (the first one)."""
    errors = keymap_errors(config)
    if errors:
        raise errors[0]


def make_app(config: Config, db_path: Path | str, *, clock: Callable[[], dt.datetime] | None = None,
             poll_seconds: float = POLL_SECONDS) -> DeskApp:
    """The console for `config` on the database at `db_path` (used by the CLI and tests)."""
    check_keymap(config)
    with Store.open(db_path):  # create and migrate before any worker opens it
        pass
    return DeskApp(config, Path(db_path), clock=clock, poll_seconds=poll_seconds)
