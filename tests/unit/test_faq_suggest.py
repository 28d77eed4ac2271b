"""`faq suggest`: questions answered by hand that no FAQ entry covers, clustered, with counts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.mail import deliver, make_email, make_maildir
from tests.unit.test_cli import cli
from tests.unit.test_faq import TEMPLATES, write_templates
from tui_desk import outbox, sync
from tui_desk.config import from_dict
from tui_desk.faq.suggest import covered, key_text, suggest
from tui_desk.templates import TemplateLibrary, parse_template

# (subject, first message, how it was answered: "hand", "template" or None)
ASKED = [
    ("Shipping to Canada?", "Hi, do you ship to Canada? I live in Toronto.", "hand"),
    ("Canada", "Hello, can you ship my order to Canada please", "hand"),
    ("Question", "Do you ship to Canada at all? Thanks", "hand"),
    ("Delivery to Canada", "Do you ship to Canada?", None),                    # not answered yet
    ("Canada shipping", "Do you deliver to Canada?", "template"),             # answered from a template
    ("PayPal", "Can I pay with PayPal?", "hand"),
    ("Payment", "Is paying with PayPal possible?", "hand"),
    ("My refund", "Where is my money back? I sent the boots weeks ago.", "hand"),  # "money back": covered
    ("Return", "How do I return something?", "hand"),                      # the entry's own question
    ("加拿大", "请问可以寄到加拿大吗？", "hand"),
    ("寄到加拿大", "可以寄到加拿大吗", "hand"),
    ("Tent pole", "One tent pole snapped on the first night.", "hand"),       # asked once
]


@pytest.fixture
def desk(tmp_path, store):
    mail = make_maildir(tmp_path / "mail")
    for i, (subject, body, _) in enumerate(ASKED):
        deliver(mail, make_email(sender=f"Customer {i} <c{i}@customer.example>", subject=subject, body=body))
    deliver(mail, make_email(sender="Away <away@customer.example>", subject="Automatic reply: Canada",
                             body="I am out of the office: do you ship to Canada?",
                             headers={"Auto-Submitted": "auto-replied"}))
    write_templates(tmp_path / "templates", TEMPLATES)
    config = from_dict({"agent": {"name": "ana"}, "templates": {"dir": "templates"},
                        "storage": {"database": str(tmp_path / "desk.db")},
                        "channels": [{"name": "mail", "kind": "maildir", "path": str(mail)}]},
                       tmp_path / "config.toml")
    sync.run(config, store)
    by_subject = {row["subject"]: row["id"] for row in store.conversations(limit=100)}
    ids = {}
    for subject, _, answer in ASKED:
        cid = ids[subject] = by_subject[subject]
        if answer:
            outbox.queue_reply(store, cid, "We can help.", agent="ana",
                               template_id="refund" if answer == "template" else None)
    away = by_subject["Automatic reply: Canada"]
    outbox.queue_reply(store, away, "Noted.", agent="ana")
    # an automatic template reply (a rule's acknowledgement) does not make a question answered
    outbox.queue_reply(store, ids["Question"], "We are closed.", agent="rules", template_id="refund",
                       automatic="after_hours_ack")
    return config, store, ids


def test_clusters_of_hand_answered_uncovered_questions(desk):
    config, store, ids = desk
    clusters = suggest(store, TemplateLibrary.for_config(config).templates())
    found = [(c.count, sorted(c.conversations)) for c in clusters]
    assert found == [
        (3, sorted(ids[s] for s in ("Shipping to Canada?", "Canada", "Question"))),
        (2, sorted(ids[s] for s in ("加拿大", "寄到加拿大"))),  # equal counts: the most recently asked first
        (2, sorted(ids[s] for s in ("PayPal", "Payment"))),
    ]
    # one question asked once is listed only when asked for
    once = suggest(store, TemplateLibrary.for_config(config).templates(), min_count=1, limit=50)
    assert ids["Tent pole"] in [cid for c in once for cid in c.conversations]
    assert not {ids["Delivery to Canada"], ids["Canada shipping"], ids["My refund"], ids["Return"]} & {
        cid for c in once for cid in c.conversations}


def test_what_counts_as_covered_and_what_is_compared():
    entries = [parse_template(Path(name), text) for name, text in TEMPLATES.items()]
    assert covered("I want my money back", entries)            # a keyword phrase
    assert covered("我想退货", entries)                          # a CJK keyword inside unspaced text
    assert covered("how do i return something", entries)      # every word of the question
    assert not covered("returning customer here", entries)    # "return" is a word, not a prefix
    assert not covered("Do you ship to Canada?", entries)
    assert not covered("please keep my order private", entries)  # private.md is no FAQ entry
    assert key_text("Hi!! Order 12345, do you ship to Canada? Canada!") == "order ship canada"
    assert key_text("Hallo, wie ist der Status?") == "status"
    assert key_text("你好，寄到加拿大") == "你 好 寄 到 加 拿 大"


def test_the_cli_lists_counts_and_json(desk, tmp_path):
    config, _, ids = desk
    env = {"TUI_DESK_CONFIG": str(tmp_path / "config.toml")}
    (tmp_path / "config.toml").write_text(
        f'[agent]\nname = "ana"\n[templates]\ndir = "templates"\n[storage]\ndatabase = {json.dumps(str(tmp_path / "desk.db"))}\n',
        encoding="utf-8")
    rows = json.loads(cli("faq", "suggest", "--json", env=env).stdout)
    assert [(r["count"], set(r)) for r in rows][0] == (3, {"count", "subject", "example", "conversations"})
    assert rows[0]["subject"] in ("Shipping to Canada?", "Canada", "Question")
    shown = cli("faq", "suggest", "--limit", "1", env=env).stdout
    assert "count" in shown and "3" in shown and "Canada" in shown and "PayPal" not in shown
    none = cli("faq", "suggest", "--min-count", "5", env=env).stdout
    assert none.startswith("no question was answered by hand 5 times or more")
    bad = cli("faq", "suggest", "--since", "soon", env=env, check=False)
    assert bad.returncode == 2 and "--since: 'soon'" in bad.stderr
