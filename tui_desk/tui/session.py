"""The console's session: what one running console remembers across its screens.

The App owns one `DeskSession`. It holds the replies still in their undo window (`u`),
the drafts left unsent in the composer, the merge `u` would undo, and the last change
(`.` repeats it on any screen: a status set in the inbox is repeated in a conversation).
Plain data with no Textual import, so it is tested without a terminal; nothing here is
written to the database, and all of it is gone when the console quits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..store import Store

Change = Callable[["Store", int], object]
"""One state change of one conversation (its id), made through the store (what it returns is not used)."""

UNDO_MEMORY = dt.timedelta(minutes=2)
"""How long after its window a reply is still remembered, so `u` answers clearly: too late."""


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


@dataclass(frozen=True)
class LastChange:
    """The change `.` repeats: its label (as notified) and what it does to one conversation."""

    label: str
    change: Change

    @property
    def is_merge(self) -> bool:
        """A merge is never repeated without asking (press m)."""
        return self.label.startswith("merge")


DraftKey = tuple[int, bool]
"""(conversation id, a note?): one reply draft and one note draft per conversation."""


@dataclass
class DeskSession:
    """What the console remembers while it runs, for every screen alike."""

    drafts: dict[DraftKey, KeptDraft] = field(default_factory=dict)
    """Unsent composer text per (conversation, note?)."""
    pending_replies: list[PendingReply] = field(default_factory=list)
    """Replies this console queued, newest last, while `u` may still take them back."""
    last_merge: list[int] | None = None
    """The conversations just merged away here: `u` unmerges them (until the next reply)."""
    last_change: LastChange | None = None
    """The latest change made on any screen: what `.` repeats."""

    # -- replies in their undo window ------------------------------------------------

    def track_reply(self, reply: PendingReply, now: dt.datetime) -> None:
        """A reply was queued: it is the latest thing done (`u` takes it back, not a merge).
        Replies whose window ended more than UNDO_MEMORY ago are forgotten."""
        self.pending_replies = [p for p in self.pending_replies if p.deliver_at + UNDO_MEMORY > now] + [reply]
        self.last_merge = None

    def waiting(self, now: dt.datetime) -> list[PendingReply]:
        """The replies not yet due, oldest first."""
        return [p for p in self.pending_replies if p.deliver_at > now]

    # -- undo -----------------------------------------------------------------------------

    def remember_merge(self, merged: list[int]) -> None:
        """A merge was just made: `u` undoes it (the latest thing done)."""
        self.last_merge = list(merged)

    def take_undo(self) -> list[int] | PendingReply | None:
        """What `u` takes back now, forgotten here: the merge just made, else the latest
        reply (the outbox says whether it is too late), else None."""
        if self.last_merge:
            merged, self.last_merge = self.last_merge, None
            return merged
        return self.pending_replies.pop() if self.pending_replies else None

    # -- repeat ----------------------------------------------------------------------------

    def remember_change(self, label: str, change: Change) -> None:
        """A change was applied on some screen: `.` repeats it on whichever screen is open."""
        self.last_change = LastChange(label, change)

    # -- drafts --------------------------------------------------------------------------

    def keep_draft(self, key: DraftKey, text: str, seen_version: int | None = None) -> None:
        """Keep `text` for the composer's next opening; blank text forgets the draft, so
        the next composer starts from what is on screen then."""
        if text.strip():
            self.drafts[key] = KeptDraft(text, seen_version)
        else:
            self.drafts.pop(key, None)

    def draft(self, key: DraftKey) -> KeptDraft | None:
        return self.drafts.get(key)

    def drop_draft(self, key: DraftKey) -> None:
        """The draft was sent or discarded."""
        self.drafts.pop(key, None)

    def taken_back(self, reply: PendingReply) -> None:
        """A reply was taken back: its words become the composer's draft again (when it
        was written there), compared when sent again with what the screen shows then."""
        if reply.from_composer:
            self.drafts[(reply.conversation_id, False)] = KeptDraft(reply.text)

    # -- leaving -------------------------------------------------------------------------

    def quit_reasons(self, now: dt.datetime, open_drafts: AbstractSet[int] = frozenset()) -> list[str]:
        """Why quitting now would lose something or leave it unseen: unsent drafts (these
        and `open_drafts`, the conversations whose composer is open with text) and replies
        still in their undo window. Empty: nothing is lost."""
        drafts = {key[0] for key, draft in self.drafts.items() if draft.text.strip()} | set(open_drafts)
        reasons = []
        if drafts:
            reasons.append(f"{len(drafts)} unsent draft{'s' * (len(drafts) > 1)} (#"
                           + ", #".join(map(str, sorted(drafts))) + ") will be lost: they live only in this console")
        for reply in self.waiting(now):
            reasons.append(f"{reply.label} to {reply.to} (#{reply.conversation_id}) goes out at"
                           f" {reply.deliver_at.astimezone():%H:%M:%S}: the next sync sends it, and u can"
                           " no longer take it back (`tui-desk outbox cancel "
                           f"{reply.outbox_id}` still can)")
        return reasons
