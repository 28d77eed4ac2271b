"""A small desk for TUI tests, built through the real sync path (Maildir + JSONL chat),
with fixed dates so snapshots can freeze the clock at FROZEN_NOW."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
from pathlib import Path

from tests.helpers import store_api
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import config as config_mod
from tui_desk.store import Store
from tui_desk.sync import run

FROZEN_NOW = dt.datetime(2026, 5, 5, 10, 0, tzinfo=dt.timezone.utc)
AGENT = "tester"

HOSTILE = ["[bold red]x[/]", "[link=https://example.invalid]x[/link]",
           "\x1b]8;;http://x\x07x\x1b]8;;\x07", "\x1b[2J", "[@click=app.quit]quit[/]"]

# (sender, subject, body, hours before FROZEN_NOW)
MAILS = [
    ("Mike Jones <mike@customer.example>", "Where is my order?", "Hi, my order 1234 has not arrived.\n\nOn Mon, 4 May 2026 Mike wrote:\n> old quote\n> more\n", 2),
    ("田中太郎 <tanaka@example.jp>", "注文が届きません", "注文番号 5678 の商品がまだ届いていません。", 5),
    ("สมชาย ใจดี <somchai@example.th>", "สินค้าเสียหาย 📦", "สินค้าที่ได้รับเสียหาย", 8),
    ('"[bold red]x[/]" <evil@example.invalid>', "[link=https://example.invalid]x[/link] \x1b[2J refund",
     "Body with \x1b]8;;http://x\x07x\x1b]8;;\x07 and [@click=app.quit]quit[/]", 20),
    ("Ana Lima <ana@example.br>", "Invoice question", "Can I get an invoice with our VAT id?", 50),
    ("Bo Chen <bo@example.com>", "Password reset not arriving", "The reset mail never comes.", 100),
]

CHATS = [
    {"conversation": "room-1", "sender_id": "@zoe:chat", "sender_name": "Zoe 🙂", "text": "Is the shop open on Sunday?",
     "hours": 1},
    {"conversation": "room-2", "sender_id": "@max:chat", "sender_name": "Max", "text": "My coupon code fails",
     "hours": 30},
]


def write_config(folder: Path, db_path: Path, keys: dict[str, str] | None = None) -> config_mod.Config:
    data = {
        "desk": {"name": "Test desk", "timezone": "Europe/Berlin"},
        "agent": {"name": AGENT},
        "storage": {"database": str(db_path)},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(folder / "mail")},
                     {"name": "chat", "kind": "jsonl", "path": str(folder / "chat.jsonl")}],
        "keys": keys or {},
    }
    return config_mod.from_dict(data, folder / "config.toml")


def config_text(folder: Path, db_path: Path) -> str:
    """The same desk as a config file (for driving the real command)."""
    return (f'[desk]\nname = "Test desk"\ntimezone = "Europe/Berlin"\n\n[agent]\nname = "{AGENT}"\n\n'
            f'[storage]\ndatabase = {json.dumps(str(db_path))}\n\n'
            f'[[channels]]\nname = "mail"\nkind = "maildir"\npath = {json.dumps(str(folder / "mail"))}\n\n'
            f'[[channels]]\nname = "chat"\nkind = "jsonl"\npath = {json.dumps(str(folder / "chat.jsonl"))}\n')


def build_desk(folder: Path, db_path: Path, now: dt.datetime = FROZEN_NOW,
               keys: dict[str, str] | None = None) -> config_mod.Config:
    """Sync the fixture mail and chat into `db_path`; returns the config."""
    maildir = make_maildir(folder / "mail")
    for i, (sender, subject, body, hours) in enumerate(MAILS):
        when = now - dt.timedelta(hours=hours)
        path = deliver(maildir, make_email(sender, subject, body, date=email.utils.format_datetime(when),
                                           message_id=f"<fixture-{i}@customer.example>"), name=f"fixture-{i}.host")
        os.utime(path, (when.timestamp(), when.timestamp()))
    lines = []
    for i, chat in enumerate(CHATS):
        when = now - dt.timedelta(hours=chat["hours"])
        lines.append(json.dumps({"id": f"chat-{i}", "conversation": chat["conversation"], "sender_id": chat["sender_id"],
                                 "sender_name": chat["sender_name"], "text": chat["text"],
                                 "time": when.isoformat()}, ensure_ascii=False))
    (folder / "chat.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_config(folder, db_path, keys)
    (folder / "config.toml").write_text(config_text(folder, db_path), encoding="utf-8")
    with Store.open(db_path) as store:
        store.ensure_agent(AGENT)
        store.ensure_agent("ana")
        run(config, store)
    return config


def conversation_id(store: Store, subject_part: str) -> int:
    """The first conversation whose subject holds `subject_part` (any case)."""
    found = [c["id"] for c in store_api.conversations(store) if subject_part.lower() in (c["subject"] or "").lower()]
    assert found, subject_part
    return found[0]
