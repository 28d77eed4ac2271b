"""Templates and the outbox (m020), on-call (m010), reports (m040), the console (m030):
in the order they apply, which is not their numbers' order (m020 and m040 shipped first).

Defined in the order they apply (listed in migrations/__init__.py); never edit one
that has shipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import _run

if TYPE_CHECKING:
    from sqlite_utils import Database


def m020_templates_outbox(db: Database) -> None:
    _run(db, [
        # The first conversation version that includes a message: a reply written against
        # an older version is told which messages it has not seen (outbox.ConversationChanged).
        # A conversation is created at version 1 with its first message; every later
        # message bumps the version right after its insert.
        "ALTER TABLE messages ADD COLUMN conversation_version INTEGER",
        """CREATE TRIGGER messages_conversation_version AFTER INSERT ON messages
            WHEN new.conversation_version IS NULL BEGIN
            UPDATE messages SET conversation_version =
                (SELECT version FROM conversations WHERE id = new.conversation_id)
                + EXISTS (SELECT 1 FROM messages WHERE conversation_id = new.conversation_id AND id != new.id)
            WHERE id = new.id;
        END""",
        # What queueing a reply changed (status, first response), so cancelling it can undo that.
        "ALTER TABLE outbox ADD COLUMN undo TEXT NOT NULL DEFAULT '{}'",
        # template stats and the picker's "answered similar messages before"
        "CREATE INDEX messages_template ON messages(template_id, received_at) WHERE template_id IS NOT NULL",
    ])


def m010_oncall(db: Database) -> None:
    """On-call rotations. A rotation's member order is kept as epochs (the order in force
    from a shift index on), so member changes never rewrite past shifts."""
    _run(db, [
        """CREATE TABLE oncall_rotations (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            timezone TEXT NOT NULL,
            anchor TEXT NOT NULL,
            handoff TEXT NOT NULL,
            length_hours INTEGER NOT NULL CHECK (length_hours >= 1),
            only TEXT NOT NULL DEFAULT 'always' CHECK (only IN ('always', 'after-hours')),
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE oncall_epochs (
            id INTEGER PRIMARY KEY,
            rotation_id INTEGER NOT NULL REFERENCES oncall_rotations(id) ON DELETE CASCADE,
            from_shift INTEGER NOT NULL,
            members TEXT NOT NULL,
            start_pos INTEGER NOT NULL DEFAULT 0,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX oncall_epochs_rotation ON oncall_epochs(rotation_id, from_shift, id)",
        """CREATE TABLE oncall_overrides (
            id INTEGER PRIMARY KEY,
            rotation_id INTEGER NOT NULL REFERENCES oncall_rotations(id) ON DELETE CASCADE,
            who TEXT NOT NULL,
            starts_at TEXT NOT NULL,
            ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
            reason TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX oncall_overrides_rotation ON oncall_overrides(rotation_id, starts_at)",
        """CREATE TABLE oncall_swaps (
            id INTEGER PRIMARY KEY,
            rotation_id INTEGER NOT NULL REFERENCES oncall_rotations(id) ON DELETE CASCADE,
            shift_a INTEGER NOT NULL,
            shift_b INTEGER NOT NULL,
            requested_by TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX oncall_swaps_rotation ON oncall_swaps(rotation_id, id)",
    ])


def m040_reports(db: Database) -> None:
    # What reports read per conversation, kept by triggers so every writer (sync, the
    # outbox, merges, rules) keeps it right without knowing: the first agent reply (an
    # outbound message that is not automatic; notes never count), who wrote it, how
    # many agent replies there are, and how often a solved conversation was reopened.
    def is_reply(p: str = "") -> str:
        return f"{p}direction = 'out' AND {p}automatic IS NULL"

    def is_reopen(p: str = "") -> str:
        return f"{p}kind = 'status' AND json_extract({p}data, '$.from') = 'solved' AND json_extract({p}data, '$.to') = 'open'"

    reply = is_reply()
    recompute = f"""UPDATE conversations SET
            agent_replies = (SELECT count(*) FROM messages m WHERE m.conversation_id = conversations.id AND {is_reply('m.')}),
            first_reply_at = (SELECT min(m.received_at) FROM messages m WHERE m.conversation_id = conversations.id AND {is_reply('m.')}),
            first_reply_by = (SELECT m.author FROM messages m WHERE m.conversation_id = conversations.id AND {is_reply('m.')}
                              ORDER BY m.received_at, m.id LIMIT 1)"""
    _run(db, [
        "ALTER TABLE conversations ADD COLUMN first_reply_at TEXT",
        "ALTER TABLE conversations ADD COLUMN first_reply_by TEXT",
        "ALTER TABLE conversations ADD COLUMN agent_replies INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE conversations ADD COLUMN reopens INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX messages_agent_reply ON messages(conversation_id, received_at, author) WHERE " + reply,
        "CREATE INDEX messages_agent_reply_at ON messages(received_at, author, conversation_id) WHERE " + reply,
        "CREATE INDEX messages_person_in ON messages(received_at, channel, conversation_id)"
        " WHERE direction = 'in' AND automatic IS NULL",
        recompute,
        f"UPDATE conversations SET reopens = (SELECT count(*) FROM events e WHERE e.conversation_id = conversations.id AND {is_reopen('e.')})",
        "CREATE INDEX events_satisfaction ON events(conversation_id, at) WHERE kind = 'satisfaction'",
        "CREATE INDEX conversations_created ON conversations(created_at)",
        "CREATE INDEX conversations_solved ON conversations(solved_at) WHERE solved_at IS NOT NULL",
        f"""CREATE TRIGGER reports_reply_insert AFTER INSERT ON messages WHEN {is_reply('new.')} BEGIN
            UPDATE conversations SET agent_replies = agent_replies + 1,
                first_reply_by = CASE WHEN first_reply_at IS NULL OR new.received_at < first_reply_at
                                      THEN new.author ELSE first_reply_by END,
                first_reply_at = CASE WHEN first_reply_at IS NULL OR new.received_at < first_reply_at
                                      THEN new.received_at ELSE first_reply_at END
            WHERE id = new.conversation_id;
        END""",
        f"""CREATE TRIGGER reports_reply_update AFTER UPDATE OF conversation_id, direction, automatic, received_at, author
            ON messages WHEN ({is_reply('old.')}) OR ({is_reply('new.')}) BEGIN
            {recompute} WHERE id IN (old.conversation_id, new.conversation_id);
        END""",
        f"""CREATE TRIGGER reports_reply_delete AFTER DELETE ON messages WHEN {is_reply('old.')} BEGIN
            {recompute} WHERE id = old.conversation_id;
        END""",
        f"""CREATE TRIGGER reports_reopen AFTER INSERT ON events WHEN {is_reopen('new.')} BEGIN
            UPDATE conversations SET reopens = reopens + 1 WHERE id = new.conversation_id;
        END""",
    ])


def m030_tui(db: Database) -> None:
    _run(db, [
        # per-agent read state: the unread marker is "a customer wrote after I last looked"
        """CREATE TABLE conversation_reads (
            agent TEXT NOT NULL,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            seen_inbound_at TEXT NOT NULL DEFAULT '',
            read_at TEXT NOT NULL,
            PRIMARY KEY (agent, conversation_id)
        ) WITHOUT ROWID""",
        # the inbox's "longest waiting" order, paged by keyset like the activity order
        "CREATE INDEX conversations_waiting ON conversations(coalesce(last_inbound_at, created_at), id)",
        "CREATE INDEX presence_conversation ON presence(conversation_id, seen_at)",
        # counts per view and per channel read only this (no table rows): the sidebar stays cheap
        "CREATE INDEX conversations_live ON conversations(status, assignee, channel) WHERE merged_into IS NULL",
    ])
