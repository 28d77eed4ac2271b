"""The database schema, as numbered migrations applied when the database opens.

Table and column names are a public contract: scripts outside the package read them.
Timestamps are UTC text in `db.stamp` format; lists (tags) are JSON arrays.
A new migration is a new function at the end; never edit one that has shipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations


class LazyMigrations:
    """`sqlite_utils.Migrations("tui_desk")`, made only when a database needs migrating.

    The decorator records each migration here; the names are known without importing
    sqlite_utils, so opening an up-to-date database (every command) never imports it.
    Every other attribute (`pending`, `apply`, `applied`, ...) is the real object's.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[tuple[str, Callable, bool]] = []
        self._real: Migrations | None = None

    def __call__(self, *, name: str | None = None, transactional: bool = True) -> Callable[[Callable], Callable]:
        def inner(func: Callable) -> Callable:
            migration_name = name or func.__name__
            if migration_name in self.names():
                raise ValueError(f"Migration '{migration_name}' is already registered in set '{self.name}'")
            self._registered.append((migration_name, func, transactional))
            if self._real is not None:
                self._real(name=migration_name, transactional=transactional)(func)
            return func
        return inner

    def names(self) -> list[str]:
        return [name for name, _, _ in self._registered]

    def real(self) -> Migrations:
        if self._real is None:
            from sqlite_utils import Migrations
            real = Migrations(self.name)
            for name, func, transactional in self._registered:
                real(name=name, transactional=transactional)(func)
            self._real = real
        return self._real

    def __getattr__(self, attribute: str):
        if attribute.startswith("__") or attribute in ("_registered", "_real"):
            raise AttributeError(attribute)
        return getattr(self.real(), attribute)


migrations = LazyMigrations("tui_desk")

