"""PostgreSQL's forms of the SQL fragments where the dialects differ (see store/db.py).

JSON lists stay text columns on both backends (the same values, the same `--json`), so
PostgreSQL casts them where it reads their elements.
"""

from __future__ import annotations


class PostgresDialect:
    name = "postgresql"

    def json_values(self, expr: str, alias: str) -> str:
        return f"json_array_elements_text(CAST({expr} AS json)) AS {alias}(value)"

    def id_list(self, param: str) -> str:
        return f"(SELECT unnest(CAST({param} AS bigint[])))"

    def nocase_equal(self, left: str, right: str) -> str:
        return f"lower({left}) = lower({right})"

    def epoch(self, expr: str) -> str:
        return f"extract(epoch FROM CAST({expr} AS timestamptz))::bigint"
