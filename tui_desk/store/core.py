"""The Store class: a database connection plus the read and write methods."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..paths import attachments_dir
from .actions import ActionMixin
from .chat import ChatMixin
from .customers import CustomerMixin
from .db import Database, now
from .faq import FaqQueryMixin
from .inbox import InboxMixin
from .names import NamesMixin
from .ingest import IngestMixin
from .merges import MergeMixin
from .oncall import OncallMixin
from .outbox import OutboxMixin
from .pages import PagesMixin
from .quarantine import QuarantineMixin
from .queries import QueryMixin
from .report_facts import ReportFactsMixin
from .reports import ReportsMixin
from .rules import RulesMixin
from .schema import migrations
from .stages import StagesMixin
from .stored import StoredMixin
from .suggest import SuggestQueryMixin
from .survey import SurveyMixin
from .templates import TemplateQueryMixin


class Store(IngestMixin, QueryMixin, ActionMixin, ChatMixin, OutboxMixin, TemplateQueryMixin, OncallMixin,
            ReportsMixin, ReportFactsMixin, InboxMixin, RulesMixin, QuarantineMixin, NamesMixin, PagesMixin,
            FaqQueryMixin, SurveyMixin, CustomerMixin, MergeMixin, SuggestQueryMixin, StagesMixin, StoredMixin):
    """One connection to the desk database. Not shared between threads: open one per thread."""

    def __init__(self, database: Database) -> None:
        self.d = database
        self.path = database.path
        self.files = attachments_dir(database.path)

    @classmethod
    def open(cls, path: Path | str, *, migrate: bool = True) -> "Store":
        """Open the database at `path`, creating it and applying pending migrations."""
        store = cls(Database(path))
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> list[str]:
        """Apply pending migrations; returns their names. Safe when several processes
        open a new database at once: the check-and-apply runs under BEGIN IMMEDIATE."""
        if set(migrations.names()) <= self.d.applied_migrations(migrations.name):
            return []  # up to date: the usual case, answered without importing sqlite_utils
        with self.d.tx():
            pending = [m.name for m in migrations.pending(self.d.db)]
            migrations.apply(self.d.db)
        return pending

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE) around several store calls, as a sync
        batch is one; a savepoint when one is open already."""
        with self.d.tx():
            yield

    @contextlib.contextmanager
    def rolled_back(self) -> Iterator[None]:
        """A transaction whose every write is undone at the end (`rules replay`)."""
        self.d.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            self.d.conn.execute("ROLLBACK")

    def ensure_agent(self, name: str, email: str = "") -> None:
        with self.d.tx():
            self.d.conn.execute(
                "INSERT INTO agents (name, email, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (name, email, now()),
            )

    def data_version(self) -> int:
        return self.d.data_version()

    def snapshot(self):
        """A context in which every read sees the same committed state."""
        return self.d.snapshot()

    def close(self) -> None:
        self.d.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
