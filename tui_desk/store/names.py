"""Names the desk has seen (agents, channels, tags): what a filter option may name.

A filter given a name nobody ever used would show an empty answer as if it were true;
the CLI checks the name here first and, if it is unknown, lists these.
"""

from __future__ import annotations

from .db import Database

_REPLY = "direction = 'out' AND automatic IS NULL"

# per kind: (does this one name occur? — stops at the first hit; every name, sorted)
_NAMES = {
    "agent": (
        "SELECT 1 FROM agents WHERE name = :v UNION ALL SELECT 1 FROM conversations WHERE assignee = :v"
        f" UNION ALL SELECT 1 FROM messages WHERE {_REPLY} AND author = :v LIMIT 1",
        "SELECT name FROM agents UNION SELECT assignee FROM conversations WHERE assignee IS NOT NULL"
        f" UNION SELECT author FROM messages WHERE {_REPLY} AND author IS NOT NULL AND author != '' ORDER BY 1",
    ),
    "channel": (
        "SELECT 1 FROM conversations WHERE channel = :v LIMIT 1",
        "SELECT DISTINCT channel FROM conversations ORDER BY 1",
    ),
    "tag": (
        "SELECT 1 FROM conversations c, json_each(c.tags) t WHERE t.value = :v LIMIT 1",
        "SELECT DISTINCT t.value FROM conversations c, json_each(c.tags) t ORDER BY 1",
    ),
}
KINDS = tuple(_NAMES)


class NamesMixin:
    d: Database

    def name_in_use(self, kind: str, value: str) -> bool:
        """Whether an agent (assignee, reply author or console user), a channel or a tag
        called `value` occurs in the database."""
        return self.d.scalar(_NAMES[kind][0], {"v": value}) is not None

    def names_in_use(self, kind: str) -> list[str]:
        """Every agent, channel or tag name in the database, sorted."""
        return [r[0] for r in self.d.tuples(_NAMES[kind][1])]
