"""Opening the SQLite database: pragmas, the write transaction, the FTS segmenter.

Several processes share one database (a TUI per agent, cron's sync, CLI calls), so:
WAL, a generous busy timeout, and every read-then-write transaction begins with
BEGIN IMMEDIATE (a deferred one fails at once with "database is locked" when another
process committed in between, whatever the timeout says).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DeskError

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_S = 30.0
_SAVEPOINTS = itertools.count()

# Chinese, Japanese kana and Thai are written without spaces between words; FTS5's
# unicode61 tokenizer would make a whole sentence one token. Indexing each such
# character as its own token, and querying words as phrases, finds words inside text.
# Compiled when first needed (~1.2 ms: a read command with ASCII words never needs it).
_UNSPACED_CHARS = r"[\u0E00-\u0E7F\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uFF66-\uFF9F]+"
_unspaced: re.Pattern | None = None


def segment(text: str | None) -> str:
    """Text as the full-text index sees it (registered in SQL as desk_segment)."""
    global _unspaced
    if not text or text.isascii():  # isascii: C speed, most mail
        return text or ""
    if _unspaced is None:
        _unspaced = re.compile(_UNSPACED_CHARS)
    if not _unspaced.search(text):
        return text
    return _unspaced.sub(_spaced, text)


def _spaced(match: re.Match) -> str:
    return " " + " ".join(match.group()) + " "  # one call per run of such characters


def now() -> str:
    """The current instant in the store's timestamp format."""
    return stamp(dt.datetime.now(dt.timezone.utc))


def stamp(instant: dt.datetime) -> str:
    """UTC, fixed width, sortable as text, readable by SQLite's date functions."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=dt.timezone.utc)
    # isoformat is several times cheaper than strftime (sync stamps every message)
    return instant.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")[:23] + "Z"


def parse_stamp(text: str) -> dt.datetime:
    """The inverse of `stamp`."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Database:
    """One connection (per thread) to the desk database."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: no implicit transactions; we BEGIN explicitly
            conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise DeskError(f"cannot open database {path}: {exc}") from None
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA recursive_triggers=on")  # as sqlite_utils.Database sets it (migrations use that)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: sync batches and FTS merges stay in memory
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.create_function("desk_segment", 1, segment, deterministic=True)
        self.fts_by_trigger = True
        """False while sync inserts a message it indexes itself (see insert_unindexed)."""
        conn.create_function("desk_fts_by_trigger", 0, lambda: self.fts_by_trigger)
        self.segmented: dict[int, str] = {}
        """Message id → its text as segmented in a parse worker (read once by desk_indexed)."""
        conn.create_function("desk_indexed", 2, self._indexed)
        conn.row_factory = sqlite3.Row
        self.conn = conn
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        """The connection as sqlite_utils sees it, for migrations: made on first use, since
        importing sqlite_utils costs more than most commands take (~50 ms)."""
        if self._db is None:
            import sqlite_utils
            self._db = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._db

    def applied_migrations(self, migration_set: str) -> set[str]:
        """The names of the migrations recorded as applied (the table sqlite_utils keeps;
        read here without it, so opening an up-to-date database stays cheap)."""
        try:
            rows = self.conn.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                                     (migration_set,)).fetchall()
        except sqlite3.OperationalError:  # no such table: a new database
            return set()
        return {row[0] for row in rows}

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE), or a savepoint when one is open."""
        conn = self.conn
        if conn.in_transaction:
            with self._savepoint():
                yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def _savepoint(self) -> Iterator[None]:
        """A nested transaction (as sqlite_utils' atomic() makes one)."""
        name = f"desk_{next(_SAVEPOINTS)}"
        self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            # an error such as RAISE(ROLLBACK) can end the whole transaction, savepoints
            # included: cleaning up then would hide the original error behind "no such savepoint"
            if self.conn.in_transaction:
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self.conn.execute(f"RELEASE SAVEPOINT {name}")

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Several reads that see one committed state (a deferred read transaction, which
        in WAL blocks no writer): a conversation's version then matches its messages."""
        conn = self.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")  # nothing was written: this only ends the snapshot

    def _indexed(self, message_id: int, text: str | None) -> str:
        """desk_segment(text), unless a parse worker segmented it already."""
        done = self.segmented.pop(message_id, None)
        return done if done is not None else segment(text)

    def insert_unindexed(self, sql: str, params: tuple) -> int:
        """INSERT one messages row without the full-text trigger; the caller indexes it
        (IngestMixin.indexing_at_end). Returns the new row id."""
        self.fts_by_trigger = False
        try:
            return self.conn.execute(sql, params).lastrowid
        finally:
            self.fts_by_trigger = True

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def tuples(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        """Rows as plain tuples: several times cheaper than Row when there are many."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        return cursor.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple | dict = ()):
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def data_version(self) -> int:
        """Changes when another connection commits (the TUI polls this)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()
