"""Queue lines and sidebar labels measured in terminal cells: Thai combining marks, CJK,
emoji and combining accents keep every column where it belongs, at any width."""

from __future__ import annotations

import datetime as dt

import pytest
from rich.cells import cell_len
from rich.console import Console
from textual.strip import Strip

from tui_desk.tui.format import channel_glyph, fit, queue_line
from tui_desk.tui.widgets.sidebar import short_count, view_label

TEXTS = ["นารี วงศ์สวัสดิ์", "สินค้าชำรุด เสาเต็นท์หัก", "ขอใบกำกับภาษีเต็มรูป", "\u0e31\u0e48starts with marks",
         "e\u0301e\u0301e\u0301 accents", "注文が届きません", "Zoe 🙂🙂", "plain ascii"]
NOW = dt.datetime(2026, 5, 5, 10, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("text", TEXTS)
def test_fit_is_exactly_the_width(text):
    for width in range(1, 40):
        assert cell_len(fit(text, width)) == width


@pytest.mark.parametrize("text", TEXTS)
def test_queue_columns_stay_put(text):
    console = Console(width=300)
    for width in (60, 63, 80, 99, 100, 137, 160, 200):
        plain = {"id": 1, "channel": "mail", "subject": "x", "status": "new", "assignee": None,
                 "customer_name": "x", "waiting_since": "2026-05-01T00:00:00.000000Z", "unread": True}
        row = {**plain, "subject": text, "customer_name": text, "assignee": text}
        lines = [queue_line(r, width, NOW, marked=False, channel_kind="maildir") for r in (plain, row)]
        assert [cell_len(line.plain) for line in lines] == [width, width]
        # the status column starts at the same cell whatever came before it
        assert cell_len(lines[1].plain[:lines[1].plain.index(" new ")]) == \
            cell_len(lines[0].plain[:lines[0].plain.index(" new ")])
        strip = Strip(list(lines[1].render(console)), width)
        for x in range(0, width, 3):  # the compositor cuts lines where widgets overlap
            assert strip.crop(0, x).cell_length + strip.crop(x, width).cell_length == width


def test_mail_and_chat_channels_are_told_apart():
    kinds = {"mail": "maildir", "inbox": "imap", "chat": "jsonl", "room": "matrix"}
    labels = {name: view_label(f"channel:{name}", kinds) for name in kinds}
    assert labels["mail"].split()[0] == labels["inbox"].split()[0] == channel_glyph("imap")
    assert labels["chat"].split()[0] == labels["room"].split()[0] == channel_glyph("jsonl")
    assert channel_glyph("imap") != channel_glyph("jsonl")
    assert view_label("channel:odd", {}).startswith("· ")


def test_counts_fit_a_narrow_sidebar():
    assert [short_count(n) for n in (0, 9999, 10_000, 100_000, 2_500_000)] == ["0", "9999", "10k", "100k", "2M"]


def test_the_quick_bar_shows_all_nine_digits_at_120_columns():
    from rich.cells import cell_len

    from tui_desk.tui.widgets.quickbar import digits_line
    titles = [(d, f"A rather long template title number {d}") for d in range(1, 10)]
    line = digits_line(titles, 120)
    assert cell_len(line.plain) <= 120
    assert all(f" {d} " in line.plain for d in range(1, 10)), line.plain
    assert "A rath…" in line.plain
    short = [(1, "Refund"), (2, "Order status")]
    assert digits_line(short, 120).plain == digits_line(short).plain, "titles that fit stay whole"
    narrow = digits_line(titles, 80)
    assert "A rather long template title number 1" in narrow.plain, "an 80-column bar keeps whole titles"


def test_a_reply_whose_try_failed_says_why_while_it_waits_for_the_next():
    from tui_desk.tui.widgets.thread import delivery_text
    waiting = {"delivery": "queued", "deliver_at": "2026-05-05T10:00:00.000Z", "delivery_error": "channel x: refused"}
    assert delivery_text(waiting)[0].startswith("⟳ not sent yet, tried again ")
    assert "channel x: refused" in delivery_text(waiting)[0]
    assert delivery_text({**waiting, "delivery_error": None})[0].startswith("queued, goes out ")
    assert delivery_text({"delivery": None}) is None
