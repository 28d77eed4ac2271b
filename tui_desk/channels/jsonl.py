"""A JSONL chat export as a channel: one message per line, appended over time.

The channel remembers the byte offset it has stored up to and a fingerprint of the
file's beginning; a file that was replaced by different content or truncated is read
again from the start, and lines already stored are recognised by their id, so
nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

from ..config import JsonlChannel as JsonlConfig
from ..errors import ChannelError
from .base import Batch, Item

BATCH = 1000
HEAD = 4096  # bytes of the file's beginning that identify it


class JsonlChannel:
    def __init__(self, config: JsonlConfig, base: Path | None = None) -> None:
        self.name = config.name
        path = Path(config.path).expanduser()
        self.path = path if path.is_absolute() or base is None else base / path

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise ChannelError(self.name, f"cannot read {self.path}: {exc.strerror}") from None
        with handle:
            offset = int(state.get("offset", "0"))
            if offset and _fingerprint(handle, offset) != state.get("head"):
                offset = 0  # another file, or truncated: read all, duplicates are recognised
            handle.seek(offset)
            items: list[Item] = []
            now = dt.datetime.now(dt.timezone.utc)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a line still being written: take it next time
                offset += len(line)
                text = line.strip()
                if text:
                    items.append(Item("chat-line", text, now))
                if len(items) >= BATCH:
                    yield Batch(items, self._state(handle, offset))
                    items = []
            yield Batch(items, self._state(handle, offset))

    @staticmethod
    def _state(handle, offset: int) -> dict[str, str]:
        position = handle.tell()
        head = _fingerprint(handle, offset)
        handle.seek(position)
        return {"offset": str(offset), "head": head}

    def close(self) -> None:
        pass


def _fingerprint(handle, offset: int) -> str:
    """Hash of the first bytes already read (up to HEAD): the same file starts the same."""
    handle.seek(0)
    return hashlib.sha256(handle.read(min(offset, HEAD))).hexdigest()
