"""The outbox: replies queued with an undo window, delivered once, retried with backoff.

`queue` is what every front end calls with a ReplyRequest (the TUI's composer and digit
keys, the CLI's `reply`; `queue_reply` is its keyword form, for rules and scripts): one
transaction writes the message row, the outbox row, the status change and the events.
`deliver_due` sends what is due, from the TUI's worker, from `tui-desk sync` or from
`tui-desk outbox flush`; several may run at once, since each row is claimed in its own
transaction before it is sent.

States: queued → sending → sent, or back to queued with a later `next_try_at` after a
failed try, and failed after the last try; cancelled when taken back before it went out
(its message then stays as a note marked "not sent").

An email reply is "uncertain" from the moment SMTP DATA begins until its 250 is
recorded. One left there (a dropped connection, a timeout waiting for the 250, a kill)
may have reached the customer, so it is never sent again by itself: each delivery run
asks the channel's own record (the Sent folder), which either proves it went out
(marked sent) or proves it did not (queued again); otherwise it waits for a person
(`outbox retry` or `outbox cancel`). So a reply goes out at most once, or it shows as
"may have been sent".
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .channels import (Channel, DeliveryRecorder, Outbound, Sender, open_channel,
                       reply_problem as channel_reply_problem, sends_email)
from .config import Config
from .errors import ChannelError, ConfigError, DeskError, UsageError
from .model import Attachment
from .store import Store
from .store.outbox import ConversationChanged
from .store.reply_request import Copies, ReplyRequest

__all__ = ["UNCERTAIN_HINT", "ConversationChanged", "Copies", "DeliveryResult", "QueuedReply", "ReplyRequest",
           "cancel", "deliver_due", "queue", "queue_reply", "reply_problem", "retry"]

# Waits after the 1st, 2nd, ... failed try; after the last one the reply is failed for good.
BACKOFF = [dt.timedelta(seconds=s) for s in (30, 120, 600, 1800, 3600, 7200)]
# A reply claimed for sending belongs to that sender this long; past it, it is presumed
# crashed and the reply is claimed again (with maybe_sent, so nothing goes twice).
LEASE = dt.timedelta(minutes=10)
# An "uncertain" reply the check could not settle is checked again after this long.
CHECK_AGAIN = dt.timedelta(hours=1)
UNCERTAIN_HINT = "may have been sent: check and retry or cancel"


@dataclass
class QueuedReply:
    """What `queue_reply` wrote."""

    outbox_id: int | None
    """None for notes (they are not delivered)."""
    message_id: int
    deliver_at: dt.datetime | None
    """When the undo window ends and delivery may start; None for notes."""


@dataclass
class DeliveryResult:
    """What one `deliver_due` run did."""

    sent: int = 0
    failed: int = 0
    """Tries that failed in this run (the reply is retried later unless it ran out of tries)."""
    uncertain: int = 0
    """Replies left "uncertain" by this run (they may have been sent; never retried by themselves)."""
    errors: list[str] = field(default_factory=list)


def queue(store: Store, request: ReplyRequest, *, config: Config | None = None) -> QueuedReply:
    """Write the reply (or internal note) `request` asks for, for delivery after its
    `undo_seconds`.

    One transaction: the message row, the outbox row (not for notes), the status change
    and the events; the conversation's version is bumped and the first agent reply sets
    first_response_at. With `expected_version`, raises ConversationChanged (carrying
    the messages the agent has not seen) instead when the conversation moved on.
    With `config` (every front end gives it), a reply that could not be delivered (no
    usable address, no room) is refused with UsageError before anything is written."""
    conversation_id, note, copies = request.conversation_id, request.note, request.copies
    if not request.text.strip():
        raise DeskError("the reply is empty; nothing was queued")
    if config is not None and not note:
        problem = reply_problem(config, store, conversation_id)
        if problem:
            raise UsageError(f"cannot reply to conversation {conversation_id}: {problem}; nothing was queued"
                             " (an internal note can still be added)")
    files = _checked_copies(config, store, conversation_id, copies, note) if copies else ()
    deliver_at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=max(request.undo_seconds, 0))
    message_id, outbox_id = store.add_reply(
        request, txn_id=f"tuidesk-{uuid.uuid4().hex}", deliver_at=deliver_at,
        assign_on_reply=config is not None and config.desk.assign_on_reply, files=files)
    return QueuedReply(outbox_id, message_id, None if note else deliver_at)


def queue_reply(store: Store, conversation_id: int, text: str, *, agent: str, note: bool = False,
                status: str | None = None, template_id: str | None = None, undo_seconds: float = 0,
                expected_version: int | None = None, automatic: str | None = None,
                recipient: str | None = None, config: Config | None = None,
                copies: Copies = Copies()) -> QueuedReply:
    """`queue` with the request's fields as keywords (rules, scripts and tests)."""
    return queue(store, ReplyRequest(
        conversation_id=conversation_id, text=text, agent=agent, note=note, status=status, template_id=template_id,
        undo_seconds=undo_seconds, expected_version=expected_version, automatic=automatic, recipient=recipient,
        copies=copies), config=config)


