"""What a front end asks for when it writes a reply or an internal note: one request
object, handed from the console, the CLI and the template service to the outbox
(`outbox.queue`) and from there to the store (`Store.add_reply`), instead of the same ten
parameters repeated at every step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Copies:
    """What an email reply carries besides its text: more recipients, and files."""

    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.cc or self.bcc or self.files)


@dataclass(frozen=True, kw_only=True)
class ReplyRequest:
    """One reply (or internal note) to write in a conversation."""

    conversation_id: int
    agent: str
    """Who writes it: an agent's name, or `rule:ID` for a rule."""
    text: str = ""
    """The reply's text (a template reply: filled in when the template is rendered)."""
    note: bool = False
    """An internal note: stored, never sent (no outbox row, no copies)."""
    status: str | None = None
    """The conversation's status once it is written (None: unchanged)."""
    template_id: str | None = None
    """The template it came from (its use is recorded)."""
    expected_version: int | None = None
    """The conversation version the agent saw: a newer one holds the reply
    (ConversationChanged) instead of writing it. None: no check."""
    undo_seconds: float = 0
    """How long it waits in the outbox, so it can still be taken back."""
    copies: Copies = Copies()
    """Cc, Bcc and files of an email reply."""
    automatic: str | None = None
    """Why a machine sends it (a rule): marked so, kept out of the agents' response
    times, and counted per `recipient` for the loop guard's caps."""
    recipient: str | None = None
    """The address an automatic reply answers (for the loop guard's caps)."""
