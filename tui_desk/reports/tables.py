"""Reports as tables: sections of typed columns, for Rich tables and CSV alike.

Values stay raw here (seconds, fractions); the front end formats a duration column as
"2h 05m" on screen and writes plain seconds to CSV, so a spreadsheet can compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# column kinds: text, int, seconds (a duration), rate (a fraction), number
Column = tuple[str, str]


@dataclass
class Section:
    """One table of a report."""

    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)


def sections(data: dict) -> list[Section]:
    """The tables of any report's data, main table first (CSV prints that one)."""
    return _BUILDERS[data["report"]](data)


def _summary(d: dict) -> list[Section]:
    fr, res, sat, sla = d["first_response"], d["resolution"], d["satisfaction"], d["sla"]
    main = Section("Summary", [("figure", "text"), ("value", "number")])
    add = main.rows.append
    add(["conversations opened", d["opened"]])
    add(["conversations solved", d["solved"]])
    add(["backlog at end of period", d["backlog"]])
    add(["customers who wrote", d["customers"]])
    for name, figures in (("first response", fr), ("resolution", res)):
        for clock in ("calendar", "business"):
            for which in ("median", "p90"):
                # "calendar"/"business" name the clock, not a unit: the value is a duration
                add([f"{name} {which}, {clock} time", ("seconds", figures[clock][which])])
    add(["conversations awaiting a first response", fr["unanswered"]])
    add(["one-touch resolution rate", ("rate", d["one_touch"]["rate"])])
    add(["reopen rate", ("rate", d["reopened"]["rate"])])
    add(["satisfaction average (1-5)", sat["average"]])
    add(["satisfaction answers", sat["answers"]])
    add(["CSAT (answers 4-5)", ("rate", sat["csat"])])
    add(["happiness (% great - % not good)", sat["happiness"]])
    add(["survey response rate", ("rate", sat["response_rate"])])
    add([f"SLA breaches, {sla['clock']} time", sla["breached"]])
    add(["SLA breach rate", ("rate", sla["rate"])])
    targets = Section("SLA by priority", [("priority", "text"), ("target hours", "number"),
                                           ("checked", "int"), ("breached", "int")])
    for priority, counts in sla["by_priority"].items():
        targets.rows.append([priority, sla["targets_hours"][priority], counts["checked"], counts["breached"]])
    trend = Section(f"Trend per {d['trend']['bucket']}", [("from", "text"), ("opened", "int"), ("solved", "int")])
    trend.rows = [[r["start"], r["opened"], r["solved"]] for r in d["trend"]["rows"]]
    weeks = Section("Satisfaction per week", [("week of", "text"), *SATISFACTION_COLUMNS])
    weeks.rows = [[w["week"], *satisfaction_cells(w)] for w in d.get("satisfaction_weeks", []) if w["surveys_sent"]
                  or w["answers"]]
    return [main, targets, trend, weeks]


# CSAT: answers of 4 or 5 among all; happiness: % great (4-5) - % not good (1-2)
SATISFACTION_COLUMNS: list[Column] = [("sent", "int"), ("answered", "rate"), ("answers", "int"), ("avg", "number"),
                                      ("CSAT", "rate"), ("happiness", "number")]


def satisfaction_cells(s: dict) -> list:
    return [s["surveys_sent"], s["response_rate"], s["answers"], s["average"], s["csat"], s["happiness"]]


def _channels(d: dict) -> list[Section]:
    main = Section("Channels (FRT: first response time; bh: business hours)", [
        ("channel", "text"), ("opened", "int"), ("msgs in", "int"), ("solved", "int"), ("FRT median", "seconds"),
        ("FRT p90", "seconds"), ("FRT median bh", "seconds"), ("resolution median", "seconds")])
    surveys = Section("Satisfaction per channel (CSAT: answers 4-5; happiness: % great - % not good)",
                      [("channel", "text"), *SATISFACTION_COLUMNS])
    for r in d["channels"]:
        fr, res = r["first_response"], r["resolution"]
        main.rows.append([r["channel"], r["opened"], r["messages_in"], r["solved"], fr["calendar"]["median"],
                          fr["calendar"]["p90"], fr["business"]["median"], res["calendar"]["median"]])
        surveys.rows.append([r["channel"], *satisfaction_cells(r["satisfaction"])])
    return [main, surveys]


def _agents(d: dict) -> list[Section]:
    main = Section("Agents (FRT: first response time; bh: business hours; avg: satisfaction 1-5)", [
        ("agent", "text"), ("replies", "int"), ("solved", "int"), ("first replies", "int"), ("FRT median", "seconds"),
        ("FRT median bh", "seconds"), ("avg", "number"), ("answers", "int"), ("on-call h", "number")])
    surveys = Section("Satisfaction per agent (CSAT: answers 4-5; happiness: % great - % not good)",
                      [("agent", "text"), *SATISFACTION_COLUMNS])
    for r in d["agents"]:
        main.rows.append([r["agent"], r["replies"], r["solved"], r["first_responses"],
                          r["first_response_median"]["calendar"], r["first_response_median"]["business"],
                          r["satisfaction"]["average"], r["satisfaction"]["answers"], r["oncall_hours"]])
        surveys.rows.append([r["agent"], *satisfaction_cells(r["satisfaction"])])
    return [main, surveys]


