"""The first schema: conversations, messages, customers, events, the outbox, full-text search.

Defined in the order they apply (listed in migrations/__init__.py); never edit one
that has shipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...states import OUTBOX_STATES, PRIORITIES, STATUSES
from .base import _in, _run

if TYPE_CHECKING:
    from sqlite_utils import Database


def m001_initial(db: Database) -> None:
    _run(db, [
        """CREATE TABLE agents (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            email TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            timezone TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        )""",
        # one person, several identities: email addresses, chat handles
        """CREATE TABLE identities (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            kind TEXT NOT NULL,
            address TEXT NOT NULL,
            display_name TEXT NOT NULL DEFAULT '',
            UNIQUE (kind, address)
        )""",
        "CREATE INDEX identities_customer ON identities(customer_id)",
        f"""CREATE TABLE conversations (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            customer_id INTEGER REFERENCES customers(id),
            subject TEXT NOT NULL DEFAULT '',
            subject_key TEXT NOT NULL DEFAULT '',
            thread_key TEXT,
            status TEXT NOT NULL DEFAULT 'new' CHECK (status IN {_in(STATUSES)}),
            priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN {_in(PRIORITIES)}),
            assignee TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            snoozed_until TEXT,
            created_at TEXT NOT NULL,
            first_response_at TEXT,
            solved_at TEXT,
            last_message_at TEXT NOT NULL,
            last_inbound_at TEXT,
            message_count INTEGER NOT NULL DEFAULT 0,
            merged_into INTEGER REFERENCES conversations(id),
            version INTEGER NOT NULL DEFAULT 1
        )""",
        # keyset paging: WHERE status = ? AND (last_message_at, id) < (?, ?) ORDER BY ... DESC
        "CREATE INDEX conversations_status_last ON conversations(status, last_message_at, id)",
        "CREATE INDEX conversations_last ON conversations(last_message_at, id)",
        "CREATE INDEX conversations_assignee ON conversations(assignee, status, last_message_at, id)",
        "CREATE INDEX conversations_customer ON conversations(customer_id, last_message_at)",
        "CREATE INDEX conversations_channel ON conversations(channel, status, last_message_at, id)",
        "CREATE INDEX conversations_thread ON conversations(channel, thread_key, id)",
        f"""CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            channel TEXT NOT NULL,
            direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'note')),
            customer_id INTEGER REFERENCES customers(id),
            author TEXT NOT NULL DEFAULT '',
            author_address TEXT NOT NULL DEFAULT '',
            subject TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            quoted TEXT NOT NULL DEFAULT '',
            html TEXT,
            headers TEXT NOT NULL DEFAULT '{{}}',
            external_id TEXT NOT NULL,
            message_id TEXT,
            in_reply_to TEXT,
            created_at TEXT NOT NULL,
            received_at TEXT NOT NULL,
            problems TEXT,
            automatic TEXT,
            template_id TEXT,
            edited_at TEXT,
            original_text TEXT,
            redacted INTEGER NOT NULL DEFAULT 0,
            UNIQUE (channel, external_id)
        )""",
        "CREATE INDEX messages_conversation ON messages(conversation_id, created_at, id)",
        "CREATE INDEX messages_message_id ON messages(message_id) WHERE message_id IS NOT NULL",
        "CREATE INDEX messages_received ON messages(received_at)",
        # raw bytes apart from the row, so scans of messages never page through them
        """CREATE TABLE message_raw (
            message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
            raw BLOB NOT NULL
        )""",
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            filename TEXT NOT NULL DEFAULT '',
            content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
            size INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        )""",
        "CREATE INDEX attachments_message ON attachments(message_id)",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER REFERENCES conversations(id),
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX events_conversation ON events(conversation_id, at)",
        "CREATE INDEX events_kind ON events(kind, at)",
        """CREATE TABLE sync_state (
            channel TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (channel, key)
        )""",
        # items a local channel (maildir, jsonl) has already stored, written with each batch
        """CREATE TABLE source_items (
            channel TEXT NOT NULL,
            key TEXT NOT NULL,
            PRIMARY KEY (channel, key)
        ) WITHOUT ROWID""",
        f"""CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL UNIQUE REFERENCES messages(id),
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            channel TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN {_in(OUTBOX_STATES)}),
            txn_id TEXT NOT NULL UNIQUE,
            not_before TEXT NOT NULL,
            next_try_at TEXT NOT NULL,
            tries INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )""",
        "CREATE INDEX outbox_due ON outbox(state, next_try_at)",
        """CREATE TABLE presence (
            agent TEXT NOT NULL,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            mode TEXT NOT NULL CHECK (mode IN ('viewing', 'writing')),
            seen_at TEXT NOT NULL,
            PRIMARY KEY (agent, conversation_id)
        )""",
        # full-text index over subject and text; desk_segment() spaces out CJK and Thai
        """CREATE VIRTUAL TABLE messages_fts USING fts5(
            subject, text, content='messages', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )""",
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, subject, text)
            VALUES (new.id, desk_segment(new.subject), desk_segment(new.text));
        END""",
        """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, subject, text)
            VALUES ('delete', old.id, desk_segment(old.subject), desk_segment(old.text));
        END""",
        """CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, text ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, subject, text)
            VALUES ('delete', old.id, desk_segment(old.subject), desk_segment(old.text));
            INSERT INTO messages_fts(rowid, subject, text)
            VALUES (new.id, desk_segment(new.subject), desk_segment(new.text));
        END""",
    ])
