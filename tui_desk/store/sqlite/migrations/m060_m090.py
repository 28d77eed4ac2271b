"""Matrix (m060), report indexes (m070), full-text upkeep by hand (m080, m081), report facts (m090).

Defined in the order they apply (listed in migrations/__init__.py); never edit one
that has shipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import _run

if TYPE_CHECKING:
    from sqlite_utils import Database


def m060_matrix(db: Database) -> None:
    _run(db, [
        # Chat files are recorded when the message is synced and fetched only when someone
        # opens them: `source` says where from (mxc:// URI); size and sha256 ('' until
        # fetched) are filled in then.
        "ALTER TABLE attachments ADD COLUMN source TEXT",
        "CREATE INDEX messages_redacted ON messages(conversation_id) WHERE redacted = 1",
    ])


def m070_report_indexes(db: Database) -> None:
    _run(db, [
        # report satisfaction reads every survey and answer of the period: from this index
        # alone, instead of a table lookup per event among all the other kinds of events
        "CREATE INDEX events_surveys ON events(kind, at, conversation_id, data)"
        " WHERE kind IN ('satisfaction', 'survey_sent')",
        # report templates (and templates stats) ask per template use what followed it:
        # the uses of a period, the next messages of the conversation and its next solve,
        # each answered from an index without reading message or event rows
        "CREATE INDEX messages_template_use ON messages(received_at, conversation_id, template_id)"
        " WHERE template_id IS NOT NULL AND direction = 'out'",
        "CREATE INDEX messages_flow ON messages(conversation_id, received_at, direction, automatic)",
        "CREATE INDEX events_solved ON events(conversation_id, at) WHERE kind = 'status' AND data ->> 'to' = 'solved'",
    ])


def m080_fts_insert_by_hand(db: Database) -> None:
    # FTS5 writes its pending terms out as a new index segment whenever a statement opens
    # a savepoint (any statement that fires a trigger does): indexed by the insert
    # trigger, every synced message became a segment of its own, and merging them
    # doubled the cost of a sync batch. Sync indexes a batch's new messages with one
    # statement at its end (IngestMixin.indexing_at_end) and switches the trigger off for
    # those inserts (desk_fts_by_trigger() is 0 then); every other writer keeps it.
    _run(db, [
        "DROP TRIGGER messages_fts_insert",
        """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN desk_fts_by_trigger() BEGIN
            INSERT INTO messages_fts(rowid, subject, text)
            VALUES (new.id, desk_segment(new.subject), desk_segment(new.text));
        END""",
    ])


def m081_fts_flush_per_batch(db: Database) -> None:
    # FTS5 keeps new terms in a hash in memory and writes them out as an index segment
    # when the hash passes 'hashsize' (1 MB by default): a sync batch of 500 mails filled
    # it several times, and every extra segment was written, then merged again. 16 MB
    # holds a batch, so a batch becomes one segment (bench: FTS cost per message -20%).
    _run(db, ["INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', 16777216)"])


def m090_report_facts(db: Database) -> None:
    # What the clock reports need per conversation, worked out once instead of on every
    # report: epoch seconds, the business-hours clock and its durations, and the columns
    # reports group and filter by. Derived data, refreshed by the reports service
    # (reports/facts.py) for the conversations listed in report_facts_stale, which the
    # triggers below fill on every change a report can see. report_facts_clock records
    # the business hours the open_* columns were computed with: other hours recompute all.
    _run(db, [
        """CREATE TABLE report_facts (
            conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
            channel TEXT NOT NULL,
            assignee TEXT,
            first_reply_by TEXT,
            priority TEXT NOT NULL,
            tags TEXT NOT NULL,
            status TEXT NOT NULL,
            created INTEGER NOT NULL,
            answered INTEGER,
            solved INTEGER,
            open_created INTEGER NOT NULL,
            created_open INTEGER NOT NULL,
            wait INTEGER,
            wait_open INTEGER,
            resolve INTEGER,
            resolve_open INTEGER,
            one_touch INTEGER NOT NULL,
            reopened INTEGER NOT NULL
        )""",
        # counts per local day (the trend) stay inside these, also with filters
        "CREATE INDEX report_facts_created ON report_facts(created, channel, assignee, tags)",
        "CREATE INDEX report_facts_solved ON report_facts(solved, channel, assignee, tags) WHERE solved IS NOT NULL",
        "CREATE TABLE report_facts_stale (conversation_id INTEGER PRIMARY KEY)",
        """CREATE TABLE report_facts_clock (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            hours TEXT NOT NULL,
            origin INTEGER NOT NULL
        )""",
        """CREATE TRIGGER report_facts_new AFTER INSERT ON conversations BEGIN
            INSERT OR IGNORE INTO report_facts_stale VALUES (new.id);
        END""",
        """CREATE TRIGGER report_facts_changed AFTER UPDATE OF created_at, first_reply_at, first_reply_by,
            solved_at, status, channel, assignee, priority, tags, merged_into, agent_replies, reopens ON conversations BEGIN
            INSERT OR IGNORE INTO report_facts_stale VALUES (new.id);
        END""",
        "INSERT INTO report_facts_stale SELECT id FROM conversations",
    ])
