"""Text without a usable charset label reads right; email's defects read as words."""

from __future__ import annotations

import datetime as dt
import email.errors
import inspect

import pytest

from tui_desk.parse.charset import decode
from tui_desk.parse.defects import defect_text, problem_text
from tui_desk.parse.mail import parse_email

from tests.conftest import ROOT

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)
DEMO_BROKEN = ROOT / "data/demo/mail/new/1768513682.M125P14018.northwind.demo"

RUSSIAN = ("Здравствуйте! Заказ 4521 пришёл без чехла, а в описании он был. Пришлите, пожалуйста, "
           "чехол или верните 300 рублей.\n\nС уважением,\nОльга Смирнова")
SAMPLES = [
    (RUSSIAN, "cp1251"), (RUSSIAN, "koi8-r"), (RUSSIAN, "cp866"),
    ("Спасибо, Нина", "cp1251"), ("Спасибо, Нина", "koi8-r"),
    ("да, всё получила, спасибо", "cp1251"), ("да, всё получила, спасибо", "koi8-r"),
    ("Hi, the parcel is here but the strap is torn.\n\nСпасибо,\nИгорь", "cp1251"),
    ("Bonjour, la commande n'est pas arrivée. Pouvez-vous vérifier où elle est ? Merci, à bientôt. Hélène",
     "latin-1"),
    ("Grüße aus München, die Größe passt nicht. Können Sie mir eine kleinere schicken?", "latin-1"),
    ("Hola, el pedido llegó roto. ¿Podéis enviar otro? Gracias, Señora Muñoz", "latin-1"),
    ("café olé", "latin-1"),
    ("“Smart quotes” and – dashes – from Outlook… 20 €", "cp1252"),
    ("Grüße, Спасибо, 谢谢", "utf-8"),
    ("您好，我的订单还没有到，请帮我查一下。谢谢！", "gb18030"),
    ("お世話になっております。注文した商品がまだ届いておりません。ご確認をお願いします。", "shift_jis"),
]


@pytest.mark.parametrize("text,charset", SAMPLES, ids=[f"{c}:{t[:12]}" for t, c in SAMPLES])
@pytest.mark.parametrize("label", [None, "x-unknown-8bit-foo"])
def test_unlabelled_text_decodes_right(text, charset, label):
    decoded, problem = decode(text.encode(charset), label)
    assert decoded == text
    if charset == "utf-8" and label is None:
        assert problem is None
    else:
        assert "read as" in problem


def test_the_demos_broken_mail_reads_right():
    parsed = parse_email(DEMO_BROKEN.read_bytes(), NOW)
    assert "Спасибо, Нина" in parsed.text
    assert "the message's last MIME boundary is missing (cut off?); shown as received" in parsed.problems
    assert "unknown charset 'x-unknown-8bit-foo'; read as windows-1251" in parsed.problems
    assert not any("Defect" in p for p in parsed.problems), parsed.problems


def test_a_label_that_lies_is_not_trusted():
    # Latin-1 labelled, Windows-1252 written: the curly quotes are kept, not dropped as C1 controls
    assert decode("“Hi” – ok".encode("cp1252"), "iso-8859-1") == ("“Hi” – ok", None)
    # a single-byte label on UTF-8 bytes: read as UTF-8, and said so
    text, problem = decode("Grüße, Нина".encode("utf-8"), "windows-1251")
    assert text == "Grüße, Нина" and problem == "labelled 'windows-1251' but is UTF-8"
    # a right label stays trusted
    assert decode("Спасибо".encode("koi8-r"), "koi8-r") == ("Спасибо", None)
    assert decode("Größe".encode("latin-1"), "latin-1") == ("Größe", None)


DEFECTS = [c for _, c in inspect.getmembers(email.errors, inspect.isclass) if issubclass(c, email.errors.MessageDefect)]


@pytest.mark.parametrize("defect", DEFECTS, ids=[c.__name__ for c in DEFECTS])
def test_every_email_defect_reads_as_a_sentence(defect):
    sentence = defect_text(defect.__new__(defect))  # some need arguments; only the class counts
    assert "Defect" not in sentence and defect.__name__ not in sentence
    assert sentence[0].islower() and " " in sentence
    assert problem_text(defect.__name__) == sentence  # stored before this: shown the same way


def test_an_unknown_defect_still_reads_as_words():
    class TruncatedMIMEPartDefect(email.errors.MessageDefect):
        pass

    assert defect_text(TruncatedMIMEPartDefect()) == "the message is malformed (truncated MIME part); shown as received"
    assert problem_text("no Date header") == "no Date header"  # problems already in words stay
