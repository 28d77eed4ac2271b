"""The cheap reading of the newest reply (parse/reply_header.py) cuts mail exactly where
mail-parser-reply's own `read()` does, in every language split_reply hands it."""

from __future__ import annotations

import pytest
from mailparser_reply import EmailReplyParser

from tui_desk.parse import reply_header
from tui_desk.parse.text import _MARKER_LANGUAGE, split_reply

QUOTE = "> We shipped order 4411 yesterday.\n> Tracking: 1Z999AA10123456784\n>\n> Kind regards,\n> Support"

MAILS = {
    "apple": ("Still nothing arrived, can you check?\n\nThanks,\nMike\n\n"
              f"On Mon, 2 Mar 2026 at 09:00, Support <s@desk.example> wrote:\n{QUOTE}\n", ("en",)),
    "wrapped attribution": ("Still nothing.\n\nOn Mon, 2 Mar 2026 at 09:00, Northwind Support\n"
                            f"<support@northwind.example> wrote:\n{QUOTE}\n", ("en",)),
    "outlook": ("Please cancel it.\r\n\r\nMike Jones\r\n\r\n-----Original Message-----\r\n"
                "From: Support <s@desk.example>\r\nSent: Monday, March 2, 2026 9:00 AM\r\n"
                "To: Mike Jones <mike@customer.example>\r\nSubject: RE: order 4411\r\n\r\nWe shipped it.\r\n", ("en",)),
    "outlook bold fields": ("Thanks!\n\n*From:* Support <s@desk.example>\n*Sent:* Monday, March 2, 2026\n"
                            "*To:* Mike\n*Subject:* order\n\nWe shipped it.", ("en",)),
    "underscore separator glued": ("Sounds good.\n\n" + "_" * 40 + "\nFrom: Support\nSent: Monday\n\nOld text.",
                                   ("en",)),
    "header first, text after": ("From: Mike\nDate: today\n\nHello, the parcel is damaged.\n\n"
                                 f"On Mon, 2 Mar 2026, Support wrote:\n{QUOTE}", ("en",)),
    "german": ("Das Paket ist immer noch nicht da.\n\nGrüße\nJonas\n\n"
               f"Am 02.03.2026 um 09:00 schrieb Support <s@desk.example>:\n{QUOTE}\n", ("en", "de")),
    "german outlook": ("Bitte stornieren.\n\nVon: Support <s@desk.example>\nGesendet: Montag, 2. März 2026 09:00\n"
                       "An: Jonas\nBetreff: AW: Bestellung\n\nWir haben es verschickt.", ("en", "de")),
    "french": ("Toujours rien reçu.\n\nLe lun. 2 mars 2026 à 09:00, Support <s@desk.example> a écrit :\n"
               f"{QUOTE}\n", ("en", "fr")),
    "spanish": ("Sigo sin recibirlo.\n\nEl lun, 2 mar 2026 a las 9:00, Support <s@desk.example> escribió:\n"
                f"{QUOTE}\n", ("en", "es")),
    "swedish": ("Paketet har inte kommit.\n\nDen 2 mars 2026 kl. 09:00 skrev Support <s@desk.example>:\n"
                f"{QUOTE}\n", ("en", "sv")),
    "polish": ("Paczka nie dotarła.\n\nDnia 2 marca 2026 Support <s@desk.example> napisał(a):\n"
               f"{QUOTE}\n", ("en", "pl")),
    "chinese": ("包裹还没有到，请帮忙查一下。\n\n2026年3月2日 09:00，Support <s@desk.example> 写道：\n"
                f"{QUOTE}\n", ("en", "zh")),
    "chinese outlook": ("请取消订单。\n\n发件人: Support <s@desk.example>\n发送时间: 2026年3月2日 9:00\n"
                        "收件人: 李明\n主题: 回复: 订单\n\n我们已经发货。", ("en", "zh")),
    "japanese": ("荷物がまだ届きません。\n\n2026年3月2日(月) 9:00 Support <s@desk.example>:\n"
                 f"{QUOTE}\n", ("en", "ja")),
    "korean": ("아직 도착하지 않았습니다.\n\n2026년 3월 2일 (월) 오전 9:00, Support님이 작성하였습니다:\n"
               f"{QUOTE}\n", ("en", "ko")),
    "indented and CRLF": ("  Still waiting.  \r\n\r\n  On Mon, 2 Mar 2026, Support wrote:\r\n  > We shipped it.\r\n",
                          ("en",)),
    "signature only": ("Where is my order?\n\n-- \nMike Jones\nACME Ltd", ("en",)),
    "no header at all": ("Where is my order?\nIt was due on Monday.", ("en",)),
    "empty": ("", ("en",)),
}