STATUSES = ("new", "open", "pending", "snoozed", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
OUTBOX_STATES = ("queued", "sending", "sent", "failed", "cancelled")
"""The outbox states m001 created (kept as they were: m001 must not change)."""
DELIVERY_STATES = ("queued", "sending", "uncertain", "sent", "failed", "cancelled")
"""The outbox states since m220: "uncertain" = SMTP DATA began and no 250 was recorded."""


def _run(db: Database, statements: list[str]) -> None:
    # one statement at a time: executescript() would COMMIT the migration's transaction
    for sql in statements:
        db.execute(sql)


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
def m060_matrix(db: Database) -> None:
    _run(db, [
        # Chat files are recorded when the message is synced and fetched only when someone
        # opens them: `source` says where from (mxc:// URI); size and sha256 ('' until
        # fetched) are filled in then.
        "ALTER TABLE attachments ADD COLUMN source TEXT",
        "CREATE INDEX messages_redacted ON messages(conversation_id) WHERE redacted = 1",
    ])


@migrations()
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


@migrations()
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


@migrations()
def m081_fts_flush_per_batch(db: Database) -> None:
    # FTS5 keeps new terms in a hash in memory and writes them out as an index segment
    # when the hash passes 'hashsize' (1 MB by default): a sync batch of 500 mails filled
    # it several times, and every extra segment was written, then merged again. 16 MB
    # holds a batch, so a batch becomes one segment (bench: FTS cost per message -20%).
    _run(db, ["INSERT INTO messages_fts(messages_fts, rank) VALUES ('hashsize', 16777216)"])


@migrations()
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


@migrations()
def m200_rules(db: Database) -> None:
    # The rules engine (tui_desk.rules). rule_queue holds the events rules have yet to
    # see: sync writes a message's row in the batch's own transaction, and the runner
    # deletes it in the transaction of the rule's actions, so a crash in between loses
    # nothing and applies nothing twice.
    _run(db, [
        # the loop guard's class of each message (auto, bulk, bounce, self, agent, human)
        "ALTER TABLE messages ADD COLUMN class TEXT NOT NULL DEFAULT 'human'",
        "UPDATE messages SET class = 'auto' WHERE automatic IS NOT NULL AND direction = 'in'",
        "ALTER TABLE conversations ADD COLUMN group_name TEXT",
        "CREATE INDEX conversations_group ON conversations(group_name, status) WHERE group_name IS NOT NULL",
        "ALTER TABLE agents ADD COLUMN away_until TEXT",
        # automatic replies (sent by a rule): counted per recipient for the loop guard's caps
        "ALTER TABLE outbox ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN recipient TEXT",
        "CREATE INDEX outbox_automatic ON outbox(recipient, created_at) WHERE automatic = 1",
        """CREATE TABLE rule_queue (
            id INTEGER PRIMARY KEY,
            events TEXT NOT NULL,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            message_id INTEGER REFERENCES messages(id),
            at TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )""",
        # a timer rule fires once per conversation until the conversation changes again
        """CREATE TABLE rule_timers (
            rule_id TEXT NOT NULL,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            version INTEGER NOT NULL,
            PRIMARY KEY (rule_id, conversation_id)
        )""",
        "CREATE TABLE group_state (name TEXT PRIMARY KEY, last_agent TEXT)",
        "CREATE INDEX events_rules ON events(kind, at) WHERE kind = 'rule.matched'",
    ])


@migrations()
def m210_quarantine(db: Database) -> None:
    # items a channel gave up on after repeated failures (a message the IMAP server
    # refuses to hand over): listed by `sync --quarantined`, no longer asked for
    _run(db, [
        """CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            key TEXT NOT NULL,
            reason TEXT NOT NULL,
            tries INTEGER NOT NULL,
            at TEXT NOT NULL,
            UNIQUE (channel, key)
        )""",
    ])


@migrations()
def m220_outbox_uncertain(db: Database) -> None:
    # A reply whose SMTP DATA began but whose 250 was never recorded (a dropped connection,
    # a timeout, a kill) may have reached the customer: it becomes "uncertain" and is not
    # retried by itself. SQLite cannot change a CHECK constraint in place, so the table
    # is rebuilt from its own definition with the new list (whatever columns it has by
    # now), rows, indexes and triggers kept; nothing references outbox rows.
    table = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").fetchone()[0]
    check = f"CHECK (state IN {_in(OUTBOX_STATES)})"
    if check not in table:
        raise RuntimeError("m220: the outbox table's state CHECK is not the one m001 created")
    extras = [sql for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'outbox' AND type IN ('index', 'trigger') AND sql IS NOT NULL")]
    new = table.replace(check, f"CHECK (state IN {_in(DELIVERY_STATES)})")
    new = re.sub(r'^CREATE TABLE "?outbox"?', "CREATE TABLE outbox_new", new)
    _run(db, [
        new,
        "INSERT INTO outbox_new SELECT * FROM outbox",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_new RENAME TO outbox",
        *extras,
    ])


PAGE_STATES = ("open", "acknowledged", "resolved")
NOTICE_STATES = ("sending", "sent", "failed")


@migrations()
def m230_pages(db: Database) -> None:
    # A page: the on-call person woken for one conversation (PagerDuty's dedup key: one
    # unresolved page per conversation; another urgent message is added to it). Its
    # notices are the deliveries, one per (round, step, person): a notice is written
    # "sending" before it leaves and "sent" after, so a crash in between finds it again
    # and sends it under the same Matrix transaction id or Message-ID, never a second one.
    _run(db, [
        f"""CREATE TABLE pages (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER REFERENCES conversations(id),
            state TEXT NOT NULL DEFAULT 'open' CHECK (state IN {_in(PAGE_STATES)}),
            rule TEXT NOT NULL,
            target TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '{{}}',
            messages INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            next_at TEXT,
            acked_by TEXT, acked_at TEXT, acked_via TEXT,
            resolved_at TEXT, resolved_by TEXT
        )""",
        "CREATE UNIQUE INDEX pages_one_unresolved ON pages (conversation_id) WHERE state != 'resolved'",
        "CREATE INDEX pages_due ON pages (next_at) WHERE state = 'open'",
        f"""CREATE TABLE page_notices (
            id INTEGER PRIMARY KEY,
            page_id INTEGER NOT NULL REFERENCES pages(id),
            round INTEGER NOT NULL,
            step INTEGER NOT NULL,
            who TEXT NOT NULL,
            contact TEXT,
            state TEXT NOT NULL CHECK (state IN {_in(NOTICE_STATES)}),
            key TEXT NOT NULL,
            at TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{{}}',
            UNIQUE (page_id, round, step, who)
        )""",
        "CREATE INDEX page_notices_key ON page_notices (key)",
    ])


@migrations()
def m300_surveys(db: Database) -> None:
    # The satisfaction survey (tui_desk.survey): one row per survey, written in the
    # transaction that queues its message in the outbox. The row, not the send, is what
    # stops a second survey: a crash after the send leaves the row (and the outbox's
    # own at-most-once bookkeeping), so the next sync sends nothing more.
    _run(db, [
        """CREATE TABLE surveys (
            id INTEGER PRIMARY KEY,
            conversation_id INTEGER NOT NULL REFERENCES conversations(id),
            customer_id INTEGER REFERENCES customers(id),
            outbox_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL REFERENCES messages(id),
            template_id TEXT NOT NULL,
            language TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            sent_at TEXT,
            expires_at TEXT NOT NULL,
            answered_at TEXT,
            answer_message_id INTEGER REFERENCES messages(id),
            score INTEGER CHECK (score BETWEEN 1 AND 5)
        )""",
        "CREATE UNIQUE INDEX surveys_conversation ON surveys(conversation_id)",  # one per conversation, ever
        "CREATE INDEX surveys_customer ON surveys(customer_id, created_at)",
        "CREATE INDEX surveys_outbox ON surveys(outbox_id)",
    ])


@migrations()
def m400_customer_merges(db: Database) -> None:
    # One person, several customer records (issue 17). A customer merge no longer deletes
    # the record it empties: the record stays, marked merged_into, and customer_merge_rows
    # names every identity, conversation and message that moved, so an unmerge puts back
    # exactly what was there. A conversation merge is recorded the same way.
    _run(db, [
        "ALTER TABLE customers ADD COLUMN merged_into INTEGER REFERENCES customers(id)",
        "ALTER TABLE customers ADD COLUMN notes TEXT NOT NULL DEFAULT ''",
        """CREATE TABLE customer_merges (
            id INTEGER PRIMARY KEY,
            keep_id INTEGER NOT NULL REFERENCES customers(id),
            other_id INTEGER NOT NULL REFERENCES customers(id),
            actor TEXT NOT NULL,
            reason TEXT NOT NULL DEFAULT '',
            at TEXT NOT NULL,
            keep_before TEXT NOT NULL,
            undone_at TEXT,
            undone_by TEXT
        )""",
        "CREATE INDEX customer_merges_keep ON customer_merges(keep_id, undone_at)",
        """CREATE TABLE customer_merge_rows (
            merge_id INTEGER NOT NULL REFERENCES customer_merges(id),
            tbl TEXT NOT NULL CHECK (tbl IN ('identities', 'conversations', 'messages', 'surveys')),
            row_id INTEGER NOT NULL,
            PRIMARY KEY (merge_id, tbl, row_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE conversation_merges (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES conversations(id),
            target_id INTEGER NOT NULL REFERENCES conversations(id),
            actor TEXT NOT NULL,
            at TEXT NOT NULL,
            cross_customer INTEGER NOT NULL DEFAULT 0,
            source_before TEXT NOT NULL,
            target_before TEXT NOT NULL,
            message_ids TEXT NOT NULL,
            undone_at TEXT,
            undone_by TEXT
        )""",
        "CREATE INDEX conversation_merges_source ON conversation_merges(source_id, undone_at)",
        "CREATE INDEX conversation_merges_target ON conversation_merges(target_id, undone_at)",
    ])


@migrations()
def m700_reply_copies(db: Database) -> None:
    # Cc and Bcc of an email reply (JSON lists of addresses). Files sent with a reply are
    # attachments rows of its message, like a customer's (the same content-addressed store).
    _run(db, [
        "ALTER TABLE outbox ADD COLUMN cc TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE outbox ADD COLUMN bcc TEXT NOT NULL DEFAULT '[]'",
    ])


@migrations()
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
