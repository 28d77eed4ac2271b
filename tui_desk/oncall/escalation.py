"""Pages that escalate until someone acknowledges them.

A rule's `page` action opens a page for the conversation (store.pages: one unresolved
page per conversation; another urgent message is added to it). At each sync the page
goes through the [oncall.escalation] steps: round r (0 … repeat) starts r round-lengths
after the page opened, and its step i is due `after` into the round. A round lasts as
long as its last step's `after` plus the gap before that step (10 minutes when there is
one step only), so the last step has its time before the first one comes round again.

Steps notify "oncall" (who is on call now in each rotation that pages at this hour, or
the page's own target: a rotation or a person), "next" (who is on call after them), or
roster ids. Each delivery is a notice written before it leaves and marked after it, so a
sync killed in between sends it again under the same key: the same Matrix transaction
(the homeserver posts it once) or the same Message-ID. A notify_cmd notice may run twice.

A page stops escalating when it is acknowledged (`oncall ack`, the console, or "ack"
replied to the Matrix message or the email), and is resolved when a person replies to
the customer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from ..config import Config, EscalationSection, EscalationStep
from ..durations import parse_duration
from ..errors import DeskError, UsageError
from ..model import ParsedMessage
from ..store import Store, parse_stamp, stamp
from ..textsafe import one_line
from .service import Oncall

ACK_WORDS = {"ack", "acked", "ok", "okay", "acknowledged", "acknowledge"}
KEY_PREFIX = "tuidesk-page-"
SINGLE_STEP_ROUND = dt.timedelta(minutes=10)


@dataclass
class EscalationResult:
    notified: int = 0
    failed: int = 0
    acknowledged: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"notified": self.notified, "failed": self.failed, "acknowledged": self.acknowledged,
                "resolved": self.resolved}


@dataclass(frozen=True)
class Due:
    offset: dt.timedelta
    """Since the page opened."""
    round: int
    step: int
    notify: EscalationStep


def plan(escalation: EscalationSection) -> list[Due]:
    """Every step of every round, in time order."""
    afters = [parse_duration(s.after) for s in escalation.steps]
    length = afters[-1] + (afters[-1] - afters[-2] if len(afters) > 1 else SINGLE_STEP_ROUND)
    return [Due(r * length + after, r, i, step)
            for r in range(escalation.repeat + 1) for i, (after, step) in enumerate(zip(afters, escalation.steps))]


def is_ack(text: str) -> bool:
    """Does a reply to a page acknowledge it? Its first word is "ack" or "ok"."""
    words = (text or "").strip().split(None, 1)
    return bool(words) and words[0].strip(".,!:;").casefold() in ACK_WORDS


def run(config: Config, store: Store, now: dt.datetime | None = None) -> EscalationResult:
    """Resolve answered pages, read acknowledgements, and send every step now due."""
    result = EscalationResult()
    counts = store.page_counts()
    if not counts.get("open") and not counts.get("acknowledged"):
        return result  # nothing paged: no roster read, no network
    now = now or dt.datetime.now(dt.timezone.utc)
    desk = Oncall(store, config, now=now)  # (its clock drops the microseconds: the schedule is by the minute)
    for page_id, who in store.pages_answered():
        result.resolved += store.page_resolve(page_id, who or "reply")
    _matrix_acks(desk, result)
    steps = plan(config.oncall.escalation)
    for page in store.pages_due(stamp(now)):
        opened = parse_stamp(page["created_at"])
        since = parse_stamp(page["next_at"]) if page["next_at"] else opened
        upcoming = None
        for due in steps:
            at = opened + due.offset
            if at > now:
                upcoming = at
                break
            if at >= since:
                _notify(desk, page, due, result)
        store.page_set_next(page["id"], stamp(upcoming) if upcoming else None)
    return result


def _notify(desk: Oncall, page: dict, due: Due, result: EscalationResult) -> None:
    from .page import _deliver, _no_contact  # SMTP, Matrix, commands: only when someone is paged
    store = desk.store
    try:
        targets = recipients(desk, due.notify, page["target"])
    except DeskError as exc:
        targets, why = {}, str(exc)
    else:
        why = "nobody is on call now"
    if not targets:  # recorded once per step, as a failed notice
        notice = store.page_notice_begin(page["id"], due.round, due.step, "nobody", None, _key(page, due, "nobody"))
        if notice:
            store.page_notice_end(notice["id"], False, {"error": why})
            result.failed += 1
            result.errors.append(f"page {page['id']}: {why}")
        return
    text = page_text(desk.config, page)
    for who, rotation in targets.items():
        person = desk.roster.get(who)
        notice = store.page_notice_begin(page["id"], due.round, due.step, who,
                                         person.contact if person else None, _key(page, due, who))
        if notice is None:
            continue  # delivered by an earlier run
        try:
            if person is None:
                raise _no_contact(desk.config, who)
            detail = _deliver(desk, person, rotation, text, key=notice["key"], by=f"rule {page['rule']}")
        except DeskError as exc:
            store.page_notice_end(notice["id"], False, {"error": str(exc)})
            result.failed += 1
            result.errors.append(f"page {page['id']} to {who}: {exc}")
        else:
            store.page_notice_end(notice["id"], True, {"round": due.round, "step": due.step, **detail})
            result.notified += 1


def _key(page: dict, due: Due, who: str) -> str:
    return f"{KEY_PREFIX}{page['id']}-{due.round}-{due.step}-{who}-{uuid.uuid4().hex[:12]}"


def recipients(desk: Oncall, step: EscalationStep, target: str) -> dict[str, str]:
    """Who a step notifies: person -> the rotation it is for."""
    names = [step.notify] if isinstance(step.notify, str) else list(step.notify)
    found: dict[str, str] = {}
    for name in names:
        if name in ("oncall", "next"):
            if target not in ("oncall", "") and target in desk.roster and not _is_rotation(desk, target):
                if name == "oncall":
                    found.setdefault(target, "direct")
                continue
            for rot in _rotations(desk, target):
                if not desk.active(rot, desk.now):
                    continue
                seg = rot.at(desk.now)
                if seg is None:
                    continue
                if name == "next":
                    seg = rot.at(seg.end)
                    if seg is None:
                        continue
                found.setdefault(seg.who, rot.name)
        else:
            found.setdefault(name, "escalation")
    return found


def _is_rotation(desk: Oncall, name: str) -> bool:
    return any(r["name"] == name for r in desk.store.oncall_rotations())


def _rotations(desk: Oncall, target: str):
    try:
        return desk.rotations(target if target not in ("oncall", "") else None)
    except UsageError:
        return []


def page_text(config: Config, page: dict) -> str:
    """What the page says: the conversation, the customer, the subject, the first lines,
    and how to acknowledge. One line each, the customer's words cleaned of control text."""
    s = page["summary"]
    lines = [f"Urgent: conversation #{page['conversation_id']} from {one_line(s.get('customer', ''))[:80]}",
             f"Subject: {one_line(s.get('subject', ''))[:120]}"]
    lines += ["> " + one_line(line)[:200] for line in s.get("lines", [])[:4]]
    if page["messages"] > 1:
        lines.append(f"({page['messages'] - 1} more urgent message(s) since)")
    lines.append(f'Acknowledge: reply "ack", or run `tui-desk oncall ack {page["id"]}`.')
    return "\n".join(lines)


