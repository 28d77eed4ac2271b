"""Template suggestion figures: accuracy on a held-out split of a labelled history, and
latency over 100,000 messages of history.

The bench builds its own desk: 12 answers (templates) in English, 16 twins in German,
French, Spanish and Chinese, and conversations whose answering template is known.
A customer writes in one of five languages (en 55 %, de 15 %, fr 10 %, es 10 %,
zh 10 %): a greeting or not, one of several phrasings of the question with a product
and an order number, often a sentence about something else, sometimes a word of
another answer's vocabulary, then a third of the words dropped at random (not in
Chinese). The agent's answer is the template in the customer's language, else the
English one; in 5 % of conversations a neighbouring answer instead (order status for
a shipping delay, return label for a refund...), which no suggester can guess. 80 % of 2,000 conversations are answered (the
history, written as template replies in the database), the other 20 % are asked
(held out): top-1 / top-3 is how often the known answer is the first / among the
three that `suggest()` gives, through the store, language detection and all.

Latency: 50,000 answered conversations (100,000 messages), then `suggest()` for 300
held-out conversations with the index built (as in the console, where it is built
once in a worker and kept); the build is a figure of its own.

The gate's backtest (templates.gate) is timed over the same history, with one rule
that fires on every message about an order.

Runs on its own: `python -m bench --only suggest` (`--size small`: 20,000 messages).
"""

from __future__ import annotations

import random
import shutil
import statistics
import time
from pathlib import Path

from bench.figure import Figure
from tui_desk import config as config_mod
from tui_desk.store import Store
from tui_desk.templates import TemplateLibrary
from tui_desk.templates.suggest import history_index, suggest

OUT = Path(__file__).resolve().parent / "out"
SIZES = {"small": 10_000, "full": 50_000}
"""Answered conversations behind the latency figure (two messages each)."""
LABELLED = 2_000
HELD_OUT = 0.2
LANGUAGES = [("en", 55), ("de", 15), ("fr", 10), ("es", 10), ("zh", 10)]

