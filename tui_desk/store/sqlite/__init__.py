"""The SQLite backend: one file per desk, WAL, FTS5, an flock sync lock (the default)."""

from .database import Database

__all__ = ["Database"]
