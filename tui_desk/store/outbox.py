"""Replies and notes, and the outbox that delivers replies.

A reply is written as a message row plus an outbox row in one BEGIN IMMEDIATE
transaction, together with the status change and the events. Delivery claims one row
at a time (queued → sending, with a lease), and marks it sent or failed afterwards;
a row left in "sending" past its lease (a crash) is claimed again with `maybe_sent`
set, so the channel looks for the first copy before sending another.

An email reply becomes "uncertain" the moment SMTP DATA begins (committed before the
bytes go) and leaves it only when its 250 is recorded: a row left "uncertain" may have
reached the customer, so it is never claimed for sending again. It is checked (the
channel's own record, `claim_uncertain` / `resolve_uncertain`), or a person retries or
cancels it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from ..errors import DeskError, NotFound, UsageError
from ..textsafe import msgids
from .db import Database
from .stamps import now, parse_stamp, stamp
from .reply_request import ReplyRequest
from .schema import STATUSES

if TYPE_CHECKING:  # the message model (its dataclasses cost ~1.5 ms): only a type here
    from ..model import Attachment

REFERENCES_KEPT = 20  # a long thread's References header stays bounded
CANCELLED_MARK = "[reply cancelled, not sent]\n"



class ConversationChanged(DeskError):
    """The conversation changed since the agent looked at it (someone wrote, or a
    colleague acted). `newer` holds the messages that arrived since, as dicts."""

    def __init__(self, conversation_id: int, expected: int, current: int, newer: list[dict]) -> None:
        self.conversation_id = conversation_id
        self.expected = expected
        self.current = current
        self.newer = newer
        what = f"{len(newer)} new message(s)" if newer else "a colleague changed it"
        super().__init__(f"conversation {conversation_id} changed while you were writing ({what}); nothing was sent")


class OutboxMixin:
    """Write and read side of replies, notes and the outbox. Needs `self.d`."""

    d: Database

    # -- queueing ---------------------------------------------------------------------

    def add_reply(self, request: ReplyRequest, *, txn_id: str, deliver_at: dt.datetime,
                  assign_on_reply: bool = False, files: tuple[Attachment, ...] = ()) -> tuple[int, int | None]:
        """Write the reply (or note) `request` asks for in one transaction; returns
        (message_id, outbox_id). Its outbox row waits until `deliver_at`.
        `assign_on_reply`: a person's reply to an unassigned conversation assigns it to them.
        `files`: the attachments sent with it (read from `request.copies.files`)."""
        conversation_id, text, agent, note = request.conversation_id, request.text, request.agent, request.note
        status, template_id, expected_version = request.status, request.template_id, request.expected_version
        automatic, recipient = request.automatic, request.recipient
        cc, bcc = request.copies.cc, request.copies.bcc
        if status is not None and (status not in STATUSES or status == "snoozed"):
            choices = ", ".join(s for s in STATUSES if s != "snoozed")
            raise UsageError(f"a reply cannot set status {status!r} (one of: {choices})")
        with self.d.tx() as conn:
            row = self.d.one("SELECT * FROM conversations WHERE id = ?", (conversation_id,))
            if row is None:
                raise NotFound(f"no conversation {conversation_id}")
            if row["merged_into"] is not None:
                raise UsageError(f"conversation {conversation_id} was merged into {row['merged_into']}; reply there")
            if expected_version is not None and row["version"] != expected_version:
                raise ConversationChanged(conversation_id, expected_version, row["version"],
                                          self._messages_since(conversation_id, expected_version))
            at = now()
            direction = "note" if note else "out"
            message_id = conn.insert(
                "INSERT INTO messages (conversation_id, channel, direction, author, text, external_id,"
                " created_at, received_at, template_id, automatic) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, row["channel"], direction, agent, text, txn_id, at, at, template_id, automatic),
            )
            first_response = direction == "out" and row["first_response_at"] is None and not automatic
            changed_status = status is not None and status != row["status"]
            sets = ["last_message_at = max(last_message_at, :at)", "message_count = message_count + 1",
                    "version = version + 1"]
            if first_response:
                sets.append("first_response_at = :at")
            assigns = (assign_on_reply and direction == "out" and row["assignee"] is None and not automatic
                       and not agent.startswith("rule:"))
            if assigns:
                sets.append("assignee = :agent")
            if changed_status:
                sets += ["status = :status", "snoozed_until = NULL",
                         "solved_at = CASE WHEN :status = 'solved' THEN :at"
                         " WHEN :status = 'closed' THEN solved_at ELSE NULL END"]
            conn.execute(f"UPDATE conversations SET {', '.join(sets)} WHERE id = :id",
                         {"at": at, "status": status, "id": conversation_id, "agent": agent})
            if assigns:
                self.add_event(conversation_id, "assignee", agent, {"from": None, "to": agent, "why": "replied first"})
            outbox_id = None
            if not note:
                undo = {"status": [row["status"], status] if changed_status else None}
                outbox_id = conn.insert(
                    "INSERT INTO outbox (message_id, conversation_id, channel, txn_id, not_before, next_try_at,"
                    " created_by, created_at, undo, automatic, recipient, cc, bcc)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (message_id, conversation_id, row["channel"], txn_id, stamp(deliver_at), stamp(deliver_at),
                     agent, at, json.dumps(undo), int(bool(automatic)), recipient.lower() if recipient else None,
                     json.dumps(list(cc)), json.dumps(list(bcc))),
                )
                self.add_event(conversation_id, "reply_queued", agent,
                               {"message_id": message_id, "outbox_id": outbox_id, "deliver_at": stamp(deliver_at)})
            else:
                self.add_event(conversation_id, "note", agent, {"message_id": message_id})
            for file in files:
                self._add_attachment(message_id, file)  # type: ignore[attr-defined]
            if template_id:
                self.add_event(conversation_id, "template_used", agent,
                               {"template": template_id, "message_id": message_id})
            if changed_status:
                self.add_event(conversation_id, "status", agent, {"from": row["status"], "to": status})
                if not automatic and not agent.startswith("rule:"):  # a person's change: the rules see it once
                    self.queue_rule_event(conversation_id, ["status.changed"],
                                          data={"from": row["status"], "to": status})
        return message_id, outbox_id

    def _messages_since(self, conversation_id: int, version: int) -> list[dict]:
        rows = self.d.all(
            "SELECT id, direction, author, author_address, subject, text, created_at, received_at, automatic"
            " FROM messages WHERE conversation_id = ? AND conversation_version > ? ORDER BY received_at, id",
            (conversation_id, version),
        )
        return [dict(r) for r in rows]

    # -- cancelling -------------------------------------------------------------------

    def cancel_reply(self, outbox_id: int, agent: str) -> dict:
        """Take back a queued (or failed) reply: the outbox row becomes 'cancelled', the
        message turns into a note marked as not sent (ids are never reused, and the
        conversation keeps what was almost said), the status it set and the template
        use are undone, and a 'reply_cancelled' event is written."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
            if row is None:
                raise NotFound(f"no outbox item {outbox_id}")
            if row["state"] == "sent":
                raise UsageError(f"reply {outbox_id} was already sent at {row['sent_at'][:19]}Z; it cannot be taken back")
            if row["state"] == "sending":
                raise UsageError(f"reply {outbox_id} is being sent right now; it cannot be taken back")
            if row["state"] == "cancelled":
                raise UsageError(f"reply {outbox_id} was already cancelled")
            if row["state"] == "uncertain":
                return self._give_up_uncertain(conn, row, agent)
            template = self.d.scalar("SELECT template_id FROM messages WHERE id = ?", (row["message_id"],))
            conversation_id = row["conversation_id"]
            conn.execute("UPDATE outbox SET state = 'cancelled' WHERE id = ?", (outbox_id,))
            conn.execute("UPDATE messages SET direction = 'note', template_id = NULL, text = ? || text WHERE id = ?",
                         (CANCELLED_MARK, row["message_id"]))
            conn.execute("DELETE FROM events WHERE conversation_id = ? AND kind = 'template_used'"
                         " AND json_extract(data, '$.message_id') = ?", (conversation_id, row["message_id"]))
            conn.execute(
                "UPDATE conversations SET version = version + 1, first_response_at = (SELECT min(received_at)"
                " FROM messages WHERE conversation_id = :id AND direction = 'out') WHERE id = :id",
                {"id": conversation_id})
            undo = json.loads(row["undo"] or "{}").get("status")
            current = self.d.scalar("SELECT status FROM conversations WHERE id = ?", (conversation_id,))
            if undo and current == undo[1]:  # nobody changed it since: put it back
                conn.execute("UPDATE conversations SET status = ?, solved_at = CASE WHEN ? = 'solved'"
                             " THEN solved_at ELSE NULL END WHERE id = ?", (undo[0], undo[0], conversation_id))
                self.add_event(conversation_id, "status", agent, {"from": undo[1], "to": undo[0], "why": "reply cancelled"})
            self.add_event(conversation_id, "reply_cancelled", agent,
                           {"outbox_id": outbox_id, "message_id": row["message_id"], "template": template})
        return dict(row)

    def _give_up_uncertain(self, conn, row, agent: str) -> dict:
        # It may have reached the customer: the message stays a reply (nothing to undo),
        # it is only never tried again.
        conn.execute("UPDATE outbox SET state = 'cancelled' WHERE id = ?", (row["id"],))
        self.add_event(row["conversation_id"], "reply_cancelled", agent,
                       {"outbox_id": row["id"], "message_id": row["message_id"], "uncertain": True})
        return dict(row)

    # -- delivery ---------------------------------------------------------------------

    def claim_due(self, at: dt.datetime, lease: dt.timedelta) -> dict | None:
        """Claim the next due reply for sending (queued and due, or left in 'sending' past
        its lease by a crash). Returns what the channel needs to send it, or None."""
        when = stamp(at)
        with self.d.tx() as conn:
            row = self.d.one(
                "SELECT id, state FROM outbox WHERE (state = 'queued' AND next_try_at <= :now AND not_before <= :now)"
                " OR (state = 'sending' AND next_try_at <= :now) ORDER BY next_try_at, id LIMIT 1", {"now": when})
            if row is None:
                return None
            conn.execute("UPDATE outbox SET state = 'sending', tries = tries + 1, next_try_at = ? WHERE id = ?",
                         (stamp(at + lease), row["id"]))
            job = self.outbound(row["id"])
            job["maybe_sent"] = row["state"] == "sending"
            return job

    def outbound(self, outbox_id: int) -> dict:
        """Everything a channel needs to send outbox row `outbox_id`."""
        row = self.d.one(
            "SELECT o.id AS outbox_id, o.txn_id, o.channel, o.tries, o.conversation_id, o.created_by AS agent, o.automatic,"
            " o.cc, o.bcc,"
            " m.id AS message_id, m.text, m.message_id AS mail_id, m.created_at,"
            " c.subject, c.thread_key, c.customer_id"
            " FROM outbox o JOIN messages m ON m.id = o.message_id JOIN conversations c ON c.id = o.conversation_id"
            " WHERE o.id = ?", (outbox_id,))
        if row is None:
            raise NotFound(f"no outbox item {outbox_id}")
        job = dict(row)
        last = self.answered(row["conversation_id"], before=row["message_id"])
        job["in_reply_to"], job["references"] = None, []
        if last is not None:  # after a merge, on the thread of the customer it answers
            job["thread_key"], job["subject"] = last["thread_key"], last["thread_subject"]
            if last["message_id"]:
                headers = json.loads(last["headers"] or "{}")
                refs = msgids(headers.get("references", "")) + [last["message_id"]]
                job["in_reply_to"], job["references"] = last["message_id"], refs[-REFERENCES_KEPT:]
        job["to_name"], job["to_address"] = self.recipient(row["conversation_id"], before=row["message_id"])
        job["created_at"] = parse_stamp(job["created_at"])
        job["cc"], job["bcc"] = json.loads(job["cc"]), json.loads(job["bcc"])
        job["files"] = [(r["filename"], r["content_type"], self.files / r["sha256"][:2] / r["sha256"])  # type: ignore[attr-defined]
                        for r in self.d.all("SELECT filename, content_type, sha256 FROM attachments"
                                            " WHERE message_id = ? ORDER BY id", (row["message_id"],))]
        return job

    def latest_inbound_headers(self, conversation_id: int) -> dict | None:
        """The kept headers (JSON) and author address of the message a reply answers."""
        last = self.answered(conversation_id)
        return {"headers": last["headers"], "author_address": last["author_address"]} if last else None

    def answered(self, conversation_id: int, before: int | None = None) -> dict | None:
        """The customer's message a reply in this conversation answers: the latest that came
        in on the conversation's channel (before message `before`, the reply itself, once it
        is written), with the thread it belongs to: after a merge across customers, another
        customer's message keeps the thread of the conversation merged in, so a reply
        reaches whoever wrote the message it answers, on their own thread."""
        last = self.d.one(
            "SELECT m.author, m.author_address, m.message_id, m.headers, m.customer_id, c.customer_id AS own,"
            " c.thread_key, c.subject AS thread_subject"
            " FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE m.conversation_id = ? AND m.direction = 'in' AND m.channel = c.channel AND m.id < ?"
            " ORDER BY m.received_at DESC, m.id DESC LIMIT 1", (conversation_id, before or 1 << 62))
        if last is None:
            return None
        found = dict(last)
        if last["customer_id"] is not None and last["own"] is not None and last["customer_id"] != last["own"]:
            # another customer's message, merged in: the reply goes on their own conversation's thread
            origin = self.d.one(
                "SELECT thread_key, subject FROM conversations WHERE merged_into = ? AND customer_id = ?"
                " ORDER BY id DESC LIMIT 1", (conversation_id, last["customer_id"]))
            if origin is not None:
                found["thread_key"], found["thread_subject"] = origin["thread_key"], origin["subject"]
        return found

    def recipient(self, conversation_id: int, before: int | None = None) -> tuple[str, str]:
        """(name, address) a reply in this conversation goes to: the author of the message it
        answers (see `answered`), else the customer's first identity; ("", "") when neither."""
        last = self.answered(conversation_id, before)
        if last is not None and last["author_address"]:
            return last["author"] or "", last["author_address"]
        ident = self.d.one(
            "SELECT i.address, i.display_name FROM identities i JOIN conversations c ON c.customer_id = i.customer_id"
            " WHERE c.id = ? ORDER BY i.id LIMIT 1", (conversation_id,))
        return (ident["display_name"] or "", ident["address"]) if ident else ("", "")

    def set_mail_id(self, message_id: int, mail_id: str) -> None:
        """Record the Message-ID of an outgoing email before it is sent (so a retry after
        a crash can look for it, and the customer's answer threads to it)."""
        with self.d.tx() as conn:
            conn.execute("UPDATE messages SET message_id = ? WHERE id = ? AND message_id IS NULL", (mail_id, message_id))

    def mark_uncertain(self, outbox_id: int) -> None:
        """SMTP DATA is about to begin: from this commit on, the reply may have gone out."""
        with self.d.tx() as conn:
            conn.execute("UPDATE outbox SET state = 'uncertain' WHERE id = ? AND state = 'sending'", (outbox_id,))

    def left_uncertain(self, outbox_id: int, error: str, check_at: dt.datetime) -> None:
        """The try ended without a 250 after DATA began: the reply stays "uncertain",
        to be checked at `check_at` (when its channel can), never resent by itself."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT conversation_id, tries FROM outbox WHERE id = ?", (outbox_id,))
            conn.execute("UPDATE outbox SET state = 'uncertain', next_try_at = ?, last_error = ? WHERE id = ?",
                         (stamp(check_at), error, outbox_id))
            self.add_event(row["conversation_id"], "reply_uncertain", "outbox",
                           {"outbox_id": outbox_id, "error": error, "tries": row["tries"]})

    def claim_uncertain(self, at: dt.datetime, check_again: dt.timedelta) -> dict | None:
        """The next "uncertain" reply due for a check, claimed until `at + check_again`
        (so two deliveries do not check it at once); what the channel needs, or None.
        The job's `tries` is the claim: `resolve_uncertain` changes nothing if the row moved."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT id FROM outbox WHERE state = 'uncertain' AND next_try_at <= ?"
                             " ORDER BY next_try_at, id LIMIT 1", (stamp(at),))
            if row is None:
                return None
            conn.execute("UPDATE outbox SET next_try_at = ? WHERE id = ?", (stamp(at + check_again), row["id"]))
            job = self.outbound(row["id"])
            job["maybe_sent"] = True
            return job

    def resolve_uncertain(self, outbox_id: int, tries: int, sent: bool, at: dt.datetime, why: str) -> bool:
        """The check's verdict on an "uncertain" reply: sent (marked sent) or proven not
        sent (queued again, due now). False if the row is no longer the one checked."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT message_id, conversation_id, channel FROM outbox WHERE id = ?"
                             " AND state = 'uncertain' AND tries = ?", (outbox_id, tries))
            if row is None:
                return False
            if sent:
                conn.execute("UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                             (stamp(at), outbox_id))
                self.add_event(row["conversation_id"], "reply_sent", "outbox",
                               {"outbox_id": outbox_id, "message_id": row["message_id"], "why": why})
                self.survey_delivered(outbox_id, stamp(at))  # type: ignore[attr-defined]
            else:
                conn.execute("UPDATE outbox SET state = 'queued', next_try_at = ?, last_error = ? WHERE id = ?",
                             (stamp(at), why, outbox_id))
                self.add_event(row["conversation_id"], "reply_retry", "outbox", {"outbox_id": outbox_id, "why": why})
        return True

    def mark_sent(self, outbox_id: int, external_id: str, at: dt.datetime) -> None:
        with self.d.tx() as conn:
            row = self.d.one("SELECT message_id, conversation_id, channel, created_by FROM outbox WHERE id = ?", (outbox_id,))
            conn.execute("UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                         (stamp(at), outbox_id))
            # the channel's own id for the message, so the next sync knows it is ours (if free)
            conn.execute("UPDATE messages SET external_id = ? WHERE id = ? AND NOT EXISTS"
                         " (SELECT 1 FROM messages WHERE channel = ? AND external_id = ?)",
                         (external_id, row["message_id"], row["channel"], external_id))
            self.add_event(row["conversation_id"], "reply_sent", "outbox",
                           {"outbox_id": outbox_id, "message_id": row["message_id"]})
            self.survey_delivered(outbox_id, stamp(at))  # type: ignore[attr-defined]

    def mark_failed(self, outbox_id: int, error: str, retry_at: dt.datetime | None) -> None:
        """A failed try: back to queued until `retry_at`, or failed for good when None."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT conversation_id, tries FROM outbox WHERE id = ?", (outbox_id,))
            state, when = ("queued", stamp(retry_at)) if retry_at else ("failed", now())
            conn.execute("UPDATE outbox SET state = ?, next_try_at = ?, last_error = ? WHERE id = ?",
                         (state, when, error, outbox_id))
            self.add_event(row["conversation_id"], "reply_failed", "outbox",
                           {"outbox_id": outbox_id, "error": error, "tries": row["tries"], "final": retry_at is None})

    def retry_reply(self, outbox_id: int, agent: str) -> None:
        """A failed (or waiting) reply goes out at the next delivery, with fresh tries; an
        "uncertain" one too (a person checked that the customer did not get it)."""
        with self.d.tx() as conn:
            row = self.d.one("SELECT state, conversation_id FROM outbox WHERE id = ?", (outbox_id,))
            if row is None:
                raise NotFound(f"no outbox item {outbox_id}")
            if row["state"] not in ("failed", "queued", "uncertain"):
                raise UsageError(f"reply {outbox_id} is {row['state']};"
                                 " only failed, queued or uncertain replies can be retried")
            conn.execute("UPDATE outbox SET state = 'queued', tries = 0, next_try_at = ?,"
                         " not_before = min(not_before, ?) WHERE id = ?", (now(), now(), outbox_id))
            self.add_event(row["conversation_id"], "reply_retry", agent, {"outbox_id": outbox_id, "was": row["state"]})

    # -- reading ----------------------------------------------------------------------

    def outbox_items(self, states: tuple[str, ...] | None = None, limit: int = 100) -> list[dict]:
        """Outbox rows, newest first, with the conversation subject and the reply's start."""
        where, params = "", []
        if states:
            where = f"WHERE o.state IN ({','.join('?' * len(states))})"
            params.extend(states)
        rows = self.d.all(
            "SELECT o.id, o.state, o.conversation_id, o.channel, o.message_id, o.tries, o.last_error,"
            " o.not_before, o.next_try_at, o.created_by, o.created_at, o.sent_at, c.subject,"
            " substr(m.text, 1, 200) AS text, m.template_id"
            f" FROM outbox o JOIN messages m ON m.id = o.message_id JOIN conversations c ON c.id = o.conversation_id"
            f" {where} ORDER BY o.id DESC LIMIT ?", (*params, limit))
        return [dict(r) for r in rows]

    def outbox_item(self, outbox_id: int) -> dict | None:
        row = self.d.one("SELECT * FROM outbox WHERE id = ?", (outbox_id,))
        return dict(row) if row else None
