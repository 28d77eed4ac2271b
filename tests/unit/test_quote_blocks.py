"""Quote blocks left inside a message's text are found for folding at display time."""

from __future__ import annotations

import pytest

from tui_desk.parse.text import quote_blocks

OUTLOOK = """Thanks, that works.

  Derek

      From: Northwind Outfitters Support <support@northwind.example>
      Sent: Thursday, January 8, 2026 8:31 AM
      To: Derek Walsh <derek@example.net>
      Subject: Re: order NW-103871


    Dear Mr Walsh,
    I am truly sorry."""

ORIGINAL = """Danke!

----- Original Message -----
From: "Support" <support@northwind.example>
Sent: Monday, January 12, 2026 4:30 PM

> Dear Somchai,"""

BOTTOM_POSTED = """On 07/01/2026 14:05, Support wrote:
> Hi Ingrid,
>
> the label is attached.

Thanks! I'll post it today.

Ingrid"""

WRAPPED_ATTRIBUTION = """Thank you.

On Wed, 07 Jan 2026 18:10:53 +0900
Support <support@northwind.example> wrote:

> Dear Mr Sato,"""

INTERLEAVED = """> Can you send the invoice?
Yes, attached.
> And the tracking number?
PP-7781."""


def kinds(text: str) -> list[tuple[bool, str]]:
    return [(is_quote, piece.strip().splitlines()[0] if piece.strip() else "") for is_quote, piece in quote_blocks(text)]


@pytest.mark.parametrize("text", [OUTLOOK, ORIGINAL, BOTTOM_POSTED, WRAPPED_ATTRIBUTION, INTERLEAVED, "", "plain"])
def test_nothing_is_dropped(text):
    assert "\n".join(piece for _, piece in quote_blocks(text)) == text


def test_outlook_header_block_runs_to_the_end():
    assert kinds(OUTLOOK) == [(False, "Thanks, that works."), (True, "From: Northwind Outfitters Support "
                                                                     "<support@northwind.example>")]


def test_original_message_separator_runs_to_the_end():
    assert kinds(ORIGINAL) == [(False, "Danke!"), (True, "----- Original Message -----")]


def test_bottom_posted_quote_takes_its_attribution_line():
    assert kinds(BOTTOM_POSTED) == [(True, "On 07/01/2026 14:05, Support wrote:"), (False, "Thanks! I'll post it today.")]


def test_attribution_wrapped_over_two_lines():
    assert kinds(WRAPPED_ATTRIBUTION) == [(False, "Thank you."), (True, "On Wed, 07 Jan 2026 18:10:53 +0900")]


def test_interleaved_answers_stay_visible():
    assert [q for q, _ in quote_blocks(INTERLEAVED)] == [True, False, True, False]


def test_a_from_line_alone_is_not_a_quote():
    assert kinds("From: the shop's website I ordered boots\nThey are too small.") == [
        (False, "From: the shop's website I ordered boots")]
