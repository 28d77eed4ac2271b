"""The Store class: a database connection plus the read and write methods."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..paths import attachments_dir
from .actions import ActionMixin
from .chat import ChatMixin
from .customers import CustomerMixin
from .db import Database
from .stamps import now
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
        self.url = database.url
        self.files = attachments_dir(database.path) if database.path else None

    @classmethod
    def open(cls, path: Path | str, *, migrate: bool = True) -> "Store":
        """Open the SQLite database at `path`, creating it and applying pending migrations."""
        from .sqlite import Database as SqliteDatabase
        store = cls(SqliteDatabase(path))
        if migrate:
            store.migrate()
        return store

    def migrate(self) -> list[str]:
        """Apply pending migrations; returns their names."""
        return self.d.migrate()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction around several store calls, as a sync batch is one; a
        savepoint when one is open already."""
        with self.d.tx():
            yield

    def rolled_back(self):
        """A transaction whose every write is undone at the end (`rules replay`)."""
        return self.d.rolled_back()

    def sync_lock(self):
        """Hold the one-sync-per-desk lock, or raise LockedError at once (see Database.sync_lock)."""
        return self.d.sync_lock()

    def ensure_agent(self, name: str, email: str = "") -> None:
        with self.d.tx():
            self.d.execute(
                "INSERT INTO agents (name, email, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (name, email, now()),
            )

    def data_version(self) -> int:
        """Changes whenever another connection commits (the console polls it)."""
        return self.d.change_token()

    def snapshot(self):
        """A context in which every read sees the same committed state."""
        return self.d.snapshot()

    def close(self) -> None:
        self.d.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
