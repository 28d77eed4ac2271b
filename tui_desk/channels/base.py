"""The channel interface: every channel kind pulls items and (later) sends replies.

`pull()` yields batches; sync stores each batch in one transaction together with the
batch's `state` and `source_keys`, so a channel's position only advances once what it
pulled is committed. A crash between batches loses nothing and duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from ..parse.model import ParsedMessage


@dataclass
class Item:
    """One pulled item, not yet parsed (sync parses, possibly in worker processes)."""

    format: str
    """"email" (RFC 5322 bytes) or "chat-line" (one JSONL line); "parsed" when the
    channel parsed it itself (`parsed` is then set)."""
    raw: bytes
    received_at: dt.datetime
    parsed: ParsedMessage | None = None


@dataclass
class Batch:
    items: list[Item]
    state: dict[str, str] = field(default_factory=dict)
    """Channel position to save with this batch (e.g. last UID, file offset)."""
    source_keys: list[str] = field(default_factory=list)
    """Keys of the source items now stored (local channels remember files this way)."""


class Channel(Protocol):
    """What sync needs of a channel."""

    name: str

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        """New items since `state`; `seen` holds source keys already stored."""
        ...

    def close(self) -> None:
        ...
