"""On-call rotations in the database: rotations, member epochs, overrides, swaps, pages.

Returns plain dicts; tui_desk.oncall turns them into schedule objects. Every change is
also an event row (kind "oncall", or "page" for a page) with no conversation, so the
audit trail says who changed the rotation and when.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..errors import NotFound, UsageError
from .db import Database
from .stamps import now


class OncallMixin:
    """Rotations and pages (mixed into Store; `add_event` comes from ActionMixin)."""

    d: Database

    # --- reading --------------------------------------------------------------------

    def oncall_rotations(self) -> list[dict]:
        """Every rotation with its epochs, overrides and swaps, by name."""
        rows = self.d.all("SELECT * FROM oncall_rotations ORDER BY name")
        return [self._oncall_full(dict(r)) for r in rows]

    def oncall_rotation(self, name: str) -> dict:
        """One rotation (NotFound naming the known ones otherwise)."""
        row = self.d.one("SELECT * FROM oncall_rotations WHERE name = ?", (name,))
        if row is None:
            known = ", ".join(r[0] for r in self.d.all("SELECT name FROM oncall_rotations ORDER BY name"))
            raise NotFound(f"no rotation {name!r} (known: {known or 'none yet; add one with `oncall rotation add`'})")
        return self._oncall_full(dict(row))

    def _oncall_full(self, row: dict) -> dict:
        rid = row["id"]
        row["epochs"] = [
            {**dict(e), "members": json.loads(e["members"])}
            for e in self.d.all("SELECT * FROM oncall_epochs WHERE rotation_id = ? ORDER BY from_shift, id", (rid,))
        ]
        row["overrides"] = [dict(o) for o in self.d.all(
            "SELECT * FROM oncall_overrides WHERE rotation_id = ? ORDER BY starts_at, id", (rid,))]
        row["swaps"] = [dict(s) for s in self.d.all(
            "SELECT * FROM oncall_swaps WHERE rotation_id = ? ORDER BY id", (rid,))]
        return row

    def oncall_ever_used(self) -> bool:
        """Whether this database has ever had a rotation (one may have been removed since)."""
        return bool(self.d.scalar("SELECT EXISTS (SELECT 1 FROM oncall_rotations)")
                    or self.d.scalar("SELECT EXISTS (SELECT 1 FROM events WHERE kind = 'oncall')"))

    def oncall_handled(self, names: list[str], intervals: list[tuple[str, str]]) -> int:
        """Distinct conversations `names` answered or acted on within the intervals
        (outgoing messages by them, and events they made on conversations)."""
        if not names or not intervals:
            return 0
        marks = ",".join("?" * len(names))
        seen: set[int] = set()
        for start, end in intervals:
            rows = self.d.all(
                f"SELECT conversation_id FROM messages WHERE direction = 'out' AND author IN ({marks})"
                " AND created_at >= ? AND created_at < ?"
                f" UNION SELECT conversation_id FROM events WHERE actor IN ({marks})"
                " AND conversation_id IS NOT NULL AND at >= ? AND at < ?",
                (*names, start, end, *names, start, end),
            )
            seen.update(r[0] for r in rows)
        return len(seen)

    # --- writing --------------------------------------------------------------------

    def oncall_add_rotation(self, *, name: str, timezone: str, anchor: str, handoff: str, length_hours: int,
                            only: str, members: list[str], actor: str) -> int:
        with self.d.tx() as conn:
            try:
                rid = conn.insert(
                    "INSERT INTO oncall_rotations (name, timezone, anchor, handoff, length_hours, only,"
                    " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, timezone, anchor, handoff, length_hours, only, actor, now()),
                )
            except self.d.IntegrityError:
                raise UsageError(f"a rotation named {name!r} exists already") from None
            self._oncall_epoch(rid, 0, members, 0, actor)
            self.add_event(None, "oncall", actor, {"action": "rotation add", "rotation": name, "members": members})
        return rid

    def oncall_remove_rotation(self, name: str, actor: str) -> None:
        with self.d.tx():
            rotation = self.oncall_rotation(name)
            self.d.execute("DELETE FROM oncall_rotations WHERE id = ?", (rotation["id"],))
            self.add_event(None, "oncall", actor, {"action": "rotation remove", "rotation": name})

    def _oncall_epoch(self, rid: int, from_shift: int, members: list[str], start_pos: int, actor: str) -> None:
        self.d.execute(
            "INSERT INTO oncall_epochs (rotation_id, from_shift, members, start_pos, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (rid, from_shift, json.dumps(members, ensure_ascii=False), start_pos, actor, now()),
        )

    def oncall_change_members(self, name: str, decide: Callable[[dict], tuple[int, list[str], int]],
                              actor: str) -> tuple[int, list[str], int]:
        """Read the rotation and write the new epoch `decide(rotation)` returns
        (from_shift, members, start_pos), in one write transaction."""
        with self.d.tx():
            rotation = self.oncall_rotation(name)
            from_shift, members, start_pos = decide(rotation)
            self._oncall_epoch(rotation["id"], from_shift, members, start_pos, actor)
            self.add_event(None, "oncall", actor, {"action": "members", "rotation": name,
                                                   "members": members, "from_shift": from_shift})
        return from_shift, members, start_pos

    def oncall_add_override(self, name: str, *, who: str, starts_at: str, ends_at: str, reason: str,
                            actor: str) -> int:
        """Record an override; UsageError if it overlaps another one of the rotation."""
        with self.d.tx() as conn:
            rotation = self.oncall_rotation(name)
            clash = self.d.one(
                "SELECT id, who, starts_at, ends_at FROM oncall_overrides"
                " WHERE rotation_id = ? AND starts_at < ? AND ends_at > ? ORDER BY starts_at LIMIT 1",
                (rotation["id"], ends_at, starts_at),
            )
            if clash is not None:
                raise UsageError(f"overlaps override {clash['id']} ({clash['who']}, "
                                 f"{clash['starts_at'][:16]}Z to {clash['ends_at'][:16]}Z); remove it first")
            override_id = conn.insert(
                "INSERT INTO oncall_overrides (rotation_id, who, starts_at, ends_at, reason, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rotation["id"], who, starts_at, ends_at, reason, actor, now()),
            )
            self.add_event(None, "oncall", actor, {"action": "override add", "rotation": name, "id": override_id,
                                                   "who": who, "from": starts_at, "to": ends_at})
        return override_id

    def oncall_remove_override(self, override_id: int, actor: str) -> None:
        with self.d.tx() as conn:
            row = self.d.one("SELECT o.*, r.name FROM oncall_overrides o JOIN oncall_rotations r"
                             " ON r.id = o.rotation_id WHERE o.id = ?", (override_id,))
            if row is None:
                raise NotFound(f"no override {override_id}")
            conn.execute("DELETE FROM oncall_overrides WHERE id = ?", (override_id,))
            self.add_event(None, "oncall", actor, {"action": "override remove", "rotation": row["name"],
                                                   "id": override_id, "who": row["who"]})

    def oncall_add_swap(self, name: str, shift_a: int, shift_b: int, actor: str, detail: dict) -> int:
        with self.d.tx() as conn:
            rotation = self.oncall_rotation(name)
            swap_id = conn.insert(
                "INSERT INTO oncall_swaps (rotation_id, shift_a, shift_b, requested_by, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (rotation["id"], shift_a, shift_b, actor, now()),
            )
            self.add_event(None, "oncall", actor, {"action": "swap", "rotation": name, "id": swap_id, **detail})
        return swap_id

    def oncall_record_page(self, actor: str, data: dict, conversation_id: int | None = None) -> None:
        """A page, sent or failed, as an event (kind "page")."""
        with self.d.tx():
            self.add_event(conversation_id, "page", actor, data)

    def oncall_pages(self, limit: int = 50) -> list[dict]:
        rows = self.d.all("SELECT * FROM events WHERE kind = 'page' ORDER BY at DESC, id DESC LIMIT ?", (limit,))
        return [{**dict(r), "data": json.loads(r["data"])} for r in rows]
