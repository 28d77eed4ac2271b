"""Plain tables and lines for the CLI, without rich (issue 21).

Importing rich and laying out one of its tables cost a command 45–120 ms; the CLI's
tables are plain columns, so this module prints them itself: a header (bold on a
terminal), columns two spaces apart, as wide as their widest cell. A table wider than
the terminal (`$COLUMNS`, else the terminal's width, else 80, as rich measured it)
narrows its widest wrapping columns first, down to the next widest, and wraps their
cells at spaces; a word longer than its column, or a `no_wrap` cell that does not fit,
is cut with "…". Widths count display cells (a CJK character is two), measured by
rich.cells, the one small part of rich imported, and only for text beyond the narrow
scripts.

Cells are text, printed as given: never read as markup. Callers clean untrusted text
first (`common.cell` does: textsafe.one_line).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from typing import TextIO

_STYLES = {"bold": "\x1b[1m", "dim": "\x1b[2m"}
# one cell each: printable Latin (with its accents precomposed), Greek, Cyrillic and the
# general punctuation ("…", dashes, quotes); anything else is measured a character at a time
_NARROW = re.compile("[\x20-\x7e\xa0-\xac\xae-\u02ff\u0370-\u0482\u048a-\u052f\u2010-\u2027\u2030-\u205e]*")


def width(text: str) -> int:
    """Display cells `text` takes (a CJK character two, a combining mark none): rich's
    own measure, imported only for text outside the narrow scripts (~1.6 ms)."""
    if text.isascii() or _NARROW.fullmatch(text):
        return len(text)
    from rich.cells import cell_len
    return cell_len(text)


def cut(text: str, room: int) -> str:
    """`text` if it fits in `room` cells, else as much as fits with "…" at the end (a
    wide character that does not fit leaves a space, as rich cuts)."""
    if width(text) <= room:
        return text
    if room <= 0:
        return ""
    if text.isascii() or _NARROW.fullmatch(text):
        return text[:room - 1] + "…"
    from rich.cells import set_cell_size
    return set_cell_size(text, room - 1) + "…"


def wrap(text: str, room: int) -> list[str]:
    """`text` in lines of at most `room` cells, broken at spaces (a longer word is cut)."""
    if width(text) <= room:
        return [text]
    lines: list[str] = []
    line, used = "", 0
    for word in text.split(" "):
        w = width(word)
        if line and used + 1 + w <= room:
            line, used = f"{line} {word}", used + 1 + w
            continue
        if line:
            lines.append(line)
        line, used = (word, w) if w <= room else (cut(word, room), room)
    lines.append(line)
    return lines


def terminal_width() -> int:
    """$COLUMNS, else the terminal's width, else 80 (a pipe or a file)."""
    return shutil.get_terminal_size((80, 24)).columns


def styled(text: str, style: str | None, stream: TextIO) -> str:
    """`text` in `style` ("bold", "dim") when `stream` is a terminal that shows styles."""
    if not style or not text or not _shows_styles(stream):
        return text
    return f"{_STYLES[style]}{text}\x1b[0m"


def _shows_styles(stream: TextIO) -> bool:
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") not in ("dumb", "unknown")


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """`values` less `total`, shared by `ratios`, each less at most its maximum (rich's)."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining, result = total, []
    for ratio, most, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            share = min(most, round(ratio * remaining / total_ratio))
            result.append(value - share)
            remaining -= share
            total_ratio -= ratio
        else:
            result.append(value)
    return result


@dataclass
class Column:
    """One column: its header and whether its cells may wrap onto more lines."""

    header: str
    no_wrap: bool = False


class PlainTable:
    """Rows of text cells under a header, printed as aligned columns (see the module)."""

    def __init__(self, *headers: str) -> None:
        self.columns = [Column(h) for h in headers]
        self.rows: list[list[str]] = []

    def add_row(self, *cells: object) -> None:
        """One row: a cell per column (str() of each; missing ones are blank)."""
        row = ["" if c is None else str(c) for c in cells]
        self.rows.append(row + [""] * (len(self.columns) - len(row)))

    def _pads(self) -> list[int]:
        """Padding cells of each column: one each side of a gap, none at the edges."""
        last = len(self.columns) - 1
        return [(i > 0) + (i < last) for i in range(len(self.columns))]

    def widths(self, room: int) -> list[int]:
        """Each column's width, its padding included, in a table of at most `room` cells.
        rich's arithmetic (Table._calculate_column_widths, _collapse_widths), so a table
        keeps the look it had: the widest wrapping columns give way to the next widest
        first; if that is not enough, every column gives way evenly."""
        pads = self._pads()
        widths = [min(room, pad + max(width(r[i]) for r in [[c.header for c in self.columns], *self.rows])) or 1
                  for i, pad in enumerate(pads)]
        if sum(widths) <= room:
            return widths
        wrapping = [not c.no_wrap for c in self.columns]
        excess = sum(widths) - room
        while any(wrapping) and sum(widths) and excess > 0:
            widest = max(w for w, wraps in zip(widths, wrapping) if wraps)
            second = max(w if wraps and w != widest else 0 for w, wraps in zip(widths, wrapping))
            ratios = [1 if (w == widest and wraps) else 0 for w, wraps in zip(widths, wrapping)]
            if not any(ratios) or widest == second:
                break
            widths = _ratio_reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
            excess = sum(widths) - room
        if excess > 0:  # last resort: every column evenly
            widths = _ratio_reduce(excess, [1] * len(widths), widths, widths)
        return widths

    def lines(self, room: int, stream: TextIO | None = None) -> list[str]:
        """The printed lines, trailing spaces trimmed; the header styled for `stream`."""
        widths = self.widths(room)
        header = self._row([c.header for c in self.columns], widths, lambda text: styled(text, "bold", stream),
                           bottom=True)
        return header + [line for row in self.rows for line in self._row(row, widths, str)]

    def _row(self, row: list[str], widths: list[int], style, bottom: bool = False) -> list[str]:
        """One row's lines: each cell wrapped (or cut) to its column, padded to align;
        the header's cells sit at its bottom line, as rich puts them."""
        pads = self._pads()
        inner = [max(w - pad, 0) for w, pad in zip(widths, pads)]
        cells = [[cut(text, w)] if column.no_wrap else wrap(text, w)
                 for column, text, w in zip(self.columns, row, inner)]
        height = max(len(c) for c in cells)
        if bottom:
            cells = [[""] * (height - len(c)) + c for c in cells]
        lines = []
        for n in range(height):
            parts = []
            for i, (texts, w, pad, full) in enumerate(zip(cells, inner, pads, widths)):
                if not full:  # no room left for it at all
                    continue
                text = texts[n] if n < len(texts) else ""
                left = " " if i else ""
                parts.append(left + (style(text) if text else "") + " " * (w - width(text) + pad - len(left)))
            lines.append("".join(parts).rstrip())
        return lines

    def print(self, stream: TextIO | None = None) -> None:
        stream = stream or sys.stdout
        stream.write("\n".join(self.lines(terminal_width(), stream)) + "\n")