def summary(facts: dict, subject: str, text: str) -> dict:
    """What a page keeps of the message that opened it."""
    lines = [line for line in (text or "").splitlines() if line.strip()][:4]
    return {"customer": facts.get("from", ""), "subject": subject, "lines": lines}


# -- acknowledgements ------------------------------------------------------------------


def acknowledge(store: Store, who: str, *, page_id: int | None = None, conversation_id: int | None = None,
                via: str = "cli") -> dict:
    """Acknowledge one page by id, or a conversation's; UsageError naming what is wrong."""
    if page_id is None and conversation_id is None:
        open_pages = [p for p in store.pages(unresolved=True) if p["state"] == "open"]
        if len(open_pages) != 1:
            raise UsageError("give a PAGE_ID or --conversation ID" + (
                f" ({len(open_pages)} pages are open: `tui-desk oncall pages --open`)" if open_pages else
                " (no page is open)"))
        page = open_pages[0]
    else:
        page = store.page(page_id) if page_id is not None else store.unresolved_page(conversation_id)
    if page is None:
        raise UsageError(f"no page {page_id}" if page_id is not None else
                         f"conversation {conversation_id} has no unresolved page")
    if page["state"] != "open":
        raise UsageError(f"page {page['id']} is {page['state']} already"
                         + (f" (by {page['acked_by']})" if page["acked_by"] else ""))
    store.page_acknowledge(page["id"], who, via)
    return store.page(page["id"])


def email_reply(store: Store, msg: ParsedMessage) -> bool:
    """Is this inbound mail a reply to an email page? Then it acknowledges the page
    when it says "ack", and is kept with the page's events, not as a customer message."""
    keys = [k.strip().strip("<>") for k in [msg.in_reply_to or "", *msg.references] if k]
    for key in keys:
        if not key.startswith(KEY_PREFIX):
            continue
        page = store.page_by_notice_key(f"{key.partition('@')[0]}")
        if page is None:
            continue
        with store.transaction():
            store.add_event(page["conversation_id"], "page.reply", page["who"],
                            {"page": page["id"], "via": "email", "text": (msg.text or "")[:500]})
        if is_ack(msg.text):
            store.page_acknowledge(page["id"], page["who"], "email")
        return True
    return False


def _matrix_acks(desk: Oncall, result: EscalationResult) -> None:
    notices = desk.store.open_matrix_notices()
    if not notices:
        return
    from ..channels import open_channel
    from .page import matrix_channel
    config = desk.config
    try:
        channel = open_channel(config, matrix_channel(config))
    except DeskError as exc:
        result.errors.append(f"reading page replies: {exc}")
        return
    try:
        for notice in notices:
            person = desk.roster.get(notice["who"])
            room, event_id = notice["detail"].get("room"), notice["detail"].get("event_id")
            if person is None or not room or not event_id:
                continue
            try:
                replies = channel.replies_after(room, event_id)
            except DeskError as exc:
                result.errors.append(f"reading page replies: {exc}")
                continue
            if any(sender == person.matrix and is_ack(text) for sender, text in replies):
                result.acknowledged += desk.store.page_acknowledge(notice["page_id"], notice["who"], "matrix")
    finally:
        channel.close()
