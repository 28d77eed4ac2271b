"""Hostile and broken mail (made by tests/helpers/hostile.py): every one is stored,
none crashes sync, and nothing shown to an agent carries a live escape sequence —
from a Maildir and from a real Dovecot."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui_desk.cli import app
from tests.helpers import store_api
from tests.helpers.dovecot import dovecot, mailbox, toml_config  # noqa: F401 (fixtures)
from tests.helpers.hostile import eight_bit_attachment, hostile_messages, nested
from tests.helpers.mail import deliver, make_maildir
from tui_desk import config as config_mod
from tui_desk import sync
from tui_desk.parse.mail import parse_email
from tui_desk.store import Store

HERE = Path(__file__).resolve().parents[1]
MESSAGES = hostile_messages()
# what a terminal would act on: ESC, the one-byte CSI, bidi overrides, other C0/C1 controls
LIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_there_are_at_least_40_distinct_fixtures():
    assert len(MESSAGES) >= 40
    assert len({raw for _, raw in MESSAGES}) == len(MESSAGES)


@pytest.mark.parametrize("name,raw", MESSAGES, ids=[n for n, _ in MESSAGES])
def test_parse_never_raises_and_keeps_the_raw_bytes(name, raw):
    parsed = parse_email(raw, dt.datetime.now(dt.timezone.utc))
    assert parsed.raw == raw
    assert parsed.external_id


def shown(db: Path, config: Path) -> list[str]:
    """Everything `conversations show` prints for every conversation, plain and JSON."""
    runner = CliRunner()
    with Store.open(db) as store:
        ids = store_api.conversation_ids(store)
    outputs = []
    for cid in ids:
        for extra in ([], ["--json"]):
            result = runner.invoke(app, ["--config", str(config), "conversations", "show", str(cid), *extra])
            assert result.exit_code == 0, result.output
            outputs.append(result.output)
    listing = runner.invoke(app, ["--config", str(config), "conversations", "list", "--limit", "1000"])
    assert listing.exit_code == 0
    return outputs + [listing.output]


def test_every_hostile_mail_is_stored_and_shown_safely_from_a_maildir(tmp_path):
    maildir = make_maildir(tmp_path / "Mail")
    for name, raw in MESSAGES:
        deliver(maildir, raw, name=f"{name}.host")
    path = toml_config(tmp_path / "config.toml", [{"name": "mail", "kind": "maildir", "path": str(maildir)}],
                       database=tmp_path / "desk.db")
    with Store.open(tmp_path / "desk.db") as store:
        result = sync.run(config_mod.load(path), store)
        assert result.ok, result.channels
        stored = store_api.messages(store)
        assert len(stored) == len(MESSAGES)
        assert all(store.raw(m["id"]) is not None for m in stored)  # each one's raw bytes are kept
        [big] = [a for m in stored for a in store.attachments(m["id"]) if a["filename"] == "big.bin"]
        assert big["size"] == 5 * 1024 * 1024
        assert (store.files / big["sha256"][:2] / big["sha256"]).stat().st_size == big["size"]
    for output in shown(tmp_path / "desk.db", path):
        assert not LIVE.search(output), LIVE.search(output)


def test_markup_in_customer_text_is_shown_literally(tmp_path):
    maildir = make_maildir(tmp_path / "Mail")
    deliver(maildir, dict(MESSAGES)["nasty-subject-1"])
    path = toml_config(tmp_path / "config.toml", [{"name": "mail", "kind": "maildir", "path": str(maildir)}],
                       database=tmp_path / "desk.db")
    with Store.open(tmp_path / "desk.db") as store:
        sync.run(config_mod.load(path), store)
    shown_text = CliRunner().invoke(app, ["--config", str(path), "conversations", "show", "1"]).output
    assert "Help [link=https://evil.example]click[/link] please" in shown_text  # text, not a link


@pytest.mark.integration
def test_every_hostile_mail_syncs_from_dovecot(tmp_path, mailbox):
    mailbox.deliver_many(raw for _, raw in MESSAGES)
    path = toml_config(tmp_path / "config.toml", [mailbox.config(batch_size=16)], database=tmp_path / "desk.db")
    done = subprocess.run([sys.executable, "-c", "from tui_desk.cli import main; main()", "--config", str(path), "sync", "--json"],
                          capture_output=True, text=True, timeout=300, cwd=HERE.parent)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["channels"]["support"]
    assert counts["fetched"] == len(mailbox.uids()) == len(MESSAGES)
    with Store.open(tmp_path / "desk.db") as store:
        # an empty message and garbage bytes are stored too; content-identical ones would dedupe
        assert len(store_api.messages(store)) == len(MESSAGES)
    for output in shown(tmp_path / "desk.db", path):
        assert not LIVE.search(output)


# -- a broken part or a hostile nesting never costs the customer ----------------------

BROKEN_BELOW_THE_HEADERS = {
    "My CV (utf-8)": ("ana@customer.example", ["résumé.pdf"]),
    "My CV (latin-1)": ("ana@customer.example", ["résumé.pdf"]),
    "nested 5000": ("bo@customer.example", ["nested-parts.eml"]),
}


def _broken_below_the_headers() -> list[bytes]:
    return [eight_bit_attachment("utf-8"), eight_bit_attachment("latin-1"), nested(5000)]


def assert_customers_kept(db: Path, config: Path) -> None:
    """Each conversation has its sender, subject and attachments, and can be answered."""
    runner = CliRunner()
    with Store.open(db) as store:
        ids = store_api.conversation_ids(store)
    seen = {}
    for cid in ids:
        shown_json = runner.invoke(app, ["--config", str(config), "conversations", "show", str(cid), "--json"])
        assert shown_json.exit_code == 0, shown_json.output
        data = json.loads(shown_json.output)
        [message] = data["messages"]
        seen[data["conversation"]["subject"]] = (data["conversation"]["customer"]["address"],
                                                 [a["filename"] for a in message["attachments"]])
        assert message["message_id"] and not [p for p in message["problems"] if "unparseable" in p]
        answered = runner.invoke(app, ["--config", str(config), "reply", str(cid), "--text", "Thanks!", "--json"])
        assert answered.exit_code == 0, answered.output
        assert json.loads(answered.output)["state"] == "queued"
    assert seen == BROKEN_BELOW_THE_HEADERS


def test_broken_parts_keep_the_customer_from_a_maildir(tmp_path):
    maildir = make_maildir(tmp_path / "Mail")
    for raw in _broken_below_the_headers():
        deliver(maildir, raw)
    path = toml_config(tmp_path / "config.toml", [{"name": "mail", "kind": "maildir", "path": str(maildir)}],
                       database=tmp_path / "desk.db")
    with Store.open(tmp_path / "desk.db") as store:
        assert sync.run(config_mod.load(path), store).ok
    assert_customers_kept(tmp_path / "desk.db", path)


@pytest.mark.integration
def test_broken_parts_keep_the_customer_from_dovecot(tmp_path, mailbox):
    mailbox.deliver_many(_broken_below_the_headers())
    path = toml_config(tmp_path / "config.toml", [mailbox.config()], database=tmp_path / "desk.db")
    done = subprocess.run([sys.executable, "-c", "from tui_desk.cli import main; main()", "--config", str(path), "sync", "--json"],
                          capture_output=True, text=True, timeout=120, cwd=HERE.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["channels"]["support"]["fetched"] == 3
    assert_customers_kept(tmp_path / "desk.db", path)
