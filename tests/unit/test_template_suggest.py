"""Template suggestions learnt from the desk's own replies (tui_desk.templates.suggest):
history over keywords, the keyword fallback, never an auto template, the customer's
language, Chinese, the index kept up to date, and `templates suggest` on the CLI.

The history is made the way a desk makes it: customer mail delivered to a Maildir and
synced, then answered with `send_template` (the outbox's own path)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import store_api
from tests.helpers.dovecot import toml_config
from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import config as config_mod, outbox, sync
from tui_desk.templates import TemplateLibrary
from tui_desk.templates.quick import digit_choice, quick_choices, send_template
from tui_desk.templates.similar import SimilarIndex, terms
from tui_desk.templates.suggest import suggest

ROOT = Path(__file__).resolve().parents[2]

TEMPLATES = {
    "repair": ("Repair service", ["warranty repair"], "en", False, None),
    "refund": ("Refund issued", ["refund", "money back"], "en", False, 2),
    "refund-de": ("Rückerstattung", ["rückerstattung", "geld zurück"], "de", False, None),
    "order": ("Order status", ["where is my order", "tracking"], "en", False, 1),
    "order-de": ("Bestellstatus", ["bestellung", "sendungsverfolgung"], "de", False, None),
    "returns-zh": ("退货", ["退货标签"], "zh", False, None),
    "ack": ("We got your message", ["refund", "money back", "order"], "en", True, 3),
}


def write_templates(folder: Path) -> None:
    folder.mkdir()
    for tid, (title, keywords, language, auto, key) in TEMPLATES.items():
        front = [f'title = "{title}"', f"keywords = {json.dumps(keywords, ensure_ascii=False)}",
                 f'language = "{language}"', f"auto = {'true' if auto else 'false'}"]
        if key:
            front.append(f"key = {key}")
        body = "Hi {{ customer.first_name | default('there') }}, we will take care of it."
        (folder / f"{tid}.md").write_text("+++\n" + "\n".join(front) + "\n+++\n" + body + "\n", encoding="utf-8")


class Desk:
    """A desk with a Maildir channel; `ask` delivers a customer's mail and syncs it."""

    def __init__(self, tmp_path: Path) -> None:
        self.mail = make_maildir(tmp_path / "mail")
        write_templates(tmp_path / "templates")
        self.path = toml_config(tmp_path / "config.toml", [{"name": "mail", "kind": "maildir", "path": str(self.mail)}],
                                database=tmp_path / "desk.db", agent={"name": "ana"},
                                templates={"dir": "templates", "undo_seconds": 600},
                                desk={"support_address": "support@desk.example", "company": "Northwind"})
        self.config = config_mod.load(self.path)
        self.library = TemplateLibrary.for_config(self.config)
        self.n = 0

    def ask(self, store, subject: str, body: str) -> int:
        self.n += 1
        deliver(self.mail, make_email(subject=subject, body=body, sender=f"Kim {self.n} <kim{self.n}@customer.example>"))
        assert sync.run(self.config, store).ok
        return max(store_api.conversation_ids(store))

    def answer(self, store, cid: int, template_id: str):
        return send_template(self.config, store, self.library.get(template_id), cid, agent="ana")


@pytest.fixture
def desk(tmp_path):
    return Desk(tmp_path)


def ids(found) -> list[str]:
    return [s.template.id for s in found]


def test_what_agents_answered_before_beats_the_keywords(desk, store):
    for body in ("The zipper of my jacket broke after a week", "My tent zipper snapped on the first trip",
                 "The zipper on the backpack is broken"):
        desk.answer(store, desk.ask(store, "Zipper", body), "repair")
    desk.answer(store, desk.ask(store, "Money", "I returned the boots, I want my money back"), "refund")
    cid = desk.ask(store, "Broken zip", "Hello, the zipper on my new jacket broke. Can I get my money back?")
    found = suggest(desk.config, store, desk.library, cid)
    assert ids(found)[0] == "repair"  # "money back" is a refund keyword, but agents sent the repair
    count = int(re.fullmatch(r"answered (\d) similar messages", found[0].reason).group(1))
    assert 2 <= count <= 3  # the snapped tent zipper is less alike
    assert "refund" in ids(found)
    assert len(found) <= 3 and found[0].score > found[-1].score >= 0.05


def test_without_history_the_keywords_and_text_decide(desk, store):
    cid = desk.ask(store, "Where is my order?", "I ordered last week, is there a tracking number?")
    found = suggest(desk.config, store, desk.library, cid)
    assert ids(found)[0] == "order"
    assert found[0].reason.startswith("its keywords: ") and "tracking" in found[0].reason
    nothing = desk.ask(store, "Hello", "qwxz vbnm")
    assert suggest(desk.config, store, desk.library, nothing) == []


