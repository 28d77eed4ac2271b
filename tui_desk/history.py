"""A conversation's events in plain words, for the console's history and the CLI.

    describe({"kind": "rule.matched", "actor": "rule:billing", "data": {...}})
    → "rule billing: tagged billing, assigned to group billing → ana"
"""

from __future__ import annotations

from .textsafe import one_line

# events that repeat what another line says already (a rule's own tags/assignee events
# are summed up by its rule.matched line)
_COVERED_BY_RULE = ("tags", "assignee", "priority", "status", "group", "note", "reply_queued",
                    "template_used", "action.applied", "action.suppressed", "page.requested")


def who(actor: str) -> str:
    """"rule:billing" → "rule billing"; people and parts of the desk as they are."""
    return "rule " + actor[5:] if actor.startswith("rule:") else actor


def describe(event: dict) -> str | None:
    """One line for the event; None when another line of the history says it already."""
    what, actor, data = event["kind"], event.get("actor") or "", event.get("data") or {}
    if actor.startswith("rule:") and what in _COVERED_BY_RULE:
        return None
    text = _words(what, data)
    return one_line(f"{who(actor)}: {text}" if what != "rule.matched" else text)


def _words(what: str, d: dict) -> str:
    if what == "rule.matched":
        return d.get("words") or f"rule {d.get('rule')} fired"
    if what == "created":
        return f"conversation started on {d.get('channel', '?')}"
    if what == "status":
        why = f" ({d['why']})" if d.get("why") else ""
        until = f" until {d['until']}" if d.get("until") else ""
        return f"status {d.get('from')} → {d.get('to')}{until}{why}"
    if what == "assignee":
        if not d.get("to"):
            return f"unassigned (was {d.get('from')})"
        return f"assigned to {d['to']}" + (" (replied first)" if d.get("why") == "replied first" else "")
    if what == "priority":
        return f"priority {d.get('from')} → {d.get('to')}"
    if what == "tags":
        return ", ".join([f"tagged {t}" for t in d.get("added", [])] + [f"untagged {t}" for t in d.get("removed", [])])
    if what == "group":
        return f"moved to group {d['to']}" if d.get("to") else "taken out of its group"
    if what == "note":
        return "wrote an internal note"
    if what == "reply_queued":
        return f"queued a reply (sends at {d.get('deliver_at', '?')})"
    if what == "reply_sent":
        return "reply sent"
    if what == "reply_failed":
        return f"reply failed: {d.get('error', '?')}"
    if what == "reply_cancelled":
        return "took a reply back before it was sent"
    if what == "reply_retry":
        return "sent a failed reply again"
    if what == "template_used":
        return f"used template {d.get('template')}"
    if what == "merged":
        across = " (across customers: replies still go to this conversation's customer)" if d.get("across_customers") else ""
        return (f"merged conversation {d['from']} into this one" if "from" in d
                else f"merged into conversation {d.get('into')}") + across
    if what == "unmerged":
        return (f"took conversation {d['from']} back out of this one" if "from" in d
                else f"unmerged from conversation {d.get('into')}") + f" ({d.get('messages', '?')} messages)"
    if what == "customer_linked":
        why = f" ({d['reason']})" if d.get("reason") else ""
        return f"linked customer {d.get('from')} to customer {d.get('into')}{why}"
    if what == "customer_unlinked":
        return f"customer {d.get('back_to')} separated again from customer {d.get('from')} (undid merge {d.get('merge')})"
    if what in ("page", "page.requested"):
        return f"paged {d.get('who') or d.get('person') or 'on call'}"
    if what == "other_copy":
        text = "same text" if d.get("same_text") else "different text"
        return (f"another mail from {d.get('from') or '?'} came under Message-ID {d.get('message_id')} with other"
                f" bytes ({d.get('size')} bytes, {text}); not stored as a message")
    if what == "template.demoted":
        return f"template {d.get('template')} taken out of auto, back to {d.get('to')}: {d.get('reason')}"
    if what == "action.suppressed":
        return f"{d.get('action')} held back: {d.get('reason')}"
    details = ", ".join(f"{k} {v}" for k, v in d.items())
    return f"{what.replace('_', ' ')}" + (f": {details}" if details else "")
