"""What the store's query code needs from a database backend: the port each backend
(store/sqlite/, store/postgres/) implements.

The query code (the mixins beside this module) is written once, in SQL both backends
run: `?` and `:name` parameters (a backend translates them to its own style), UTC text
timestamps (store/stamps.py), JSON text for lists. Where the dialects differ, a query asks
`Database.sql` (a `Dialect`) for the fragment, as Synapse's storage engines do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]


class Row(Protocol):
    """A result row: by position (row[0]) and by column name (row["id"]); dict(row) works."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Dialect(Protocol):
    """SQL fragments where the backends' dialects differ. Each returns SQL text; the
    arguments are SQL expressions (column names, `?`), never values."""

    name: str
    """"sqlite" or "postgresql"."""

    def json_values(self, expr: str, alias: str) -> str:
        """A FROM item: the elements of the JSON array `expr` as rows of `alias.value` (text)."""
        ...

    def id_list(self, param: str) -> str:
        """A subquery of the integers in the list parameter `param` (see Database.ids)."""
        ...

    def nocase_equal(self, left: str, right: str) -> str:
        """`left = right`, ignoring ASCII case (addresses)."""
        ...

    def epoch(self, expr: str) -> str:
        """Seconds since 1970 of the timestamp text `expr` (NULL stays NULL)."""
        ...


class Database(Protocol):
    """One connection to the desk database. Not shared between threads."""

    url: str
    """Where the database is, as the user may see it (never with a password)."""
    path: Path | None
    """The database file (SQLite), beside which attachments and the sync lock live; None
    for a server."""
    sql: Dialect
    IntegrityError: type[Exception]
    """The backend's error for a broken UNIQUE/CHECK/foreign-key constraint."""

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT of one row into a table with an `id` key; returns its id."""
        ...

    def one(self, sql: str, params: Params = ()) -> Any: ...

    def all(self, sql: str, params: Params = ()) -> list[Any]: ...

    def tuples(self, sql: str, params: Params = ()) -> list[tuple]:
        """Rows as plain tuples (cheaper than rows when there are many)."""
        ...

    def scalar(self, sql: str, params: Params = ()) -> Any: ...

    def ids(self, values: Iterable[int]) -> Any:
        """The parameter value `Dialect.id_list` expects for these integers."""
        ...

    def migrate(self) -> list[str]:
        """Apply pending migrations (safe when several processes open a new desk at
        once); returns their names."""
        ...

    def tx(self) -> AbstractContextManager[Database]:
        """A write transaction (nested: a savepoint) that takes the write lock at once."""
        ...

    def rolled_back(self) -> AbstractContextManager[None]:
        """A write transaction whose every write is undone at its end."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Several reads that see one committed state."""
        ...

    @property
    def in_transaction(self) -> bool: ...

    def change_token(self) -> int:
        """Changes whenever another connection commits (the console polls it)."""
        ...

    def sync_lock(self) -> AbstractContextManager[int]:
        """Hold the one-sync-per-desk lock or raise LockedError at once; yields a file
        descriptor forked parse workers must close (-1 when there is none)."""
        ...

    def close(self) -> None: ...
