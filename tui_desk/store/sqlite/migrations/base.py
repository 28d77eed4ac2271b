"""What every migration module uses: the lazily made `sqlite_utils.Migrations` set, and
the two helpers the migrations run their SQL with."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations


class LazyMigrations:
    """`sqlite_utils.Migrations("tui_desk")`, made only when a database needs migrating.

    The decorator records each migration here; the names are known without importing
    sqlite_utils, so opening an up-to-date database (every command) never imports it.
    Every other attribute (`pending`, `apply`, `applied`, ...) is the real object's.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[tuple[str, Callable, bool]] = []
        self._real: Migrations | None = None

    def __call__(self, *, name: str | None = None, transactional: bool = True) -> Callable[[Callable], Callable]:
        def inner(func: Callable) -> Callable:
            migration_name = name or func.__name__
            if migration_name in self.names():
                raise ValueError(f"Migration '{migration_name}' is already registered in set '{self.name}'")
            self._registered.append((migration_name, func, transactional))
            if self._real is not None:
                self._real(name=migration_name, transactional=transactional)(func)
            return func
        return inner

    def names(self) -> list[str]:
        return [name for name, _, _ in self._registered]

    def real(self) -> Migrations:
        if self._real is None:
            from sqlite_utils import Migrations
            real = Migrations(self.name)
            for name, func, transactional in self._registered:
                real(name=name, transactional=transactional)(func)
            self._real = real
        return self._real

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") or attribute in ("_registered", "_real"):
            raise AttributeError(attribute)
        return getattr(self.real(), attribute)


def _run(db: Database, statements: list[str]) -> None:
    # one statement at a time: executescript() would COMMIT the migration's transaction
    for sql in statements:
        db.execute(sql)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"
