"""App-level messages (widget messages are nested on their widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class DatabaseChanged(Message):
    """Another connection (sync, a colleague, the CLI, our own workers) committed."""

    version: int


@dataclass
class ChangeApplied(Message):
    """A state change (assign, status, tags, ...) finished for some conversations."""

    label: str
    done: list[int]
    errors: list[str]
