"""Template stages (m800).

Defined in the order they apply (listed in migrations/__init__.py); never edit one
that has shipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import _run

if TYPE_CHECKING:
    from sqlite_utils import Database


def m800_template_stages(db: Database) -> None:
    # A template's stage (manual, suggest, draft, auto) is the team's decision, kept in the
    # database: the template files stay the same on every desk. No row: "suggest". Each
    # change (a person's promote or demote, an automatic demotion) is also an events row of
    # kind 'template.stage' with no conversation: the template's history.
    _run(db, [
        """CREATE TABLE template_stages (
            template_id TEXT PRIMARY KEY,
            stage TEXT NOT NULL CHECK (stage IN ('manual', 'suggest', 'draft', 'auto')),
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT ''
        )""",
        # automatic uses per template: the daily cap and the review of the last N
        "CREATE INDEX messages_automatic_template ON messages(template_id, received_at)"
        " WHERE automatic IS NOT NULL AND template_id IS NOT NULL",
    ])