@pytest.mark.parametrize("name", MAILS)
def test_latest_reply_is_what_the_reply_parser_reads(name):
    window, languages = MAILS[name]
    expected = (EmailReplyParser(languages=list(languages)).read(window).latest_reply or "").strip()
    assert reply_header.latest_reply(window, languages) == expected


@pytest.mark.parametrize("name", ["apple", "wrapped attribution", "outlook", "german", "german outlook", "french",
                                  "spanish", "swedish", "polish", "chinese", "chinese outlook", "japanese", "korean"])
def test_split_reply_keeps_the_new_text_and_moves_the_history(name):
    text = MAILS[name][0].replace("\r\n", "\n")  # as parse_email hands it over
    new, quoted = split_reply(text)
    assert new and quoted
    assert text.startswith(new) and text.rstrip().endswith(quoted)
    last_line = text.rstrip().rsplit("\n", 1)[1]
    assert last_line not in new and "Support <s@desk.example>" not in new
    assert quoted.endswith(last_line)


def test_a_quote_that_ends_the_mail_goes_with_its_attribution_line():
    # the reply parser reads no Chinese, Japanese or Spanish quote header: the trailing
    # ">" block decides, and the line that introduces it goes with it
    for name, attribution in [("chinese", "2026年3月2日 09:00，Support"), ("japanese", "2026年3月2日(月) 9:00"),
                              ("spanish", "El lun, 2 mar 2026"), ("polish", "Dnia 2 marca 2026")]:
        new, quoted = split_reply(MAILS[name][0])
        assert quoted.startswith(attribution), name
        assert new == MAILS[name][0].split("\n\n")[0]


def test_an_inline_answer_below_a_quote_stays_new_text():
    text = "You wrote:\n> the parcel will arrive on Monday\nIt did not. Where is it?\n"
    assert split_reply(text) == (text.strip(), "")
    quoted_only = "On Mon, 2 Mar 2026, Support wrote:\n> We shipped it."  # nothing new: nothing to split
    assert split_reply(quoted_only) == (quoted_only, "")


def test_a_sentence_ending_in_a_colon_above_a_trailing_quote_is_the_customer_s():
    text = "This is what you told me:\n\n> The parcel arrives on Monday.\n> Support"
    assert split_reply(text) == ("This is what you told me:", "> The parcel arrives on Monday.\n> Support")


def test_many_headers_and_separators_read_as_the_reply_parser_does():
    # more than 8 glued separators (read() glues at most 8), headers repeated, quotes nested
    window = "\n".join(
        [f"Line {i}\n\n" + "_" * 35 for i in range(12)]
        + ["From: a", "Sent: b", "> > On Mon wrote:", "From: a", "Sent: b", "-----Original Message-----"])
    expected = (EmailReplyParser(languages=["en"]).read(window).latest_reply or "").strip()
    assert reply_header.latest_reply(window, ("en",)) == expected


def test_every_language_we_hand_over_is_read_only_at_line_starts():
    # the speed depends on it: a language whose header pattern can start mid-line is
    # scanned at every character (still correct, three times slower)
    for language in set(_MARKER_LANGUAGE.values()) | {"en"}:
        _, anchored = reply_header._reader(("en", language) if language != "en" else ("en",))
        assert anchored, language


def test_a_pattern_that_can_start_anywhere_is_not_taken_for_anchored():
    assert reply_header._anchored("^(?:On|Am) .* wrote:$")
    assert not reply_header._anchored("^On .* wrote:|-----Original-----")  # second branch starts anywhere
    assert reply_header._anchored("^[|(]x")  # a "|" inside a class is no branch
    assert not reply_header._anchored("((?:(?:^|\\n|\\n(?:> ?)*)?-----Oprindelig")  # the anchor is optional
    # Danish in mail-parser-reply has such a pattern: it is still read exactly, by a full scan
    window = "Tak.\n\nFra: Support\nSendt: mandag\nTil: Mike\n\nVi har sendt den."
    assert not reply_header._reader(("en", "da"))[1]
    expected = (EmailReplyParser(languages=["en", "da"]).read(window).latest_reply or "").strip()
    assert reply_header.latest_reply(window, ("en", "da")) == expected


def test_the_last_line_of_a_mail_with_no_history_stays_new_text():
    # a line starting with "On " makes the reply parser look; finding no header, nothing
    # is history, the last line included (it used to fall outside the window it read)
    text = "I ordered boots.\nOn Monday they had not arrived.\n\nThanks, Mike"
    assert split_reply(text) == (text, "")
