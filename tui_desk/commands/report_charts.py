"""Terminal charts for `tui-desk report --format chart` (plotext): the opened/solved trend,
per-channel and per-agent bars, the weekday × hour heatmap, the backlog by age.

Labels that come from the database (channel, agent, template names) are cleaned to one
line of plain text first: plotext prints them verbatim.
"""

from __future__ import annotations

import shutil

import plotext

from ..textsafe import one_line


def chart(data: dict, color: bool = True) -> str:
    """The report as a chart, ready to print ("" when there is nothing to draw)."""
    figure = plotext.figure
    figure.clear()
    width, height = shutil.get_terminal_size((100, 30))
    figure.plot_size(min(width, 140), max(min(height - 2, 30), 15))
    if data["report"] == "hours" and not color and data["messages_in"]:
        return _shaded_heatmap(data)
    drawn = _DRAW[data["report"]](figure, data)
    if not drawn:
        return ""
    return figure.build().string(colorless=not color)


SHADES = " .:-=+*#%@"
DATE_LABEL_WIDTH = 14  # "2026-11-02" and the space to the next one
MARKERS = ["█", "▒", "░", "▞"]  # groups stay apart without colour too


def _shaded_heatmap(d: dict) -> str:
    """The heatmap without colour (a pipe, a file): one shade character per cell, from
    " " (no messages) to "@" (the busiest hour)."""
    counts = d["heatmap"]["counts"]
    top = max(max(row) for row in counts) or 1
    lines = ["Messages from customers by weekday and hour (' ' none ... '@' busiest: "
             f"{top} messages)", "     " + "".join(f"{h:<3d}" for h in d["heatmap"]["hours"])]
    for day, row in zip(d["heatmap"]["weekdays"], counts):
        cells = "".join(SHADES[0 if n == 0 else 1 + (n * (len(SHADES) - 2)) // top] * 2 + " " for n in row)
        lines.append(f"{day}  {cells}")
    return "\n".join(lines)


def _labels(values) -> list[str]:
    return [one_line(str(v))[:24] or "-" for v in values]


def _summary(figure, d: dict) -> bool:
    rows = d["trend"]["rows"]
    if not rows:
        return False
    x = list(range(1, len(rows) + 1))
    figure.draw(figure.signal(x, [r["opened"] for r in rows]).lines().label("opened"))
    figure.draw(figure.signal(x, [r["solved"] for r in rows]).lines().label("solved"))
    # the x axis names days, not positions: as many dates as fit side by side
    step = -(-len(rows) // max(1, figure.size()[0] // DATE_LABEL_WIDTH))
    figure.ruler(axis=0).ticks(x[::step], [r["start"] for r in rows][::step])
    figure.title(f"Conversations per {d['trend']['bucket']} from {rows[0]['start']} to {rows[-1]['start']}")
    return True


def _channels(figure, d: dict) -> bool:
    rows = d["channels"]
    if not rows:
        return False
    figure.draw(figure.bar(_labels(r["channel"] for r in rows), [[r["opened"] for r in rows],
                                                                 [r["solved"] for r in rows]], marker=MARKERS[:2]))
    figure.title("Opened (█) and solved (▒) per channel")
    return True


def _agents(figure, d: dict) -> bool:
    rows = d["agents"]
    if not rows:
        return False
    figure.draw(figure.bar(_labels(r["agent"] for r in rows), [[r["replies"] for r in rows],
                                                               [r["solved"] for r in rows]], marker=MARKERS[:2]))
    figure.title("Replies (█) and solved (▒) per agent")
    return True


def _templates(figure, d: dict) -> bool:
    rows = d["templates"][:20]
    if not rows:
        return False
    figure.draw(figure.bar(_labels(r["template"] for r in rows), [r["uses"] for r in rows], orientation="horizontal"))
    figure.title("Uses per template")
    return True


def _hours(figure, d: dict) -> bool:
    if not d["messages_in"]:
        return False
    figure.draw(figure.heatmap(d["heatmap"]["counts"], map="viridis", fill=True))
    figure.title("Messages from customers: weekday (Mon at the top) × hour (00-23)")
    return True


def _backlog(figure, d: dict) -> bool:
    if not d["total"]:
        return False
    statuses = ["new", "open", "pending", "snoozed"]
    figure.draw(figure.bar([r["age"] for r in d["by_age"]], [[r[s] for r in d["by_age"]] for s in statuses],
                           stacked=True, marker=MARKERS))
    figure.title("Backlog by age, stacked: new █, open ▒, pending ░, snoozed ▞")
    return True


_DRAW = {"summary": _summary, "channels": _channels, "agents": _agents, "templates": _templates,
         "hours": _hours, "backlog": _backlog}