def _templates(d: dict) -> list[Section]:
    main = Section("Templates (avg / CSAT after: the satisfaction answers given after a use)", [
        ("template", "text"), ("uses", "int"), ("closed", "int"), ("reopened", "int"), ("pending", "int"),
        ("close rate", "rate"), ("avg after", "number"), ("CSAT after", "rate"), ("happiness", "number"),
        ("answers", "int"), ("automate?", "text")])
    for r in d["templates"]:
        main.rows.append([r["template"], r["uses"], r["closed"], r["reopened"], r["pending"], r["close_rate"],
                          r["satisfaction"]["average"], r["satisfaction"]["csat"], r["satisfaction"]["happiness"],
                          r["satisfaction"]["answers"], "yes" if r["ready_to_automate"] else "no"])
    surveys = Section("Survey templates (CSAT: answers 4-5; happiness: % great - % not good)",
                      [("survey template", "text"), *SATISFACTION_COLUMNS])
    surveys.rows = [[r["template"], *satisfaction_cells(r)] for r in d.get("surveys", [])]
    return [main, surveys]


def _hours(d: dict) -> list[Section]:
    # hours down, weekdays across: 24 rows of 7 fit a terminal, 7 rows of 24 do not
    main = Section(f"Messages from customers by hour and weekday ({d['period']['timezone']})",
                   [("hour", "text")] + [(day, "int") for day in d["heatmap"]["weekdays"]])
    counts = d["heatmap"]["counts"]
    for h in d["heatmap"]["hours"]:
        main.rows.append([f"{h:02d}", *(counts[day][h] for day in range(7))])
    w, out = d["what_if"], d["outside_business_hours"]
    facts = Section("Outside business hours and the on-call what-if", [("figure", "text"), ("value", "number")])
    facts.rows = [
        ["messages from customers", d["messages_in"]],
        ["arriving outside business hours", out["count"]],
        ["share outside business hours", ("rate", out["share"])],
        ["conversations opened after hours (answered)", w["opened_after_hours"]],
        ["first response median, as it was", ("seconds", w["actual"]["median"])],
        [f"first response median, on call within {w['oncall_minutes']} min", ("seconds", w["with_oncall"]["median"])],
        ["first response p90, as it was", ("seconds", w["actual"]["p90"])],
        [f"first response p90, on call within {w['oncall_minutes']} min", ("seconds", w["with_oncall"]["p90"])],
    ]
    return [main, facts]


def _backlog(d: dict) -> list[Section]:
    statuses = ["new", "open", "pending", "snoozed"]
    main = Section("Backlog by age", [("age", "text")] + [(s, "int") for s in statuses] + [("total", "int")])
    for r in d["by_age"]:
        main.rows.append([r["age"], *(r[s] for s in statuses), r["total"]])
    waiting = Section("Waiting longest", [("id", "int"), ("customer", "text"), ("subject", "text"),
                                          ("status", "text"), ("assignee", "text"), ("waiting", "seconds")])
    for w in d["waiting_longest"]:
        waiting.rows.append([w["conversation"], w["customer"], w["subject"], w["status"], w["assignee"],
                             w["waiting_seconds"]])
    return [main, waiting]


_BUILDERS = {"summary": _summary, "channels": _channels, "agents": _agents, "templates": _templates,
             "hours": _hours, "backlog": _backlog}


def duration_text(value: float | None) -> str:
    """Seconds for people: "45s", "12m", "3h 05m", "2d 04h"."""
    if value is None:
        return "-"
    value = int(round(value))
    if value < 60:
        return f"{value}s"
    minutes, hours_, days = value // 60, value // 3600, value // 86400
    if value < 3600:
        return f"{minutes}m"
    if value < 86400:
        return f"{hours_}h {minutes % 60:02d}m"
    return f"{days}d {hours_ % 24:02d}h"


def value_text(column_type: str, value) -> str:
    """A cell as shown on screen; a (kind, value) tuple overrides the column's kind."""
    if isinstance(value, tuple):
        column_type, value = value
    if value is None:
        return "-"
    if column_type == "seconds":
        return duration_text(value)
    if column_type == "rate":
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def csv_row(row: list) -> list:
    """A row as written to CSV. A figure whose value is a duration says so in its name
    ("first response median, calendar time (seconds)"), as duration columns do."""
    if row and isinstance(row[0], str) and any(isinstance(v, tuple) and v[0] == "seconds" for v in row[1:]):
        row = [f"{row[0]} (seconds)", *row[1:]]
    return [value_raw(v) for v in row]


def value_raw(value):
    """A cell as written to CSV: plain numbers (seconds, fractions), empty for none."""
    if isinstance(value, tuple):
        value = value[1]
    return "" if value is None else value
