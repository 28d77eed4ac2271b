"""Rules (m200), quarantine (m210), "uncertain" replies (m220), pages (m230), surveys (m300),
customer merges (m400), reply copies (m700).

Defined in the order they apply (listed in migrations/__init__.py); never edit one
that has shipped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ...states import DELIVERY_STATES, NOTICE_STATES, OUTBOX_STATES, PAGE_STATES
from .base import _in, _run

if TYPE_CHECKING:
    from sqlite_utils import Database


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


def m700_reply_copies(db: Database) -> None:
    # Cc and Bcc of an email reply (JSON lists of addresses). Files sent with a reply are
    # attachments rows of its message, like a customer's (the same content-addressed store).
    _run(db, [
        "ALTER TABLE outbox ADD COLUMN cc TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE outbox ADD COLUMN bcc TEXT NOT NULL DEFAULT '[]'",
    ])