def _checked_copies(config: Config | None, store: Store, conversation_id: int, copies: Copies,
                    note: bool) -> tuple[Attachment, ...]:
    """The files to attach, read, once every address and limit is checked (UsageError
    naming what is wrong, before anything is written)."""
    import mimetypes

    from .channels.mailout import recipient_problem
    if note:
        raise UsageError("an internal note has no Cc, Bcc or attachments (it is never sent)")
    conversation = store.conversation(conversation_id)
    if conversation is not None and config is not None:
        try:
            email = sends_email(config.channel(conversation["channel"]))
        except ConfigError:
            email = True  # a channel this config lacks: the config that delivers it judges
        if not email:
            raise UsageError(f"Cc, Bcc and attachments are for email replies; channel {conversation['channel']}"
                             " is a chat")
    for address in (*copies.cc, *copies.bcc):
        problem = recipient_problem(address)
        if problem:
            raise UsageError(f"Cc/Bcc {address!r}: {problem}")
    limit = (config.desk.attachment_limit_mb if config else 20) * 1024 * 1024
    files, total = [], 0
    for path in copies.files:
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot attach {path}: {exc.strerror}") from None
        total += len(data)
        if total > limit:
            raise UsageError(f"the attachments are over [desk] attachment_limit_mb ({limit // (1024 * 1024)} MB);"
                             " send a link instead, or raise the limit")
        kind = mimetypes.guess_type(Path(path).name)[0] or "application/octet-stream"
        files.append(Attachment(Path(path).name, kind, data))
    return tuple(files)


def reply_all(config: Config, store: Store, conversation_id: int) -> tuple[str, ...]:
    """The customer's own Cc on their latest mail, for a reply to all: the addresses they
    copied, without ours (the desk, the team) and without the customer they answer."""
    import email.utils
    import json

    last = store.latest_inbound_headers(conversation_id)
    if not last:
        return ()
    headers, author = json.loads(last["headers"] or "{}"), (last["author_address"] or "").lower()
    ours = config.agent_addresses() | {config.desk.support_address.lower(), author}
    found = [address.strip() for _, address in email.utils.getaddresses([str(headers.get("cc", ""))]) if "@" in address]
    return tuple(dict.fromkeys(a for a in found if a.lower() not in ours))


def reply_problem(config: Config, store: Store, conversation_id: int) -> str | None:
    """Why a reply in this conversation could not be delivered, or None (it may still
    fail for other reasons when it is sent: a server down, a refused recipient)."""
    conversation = store.conversation(conversation_id)
    if conversation is None or conversation["merged_into"] is not None:
        return None  # queueing says "no conversation" or "merged into" itself
    try:
        channel = config.channel(conversation["channel"])
    except ConfigError:  # not configured here: another config (cron's sync) may deliver it
        return None
    _, address = store.recipient(conversation_id)
    try:
        return channel_reply_problem(channel, address, conversation["thread_key"])
    except DeskError as exc:  # a kind this version cannot run
        return str(exc)


def cancel(store: Store, outbox_id: int, agent: str) -> str:
    """Take back a reply not yet sent (undo), or give up on an uncertain one (it stays
    a reply: it may have reached the customer). UsageError if it is sending or sent.
    Returns the state it had."""
    return store.cancel_reply(outbox_id, agent)["state"]


def retry(store: Store, outbox_id: int, agent: str) -> None:
    """Send a failed (or uncertain, once checked by a person) reply again at the next delivery."""
    store.retry_reply(outbox_id, agent)


def deliver_due(config: Config, store: Store, now: dt.datetime | None = None) -> DeliveryResult:
    """Send every reply whose undo window has passed and whose next try is due."""
    now = now or dt.datetime.now(dt.timezone.utc)
    result = DeliveryResult()
    channels: dict[str, Channel | DeskError] = {}
    try:
        _check_uncertain(config, store, channels, now, result)
        # bounded: each claim moves a row out of the due set (sent, or retried later)
        for _ in range(100_000):
            job = store.claim_due(now, LEASE)
            if job is None:
                break
            _deliver(config, store, _channel_of(config, channels, job), job, now, result)
    finally:
        for channel in channels.values():
            if not isinstance(channel, DeskError):
                channel.close()
    return result


def _channel_of(config: Config, channels: dict, job: dict) -> "Channel | DeskError":
    """The job's channel, opened once per run."""
    if job["channel"] not in channels:
        channels[job["channel"]] = _open(config, job["channel"])
    return channels[job["channel"]]


