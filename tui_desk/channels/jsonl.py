"""A JSONL chat export as a channel: one message per line, appended over time.

The channel remembers the byte offset it has stored up to and a fingerprint of the
file's beginning; a file that was replaced by different content or truncated is read
again from the start, and lines already stored are recognised by their id, so
nothing is duplicated.

A reply is appended as a line with "direction": "out" and the reply's transaction id
as its "id"; the outgoing message row carries the same id, so the next pull knows it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from ..config import JsonlChannel as JsonlConfig
from ..errors import ChannelError
from .base import Batch, Item, Outbound, room_problem

BATCH = 1000
HEAD = 4096  # bytes of the file's beginning that identify it


class JsonlChannel:
    message_ids = False
    reply_problem = staticmethod(room_problem)

    def __init__(self, config: JsonlConfig, base: Path | None = None) -> None:
        self.name = config.name
        path = Path(config.path).expanduser()
        self.path = path if path.is_absolute() or base is None else base / path

    def probe(self) -> list[tuple[str, str | None]]:
        return [("chat export " + str(self.path), self.local_problem())]

    def local_problem(self) -> str | None:
        """Why a sync could not read this export (for `config check`), or None."""
        return None if self.path.is_file() else f"{self.path} does not exist (point path at your chat export)"

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

    def send(self, outbound: Outbound) -> str:
        """Append the reply as one line (a single write); returns its id."""
        if not outbound.thread_key:
            raise ChannelError(self.name, f"reply {outbound.outbox_id}: the conversation has no chat key to reply to")
        line = json.dumps({
            "id": outbound.txn_id, "conversation": outbound.thread_key, "sender_id": outbound.agent,
            "sender_name": outbound.agent, "text": outbound.text,
            "time": outbound.created_at.isoformat(timespec="seconds"), "direction": "out",
        }, ensure_ascii=False).encode() + b"\n"
        try:
            if outbound.maybe_sent and self._has_line(outbound.txn_id):
                return outbound.txn_id
            with open(self.path, "ab+") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell():
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":  # someone left a partial line: keep ours apart
                        line = b"\n" + line
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ChannelError(self.name, f"cannot append to {self.path}: {exc.strerror}") from None
        return outbound.txn_id

    def _has_line(self, txn_id: str) -> bool:
        needle = json.dumps(txn_id).encode()
        if not self.path.exists():
            return False
        with open(self.path, "rb") as handle:
            for raw in handle:
                if needle in raw:
                    try:
                        if json.loads(raw).get("id") == txn_id:
                            return True
                    except (ValueError, AttributeError):
                        continue
        return False

    def close(self) -> None:
        pass


def _fingerprint(handle, offset: int) -> str:
    """Hash of the first bytes already read (up to HEAD): the same file starts the same."""
    handle.seek(0)
    return hashlib.sha256(handle.read(min(offset, HEAD))).hexdigest()
