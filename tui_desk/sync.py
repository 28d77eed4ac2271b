"""Sync: pull every channel → parse → thread → store, one transaction per batch;
then deliver the outbox's due replies.

A channel's position (its sync state, or the source keys of a local channel) is saved
in the same transaction as the messages of the batch, so a crash at any moment loses
nothing and duplicates nothing. One sync at a time per database: an flock beside it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import outbox, threads
from .channels import Batch, Item, LongPoller, Watcher, open_channel, supports
from .config import Config
from .errors import ChannelError, DeskError, LockedError
from .hours import zone_for_offset
from .model import ParsedMessage
from .oncall import escalation
from .oncall.escalation import EscalationResult
from .rules import guard
from .rules.facts import sender_facts
from .rules.runner import RunResult, run_pending
from .rules.spec import PRECOMPUTED, Condition, RuleSet, load_rules, message_results
from .store import Store
from .store.segment import segment
from .survey import intake as survey_intake, send as survey_send

if TYPE_CHECKING:  # the process pool (concurrent.futures, multiprocessing) is imported when a batch needs it
    from concurrent.futures import Executor

# Parsing is the costly step; large batches are parsed in worker processes while
# the main process stores the previous batch.
PAGE_PACE = 5.0
"""sync --watch: seconds between runs while a page is open (it escalates on time)."""
POOL_THRESHOLD = 400
STOP_SIGNALS = {signal.SIGTERM, signal.SIGHUP}
"""What ends a sync like Ctrl-C (commands/sync.py installs the handlers)."""
HELD_SIGNALS = STOP_SIGNALS | {signal.SIGINT}
"""Held while the parse workers are forked: each ends the sync, and none may run its
handler in a worker not yet set up, or in the fork's own callbacks."""


@dataclass
class ChannelResult:
    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    conflicts: int = 0
    """Of the duplicates: mails with other bytes under a stored Message-ID (each an `other_copy` event)."""
    errors: int = 0
    error: str | None = None
    quarantined: int = 0
    """Items given up on in this run (after repeated failures)."""
    warnings: list[str] = field(default_factory=list)
    """Not failures, but worth knowing (a folder read again from the start)."""

    def as_json(self) -> dict:
        return {"fetched": self.fetched, "new": self.new, "duplicates": self.duplicates,
                "conflicts": self.conflicts, "errors": self.errors,
                "quarantined": self.quarantined, "error": self.error, "warnings": self.warnings}


@dataclass
class SyncResult:
    channels: dict[str, ChannelResult] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    uncertain: int = 0
    """Replies left "uncertain" in this run: they may have been sent (see `outbox list`)."""
    outbox_errors: list[str] = field(default_factory=list)
    """Why replies failed in this run (printed on stderr, not part of --json)."""
    rules: RunResult = field(default_factory=RunResult)
    pages: EscalationResult = field(default_factory=EscalationResult)
    """Pages notified, acknowledged and resolved in this run (escalation)."""
    surveys: survey_send.SurveyRun = field(default_factory=survey_send.SurveyRun)
    answers: int = 0
    """Survey answers read in this run."""
    seconds: float = 0.0
    waited: bool = False
    """A channel long-polled in this run (sync --watch), so the run itself paced the loop."""

    @property
    def ok(self) -> bool:
        return not any(r.error for r in self.channels.values()) and not self.failed and not self.uncertain

    def as_json(self) -> dict:
        return {
            "channels": {name: r.as_json() for name, r in self.channels.items()},
            "outbox": {"sent": self.sent, "failed": self.failed, "uncertain": self.uncertain},
            "rules": self.rules.as_json(),
            "pages": self.pages.as_json(),
            "surveys": {**self.surveys.as_json(), "answers": self.answers},
            "seconds": round(self.seconds, 3),
        }


_MESSAGE_CONDITIONS: tuple[Condition, ...] = ()
"""In a parse worker: the rules' conditions on a message's own text (set at its start)."""


def parse_item(item: Item) -> ParsedMessage:
    """Turn one pulled item into a message (runs in worker processes: keep it pure)."""
    if item.parsed is not None:
        return item.parsed
    if item.format == "chat-line":
        from .parse.chat import parse_chat_line
        return parse_chat_line(item.raw, item.received_at)
    from .parse.mail import parse_email  # here: a sync with nothing new never loads the parsers
    msg = parse_email(item.raw, item.received_at)
    # the single writer is what bounds ingest: what can be worked out of the message alone is done here
    if not msg.text.isascii():
        msg.segmented_text = segment(msg.text)
    if _MESSAGE_CONDITIONS and msg.subject:  # (without a subject, the rules see the conversation's)
        msg.rule_results = message_results(_MESSAGE_CONDITIONS, msg.subject, msg.text)
    return msg