def _check_uncertain(config: Config, store: Store, channels: dict, now: dt.datetime,
                     result: DeliveryResult) -> None:
    """Settle "uncertain" replies whose channel can tell: sent, or queued again (then
    delivered in this same run). The others wait for a person."""
    for _ in range(10_000):  # bounded: each claim moves the row's next check an hour on
        job = store.claim_uncertain(now, CHECK_AGAIN)
        if job is None:
            return
        channel = _channel_of(config, channels, job)
        if not isinstance(channel, DeliveryRecorder):
            continue
        try:
            verdict = channel.delivery_record(_outbound(config, job))
        except Exception as exc:  # noqa: BLE001 - checked again later
            result.errors.append(f"reply {job['outbox_id']} (conversation {job['conversation_id']}) {UNCERTAIN_HINT};"
                                 f" the check failed: {exc}")
            continue
        if verdict == "sent":
            store.resolve_uncertain(job["outbox_id"], job["tries"], True, dt.datetime.now(dt.timezone.utc),
                                    "its copy in Sent is confirmed")
        elif verdict == "not sent":
            store.resolve_uncertain(job["outbox_id"], job["tries"], False, now,
                                    "not in Sent: the message never began to go out")


def _outbound(config: Config, job: dict, **callbacks) -> Outbound:
    return Outbound(
        outbox_id=job["outbox_id"], txn_id=job["txn_id"], conversation_id=job["conversation_id"],
        thread_key=job["thread_key"], agent=job["agent"], text=job["text"], subject=job["subject"],
        to_address=job["to_address"], to_name=job["to_name"], created_at=job["created_at"],
        mail_id=job["mail_id"], in_reply_to=job["in_reply_to"], references=job["references"],
        from_address=config.desk.support_address, from_name=config.desk.name,
        maybe_sent=job["maybe_sent"], automatic=bool(job["automatic"]),
        cc=job.get("cc", []), bcc=job.get("bcc", []), files=job.get("files", []), **callbacks,
    )


def _open(config: Config, name: str) -> Channel | DeskError:
    try:
        channel = open_channel(config, name)
    except (ConfigError, DeskError) as exc:
        return exc
    if not isinstance(channel, Sender):
        channel.close()
        return DeskError(f"channel {name}: this kind of channel cannot send replies yet")
    return channel


def _deliver(config: Config, store: Store, channel: Channel | DeskError, job: dict,
             now: dt.datetime, result: DeliveryResult) -> None:
    outbox_id = job["outbox_id"]
    marked: list[str] = []
    began: list[bool] = []

    def transmitted(external_id: str) -> None:
        store.mark_sent(outbox_id, external_id, dt.datetime.now(dt.timezone.utc))
        marked.append(external_id)

    def data_begins() -> None:
        store.mark_uncertain(outbox_id)
        began.append(True)

    try:
        if isinstance(channel, DeskError):
            raise channel
        if channel.message_ids and not job["mail_id"]:
            from .channels.mailout import new_message_id  # (the email package: only when mail goes out)
            job["mail_id"] = new_message_id(config.desk.support_address)
            store.set_mail_id(job["message_id"], job["mail_id"])  # before sending: a retry can look for it
        external_id = channel.send(_outbound(config, job, transmitted=transmitted, data_begins=data_begins))
    except Exception as exc:  # noqa: BLE001 - one bad reply must not stop the others
        if marked:  # it left; only the bookkeeping after it failed
            result.sent += 1
            result.errors.append(f"reply {outbox_id} (conversation {job['conversation_id']}) was sent, then: {exc}")
            return
        error = str(exc) if isinstance(exc, DeskError) else f"{type(exc).__name__}: {exc}"
        # after DATA began, only the server's own "no" (or a failure before the bytes)
        # proves it did not go out; anything else may have delivered it
        if began and not (isinstance(exc, ChannelError) and not exc.uncertain):
            store.left_uncertain(outbox_id, error, now)
            result.uncertain += 1
            result.errors.append(f"reply {outbox_id} (conversation {job['conversation_id']}) {UNCERTAIN_HINT}"
                                 f" (tui-desk outbox retry|cancel {outbox_id}): {error}")
            return
        tries = job["tries"]  # this try included
        retry_at = now + BACKOFF[tries - 1] if tries <= len(BACKOFF) else None
        store.mark_failed(outbox_id, error, retry_at)
        result.failed += 1
        result.errors.append(f"reply {outbox_id} (conversation {job['conversation_id']}): {error}")
        return
    if not marked:
        store.mark_sent(outbox_id, external_id, dt.datetime.now(dt.timezone.utc))
    result.sent += 1
