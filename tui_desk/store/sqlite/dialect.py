"""SQLite's forms of the SQL fragments where the dialects differ (see store/db.py)."""

from __future__ import annotations


class SqliteDialect:
    name = "sqlite"

    def json_values(self, expr: str, alias: str) -> str:
        return f"json_each({expr}) AS {alias}"

    def id_list(self, param: str) -> str:
        return f"(SELECT value FROM json_each({param}))"

    def nocase_equal(self, left: str, right: str) -> str:
        return f"{left} = {right} COLLATE NOCASE"

    def epoch(self, expr: str) -> str:
        return f"unixepoch({expr})"