def run(config: Config, store: Store, *, only: str | None = None,
        progress: Callable[[str, int], None] | None = None, wait: float = 0.0,
        now: dt.datetime | None = None) -> SyncResult:
    """Sync every configured channel (or the one named `only`); holds the sync lock.
    `wait` > 0 (sync --watch): the first channel that can long-poll waits up to that
    many seconds for something new, which paces the watch loop. `now`: the instant
    surveys are judged at (their delay, cooldown and expiry), for tests; default: now."""
    started = time.monotonic()
    result = SyncResult()
    channels = [config.channel(only)] if only else list(config.channels)
    ingest = _Ingest(config, store, result.rules, now)
    with store.sync_lock() as lock_fd, _pool(lock_fd, ingest.ruleset.message_conditions) as pool:
        store.wake_snoozed()
        ingest.apply_rules()  # events left by a run that died after its batch, and status changes
        for channel_config in channels:
            outcome = result.channels[channel_config.name] = ChannelResult()
            try:
                channel = open_channel(config, channel_config)
                if wait and isinstance(channel, LongPoller):
                    channel.long_poll, wait, result.waited = wait, 0.0, True
                try:
                    _pull(ingest, channel, outcome, pool, progress)
                finally:
                    channel.close()
            except ChannelError as exc:
                outcome.errors += 1
                outcome.error = str(exc)
            except _broken_pool():  # a parse worker was killed (e.g. out of memory)
                pool.reset()
                outcome.errors += 1
                outcome.error = (f"channel {channel_config.name}: a parse worker died (out of memory?);"
                                 " what was stored is kept, the rest is pulled next run")
            except DeskError as exc:  # e.g. a password command that fails
                outcome.errors += 1
                outcome.error = f"channel {channel_config.name}: {exc}"
            except Exception as exc:  # noqa: BLE001 - a bug or an unforeseen server answer:
                # still this channel's failure alone; the others sync and the outbox is delivered
                if os.environ.get("TUI_DESK_DEBUG"):
                    raise
                outcome.errors += 1
                outcome.error = f"channel {channel_config.name}: internal error ({type(exc).__name__}: {exc})"
        result.answers = ingest.surveys.answers
        # after pulling and the rules: a conversation the customer just wrote to again is
        # no longer solved, so it gets no survey
        result.surveys = survey_send.send_due(config, store, now)
        # after pulling: a reply is not sent into a conversation the customer just wrote to
        # without that message being stored first
        delivery = outbox.deliver_due(config, store)
        result.sent, result.failed, result.outbox_errors = delivery.sent, delivery.failed, delivery.errors
        result.uncertain = delivery.uncertain
        # pages last: a reply just delivered resolves its page before anyone is woken for it
        result.pages = escalation.run(config, store)
        result.outbox_errors += result.surveys.errors
    result.seconds = time.monotonic() - started
    return result


def watch(config: Config, store: Store, *, only: str | None = None, poll: float = 30.0, cycles: int = 0,
          stop: threading.Event | None = None,
          on_result: Callable[[SyncResult | None], None] | None = None,
          on_error: Callable[[str], None] | None = None) -> list[SyncResult | None]:
    """`sync --watch`: sync again and again until `stop` is set, interrupted, or
    `cycles` runs are done. New work wakes the next run at once: a Matrix channel
    long-polls up to `poll` seconds inside the run, and each IMAP folder holds an IDLE
    connection that wakes the pause between runs; otherwise runs are `poll` seconds
    apart. A run that found the lock taken (cron's sync) is reported as None."""
    stop = stop or threading.Event()
    wake = threading.Event()
    listening = []
    for channel_config in ([config.channel(only)] if only else config.channels):
        if supports(channel_config, Watcher):
            listening += open_channel(config, channel_config).watcher(wake, stop, on_error)
    results: list[SyncResult | None] = []
    try:
        while not stop.is_set():
            wake.clear()  # mail arriving during this run wakes the next one at once
            # an open page escalates within seconds, not at the next poll
            pace = min(poll, PAGE_PACE) if store.page_counts().get("open") else poll
            try:
                result: SyncResult | None = run(config, store, only=only, wait=pace)
            except LockedError:
                result = None
            if cycles:
                results.append(result)
            if on_result:
                on_result(result)
            if cycles and len(results) >= cycles:
                break
            if result is None or not result.waited or not result.ok:
                deadline = time.monotonic() + pace
                while not stop.is_set() and not wake.is_set() and time.monotonic() < deadline:
                    wake.wait(min(0.5, pace))
    finally:
        stop.set()
        for thread in listening:
            thread.join(timeout=5)
    return results