def test_an_auto_template_is_never_offered_nor_on_a_digit(desk, store):
    cid = desk.ask(store, "Refund for my order", "Where is my order? Or I want a refund, money back please.")
    choices = quick_choices(desk.config, store, desk.library, cid)
    assert "ack" not in ids(choices.suggested) and "ack" not in [t.id for t in choices.digits]
    assert desk.library.pinned()[3].id == "ack"  # pinned to 3, still never offered


def test_the_customers_language_wins_and_the_other_is_left_out(desk, store):
    german = desk.ask(store, "Bestellung", "Guten Tag, wo ist meine Bestellung? Ich habe keine Sendungsverfolgung"
                                          " bekommen und die Lieferung ist nicht da. Bitte um Rückerstattung.")
    choices = quick_choices(desk.config, store, desk.library, german)
    assert ids(choices.suggested)[0] == "order-de"
    offered = [t.id for t in choices.digits]
    assert "refund-de" in offered and not {"order", "refund"} & set(offered)  # pinned English ones too
    english = desk.ask(store, "Order", "Hi, where is my order? The tracking shows nothing, please help.")
    assert not {"order-de", "refund-de"} & set(t.id for t in quick_choices(desk.config, store, desk.library,
                                                                           english).digits)


def test_chinese_history_is_matched_by_characters(desk, store):
    for body in ("我想退货，请给我退货标签", "这件衣服太小了，我要退货", "怎么退货？"):
        desk.answer(store, desk.ask(store, "退货", body), "returns-zh")
    cid = desk.ask(store, "问题", "你好，我要退货，怎么办？")
    found = suggest(desk.config, store, desk.library, cid)
    assert ids(found) == ["returns-zh"] and found[0].reason.startswith("answered ")
    assert "退货" in terms("我要退货")  # neighbouring characters make a word


def test_digits_follow_the_suggestions_then_the_pinned(desk, store):
    for body in ("The zipper of my jacket broke", "My zipper snapped"):
        desk.answer(store, desk.ask(store, "Zipper", body), "repair")
    cid = desk.ask(store, "Zip", "the zipper broke again")
    choices = quick_choices(desk.config, store, desk.library, cid)
    assert digit_choice(choices, 1).id == "repair"
    rest = [t.id for t in choices.digits[len(choices.suggested):]]
    assert rest == [t for t in ("order", "refund") if t not in ids(choices.suggested)]  # pinned, by key
    assert digit_choice(choices, len(choices.digits) + 1) is None


def test_new_replies_are_learnt_and_a_reply_taken_back_is_forgotten(desk, store):
    first = desk.ask(store, "Stove", "my camping stove leaks gas at the valve")
    assert "repair" not in ids(suggest(desk.config, store, desk.library, first))
    sent = desk.answer(store, first, "repair")
    second = desk.ask(store, "Stove again", "the stove valve leaks gas")
    assert ids(suggest(desk.config, store, desk.library, second))[0] == "repair"
    outbox.cancel(store, sent.queued.outbox_id, "ana")
    assert "repair" not in ids(suggest(desk.config, store, desk.library, second))


def test_the_index_bounds_its_lists_and_takes_appends():
    index = SimilarIndex([("a", f"parcel late {i}") for i in range(10)] + [("b", "refund please")])
    index.add([("c", "voucher expired")])
    assert index.nearest("voucher expired")[0] == ("c", pytest.approx(1.0))
    assert index.uses["a"] == 10 and not index.stale


def run_cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stderr
    return done


def test_cli_suggest_json_and_a_clear_error(desk, store):
    desk.answer(store, desk.ask(store, "Zipper", "The zipper of my jacket broke"), "repair")
    cid = desk.ask(store, "Zip", "my zipper broke")
    done = run_cli("--config", str(desk.path), "templates", "suggest", str(cid), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows[0] == {"template": "repair", "score": rows[0]["score"], "reason": "answered 1 similar message"}
    assert all(set(r) == {"template", "score", "reason"} and 0 < r["score"] <= 1 for r in rows)
    table = run_cli("--config", str(desk.path), "templates", "suggest", str(cid))
    assert table.returncode == 0 and "Repair service" in table.stdout and "answered 1 similar" in table.stdout
    missing = run_cli("--config", str(desk.path), "templates", "suggest", "999")
    assert missing.returncode == 2 and missing.stderr.strip() == "tui-desk: no conversation 999"
