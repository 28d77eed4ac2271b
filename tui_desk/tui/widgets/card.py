"""The customer card beside a conversation: who they are, their time, their history,
and which colleagues are in this conversation right now."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ...textsafe import one_line
from ..format import age


def customer_time(zone: str | None, now: dt.datetime) -> str:
    """The customer's wall-clock time, when their zone is known and valid."""
    if not zone:
        return ""
    try:
        return now.astimezone(ZoneInfo(zone)).strftime("%H:%M %a") + f" ({zone})"
    except (ZoneInfoNotFoundError, ValueError):
        return ""


def presence_text(present: list[dict]) -> Text:
    text = Text()
    for p in present:
        verb = "is writing a reply ✎" if p["mode"] == "writing" else "is viewing"
        text.append(f"{one_line(p['agent'])} {verb}\n", "bold")
    return text


COMMENT_CHARS = 60  # a comment on the card is a glimpse; the message holds it whole


def scores_text(scores: list[dict], now: dt.datetime) -> Text:
    """The customer's latest survey answers: "4/5 3d #12 thanks!" (the comment as text)."""
    if not scores:
        return Text("satisfaction: –\n", "dim")
    text = Text("satisfaction:\n", "dim")
    for s in scores:
        text.append(f"  {s['score']}/5", "bold red" if s["score"] <= 2 else "bold")
        text.append(f" {age(s['at'], now):>4} #{s['conversation_id']}", "dim")
        comment = one_line(s["comment"])
        if comment:
            text.append(" " + (comment[:COMMENT_CHARS - 1] + "…" if len(comment) > COMMENT_CHARS else comment))
        text.append("\n")
    return text


NOTES_CHARS = 120


def matches_text(matches: list) -> Text:
    """Likely other records of the same person, offered (L), never linked by themselves."""
    text = Text()
    for m in matches[:3]:
        text.append("likely also: ", "dim")
        text.append(f"{one_line(m.name)} ({one_line(m.reason)})", "bold")
        text.append(" · L links\n", "dim")
    return text


class CustomerCard(VerticalScroll, can_focus=False):
    """Name, organization, identities, local time, language, tags, notes, likely matches,
    conversations on every channel, satisfaction, presence."""

    def compose(self) -> ComposeResult:
        yield Static(id="card-presence", classes="card-presence")
        yield Static(id="card-customer")
        yield Static(id="card-history")

    def show(self, bundle: dict, now: dt.datetime) -> None:
        conversation, customer = bundle["conversation"], bundle.get("customer")
        presence = self.query_one("#card-presence", Static)
        presence.update(presence_text(bundle.get("present", [])))
        presence.display = bool(bundle.get("present"))
        info = Text()
        if customer:
            info.append((one_line(customer["name"]) or "(no name)") + "\n", "bold")
            if bundle.get("organization"):
                info.append(f"{one_line(bundle['organization'])}\n", "italic")
            for identity in customer["identities"]:
                info.append(f"{one_line(identity['kind'])}: {one_line(identity['address'])}\n")
            local = customer_time(customer.get("timezone"), now)
            if local:
                info.append(f"local time {local}\n")
            if bundle.get("language"):
                info.append(f"writes in {one_line(bundle['language'])}\n")
            if customer["tags"]:
                info.append("customer tags: " + ", ".join(one_line(t) for t in customer["tags"]) + "\n")
            if customer.get("notes"):
                info.append("notes: " + one_line(customer["notes"])[:NOTES_CHARS] + "\n")
            info.append_text(matches_text(bundle.get("matches", [])))
        else:
            info.append("(no customer)\n", "dim")
        info.append_text(scores_text(bundle.get("scores", []), now))
        info.append("\n")
        info.append(f"#{conversation['id']} · {conversation['channel']} · {conversation['status']}"
                    f" · {conversation['priority']}\n")
        info.append(f"assignee: {one_line(conversation['assignee']) or 'nobody'}\n")
        if conversation["tags"]:
            info.append("tags: " + ", ".join(one_line(t) for t in conversation["tags"]) + "\n")
        if conversation.get("snoozed_until"):
            info.append(f"snoozed until {conversation['snoozed_until'][:16].replace('T', ' ')} UTC\n")
        self.query_one("#card-customer", Static).update(info)
        past_ones = bundle.get("past", [])
        history = Text("Conversations", "bold")
        history.append(" (c opens one)\n" if len(past_ones) > 1 else "\n", "dim")
        for past in past_ones:
            marker = "▸ " if past["id"] == conversation["id"] else "  "
            history.append(f"{marker}#{past['id']} {past['channel'][:5]:<5} {past['status']:<7}"
                           f" {age(past['last_message_at'], now):>4} ")
            history.append(one_line(past["subject"]) + "\n", style="" if marker.strip() else "dim")
        self.query_one("#card-history", Static).update(history)