NEW_EVENTS, REPLY_EVENTS = "message.new conversation.new", "message.new customer.reply"
EVENT_SETS = {names: frozenset(names.split()) for names in (NEW_EVENTS, REPLY_EVENTS)}


class _Ingest:
    """Storing batches, and the rules right after each one commits."""

    def __init__(self, config: Config, store: Store, rules: RunResult, now: dt.datetime | None = None) -> None:
        self.config, self.store, self.rules = config, store, rules
        self.ruleset: RuleSet = load_rules(config, known_agents=set(store.agent_names()))
        self.listening = self.ruleset.listening({"conversation.new", "message.new", "customer.reply"})
        self.kinds = {c.name: c.kind for c in config.channels}
        self.hours = config.desk.hours()
        self.tests_hours = any(c.field == "hours" for r in self.ruleset.rules for c in r.all + r.any + r.none)
        self.own_domains = config.own_domains()
        self.agents = config.agent_addresses()
        self.results: dict[int, tuple[bool, ...]] = {}
        """Message id -> its message conditions' results from a parse worker, until its rules ran."""
        self.surveys = survey_intake.Intake(store, now)

    def classify(self, msg: ParsedMessage) -> None:
        if msg.direction == "in":
            msg.loop_class = guard.refine(msg.loop_class, msg.message_id, msg.sender_address,
                                          loop=msg.headers.get("x-tui-desk-loop", ""),
                                          own_domains=self.own_domains, agents=self.agents)

    def event(self, channel: str, msg: ParsedMessage, created: bool, conversation_id: int,
              message_id: int) -> tuple[int, str, int] | None:
        """The rules' queue row of a stored message, when some rule could match it."""
        if not self.listening or msg.direction != "in":
            return None
        names = NEW_EVENTS if created else REPLY_EVENTS
        known = self._message_facts(channel, msg)
        if not self.ruleset.may_fire(EVENT_SETS[names], known):
            return None  # every rule listening needs this message to be what it is not
        if PRECOMPUTED in known:
            self.results[message_id] = known[PRECOMPUTED]
        return conversation_id, names, message_id

    def _message_facts(self, channel: str, msg: ParsedMessage) -> dict:
        """The facts of an event that the message alone decides (rules.facts.derive has
        them all), those some rule tests."""
        known = {"channel": channel, "channel.kind": self.kinds.get(channel, ""), **sender_facts(msg.sender_address),
                 "class": msg.loop_class or "human", "text": msg.text or ""}
        if self.tests_hours:
            known["hours"] = "open" if self.hours.is_open(msg.received_at) else "closed"
        if msg.subject:  # else the conversation's subject stands in, read later
            known["subject"] = msg.subject
            if msg.rule_results is not None:  # the parse worker's results, on this subject and text
                known[PRECOMPUTED] = msg.rule_results
        return known

    def apply_rules(self) -> None:
        self.rules.absorb(run_pending(self.config, self.store, self.ruleset, precomputed=self.results))
        self.results.clear()  # (a batch that failed left its rows queued: they are tested afresh)


def _pull(ingest: _Ingest, channel, outcome: ChannelResult, pool: "_LazyPool",
          progress: Callable[[str, int], None] | None) -> None:
    store = ingest.store
    state = store.sync_state(channel.name)
    seen = store.stored_keys(channel.name)
    pending = None  # (batch, future parse results) overlapping with storing the previous one
    try:
        for batch in channel.pull(state, seen):
            parsed = pool.parse(batch.items)
            if pending is not None:
                done, pending = pending, None
                _store_batch(ingest, channel.name, *done, outcome)
                if progress:
                    progress(channel.name, outcome.fetched)
            pending = (batch, parsed)
    finally:
        # a batch pulled whole is stored even when the channel fails on the next one
        if pending is not None:
            _store_batch(ingest, channel.name, *pending, outcome)
            if progress:
                progress(channel.name, outcome.fetched)


