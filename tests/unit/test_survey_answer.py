"""Reading replies to the satisfaction survey: realistic answers, in the demo's languages."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from tui_desk.survey.answer import Answer, own_text, read_answer

QUOTED_SURVEY = ("On Tue, 3 Nov 2026 at 10:00, Example Support <support@example.com> wrote:\n"
                 "> How did we do? Reply with a number from 1 (bad) to 5 (great).\n"
                 "> What could we do better?")

# (what the customer wrote, the score read, the comment kept)
SCORES = [
    ("5", 5, ""),
    ("4 thanks!", 4, "thanks!"),
    ("3", 3, ""),
    ("1", 1, ""),
    ("2.", 2, ""),
    ("5!", 5, ""),
    ("  4  ", 4, ""),
    ("5/5", 5, ""),
    ("4/5 - quick and friendly", 4, "quick and friendly"),
    ("4 / 5", 4, ""),
    ("4 out of 5", 4, ""),
    ("4 stars", 4, ""),
    ("5 stars but the box was damaged", 5, "but the box was damaged"),
    ("1 star. Nobody answered for a week", 1, "Nobody answered for a week"),
    ("2 - the refund took far too long", 2, "the refund took far too long"),
    ("1, the courier lost my parcel and nobody cared", 1, "the courier lost my parcel and nobody cared"),
    ("5\n\nAnna was lovely, thank you", 5, "Anna was lovely, thank you"),
    ("3 it was ok", 3, "it was ok"),
    ("Score: 4", 4, ""),
    ("Rating: 2 - slow", 2, "slow"),
    ("(5)", 5, ""),
    ("*4*", 4, ""),
    ("５", 5, ""),                      # a full-width digit from a CJK keyboard
    ("4 von 5 Sternen", 4, "Sternen"),
    ("5 Sterne, danke!", 5, "danke!"),
    ("5分", 5, ""),
    ("4星，谢谢", 4, "谢谢"),
    ("⭐⭐⭐⭐⭐", 5, ""),
    ("⭐️⭐️⭐️", 3, ""),
    ("★★★★☆ fast shipping", 4, "fast shipping"),
    ("⭐⭐ too slow", 2, "too slow"),
    ("😀", 5, ""),
    ("🙂 thanks", 4, "thanks"),
    ("😐", 3, ""),
    ("🙁 still waiting for my refund", 2, "still waiting for my refund"),
    ("😡😡😡", 1, ""),
    ("👍", 5, ""),
    ("👍🏽 all good", 5, "all good"),
    ("👎", 1, ""),
    ("❤️", 5, ""),
    ("Great", 5, ""),
    ("great, thanks a lot!", 5, "thanks a lot!"),
    ("Excellent service!", 5, "service!"),
    ("Very good", 5, ""),
    ("good", 4, ""),
    ("Good, but the tracking link did not work", 4, "but the tracking link did not work"),
    ("ok", 3, ""),
    ("OK.", 3, ""),
    ("not bad", 3, ""),
    ("bad", 2, ""),
    ("Poor - I had to write three times", 2, "I had to write three times"),
    ("terrible", 1, ""),
    ("Terrible. Never again.", 1, "Never again."),
    ("sehr gut", 5, ""),
    ("gut", 4, ""),
    ("Gut, danke", 4, "danke"),
    ("schlecht", 2, ""),
    ("sehr schlecht, niemand hat geantwortet", 1, "niemand hat geantwortet"),
    ("super!", 5, ""),
    ("très bien", 5, ""),
    ("muy bien, gracias", 5, "gracias"),
    ("好", 4, ""),
    ("好！", 4, ""),
    ("很好", 5, ""),
    ("非常满意", 5, ""),
    ("还行", 3, ""),
    ("差", 2, ""),
    ("很差，快递太慢了", 1, "快递太慢了"),
    ("不满意", 2, ""),
    # the answer on top, the survey quoted below it
    ("4\n\n" + QUOTED_SURVEY, 4, ""),
    ("5 - thanks again\n\n-- \nJane Doe\nFlat 1, 22 High Street", 5, "thanks again"),
    ("4\nSent from my iPhone", 4, ""),
    ("3\r\n\r\nVon meinem iPhone gesendet", 3, ""),
    # written below the quoted survey (bottom-posting)
    (QUOTED_SURVEY + "\n\n4 - all good", 4, "all good"),
]

# replies that are no score: ordinary messages, which reopen the conversation
NO_SCORES = [
    "thanks",
    "Thank you!",
    "Thanks for your help, all sorted now",
    "Danke!",
    "谢谢",
    "好的，谢谢",                                   # "alright, thanks": an acknowledgement
    "> 5\nThanks",                                  # the score is in the quote
    "Thanks!\n\n" + QUOTED_SURVEY,                  # the survey's own "1" and "5" are quoted
    "> Reply with a number from 1 to 5\n\nI never got the refund",
    "Thanks!\n-- \nJohn Smith\n1 Infinite Loop",    # a "1" inside the signature
    "-- \n1 Main Street, Springfield",              # nothing but a signature
    "2 boxes arrived damaged",
    "3 days and still no answer",
    "1 more question: can I change the address?",
    "5pm works for the call",
    "4th attempt to reach you",
    "1.5 kg is the weight",
    "10/10",
    "5/10",
    "1-2 days is fine",
    "2x the wrong size",
    "5% discount code did not work",
    "12 items missing",
    "Good morning, I have another question",
    "Great news: it arrived after all",
    "Bad news, the replacement broke too",
    "Ok so where is my refund?",
    "okay, but it still does not work",
    "fine by me, please send the label",
    "The parcel arrived, 5 stars",                  # the score is not at the start
    "I'd give you a 5",
    "Hi, the box is still missing",
    "Where is my order #51234?",
    "",
    "   ",
    "😀😡",                                         # two faces that disagree
    "差不多到了",                                    # "almost arrived", not "bad"
    "Normal shipping took a week",
]


@pytest.mark.parametrize(("text", "score", "comment"), SCORES)
def test_scores(text, score, comment):
    assert read_answer(text) == Answer(score, comment)


@pytest.mark.parametrize("text", NO_SCORES)
def test_no_scores(text):
    assert read_answer(text) is None


def test_enough_realistic_answers():
    assert len(SCORES) + len(NO_SCORES) >= 60


def test_own_text_stops_at_quotes_and_signatures():
    assert own_text("fine\n> 5\nmore") == "fine\nmore"
    assert own_text("4\n\n-----Original Message-----\nFrom: x") == "4"
    assert own_text("5\n--\nAnn") == "5"


@given(st.text(max_size=200))
def test_any_text_reads_as_a_score_or_none(text):
    answer = read_answer(text)
    assert answer is None or (1 <= answer.score <= 5 and len(answer.comment) <= 2000)


@given(st.sampled_from(["🙂", "4", "great", "⭐⭐⭐⭐"]), st.text(alphabet="> ", max_size=5))
def test_a_quoted_score_never_counts(score, indent):
    assert read_answer(f">{indent}{score}\nthanks") is None
