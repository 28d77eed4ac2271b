"""Satisfaction surveys: which conversations are due one, the survey rows, the answers.

A survey is queued like any reply (its message row and outbox row), in the same
transaction as its `surveys` row, so a survey exists once or not at all. Its
`survey_sent` event is written in the transaction that records the delivery (the
outbox's mark_sent, or the check that settles an "uncertain" send as sent): every
survey that went out has one, and only those.
"""

from __future__ import annotations

import datetime as dt
import json

from .db import Database

from .stamps import stamp
from .reply_request import ReplyRequest

SURVEY_AGENT = "survey"
"""The author of survey messages and the actor of their events."""
SURVEY_REASON = "satisfaction survey"
"""messages.automatic of a survey: an automatic message, never an agent reply."""
NO_SURVEY_TAGS = ("no-survey", "spam")


class SurveyMixin:
    """Needs `self.d`, `add_reply`, `add_event`, `set_tags` (the other mixins)."""

    d: Database

    # -- who is due one ---------------------------------------------------------------

    def survey_candidates(self, solved_before: dt.datetime, solved_after: dt.datetime, limit: int = 500) -> list[dict]:
        """Conversations solved in [solved_after, solved_before] and solved still, not
        merged, not tagged no-survey or spam, with no survey yet; oldest solve first."""
        tags = " AND ".join(f"NOT EXISTS (SELECT 1 FROM json_each(c.tags) t WHERE t.value = '{t}')"
                            for t in NO_SURVEY_TAGS)
        return [dict(r) for r in self.d.all(
            f"""SELECT c.id, c.customer_id, c.channel, c.solved_at FROM conversations c INDEXED BY conversations_solved
                WHERE c.solved_at IS NOT NULL AND c.solved_at >= ? AND c.solved_at <= ? AND c.status = 'solved'
                AND c.merged_into IS NULL AND {tags}
                AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.conversation_id = c.id)
                AND NOT EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id AND e.kind = 'survey_skipped'
                    AND e.at >= c.solved_at)
                ORDER BY c.solved_at LIMIT ?""",
            (stamp(solved_after), stamp(solved_before), limit))]

    def survey_skipped(self, conversation_id: int, why: str) -> None:
        """This solve of the conversation gets no survey, for this reason (asked once)."""
        with self.d.tx():
            self.add_event(conversation_id, "survey_skipped", SURVEY_AGENT, {"why": why})  # type: ignore[attr-defined]

    def survey_inbound_classes(self, conversation_id: int) -> tuple[str | None, bool]:
        """(the class of the conversation's latest inbound message, whether any inbound
        message of it is bulk): the loop guard's view of who would get the survey."""
        last = self.d.scalar("SELECT class FROM messages WHERE conversation_id = ? AND direction = 'in'"
                             " ORDER BY received_at DESC, id DESC LIMIT 1", (conversation_id,))
        bulk = self.d.scalar("SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ? AND direction = 'in'"
                             " AND class IN ('bulk', 'bounce'))", (conversation_id,))
        return last, bool(bulk)

    def customer_surveyed_since(self, customer_id: int | None, since: dt.datetime) -> bool:
        """Whether the customer was given a survey (queued, whatever became of it) since then."""
        if customer_id is None:
            return False
        return bool(self.d.scalar("SELECT EXISTS (SELECT 1 FROM surveys WHERE customer_id = ? AND created_at >= ?)",
                                  (customer_id, stamp(since))))

    def customer_texts(self, customer_id: int | None, limit: int = 20) -> list[str]:
        """The customer's latest messages from a person (to tell their language)."""
        if customer_id is None:
            return []
        return [r[0] or "" for r in self.d.all(
            "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = ?"
            " AND m.direction = 'in' AND m.automatic IS NULL ORDER BY m.received_at DESC LIMIT ?",
            (customer_id, limit))]

    # -- sending -----------------------------------------------------------------------

    def queue_survey(self, conversation_id: int, text: str, *, template_id: str, language: str,
                     recipient: str, txn_id: str, expires: dt.timedelta, solved_before: dt.datetime,
                     cooldown_since: dt.datetime, at: dt.datetime) -> int | None:
        """Queue the survey message (to go at once) and its row, dated `at`, in one
        transaction; the conditions are read again inside it (an agent may have reopened
        the conversation meanwhile). Returns the survey id, or None when no longer due."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT customer_id, status, solved_at, merged_into FROM conversations WHERE id = ?",
                             (conversation_id,))
            if (row is None or row["status"] != "solved" or row["merged_into"] is not None
                    or row["solved_at"] > stamp(solved_before)
                    or self.d.scalar("SELECT 1 FROM surveys WHERE conversation_id = ?", (conversation_id,))
                    or self.customer_surveyed_since(row["customer_id"], cooldown_since)):
                return None
            message_id, outbox_id = self.add_reply(  # type: ignore[attr-defined]
                ReplyRequest(conversation_id=conversation_id, text=text, agent=SURVEY_AGENT, automatic=SURVEY_REASON,
                             recipient=recipient),
                txn_id=txn_id, deliver_at=dt.datetime.now(dt.timezone.utc))
            return conn.insert(
                "INSERT INTO surveys (conversation_id, customer_id, outbox_id, message_id, template_id, language,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, row["customer_id"], outbox_id, message_id, template_id, language, stamp(at),
                 stamp(at + expires)))

    def survey_delivered(self, outbox_id: int, at: str) -> None:
        """Called by the outbox inside the transaction recording a delivery: the survey
        of that outbox row (if it is one) is sent, with its `survey_sent` event."""
        row = self.d.one("SELECT id, conversation_id, template_id, language FROM surveys"
                         " WHERE outbox_id = ? AND sent_at IS NULL", (outbox_id,))
        if row is None:
            return
        self.d.execute("UPDATE surveys SET sent_at = ? WHERE id = ?", (at, row["id"]))
        self.add_event(row["conversation_id"], "survey_sent", SURVEY_AGENT,  # type: ignore[attr-defined]
                       {"survey": row["id"], "template": row["template_id"], "language": row["language"]})

    # -- answers -----------------------------------------------------------------------

    def surveys_waiting(self, at: dt.datetime | None = None) -> bool:
        """Whether any survey waits for its answer and has not expired by `at` (now)."""
        return bool(self.d.scalar("SELECT EXISTS (SELECT 1 FROM surveys WHERE answered_at IS NULL AND expires_at > ?)",
                                  (stamp(at or dt.datetime.now(dt.timezone.utc)),)))

    def open_survey(self, conversation_id: int | None, at: dt.datetime) -> dict | None:
        """The conversation's survey that went out (or may have), is unanswered and has
        not expired; None otherwise."""
        if conversation_id is None:
            return None
        row = self.d.one(
            "SELECT s.id, s.conversation_id, s.customer_id FROM surveys s JOIN outbox o ON o.id = s.outbox_id"
            " WHERE s.conversation_id = ? AND s.answered_at IS NULL AND s.expires_at > ?"
            " AND o.state IN ('sent', 'uncertain')", (conversation_id, stamp(at)))
        return dict(row) if row else None

    def open_survey_in_room(self, channel: str, thread_key: str, at: dt.datetime) -> dict | None:
        """A chat room's open survey: on the room's latest conversation only (once the
        customer has started a new one there, the survey is past)."""
        latest = self.d.scalar("SELECT id FROM conversations WHERE channel = ? AND thread_key = ?"
                               " AND merged_into IS NULL ORDER BY id DESC LIMIT 1", (channel, thread_key))
        return self.open_survey(latest, at)

    def record_survey_answer(self, survey_id: int, conversation_id: int, message_id: int, score: int,
                             comment: str, *, follow_up: bool) -> None:
        """The customer's score (inside the sync batch's transaction): the survey row, the
        `satisfaction` event, and with `follow_up` the csat-low tag."""
        self.d.execute("UPDATE surveys SET answered_at = ?, score = ?, answer_message_id = ? WHERE id = ?",
                            (stamp(dt.datetime.now(dt.timezone.utc)), score, message_id, survey_id))
        self.add_event(conversation_id, "satisfaction", "customer",  # type: ignore[attr-defined]
                       {"score": score, "comment": comment, "survey": survey_id, "message_id": message_id})
        if follow_up:
            self.set_tags(conversation_id, ["csat-low"], [], SURVEY_AGENT)  # type: ignore[attr-defined]

    # -- reading -----------------------------------------------------------------------

    def customer_scores(self, customer_id: int, limit: int = 5) -> list[dict]:
        """The customer's latest answers, newest first: {score, comment, at, conversation_id}."""
        rows = self.d.all(
            "SELECT e.conversation_id, e.at, e.data FROM events e JOIN conversations c ON c.id = e.conversation_id"
            " WHERE c.customer_id = ? AND e.kind = 'satisfaction' ORDER BY e.at DESC, e.id DESC LIMIT ?",
            (customer_id, limit))
        out = []
        for row in rows:
            data = json.loads(row["data"] or "{}")
            if isinstance(data.get("score"), int):
                out.append({"score": data["score"], "comment": str(data.get("comment") or ""), "at": row["at"],
                            "conversation_id": row["conversation_id"]})
        return out

    def survey_of(self, survey_id: int) -> dict | None:
        row = self.d.one("SELECT * FROM surveys WHERE id = ?", (survey_id,))
        return dict(row) if row else None

    def surveys(self, conversation_id: int | None = None) -> list[dict]:
        """The surveys sent (or queued) about a conversation, or every one, oldest first."""
        where, params = ("WHERE conversation_id = ?", (conversation_id,)) if conversation_id is not None else ("", ())
        return [dict(r) for r in self.d.all(f"SELECT * FROM surveys {where} ORDER BY id", params)]