# answer → language → phrasings; "{p}" a product, "{n}" an order number
ASKED = {
    "order-status": {
        "en": ["Where is my order {n}?", "My order {n} still shows processing, when will it ship?",
               "I ordered the {p} last week, is there a tracking number?", "Any news on order {n}? Has it been sent?"],
        "de": ["Wo ist meine Bestellung {n}?", "Meine Bestellung {n} ist noch nicht verschickt, wann kommt sie?",
               "Ich habe letzte Woche den {p} bestellt, gibt es eine Sendungsnummer?"],
        "fr": ["Où est ma commande {n} ?", "Ma commande {n} n'est pas encore expédiée, quand partira-t-elle ?",
               "J'ai commandé le {p} la semaine dernière, avez-vous un numéro de suivi ?"],
        "es": ["¿Dónde está mi pedido {n}?", "Mi pedido {n} sigue sin enviarse, ¿cuándo sale?",
               "Pedí el {p} la semana pasada, ¿tienen número de seguimiento?"],
        "zh": ["我的订单{n}在哪里？", "订单{n}还没有发货，什么时候发？", "我上周买了{p}，有物流单号吗？"],
    },
    "refund-issued": {
        "en": ["I sent the {p} back two weeks ago, when do I get my money back?", "Has my refund for {n} been processed?",
               "You received my return, where is the refund?"],
        "de": ["Ich habe den {p} zurückgeschickt, wann bekomme ich mein Geld zurück?",
               "Wurde die Rückerstattung für {n} schon bearbeitet?"],
        "fr": ["J'ai renvoyé le {p}, quand serai-je remboursé ?", "Le remboursement de la commande {n} est-il fait ?"],
        "es": ["Devolví el {p}, ¿cuándo me devuelven el dinero?", "¿Ya procesaron el reembolso del pedido {n}?"],
        "zh": ["我已经把{p}寄回去了，什么时候退款？", "订单{n}的退款处理了吗？"],
    },
    "password-reset": {
        "en": ["I can't log in, the password reset link has expired", "Forgot my password and the reset mail never comes",
               "Login keeps saying wrong password, please help me reset it"],
        "de": ["Ich kann mich nicht anmelden, der Link zum Zurücksetzen des Passworts ist abgelaufen",
               "Passwort vergessen und die Mail zum Zurücksetzen kommt nicht"],
    },
    "shipping-delay": {
        "en": ["My parcel has been stuck in customs for a week", "The tracking for {n} has not updated in days, it's late",
               "Delivery was due Monday and the {p} still has not arrived"],
        "de": ["Mein Paket hängt seit einer Woche beim Zoll fest", "Die Lieferung ist verspätet, der {p} ist immer noch nicht da"],
        "es": ["Mi paquete lleva una semana retenido en aduanas", "El envío del {p} va con retraso y no llega"],
        "zh": ["我的包裹在海关卡了一个星期", "快递延误了，{p}到现在还没收到"],
    },
    "return-label": {
        "en": ["How do I return the {p}? I need a return label", "Can you send me a prepaid label to send the {p} back?"],
        "de": ["Wie kann ich den {p} zurücksenden? Ich brauche ein Rücksendeetikett"],
        "fr": ["Comment retourner le {p} ? Il me faut une étiquette de retour"],
        "zh": ["怎么退货？请给我一个退货标签寄回{p}"],
    },
    "damaged-item": {
        "en": ["The {p} arrived broken, the box was crushed", "My {p} is cracked and defective out of the box"],
        "de": ["Der {p} ist kaputt angekommen, der Karton war zerdrückt"],
    },
    "size-exchange": {
        "en": ["The {p} is too small, can I exchange it for a bigger size?", "Wrong size, I'd like to swap the {p} for an M"],
    },
    "invoice-copy": {
        "en": ["Could you send an invoice for {n} with our company VAT number?", "I need a tax invoice / receipt for order {n}"],
    },
    "discount-code-fix": {
        "en": ["The discount code WELCOME10 says invalid at checkout", "My promo code does not work, coupon expired?"],
    },
    "two-factor-reset": {
        "en": ["I lost my phone and can't get the 2FA code from my authenticator", "Two-factor login fails, no backup codes"],
    },
    "wholesale-reply": {
        "en": ["We are a shop and would like to stock your products, do you have a wholesale price list?",
               "Retailer here: what is your minimum order for bulk reseller prices?"],
    },
    "data-deletion": {
        "en": ["Please delete my account and all my personal data (GDPR)", "I want my data erased, right to be forgotten"],
    },
}
TWINS = {"de": ["order-status", "refund-issued", "password-reset", "shipping-delay", "return-label", "damaged-item"],
         "fr": ["order-status", "refund-issued", "return-label"], "es": ["order-status", "refund-issued", "shipping-delay"],
         "zh": ["order-status", "refund-issued", "shipping-delay", "return-label"]}
GREETING = {"en": ["Hi,", "Hello team,", "Good morning,", ""], "de": ["Hallo,", "Guten Tag,", ""],
            "fr": ["Bonjour,", ""], "es": ["Hola,", "Buenos días,", ""], "zh": ["你好，", "您好，", ""]}
ASIDE = {  # something else the customer says, often
    "en": ["I have been a customer for years.", "The {p} was a gift for my sister.", "Thanks for your help!",
           "I also saw you have a sale on jackets, nice.", "My address is the same as last time."],
    "de": ["Ich bin seit Jahren Kunde.", "Der {p} war ein Geschenk.", "Danke für die Hilfe!"],
    "fr": ["Je suis client depuis des années.", "Merci pour votre aide !"],
    "es": ["Soy cliente desde hace años.", "¡Gracias por la ayuda!"],
    "zh": ["我是老客户了。", "谢谢你们的帮助！"],
}
PRODUCTS = ["jacket", "tent", "stove", "backpack", "boots", "sleeping bag", "headlamp", "fleece"]
TITLES = {"order-status": "Order status", "refund-issued": "Refund issued", "password-reset": "Password reset",
          "shipping-delay": "Shipping delay", "return-label": "Return label", "damaged-item": "Damaged item",
          "size-exchange": "Size exchange", "invoice-copy": "Invoice copy", "discount-code-fix": "Discount code fixed",
          "two-factor-reset": "Two-factor reset", "wholesale-reply": "Wholesale inquiry", "data-deletion": "Data deletion"}
