"""A local Maildir folder as a channel (mail fetched by another tool, or the demo).

Each file is known by its Maildir unique name (the part before ":2,"), which stays the
same when a mail client moves it from new/ to cur/ or changes its flags; names already
stored are remembered per channel, so a second sync reads nothing it has seen. A sync
that stored everything it listed also saves both folders' modification times; the next
one, finding them unchanged, lists nothing (a file added, removed or renamed changes its
folder's time). A time within SETTLE_NS of the listing is not saved: a delivery in the
same clock tick would leave it unchanged.

Replies are written as files into a sibling Maildir (`sent_path`, by default
"<path>/.Sent"), named after the reply's transaction id so a retry finds its copy.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from ..config import MaildirChannel as MaildirConfig
from ..errors import ChannelError
from .base import Batch, Item, Outbound

BATCH = 500
SETTLE_NS = 2_000_000_000


class MaildirChannel:
    message_ids = True

    @staticmethod
    def reply_problem(to_address: str, thread_key: str | None = None) -> str | None:
        from .mailout import recipient_problem  # composing mail: not for a sync with nothing to send
        return recipient_problem(to_address, thread_key)

    def __init__(self, config: MaildirConfig, base: Path | None = None) -> None:
        self.name = config.name
        path = Path(config.path).expanduser()
        self.path = path if path.is_absolute() or base is None else base / path
        sent = Path(config.sent_path).expanduser() if config.sent_path else self.path / ".Sent"
        self.sent = sent if sent.is_absolute() or base is None else base / sent

    def probe(self) -> list[tuple[str, str | None]]:
        return [("Maildir " + str(self.path), self.local_problem())]

    def local_problem(self) -> str | None:
        """Why a sync could not read this Maildir (for `config check`), or None."""
        if not self.path.exists():
            return f"{self.path} does not exist (create it, or point path at your Maildir)"
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            return f"{self.path} is not a Maildir (no cur/ or new/ inside)"
        return None

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        if not (self.path / "cur").is_dir() and not (self.path / "new").is_dir():
            raise ChannelError(self.name, f"{self.path} is not a Maildir (no cur/ or new/ inside)")
        listed_at = time.time_ns()
        marks = self._marks()
        if all(state.get(key) == value for key, value in marks.items()):
            return  # neither folder changed since a sync stored all they held
        # only times safely in the past: a later change shows as a different time
        settled = {key: value for key, value in marks.items() if value == "-" or int(value) < listed_at - SETTLE_NS}
        seen = seen if isinstance(seen, (set, frozenset)) else set(seen)  # (the loop below asks it per file)
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
        chunks = [fresh[start:start + BATCH] for start in range(0, len(fresh), BATCH)]
        if not chunks:
            if settled:
                yield Batch([], state=settled)
            return
        # the next batch's files are read in a thread while sync parses and stores this
        # one: a large Maildir is mostly not in the page cache, and the sync's writer
        # would otherwise wait for the disk (reads release the GIL)
        from concurrent.futures import ThreadPoolExecutor  # (only when there is something to read)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="maildir-read") as reader:
            upcoming = reader.submit(self._read_batch, chunks[0])
            for number in range(len(chunks)):
                batch = upcoming.result()
                if number + 1 < len(chunks):
                    upcoming = reader.submit(self._read_batch, chunks[number + 1])
                else:
                    batch.state = settled  # saved with the last batch: everything listed is stored
                yield batch

    def _marks(self) -> dict[str, str]:
        """The folders' modification times (ns), "-" for a missing one."""
        marks = {}
        for sub in ("new", "cur"):
            try:
                marks[f"mtime {sub}"] = str(os.stat(self.path / sub).st_mtime_ns)
            except FileNotFoundError:
                marks[f"mtime {sub}"] = "-"
        return marks

    def _read_batch(self, chunk: list[tuple[int, str, str, str]]) -> Batch:
        items, keys = [], []
        for mtime_ns, key, sub, name in chunk:
            raw = self._read(key, sub, name)
            if raw is None:
                continue  # deleted since listing: nothing to store
            received = dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.timezone.utc)
            items.append(Item("email", raw, received))
            keys.append(key)
        return Batch(items, source_keys=keys)

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

    def send(self, outbound: Outbound) -> str:
        """Write the reply into the sent Maildir (tmp/ then rename into cur/, so a reader
        never sees half a file); returns its Message-ID."""
        from .mailout import build_reply
        raw = build_reply(outbound, self.name)
        if outbound.maybe_sent and self._sent_copy(outbound.txn_id):
            return outbound.mail_id
        try:
            for sub in ("cur", "new", "tmp"):
                (self.sent / sub).mkdir(parents=True, exist_ok=True)
            unique = f"{int(time.time())}.{outbound.txn_id}.{socket.gethostname().replace('/', '_')}"
            partial = self.sent / "tmp" / unique
            with open(partial, "xb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, self.sent / "cur" / f"{unique}:2,S")
        except OSError as exc:
            raise ChannelError(self.name, f"cannot write to {self.sent}: {exc.strerror}") from None
        return outbound.mail_id

    def _sent_copy(self, txn_id: str) -> bool:
        return any(any((self.sent / sub).glob(f"*.{txn_id}.*")) for sub in ("cur", "new"))

    def close(self) -> None:
        pass
