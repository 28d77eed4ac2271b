"""A shared support mailbox over IMAP (imapclient): pull new mail, send replies.

Pull is incremental by UID per folder. The channel's sync state holds, per folder,
the UIDVALIDITY and the highest UID stored; sync saves each batch's state in the same
transaction as its messages, so a kill at any moment loses nothing and duplicates
nothing. A changed UIDVALIDITY means the server renumbered the folder: it is read again
from the start and what is already stored is recognised by Message-ID (or, without one,
by a hash of the bytes). Messages are fetched with BODY.PEEK[] (flags untouched unless
`mark_seen`) in explicit UID chunks: imapclient cannot fetch "1:*" and Dovecot refuses
one FETCH naming 20,000 UIDs.

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
from .base import Batch, Item, Outbound
from .mailout import build_reply

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


class ImapChannel:
    """One `kind = "imap"` channel."""

    message_ids = True
    """The outbox gives every reply a Message-ID before the first try."""

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

    # -- pull ------------------------------------------------------------------------

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        """New mail of every folder, in batches of `batch_size`, oldest UID first."""
        state = dict(state)
        self.connect()
        for folder in self.config.folders:
            for attempt in range(len(BACKOFF) + 1):
                try:
                    for batch in self._pull_folder(folder, state):
                        state.update(batch.state)
                        yield batch
                    break
                except _DROPPED as exc:
                    if attempt == len(BACKOFF):
                        raise ChannelError(self.name, f"connection to {self._where()} lost while reading "
                                                      f"{folder!r}: {_reason(exc)}") from None
                    self.sleep(BACKOFF[attempt])
                    self.connect()

    def _pull_folder(self, folder: str, state: dict[str, str]) -> Iterator[Batch]:
        client = self.client
        assert client is not None
        vkey, ukey = f"{folder}:uidvalidity", f"{folder}:uid"
        try:
            info = client.select_folder(folder, readonly=not self.config.mark_seen)
        except imaplib.IMAP4.abort:
            raise
        except IMAPClientError as exc:
            raise ChannelError(self.name, f"cannot open folder {folder!r}: {_reason(exc)}") from None
        validity = str(info.get(b"UIDVALIDITY", ""))
        same = state.get(vkey) == validity
        last = int(state.get(ukey, "0")) if same else 0
        uidnext = info.get(b"UIDNEXT")
        if same and uidnext is not None and int(uidnext) <= last + 1:
            return  # nothing new: the no-change sync costs one SELECT per folder
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        if not uids:
            if not same:
                yield Batch([], {vkey: validity, ukey: str(last)})
            return
        part = b"BODY[]" if self.config.mark_seen else b"BODY.PEEK[]"
        size = max(1, self.config.batch_size)
        for start in range(0, len(uids), size):
            chunk = uids[start:start + size]
            fetched = client.fetch(chunk, [part, b"INTERNALDATE"])
            items = []
            for uid in chunk:
                data = fetched.get(uid)
                if not data or b"BODY[]" not in data:
                    continue  # expunged since the search
                items.append(Item("email", bytes(data[b"BODY[]"]), _received(data.get(b"INTERNALDATE"))))
            yield Batch(items, {vkey: validity, ukey: str(chunk[-1])})

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
        to = [outbound.to_address.strip()]
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