KEYWORDS = {"order-status": ["where is my order", "tracking"], "refund-issued": ["refund", "money back"],
            "password-reset": ["password", "reset"], "shipping-delay": ["delay", "customs", "late"],
            "return-label": ["return label", "return"], "damaged-item": ["damaged", "broken"],
            "size-exchange": ["exchange", "wrong size"], "invoice-copy": ["invoice", "vat"],
            "discount-code-fix": ["discount code", "coupon"], "two-factor-reset": ["2fa", "authenticator"],
            "wholesale-reply": ["wholesale", "bulk"], "data-deletion": ["gdpr", "delete my data"]}


CONFUSED = {"order-status": "shipping-delay", "shipping-delay": "order-status", "refund-issued": "return-label",
            "return-label": "refund-issued", "password-reset": "two-factor-reset", "damaged-item": "size-exchange"}
"""The answer an agent sends instead now and then (5 % of conversations, held out too)."""


def write_templates(folder: Path) -> None:
    folder.mkdir(parents=True)
    for answer, title in TITLES.items():
        for language in ["en"] + [lang for lang, answers in TWINS.items() if answer in answers]:
            tid = answer if language == "en" else f"{answer}-{language}"
            keywords = KEYWORDS[answer] if language == "en" else []
            (folder / f"{tid}.md").write_text(
                f'+++\ntitle = "{title} ({language})"\nkeywords = {keywords!r}\nlanguage = "{language}"\n+++\n'
                "Hi {{ customer.first_name | default('there') }}, about your request: we are on it.\n",
                encoding="utf-8")


