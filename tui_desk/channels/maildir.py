"""A local Maildir folder as a channel (mail fetched by another tool, or the demo).

Each file is known by its Maildir unique name (the part before ":2,"), which stays the
same when a mail client moves it from new/ to cur/ or changes its flags; names already
stored are remembered per channel, so a second sync reads nothing it has seen.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

from ..config import MaildirChannel as MaildirConfig
from ..errors import ChannelError
from .base import Batch, Item

BATCH = 500


class MaildirChannel:
    def __init__(self, config: MaildirConfig, base: Path | None = None) -> None:
        self.name = config.name
        path = Path(config.path).expanduser()
        self.path = path if path.is_absolute() or base is None else base / path

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise ChannelError(self.name, f"{self.path} is not a Maildir (no cur/ or new/ inside)")
        fresh = []
        for sub in ("new", "cur"):
            try:
                entries = os.scandir(self.path / sub)
            except FileNotFoundError:
                continue
            with entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    key = entry.name.split(":", 1)[0]
                    if key not in seen:
                        try:
                            fresh.append((entry.stat().st_mtime_ns, key, sub, entry.name))
                        except FileNotFoundError:  # moved by a mail client meanwhile
                            continue
        fresh.sort()
        for start in range(0, len(fresh), BATCH):
            items, keys = [], []
            for mtime_ns, key, sub, name in fresh[start:start + BATCH]:
                raw = self._read(key, sub, name)
                if raw is None:
                    continue  # deleted since listing: nothing to store
                received = dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.timezone.utc)
                items.append(Item("email", raw, received))
                keys.append(key)
            yield Batch(items, source_keys=keys)

    def _read(self, key: str, sub: str, name: str) -> bytes | None:
        try:
            return (self.path / sub / name).read_bytes()
        except FileNotFoundError:
            for other in ("cur", "new"):  # a client renamed it (flags) or moved it
                for entry in (self.path / other).glob(key + "*"):
                    return entry.read_bytes()
            return None
        except OSError as exc:
            raise ChannelError(self.name, f"cannot read {self.path / sub / name}: {exc.strerror}") from None

    def close(self) -> None:
        pass
