"""Template stages (manual, suggest, draft, auto): the team's decision per template,
kept across restarts, with its history as events; and what the automatic stage counts
(its uses today, whether it already answered a conversation)."""

from __future__ import annotations

import datetime as dt
import json

from .db import Database

from .stamps import now, stamp

DEFAULT_STAGE = "suggest"
"""A template nobody promoted or demoted yet is offered as a suggestion."""
AUTO_PREFIX = "auto-reply "
"""`messages.automatic` of a reply an auto_reply rule sent ("auto-reply rule faq-order")."""


class StagesMixin:
    d: Database

    def template_stages(self) -> dict[str, str]:
        """Template id → stage, for every template whose stage was ever set."""
        return {r[0]: r[1] for r in self.d.tuples("SELECT template_id, stage FROM template_stages")}

    def in_auto(self) -> dict[str, str]:
        """Template id → when it went to the automatic stage, for those in it now."""
        return {r[0]: r[1] for r in self.d.tuples("SELECT template_id, changed_at FROM template_stages"
                                                    " WHERE stage = 'auto'")}

    def template_stage(self, template_id: str) -> str:
        return self.d.scalar("SELECT stage FROM template_stages WHERE template_id = ?", (template_id,)) or DEFAULT_STAGE

    def set_template_stage(self, template_id: str, stage: str, actor: str, reason: str = "") -> str:
        """Put the template in `stage` (recorded as a 'template.stage' event); the stage it had."""
        with self.d.tx():
            before = self.template_stage(template_id)
            at = now()
            self.d.execute(
                "INSERT INTO template_stages (template_id, stage, changed_at, changed_by, reason)"
                " VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (template_id) DO UPDATE SET stage = excluded.stage, changed_at = excluded.changed_at,"
                " changed_by = excluded.changed_by, reason = excluded.reason", (template_id, stage, at, actor, reason))
            self.d.execute(
                "INSERT INTO events (conversation_id, kind, actor, at, data) VALUES (NULL, 'template.stage', ?, ?, ?)",
                (actor, at, json.dumps({"template": template_id, "from": before, "to": stage, "reason": reason},
                                       ensure_ascii=False)))
        return before

    def stage_history(self, template_id: str | None = None, after_id: int = 0) -> list[dict]:
        """Stage changes (oldest first): id, at, actor, template, from, to, reason."""
        rows = self.d.all(
            "SELECT id, at, actor, data FROM events WHERE kind = 'template.stage' AND id > ?"
            " AND (? IS NULL OR data ->> 'template' = ?) ORDER BY id", (after_id, template_id, template_id))
        return [{"id": r["id"], "at": r["at"], "actor": r["actor"], **json.loads(r["data"])} for r in rows]

    def stage_history_mark(self) -> int:
        """The id of the latest stage change (0: none): where a console starts watching."""
        return self.d.scalar("SELECT max(id) FROM events WHERE kind = 'template.stage'") or 0

    def automatic_uses_since(self, template_id: str, since: dt.datetime) -> int:
        """Automatic replies with the template queued since then (taken-back ones are gone)."""
        return self.d.scalar(
            "SELECT count(*) FROM messages WHERE template_id = ? AND automatic LIKE ? AND received_at >= ?",
            (template_id, AUTO_PREFIX + "%", stamp(since))) or 0

    def answered_automatically(self, conversation_id: int, template_id: str) -> bool:
        """Whether the template already answered this conversation automatically."""
        return self.d.one(
            "SELECT 1 FROM messages WHERE conversation_id = ? AND template_id = ? AND direction = 'out'"
            " AND automatic LIKE ? LIMIT 1", (conversation_id, template_id, AUTO_PREFIX + "%")) is not None

    def answered_inbound(self) -> dict[int, tuple[int, int]]:
        """Agent template reply id → (its conversation, the customer message it answered):
        what the gate's backtest replays the rules on."""
        rows = self.d.tuples(
            "SELECT m.id, m.conversation_id, (SELECT i.id FROM messages i WHERE i.conversation_id = m.conversation_id"
            "   AND i.direction = 'in' AND i.automatic IS NULL AND i.received_at <= m.received_at"
            "   ORDER BY i.received_at DESC, i.id DESC LIMIT 1)"
            " FROM messages m WHERE m.template_id IS NOT NULL AND m.direction = 'out' AND m.automatic IS NULL")
        return {r[0]: (r[1], r[2]) for r in rows if r[2] is not None}