def conversation(rng: random.Random) -> tuple[str, str, str]:
    """(subject, the customer's message, the template that answers it)."""
    language = rng.choices([lang for lang, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
    answers = [a for a, by in ASKED.items() if language in by] if rng.random() < 0.7 else list(ASKED)
    answer = rng.choice(answers)
    written = language if language in ASKED[answer] else "en"  # no phrasing in theirs: they write English
    fill = {"p": rng.choice(PRODUCTS), "n": f"#{rng.randrange(10_000, 99_999)}"}
    parts = [rng.choice(GREETING[written]), rng.choice(ASKED[answer][written]).format(**fill)]
    if rng.random() < 0.6:
        parts.append(rng.choice(ASIDE[written]).format(**fill))
    if rng.random() < 0.15:  # a word of another answer's vocabulary
        other = rng.choice([a for a in KEYWORDS if a != answer])
        parts.append(f"({rng.choice(KEYWORDS[other])}?)" if written == "en" else "")
    text = " ".join(p for p in parts if p)
    if written != "zh":  # people leave words out: a third of them here, at random
        words = text.split()
        text = " ".join(w for w in words if rng.random() > 0.33) or words[0]
    if rng.random() < 0.05:  # and agents do not always pick the same answer
        answer = CONFUSED.get(answer, answer)
    label = f"{answer}-{written}" if written != "en" and answer in TWINS.get(written, []) else answer
    subject = rng.choice(["Question", "Help", f"Order {fill['n']}", ""]) if written == "en" else ""
    return subject, text, label


def build(path: Path, answered: int, asked: int, seed: int) -> tuple[list[int], dict[int, str]]:
    """A desk with `answered` conversations answered by template and `asked` waiting;
    (the waiting ids, their known answers)."""
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    store = Store.open(path)
    conn = store.d.conn
    conn.execute("PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    convs, msgs, labels = [], [], {}
    message_id = 0
    for cid in range(1, answered + asked + 1):
        subject, text, label = conversation(rng)
        at = f"2026-11-{1 + cid * 28 // (answered + asked + 1):02d}T10:00:00.000Z"
        convs.append((cid, "mail", subject, "open", at, at))
        message_id += 1
        msgs.append((message_id, cid, "mail", "in", "customer", f"m{message_id}", at, at, text, None))
        if cid <= answered:
            message_id += 1
            msgs.append((message_id, cid, "mail", "out", "agent", f"m{message_id}", at, at.replace("10:00", "11:00"),
                         "Hi, about your request: we are on it.", label))
        else:
            labels[cid] = label
    conn.executemany("INSERT INTO conversations (id, channel, subject, status, created_at, last_message_at)"
                     " VALUES (?,?,?,?,?,?)", convs)
    conn.executemany("INSERT INTO messages (id, conversation_id, channel, direction, author, external_id, created_at,"
                     " received_at, text, template_id) VALUES (?,?,?,?,?,?,?,?,?,?)", msgs)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    store.close()
    return sorted(labels), labels


def run(size: str) -> list[Figure]:
    work = OUT / "bench-suggest"
    shutil.rmtree(work, ignore_errors=True)
    write_templates(work / "templates")
    conf = config_mod.from_dict({"templates": {"dir": str(work / "templates")},
                                 "channels": [{"name": "mail", "kind": "maildir", "path": str(work / "mail")}]},
                                work / "bench.toml")
    library = TemplateLibrary.for_config(conf)
    held = int(LABELLED * HELD_OUT)
    asked, labels = build(work / "labelled.db", LABELLED - held, held, seed=20)
    top1 = top3 = 0
    with Store.open(work / "labelled.db") as store:
        for cid in asked:
            got = [s.template.id for s in suggest(conf, store, library, cid)]
            top1 += bool(got) and got[0] == labels[cid]
            top3 += labels[cid] in got
    a1, a3 = top1 / held, top3 / held
    figures = [
        Figure("templates", f"suggestion top-1 ({held} held out of {LABELLED:,}, 5 languages)", f"{a1:.1%}",
               "≥ 75 %", a1 >= 0.75),
        Figure("templates", "suggestion top-3", f"{a3:.1%}", "≥ 90 %", a3 >= 0.90),
    ]
    answered = SIZES[size]
    asked, _ = build(work / "history.db", answered, 300, seed=21)
    with Store.open(work / "history.db") as store:
        started = time.perf_counter()
        history_index(store)
        built = time.perf_counter() - started
        timings = []
        for cid in asked:
            t0 = time.perf_counter()
            suggest(conf, store, library, cid)
            timings.append(time.perf_counter() - t0)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1] * 1000
    messages = answered * 2
    figures += [gate_backtest(work, conf.templates.dir, answered)]
    figures += [
        Figure("templates", f"suggestion latency, {messages:,} messages of history (p95)", f"{p95:.1f} ms",
               "≤ 20 ms", p95 <= 20),
        Figure("templates", "suggestion latency (median)", f"{statistics.median(timings) * 1000:.1f} ms"),
        Figure("templates", f"suggestion index build, {messages:,} messages (once per console)", f"{built:.1f} s"),
    ]
    return figures


def gate_backtest(work: Path, templates: str, answered: int) -> Figure:
    """`templates promote order-status --to auto`'s backtest over the latency desk's
    history: a rule answering every message about an order, replayed on each answered one."""
    from tui_desk.rules.spec import load_rules
    from tui_desk.templates.gate import backtest
    conf = config_mod.from_dict({
        "templates": {"dir": templates},
        "channels": [{"name": "mail", "kind": "maildir", "path": str(work / "mail")}],
        "rules": [{"id": "auto-order", "on": ["message.new"], "actions": [{"auto_reply": "order-status"}],
                   "all": [{"field": "text", "matches": "(?i)order|bestellung|commande|pedido|订单"}]}],
    }, work / "gate.toml")
    with Store.open(work / "history.db") as store:
        started = time.perf_counter()
        found = backtest(conf, store, TemplateLibrary.for_config(conf), load_rules(conf), "order-status")
        took = time.perf_counter() - started
    return Figure("templates", f"gate backtest (promote --to auto), {answered:,} answered conversations,"
                  f" {found.fired:,} the rule fires on (precision {found.precision or 0:.0%})", f"{took:.1f} s")
