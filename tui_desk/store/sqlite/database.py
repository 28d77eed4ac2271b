"""The SQLite backend's connection: pragmas, the write transaction, the sync lock.

Several processes share one database (a TUI per agent, cron's sync, CLI calls), so:
WAL, a generous busy timeout, and every read-then-write transaction begins with
BEGIN IMMEDIATE (a deferred one fails at once with "database is locked" when another
process committed in between, whatever the timeout says).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ...errors import DeskError, LockedError, StoreBusy
from ..segment import segment
from .dialect import SqliteDialect
from .migrations import migrations

if TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_S = 30.0
_SAVEPOINTS = itertools.count()
_DIALECT = SqliteDialect()


def _busy(exc: sqlite3.OperationalError) -> DeskError | sqlite3.OperationalError:
    """The error a user sees when the database stayed locked past the busy timeout."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreBusy(f"database problem: {text} (is another process holding it? try again)")
    return exc


class Database:
    """One connection (per thread) to the desk database."""

    sql = _DIALECT
    IntegrityError = sqlite3.IntegrityError

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.url = str(path)
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

    def migrate(self) -> list[str]:
        """Apply pending migrations; returns their names. Safe when several processes
        open a new database at once: the check-and-apply runs under BEGIN IMMEDIATE."""
        if set(migrations.names()) <= self.applied_migrations(migrations.name):
            return []  # up to date: the usual case, answered without importing sqlite_utils
        with self.tx():
            pending = [m.name for m in migrations.pending(self.db)]
            migrations.apply(self.db)
        return pending

    @contextlib.contextmanager
    def tx(self) -> Iterator[Database]:
        """A write transaction (BEGIN IMMEDIATE), or a savepoint when one is open."""
        conn = self.conn
        if conn.in_transaction:
            with self._savepoint():
                yield self
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _busy(exc) from None
        try:
            yield self
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
    def rolled_back(self) -> Iterator[None]:
        """A transaction whose every write is undone at the end (`rules replay`)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self.conn.execute("ROLLBACK")

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

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise _busy(exc) from None

    def executemany(self, sql: str, rows: Iterable[tuple | dict]) -> None:
        try:
            self.conn.executemany(sql, rows)
        except sqlite3.OperationalError as exc:
            raise _busy(exc) from None

    def insert(self, sql: str, params: tuple | dict = ()) -> int:
        return self.execute(sql, params).lastrowid

    def one(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        return self.execute(sql, params).fetchall()

    def tuples(self, sql: str, params: tuple | dict = ()) -> list[tuple]:
        """Rows as plain tuples: several times cheaper than Row when there are many."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        try:
            return cursor.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise _busy(exc) from None

    def scalar(self, sql: str, params: tuple | dict = ()):
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def ids(self, values: Iterable[int]) -> str:
        """The parameter `SqliteDialect.id_list` reads: a JSON array."""
        return "[" + ",".join(str(int(v)) for v in values) + "]"

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def change_token(self) -> int:
        """Changes when another connection commits (PRAGMA data_version: a counter read)."""
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    @contextlib.contextmanager
    def sync_lock(self) -> Iterator[int]:
        """An flock on a file beside the database; yields its descriptor (parse workers
        close their inherited copy, so only this process holds it)."""
        lock_path = Path(str(self.path) + ".sync.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise LockedError(f"another sync is running on {self.path}") from None
            try:
                yield handle.fileno()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def close(self) -> None:
        self.conn.close()