def _store_batch(ingest: _Ingest, channel: str, batch: Batch, parsed, outcome: ChannelResult) -> None:
    store = ingest.store
    messages = list(parsed)
    events = []  # for the rules, queued in the batch's own transaction
    with store.transaction():
        with store.indexing_at_end():  # before the changes below, which may edit these messages
            for msg in messages:
                seen = store.duplicate(channel, msg)
                if seen:
                    outcome.duplicates += 1
                    outcome.conflicts += seen == "conflict"
                    continue
                if msg.direction == "in" and msg.in_reply_to and escalation.email_reply(store, msg):
                    continue  # the on-call person answering a page: kept with the page, not a conversation
                customer_id = store.customer_for(msg.kind, msg.sender_address, msg.sender_name, _zone_of(msg),
                                                 email=msg.sender_email) \
                    if msg.sender_address and msg.direction == "in" else None
                conversation_id = threads.find_conversation(store, channel, msg, customer_id)
                ingest.classify(msg)
                answer = ingest.surveys.read(channel, msg, conversation_id)  # a score: stays solved
                if answer is not None:
                    conversation_id = answer.conversation_id
                stored = store.add_inbound(channel, msg, customer_id, conversation_id, threads.subject_key(msg.subject),
                                           reopen=answer is None or answer.follow_up)
                if answer is not None:
                    ingest.surveys.record(answer, stored[1])
                event = None if answer is not None and not answer.follow_up else \
                    ingest.event(channel, msg, conversation_id is None, *stored)  # the rules see an answer that reopens
                if event:
                    events.append(event)
                outcome.new += 1
            if events:
                store.queue_message_events(events)
        for change in batch.changes:
            store.apply_change(channel, change)
        if batch.source_keys:
            store.add_source_keys(channel, batch.source_keys)
        if batch.quarantined:
            store.add_quarantined(channel, batch.quarantined)
        if batch.state:
            store.save_sync_state(channel, batch.state)
    outcome.fetched += len(messages)
    outcome.quarantined += len(batch.quarantined)
    outcome.warnings += batch.warnings
    if ingest.listening:
        ingest.apply_rules()


def _zone_of(msg: ParsedMessage) -> str | None:
    """The sender's zone as their Date header's offset tells it (mail only)."""
    if msg.kind != "email" or "no Date header" in msg.problems or "unreadable Date header" in msg.problems:
        return None
    return zone_for_offset(msg.created_at.utcoffset())


class _LazyPool:
    """Parses small batches inline and large ones in worker processes (started on first need)."""

    def __init__(self, lock_fd: int = -1, conditions: tuple[Condition, ...] = ()) -> None:
        self.executor: Executor | None = None
        self.lock_fd, self.conditions = lock_fd, conditions

    def parse(self, items: list[Item]):
        if all(i.parsed is not None for i in items):  # the channel parsed them (chat events)
            return [i.parsed for i in items]
        if len(items) < POOL_THRESHOLD or (os.cpu_count() or 1) < 2:
            return [parse_item(i) for i in items]
        if self.executor is None:
            from concurrent.futures import ProcessPoolExecutor
            self.executor = ProcessPoolExecutor(max_workers=os.cpu_count(), initializer=_worker_init,
                                                initargs=(os.getpid(), self.lock_fd, self.conditions))
        # the workers are forked at the first submit: a SIGTERM landing in the fork's own
        # callbacks would be printed and swallowed there, and a worker forked with the
        # sync's handlers could run them; held here, it is delivered once the fork is done
        signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        try:
            return self.executor.map(parse_item, items, chunksize=50)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)

    def abandon(self) -> None:
        """After an interrupt: let go of the pool without waiting for it (its workers finish
        the chunks they hold and end; the `sync` command ends the process at once anyway,
        see commands/sync.py). Killing them here would race the pool's own bookkeeping."""
        if self.executor is not None:
            self.executor.shutdown(wait=False)
            self.executor = None

    def reset(self) -> None:
        """Drop a broken pool; the next large batch starts a new one."""
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None


@contextlib.contextmanager
def _pool(lock_fd: int = -1, conditions: tuple[Condition, ...] = ()) -> Iterator[_LazyPool]:
    pool = _LazyPool(lock_fd, conditions)
    try:
        yield pool
    except BaseException:
        pool.abandon()
        raise
    pool.close()


def _broken_pool() -> type[BaseException]:
    """BrokenProcessPool, looked up only when an exception is being handled."""
    from concurrent.futures.process import BrokenProcessPool
    return BrokenProcessPool


def _worker_init(parent: int, lock_fd: int, conditions: tuple[Condition, ...] = ()) -> None:
    """Parse workers hold no sync lock and never outlive the sync.

    They are forked while the lock is held: a flock belongs to the open file, so a
    worker's inherited copy of the descriptor would keep the desk locked after the
    sync died. The copy is closed, and the kernel kills the worker when its parent
    dies (PR_SET_PDEATHSIG), also if that happened before this line ran.
    They also yield to the writer: the single process storing batches is what bounds
    the ingest rate, and it waits when parsers take every core."""
    if lock_fd >= 0:
        with contextlib.suppress(OSError):
            os.close(lock_fd)
    # the sync's own SIGTERM/SIGHUP handlers were forked too (with the signals held): a
    # worker must end when the pool terminates it (after another worker died), and
    # leaves Ctrl-C to the sync
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, HELD_SIGNALS)
    _die_with_parent()
    if os.getppid() != parent:
        os._exit(1)
    with contextlib.suppress(OSError):
        os.nice(5)
    global _MESSAGE_CONDITIONS
    _MESSAGE_CONDITIONS = conditions


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
