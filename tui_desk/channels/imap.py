"""A shared support mailbox over IMAP (imapclient): pull new mail, send replies.

Pull is incremental by UID per folder. The channel's sync state holds, per folder,
the UIDVALIDITY, the highest UID handled, the UIDs below it still to fetch, and a
fingerprint (size, arrival time) of the highest UID stored; sync saves each batch's
state in the same transaction as its messages, so a kill at any moment loses nothing
and duplicates nothing. A changed UIDVALIDITY means the server renumbered the folder:
it is read again from the start and what is already stored is recognised by Message-ID
(or, without one, by a hash of the bytes). So is a folder recreated with its old
UIDVALIDITY, seen by UIDNEXT going back or by another message at the last stored UID;
both are reported as warnings. Messages are fetched with BODY.PEEK[] (flags untouched
unless `mark_seen`) in explicit UID chunks: imapclient cannot fetch "1:*" and Dovecot
refuses one FETCH naming 20,000 UIDs.

No silent gaps: a FETCH the server refuses (NO) is split until the refused messages
stand alone, and a UID the server leaves out of its answer while it still holds it is
not passed over. Such a message is the channel's error for that sync and asked for
again at the next; after MAX_TRIES syncs it is quarantined (recorded, listed by
`sync --quarantined`, no longer asked for). A server that hands over nothing at all
is failing as a whole: no tries are counted then.

A dropped connection is reconnected with backoff and the folder resumed where it
stopped; a refused login is not retried. Every failure ends as one ChannelError line
naming the channel and the cause. Sending is SMTP (channels.smtp), with a copy filed
in the Sent folder before the message goes and confirmed after the server's 250.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from ..config import ImapChannel as ImapConfig
from ..errors import ChannelError
from . import smtp
from .base import Batch, Item, Outbound, Quarantined
from .mailout import build_reply, recipient_problem

# Waits before each reconnect attempt: a server restarting or a network blip recovers
# within a few seconds; cron runs again in a minute anyway.
BACKOFF = (0.5, 2.0, 5.0)
TIMEOUT = 30.0
# re-issue IDLE before the 29 minutes after which servers may drop it (RFC 2177)
IDLE_RENEW = 25 * 60

_DROPPED = (imaplib.IMAP4.abort, OSError, EOFError)
# On a reply's copy in Sent, filed before the message goes: "not yet confirmed by the
# SMTP server's 250". Taken off once the 250 is recorded.
UNCONFIRMED = b"$TuiDeskUnconfirmed"

# A message the server fails to hand over is asked for again at each sync; after this
# many syncs it is quarantined (`sync --quarantined` lists it) and no longer asked for.
MAX_TRIES = 3
# Refused multi-message FETCHes per folder and sync while narrowing a refusal down to
# the messages at fault; beyond it the server refuses everything, not one message.
NARROW_BUDGET = 32


class _Keys:
    """The sync-state keys of one folder: UIDVALIDITY, the highest UID handled, the
    UIDs below it still to fetch (uid=tries), and the fingerprint of the highest UID
    stored (how a recreated folder that reused its UIDVALIDITY is noticed)."""

    def __init__(self, folder: str) -> None:
        self.validity, self.uid = f"{folder}:uidvalidity", f"{folder}:uid"
        self.retry, self.check = f"{folder}:retry", f"{folder}:check"

    def state(self, validity: str, last: int, retry: dict[int, int], check: str) -> dict[str, str]:
        return {self.validity: validity, self.uid: str(last), self.retry: _retries_text(retry), self.check: check}


def _retries(text: str) -> dict[int, int]:
    found = {}
    for part in text.split(","):
        uid, _, tries = part.partition("=")
        if uid.isdigit() and tries.isdigit():
            found[int(uid)] = int(tries)
    return found


def _retries_text(retry: dict[int, int]) -> str:
    return ",".join(f"{uid}={tries}" for uid, tries in sorted(retry.items()))


def _fingerprint(uid: int, data: dict) -> str:
    """UID, size and arrival time: another message at the same UID differs in them."""
    size, date = data.get(b"RFC822.SIZE"), data.get(b"INTERNALDATE")
    if size is None or not isinstance(date, dt.datetime):
        return ""
    return f"{uid} {size} {_received(date).isoformat()}"


class ImapChannel:
    """One `kind = "imap"` channel."""

    message_ids = True
    """The outbox gives every reply a Message-ID before the first try."""
    reply_problem = staticmethod(recipient_problem)

    def __init__(self, config: ImapConfig, base: Path | None = None) -> None:
        self.config = config
        self.append_error: str | None = None
        self.name = config.name
        self.client: IMAPClient | None = None
        self.sleep: Callable[[float], None] = time.sleep
        self._password: str | None = None

    # -- connection ------------------------------------------------------------------

    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    def password(self) -> str:
        if self._password is None:
            self._password = self.config.secret().reveal()
        return self._password

    def connect(self) -> IMAPClient:
        """Log in, retrying unreachable hosts with backoff; a refused login fails at once."""
        self.close()
        last: Exception | None = None
        for attempt, wait in enumerate((0.0, *BACKOFF)):
            if wait:
                self.sleep(wait)
            try:
                self.client = self._login()
                return self.client
            except ChannelError:
                raise
            except (ssl.SSLError, ssl.CertificateError) as exc:
                raise ChannelError(self.name, f"TLS with {self._where()} failed: {_reason(exc)}") from None
            except (*_DROPPED, IMAPClientError) as exc:
                last = exc
        raise ChannelError(self.name, f"cannot reach IMAP server {self._where()}: {_reason(last)}"
                                      f" (tried {len(BACKOFF) + 1} times)")

    def _login(self) -> IMAPClient:
        cfg = self.config
        context = ssl.create_default_context()
        client = IMAPClient(cfg.host, port=cfg.port, ssl=cfg.tls == "ssl", ssl_context=context, timeout=TIMEOUT)
        client.normalise_times = False  # INTERNALDATE with its zone, not naive local time
        try:
            if cfg.tls == "starttls":
                client.starttls(context)
            client.login(cfg.username, self.password())
        except LoginError as exc:
            _quiet_logout(client)
            raise ChannelError(self.name, f"login refused for {cfg.username!r} at {self._where()}: "
                                          f"{_reason(exc)}") from None
        except BaseException:
            _quiet_logout(client)
            raise
        return client

    def close(self) -> None:
        if self.client is not None:
            _quiet_logout(self.client)
            self.client = None

    def probe(self) -> list[tuple[str, str | None]]:
        """Log in to IMAP once and out again, then to SMTP (`config check --connect`):
        no retries, nothing read or sent."""
        from . import attempt, smtp
        return [attempt(f"IMAP {self.config.username} at {self._where()}", self._probe_imap),
                attempt(f"SMTP for replies at {self.config.smtp_host or self.config.host}:{self.config.smtp_port}",
                        lambda: smtp.probe(smtp.endpoint_for(self.config)))]

    def _probe_imap(self) -> None:
        try:
            client = self._login()
        except ChannelError:
            raise
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise ChannelError(self.name, f"TLS with {self._where()} failed: {_reason(exc)}") from None
        except (*_DROPPED, IMAPClientError) as exc:
            raise ChannelError(self.name, f"cannot reach IMAP server {self._where()}: {_reason(exc)}") from None
        _quiet_logout(client)

    # -- pull ------------------------------------------------------------------------

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        """New mail of every folder, in batches of `batch_size`, oldest UID first.

        A folder that fails (cannot be opened, a server that refuses every FETCH) does not
        stop the others; what failed is raised as one ChannelError after the last folder."""
        state = dict(state)
        self.connect()
        problems: list[str] = []
        tried: set[tuple[str, int]] = set()  # failed in this run: not asked again after a reconnect
        for folder in self.config.folders:
            for attempt in range(len(BACKOFF) + 1):
                try:
                    for batch in self._pull_folder(folder, state, problems, tried):
                        state.update(batch.state)
                        yield batch
                    break
                except ChannelError as exc:
                    problems.append(exc.cause)
                    break
                except _DROPPED as exc:
                    if attempt == len(BACKOFF):
                        raise ChannelError(self.name, f"connection to {self._where()} lost while reading "
                                                      f"{folder!r}: {_reason(exc)}") from None
                    self.sleep(BACKOFF[attempt])
                    self.connect()
        if problems:
            more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
            raise ChannelError(self.name, "; ".join(problems[:5]) + more)

    def _pull_folder(self, folder: str, state: dict[str, str], problems: list[str],
                     tried: set[tuple[str, int]]) -> Iterator[Batch]:
        client = self.client
        assert client is not None
        keys = _Keys(folder)
        try:
            info = client.select_folder(folder, readonly=not self.config.mark_seen)
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError as exc:
            raise ChannelError(self.name, f"cannot open folder {folder!r}: {_reason(exc)}") from None
        validity = str(info.get(b"UIDVALIDITY", ""))
        uidnext = int(info[b"UIDNEXT"]) if info.get(b"UIDNEXT") is not None else None
        same = state.get(keys.validity) == validity
        last = int(state.get(keys.uid, "0")) if same else 0
        retry = _retries(state.get(keys.retry, "")) if same else {}
        check = state.get(keys.check, "") if same else ""
        warnings = []
        if not same and state.get(keys.validity):
            warnings.append(f"folder {folder!r}: UIDVALIDITY changed from {state[keys.validity]} to {validity}:"
                            " reading it again from the start (messages already stored are recognised)")
        recreated = None
        if same and last and uidnext is not None and uidnext <= last:
            recreated = f"UIDNEXT {uidnext} is not above the last UID stored, {last}"
        elif same and uidnext is not None and uidnext <= last + 1 and not retry:
            return  # nothing new: the no-change sync costs one SELECT per folder
        elif same and check:
            recreated = self._not_the_same(check)
        if recreated:
            # UIDs never go back within one UIDVALIDITY: the folder was deleted and made
            # again, and the server reused the UIDVALIDITY. Read like a changed one.
            warnings.append(f"folder {folder!r} was recreated with the same UIDVALIDITY {validity} ({recreated}):"
                            " reading it again from the start (messages already stored are recognised)")
            same, last, retry, check = False, 0, {}, ""
        try:
            new = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError as exc:
            raise ChannelError(self.name, f"cannot search folder {folder!r}: {_reason(exc)}") from None
        todo = sorted(u for u in retry if (folder, u) not in tried) + new
        if not todo:
            if not same or warnings:
                yield Batch([], keys.state(validity, last, retry, check), warnings=warnings)
            return
        part = b"BODY[]" if self.config.mark_seen else b"BODY.PEEK[]"
        wanted = [part, b"INTERNALDATE", b"RFC822.SIZE"]
        size = max(1, self.config.batch_size)
        budget = [NARROW_BUDGET]
        fetched_any = False
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            got, failures = self._fetch(folder, chunk, wanted, budget)
            items, missing = [], []
            for uid in chunk:
                data = got.get(uid)
                if data and b"BODY[]" in data and not isinstance(data[b"BODY[]"], (bytes, bytearray)):
                    failures[uid] = "the server sent it without its bytes (NIL)"
                elif data and b"BODY[]" in data:
                    items.append(Item("email", bytes(data[b"BODY[]"]), _received(data.get(b"INTERNALDATE"))))
                    retry.pop(uid, None)
                    if uid > last:
                        check = _fingerprint(uid, data)
                elif uid not in failures:
                    missing.append(uid)
            # left out of the answer: expunged since the search, or a gap in the server's answer
            for uid in self._still_there(missing):
                failures[uid] = "the server left it out of its FETCH answer"
            for uid in missing:
                if uid not in failures:
                    retry.pop(uid, None)
            fetched_any = fetched_any or bool(items)
            if failures and not fetched_any and len(todo) > 1:
                # nothing at all came: the server's fault, not one message's; tries not counted
                reason = next(iter(failures.values()))
                raise ChannelError(self.name, f"the server gave no message of folder {folder!r}: {reason}")
            quarantined = []
            for uid, reason in sorted(failures.items()):
                tried.add((folder, uid))
                tries = retry.pop(uid, 0) + 1
                if tries >= MAX_TRIES:
                    quarantined.append(Quarantined(f"{folder} UID {uid} (UIDVALIDITY {validity})", reason, tries))
                    problems.append(f"{folder!r} UID {uid} quarantined after {tries} tries and no longer asked"
                                    f" for ({reason}); `tui-desk sync --quarantined` lists it")
                else:
                    retry[uid] = tries
                    problems.append(f"{folder!r} UID {uid} not fetched (try {tries} of {MAX_TRIES}, asked again"
                                    f" next sync): {reason}")
            last = max(last, chunk[-1])
            yield Batch(items, keys.state(validity, last, retry, check), quarantined=quarantined, warnings=warnings)
            warnings = []

    def _fetch(self, folder: str, uids: list[int], wanted: list[bytes],
               budget: list[int]) -> tuple[dict, dict[int, str]]:
        """FETCH `uids`; a refused FETCH is split in halves until the refused messages
        stand alone. Returns the answers and, per refused UID, why."""
        client = self.client
        assert client is not None
        try:
            return client.fetch(uids, wanted), {}
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError as exc:
            reason = _reason(exc)
            if len(uids) == 1:
                return {}, {uids[0]: reason}
            budget[0] -= 1
            if budget[0] <= 0:
                raise ChannelError(self.name, f"the server keeps refusing FETCH in folder {folder!r}: {reason}") from None
        half = len(uids) // 2
        got, failures = self._fetch(folder, uids[:half], wanted, budget)
        more, more_failures = self._fetch(folder, uids[half:], wanted, budget)
        return {**got, **more}, {**failures, **more_failures}

    def _still_there(self, uids: list[int]) -> set[int]:
        """Which of these UIDs the folder still holds (when unsure: all of them)."""
        if not uids:
            return set()
        try:
            return set(self.client.search(["UID", ",".join(map(str, uids))])) & set(uids)
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError:
            return set(uids)

    def _not_the_same(self, check: str) -> str | None:
        """Why the message at the last stored UID is another one now, or None (also
        when it was deleted since: nothing left to compare)."""
        uid_text, _, _ = check.partition(" ")
        if not uid_text.isdigit():
            return None
        uid = int(uid_text)
        try:
            data = self.client.fetch([uid], [b"RFC822.SIZE", b"INTERNALDATE"]).get(uid)
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError:
            return None
        if not data or _fingerprint(uid, data) == check:
            return None
        return f"the message at UID {uid} is not the one stored from there"

    # -- watch -----------------------------------------------------------------------

    def watcher(self, wake: threading.Event, stop: threading.Event,
                report: Callable[[str], None] | None = None) -> list[threading.Thread]:
        """Threads holding one IDLE connection per folder; each sets `wake` when mail arrives."""
        threads = []
        for folder in self.config.folders:
            thread = threading.Thread(target=self._idle, args=(folder, wake, stop, report),
                                      name=f"idle-{self.name}-{folder}", daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def _idle(self, folder: str, wake: threading.Event, stop: threading.Event,
              report: Callable[[str], None] | None) -> None:
        listener = ImapChannel(self.config)
        listener._password = self._password
        failures = 0
        while not stop.is_set():
            try:
                client = listener.connect()
                client.select_folder(folder, readonly=True)
                client.idle()
                failures = 0
                renew_at = time.monotonic() + IDLE_RENEW
                wake.set()  # (re)connected: mail may have come while we were away
                while not stop.is_set():
                    responses = client.idle_check(timeout=1)
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        wake.set()
                    if time.monotonic() > renew_at:
                        client.idle_done()
                        client.idle()
                        renew_at = time.monotonic() + IDLE_RENEW
                try:
                    client.idle_done()
                except Exception:
                    pass
            except Exception as exc:  # noqa: BLE001 - reported, then retried with backoff
                if report:
                    report(str(exc) if isinstance(exc, ChannelError)
                           else f"channel {self.name}: IDLE on {folder!r} failed: {_reason(exc)}")
                failures += 1
                stop.wait(min(60.0, 2.0 ** min(failures, 6)))
            finally:
                listener.close()

    # -- send ------------------------------------------------------------------------

    def send(self, outbound: Outbound) -> str:
        """Send one reply over SMTP with a copy in the Sent folder; returns its Message-ID.

        The copy is filed before the message goes, with the keyword UNCONFIRMED, and the
        keyword is taken off once the server's 250 is recorded. So for a reply left
        "uncertain" the Sent folder tells (`delivery_record`): no copy = DATA never began,
        a copy without the keyword = it went out. A reply whose confirmed copy is already
        in Sent (a crash after the 250) is not sent again; an unconfirmed copy is reused."""
        raw = build_reply(outbound, self.name)
        endpoint = smtp.endpoint_for(self.config)
        to = [outbound.to_address.strip(), *outbound.cc, *outbound.bcc]  # the envelope: Bcc only here
        folder = self.config.sent_folder
        if not folder:
            smtp.send_raw(endpoint, raw, outbound.from_address, to, before_data=outbound.data_begins)
            return outbound.mail_id
        try:
            copies, keywords = self._copies(folder, outbound.mail_id)
            if any(confirmed for confirmed in copies.values()):
                return outbound.mail_id  # it went out before: no second copy
            filed = bool(copies)

            def before_data() -> None:
                nonlocal filed
                if outbound.data_begins:
                    outbound.data_begins()  # committed before the copy and the bytes
                if keywords and not filed:
                    self._client().append(folder, raw, flags=[b"\\Seen", UNCONFIRMED])
                    filed = True

            smtp.send_raw(endpoint, raw, outbound.from_address, to, before_data=before_data)
            if outbound.transmitted:  # it left: recorded before the slower bookkeeping
                outbound.transmitted(outbound.mail_id)
            self._confirm(folder, outbound.mail_id, raw, filed and keywords)
        except (IMAPClientError, *_DROPPED) as exc:  # before DATA: nothing went
            raise ChannelError(self.name, f"not sent: cannot file its copy in {folder!r} first ({_reason(exc)});"
                                          f' create the folder, or set sent_folder = "" to send without copies') from None
        finally:
            self.close()
        return outbound.mail_id

    def delivery_record(self, outbound: Outbound) -> str | None:
        """What the Sent folder says about a reply left "uncertain": "sent" (a copy without
        the UNCONFIRMED keyword: ours after the 250, or one the server filed itself), "not
        sent" (no copy: it is filed before DATA, so DATA never began), or None (only an
        unconfirmed copy, or no Sent folder: a person has to check). ChannelError if the
        folder cannot be read."""
        folder = self.config.sent_folder
        if not folder or not outbound.mail_id:
            return None
        try:
            copies, keywords = self._copies(folder, outbound.mail_id)
        except (IMAPClientError, *_DROPPED) as exc:
            raise ChannelError(self.name, f"cannot search {folder!r}: {_reason(exc)}") from None
        finally:
            self.close()
        if any(copies.values()):
            return "sent"
        return "not sent" if keywords and not copies else None

    def _client(self) -> IMAPClient:
        return self.client or self.connect()

    def _copies(self, folder: str, message_id: str) -> tuple[dict[int, bool], bool]:
        """{uid: confirmed} of the copies of `message_id` in `folder`, and whether the
        folder keeps our keyword (without it, copies are filed only after the 250)."""
        client = self._client()
        selected = client.select_folder(folder)  # EXAMINE (read-only) lists no PERMANENTFLAGS
        permanent = [bytes(f).lower() for f in selected.get(b"PERMANENTFLAGS", ())]
        keywords = b"\\*" in permanent or UNCONFIRMED.lower() in permanent
        uids = client.search(["HEADER", "Message-ID", message_id])
        flags = client.get_flags(uids) if uids else {}
        return {uid: UNCONFIRMED.lower() not in [bytes(f).lower() for f in flags.get(uid, ())] for uid in uids}, keywords

    def _confirm(self, folder: str, message_id: str, raw: bytes, filed: bool) -> None:
        """After the 250: take the keyword off our copy (or file the copy now, when the
        folder keeps no keywords). The mail already left: a failure here is reported, not
        raised."""
        try:
            client = self._client()
            if not filed:
                client.append(folder, raw, flags=[b"\\Seen"])
                return
            client.select_folder(folder)
            uids = client.search(["HEADER", "Message-ID", message_id])
            if uids:
                client.remove_flags(uids, [UNCONFIRMED])
        except (ChannelError, IMAPClientError, *_DROPPED) as exc:
            self.append_error = f"channel {self.name}: sent, but the copy in {folder!r} is not confirmed: {_reason(exc)}"


def _received(value) -> dt.datetime:
    # imapclient's own FixedOffset zone does not pickle, and large batches are parsed
    # in worker processes: carry plain UTC
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def _reason(exc: BaseException | None) -> str:
    """One line saying what went wrong (server texts can be long or multi-line)."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    text = " ".join(text.split())[:200]
    return text or type(exc).__name__


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection may already be gone; nothing to save
        try:
            client.shutdown()
        except Exception:
            pass
