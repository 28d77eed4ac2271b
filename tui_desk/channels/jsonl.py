"""A JSONL chat export as a channel: one message per line, appended over time.

The channel remembers the byte offset it has stored up to (and the file's identity);
a replaced or truncated file is read again from the start, and lines already stored
are recognised by their id, so nothing is duplicated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from ..config import JsonlChannel as JsonlConfig
from ..errors import ChannelError
from .base import Batch, Item

BATCH = 1000


class JsonlChannel:
    def __init__(self, config: JsonlConfig, base: Path | None = None) -> None:
        self.name = config.name
        path = Path(config.path).expanduser()
        self.path = path if path.is_absolute() or base is None else base / path

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        try:
            info = self.path.stat()
            handle = self.path.open("rb")
        except OSError as exc:
            raise ChannelError(self.name, f"cannot read {self.path}: {exc.strerror}") from None
        identity = f"{info.st_dev}:{info.st_ino}"
        offset = int(state.get("offset", "0"))
        if state.get("file") != identity or offset > info.st_size:
            offset = 0  # another file, or truncated: read all, duplicates are recognised
        with handle:
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
                    yield Batch(items, {"offset": str(offset), "file": identity})
                    items = []
            yield Batch(items, {"offset": str(offset), "file": identity})

    def close(self) -> None:
        pass
