"""Matrix rooms as a channel: pull with /sync, send with PUT .../send/{txnId}.

Each joined room is one customer's stream (thread_key = room id). The position is the
`/sync` token `next_batch`, saved with the batch that stored what came before it, so a
crash re-reads from the last committed token (duplicates are recognised by event id).

- First sync, or a room seen for the first time (a new invite): its last
  `history_on_first_sync` events.
- Later syncs: only what is new; a `limited` timeline (more happened than one /sync
  returns) is back-filled with /rooms/{id}/messages from `prev_batch` back to the token
  of the previous sync, so no message is lost.
- Invites are joined when `auto_join_invites` is on (a web chat widget or a bridge that
  invites the support account), and the room is read in the same run.
- Sending uses the outbox row's txn_id as the Matrix transaction id: a retry after a
  crash returns the first event instead of posting a second one.
- The rooms the desk opened to page the person on call (`matrix_direct`) are not
  customer streams: /sync leaves them out. Their list comes with the /sync answer (the
  desk account's account data) and is saved with the token as `page_rooms`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from ..config import MatrixChannel as MatrixConfig
from ..errors import ChannelError
from ..secrets import Secret
from ..model import Change
from .base import Batch, Item, room_problem
from .matrix_api import MatrixAPI, MatrixRefused, q
from .matrix_direct import PAGE_ROOMS, DirectRooms, page_rooms as recorded_rooms
from .matrix_events import Names, convert

if TYPE_CHECKING:
    from .base import Outbound

BATCH = 500
"""Messages per stored batch (the token is saved with the last batch of a /sync)."""
SYNC_LIMIT = 100
ADMIN = "/_synapse/admin/v2"
"""Synapse's admin API: the one place a homeserver tells a user's email address."""
"""Timeline events per room in one incremental /sync; more are back-filled."""
PAGE = 100
MAX_PAGES = 2000
"""Bound on /messages pages per room and run (200,000 events)."""
MAX_ROUNDS = 5
"""/sync rounds in one pull: another round only after joining invited rooms."""
REQUEST_KEY = "org.tui-desk.request"
"""Filter key whose fresh value per /sync keeps the homeserver from answering from its cache."""


class MatrixChannel:
    """One Matrix account; follows every joined room or the configured `rooms`."""

    reply_problem = staticmethod(room_problem)

    def __init__(self, config: MatrixConfig, base: Path | None = None, *,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = config.name
        self.config = config
        self.long_poll = 0.0
        self.message_ids = False  # chat: replies are matched by transaction id, not Message-ID
        self.rooms = set(config.rooms)
        self.page_rooms: set[str] = set()
        """Rooms the desk opened to page someone (read from /sync, never ingested)."""
        token = Secret(config.access_token, config.access_token_env, config.access_token_cmd)
        secret = config.secret()
        if not secret.configured:
            raise ChannelError(self.name, "no access_token or password configured (access_token_env, "
                                          "access_token_cmd, password, password_env or password_cmd)")
        if not config.homeserver.startswith(("https://", "http://")):
            raise ChannelError(self.name, f"homeserver must be an http(s) URL, not {config.homeserver!r}")
        self.api = MatrixAPI(self.name, config.homeserver, config.user_id, secret,
                             use_password=not token.configured, transport=transport, sleep=sleep)
        self.emails: dict[str, str | None] = {}
        """Each sender's email address as the admin API gave it (None: it has none)."""
        self.lookup_refused = False
        self.warnings: list[str] = []
        """Told with the next batch (the refused email lookup)."""

    # -- pulling ----------------------------------------------------------------------

    def pull(self, state: dict[str, str], seen: set[str]) -> Iterator[Batch]:
        since = state.get("next_batch") if state.get("user") == self.config.user_id else None
        self.page_rooms = set(_json_list(state.get("page_rooms"))) if since else set()
        known = {key[len("room:"):] for key in state if key.startswith("room:")}
        wait = self.long_poll
        for _ in range(MAX_ROUNDS):
            data = self._sync(since, wait)
            self._learn_page_rooms(data)
            joined = self._accept_invites(data)
            yield from self._batches(data, since, known)
            since, wait = data["next_batch"], 0.0
            if not joined:
                return

    def _learn_page_rooms(self, data: dict) -> None:
        """Add the page rooms recorded in this /sync's account data (all of it on a first
        sync, what changed on later ones): read in the same answer as the rooms, so a page
        room is known before its first message is read."""
        for event in (data.get("account_data") or {}).get("events") or []:
            if isinstance(event, dict) and event.get("type") == PAGE_ROOMS:
                self.page_rooms |= set(recorded_rooms(event.get("content")).values())

    def _sync(self, since: str | None, wait: float) -> dict:
        limit = SYNC_LIMIT if since else max(1, self.config.history_on_first_sync)
        room_filter: dict = {
            "timeline": {"limit": limit},
            # the member events of the senders shown, every time, for their display names
            "state": {"lazy_load_members": True, "include_redundant_members": True},
            "ephemeral": {"types": []},
            "account_data": {"types": []},
        }
        if self.rooms:
            room_filter["rooms"] = sorted(self.rooms)
        if self.page_rooms:
            room_filter["not_rooms"] = sorted(self.page_rooms)
        params = {
            # A homeserver answers a repeated request (same since, filter, timeout) from its
            # cache (Synapse: 2 minutes): after an interrupted run, the next one would get
            # that older answer, and whatever came since would wait a run. A key of our own
            # in the filter (homeservers ignore unknown ones) makes each request new; a
            # transport retry of this one reuses it, and may get the same answer.
            "filter": json.dumps({"room": room_filter, "presence": {"types": []},
                                  "account_data": {"types": [PAGE_ROOMS]},
                                  REQUEST_KEY: secrets.token_hex(8)}),
            "timeout": str(int(wait * 1000)) if since else "0",
            "set_presence": "offline",
        }
        if since:
            params["since"] = since
        data = self.api.call("GET", "/sync", params=params, timeout=wait + 60.0)
        if not isinstance(data.get("next_batch"), str):
            raise ChannelError(self.name, "the homeserver's /sync answer has no next_batch token")
        return data

    def _accept_invites(self, data: dict) -> int:
        if not self.config.auto_join_invites:
            return 0
        joined = 0
        for room_id in (data.get("rooms") or {}).get("invite") or {}:
            if (self.rooms and room_id not in self.rooms) or room_id in self.page_rooms:
                continue
            try:
                self.api.call("POST", f"/join/{q(room_id)}", json={})
                joined += 1
            except MatrixRefused:
                continue  # the room is gone or closed to us: the invite stays, nothing to read
        return joined

    def _batches(self, data: dict, since: str | None, known: set[str]) -> Iterator[Batch]:
        items: list[Item] = []
        changes: list[Change] = []
        state = {"next_batch": data["next_batch"], "user": self.config.user_id,
                 "page_rooms": json.dumps(sorted(self.page_rooms))}
        for room_id, room in ((data.get("rooms") or {}).get("join") or {}).items():
            if (self.rooms and room_id not in self.rooms) or room_id in self.page_rooms:
                continue
            state[f"room:{room_id}"] = "joined"
            names = Names()
            for event in (room.get("state") or {}).get("events") or []:
                names.learn(event)
            new_room = room_id not in known
            for event in self._timeline(room_id, room, since, new_room, names):
                found = convert(event, room_id, names, self.config.user_id)
                if isinstance(found, Change):
                    changes.append(found)
                elif found is not None:
                    if found.direction == "in" and self.config.email_lookup:
                        found.sender_email = self._email_of(found.sender_address)
                    items.append(Item("parsed", found.raw, found.received_at, parsed=found))
                    if len(items) >= BATCH:
                        yield Batch(items, warnings=self._told())  # no token yet: a crash re-reads these
                        items = []
            known.add(room_id)
        yield Batch(items, state=state, changes=changes, warnings=self._told())

    def _told(self) -> list[str]:
        told, self.warnings = self.warnings, []
        return told

    def _email_of(self, user_id: str) -> str | None:
        """The user's email address (their first email 3PID) from Synapse's admin API,
        asked once per user and run. Refused (the account is no server admin) or not
        there: None, and the refusal is logged once: mail and chat then stay apart."""
        if user_id not in self.emails and not self.lookup_refused:
            self.emails[user_id] = None
            try:
                answer = self.api.call("GET", f"/users/{q(user_id)}", prefix=ADMIN)
            except MatrixRefused as exc:
                if exc.status in (401, 403):
                    self.lookup_refused = True
                    self.warnings.append(f"email_lookup: the homeserver refused its admin API ({exc.code}); the"
                                         f" account {self.config.user_id} must be a server admin to read emails")
                return None
            found = [t.get("address") for t in answer.get("threepids") or []
                     if isinstance(t, dict) and t.get("medium") == "email"]
            self.emails[user_id] = next((a.strip().lower() for a in found if isinstance(a, str) and "@" in a), None)
        return self.emails.get(user_id)

    def _timeline(self, room_id: str, room: dict, since: str | None, new_room: bool, names: Names) -> list[dict]:
        """The room's events to read, oldest first, back-filled where the timeline was cut."""
        timeline = room.get("timeline") or {}
        events = [e for e in timeline.get("events") or [] if isinstance(e, dict)]
        want = max(1, self.config.history_on_first_sync)
        if new_room:
            if timeline.get("limited") and len(events) < want and timeline.get("prev_batch"):
                events = self._back_fill(room_id, timeline["prev_batch"], None, want - len(events), names) + events
            return _unique(events)[-want:]
        if timeline.get("limited") and timeline.get("prev_batch") and since:
            events = self._back_fill(room_id, timeline["prev_batch"], since, None, names) + events
        return _unique(events)

    def _back_fill(self, room_id: str, start: str, until: str | None, count: int | None, names: Names) -> list[dict]:
        """Older events from `start` back to the sync token `until` (or `count` of them)."""
        older: list[dict] = []
        token = start
        for _ in range(MAX_PAGES):
            params = {"dir": "b", "from": token, "limit": str(PAGE), "filter": json.dumps({"lazy_load_members": True})}
            if until:
                params["to"] = until
            page = self.api.call("GET", f"/rooms/{q(room_id)}/messages", params=params)
            for event in page.get("state") or []:
                names.learn(event)
            chunk = [e for e in page.get("chunk") or [] if isinstance(e, dict)]
            older.extend(chunk)
            if count is not None and len(older) >= count:
                older = older[:count]
                break
            if not chunk or not page.get("end") or page["end"] == token:
                break
            token = page["end"]
        older.reverse()
        return older

    # -- sending ----------------------------------------------------------------------

    def send(self, outbound: "Outbound") -> str:
        """Post the reply in its room; the event id. Idempotent through the txn id: the
        same txn id (a retry, `maybe_sent`) returns the first event, never a second post."""
        room_id = outbound.thread_key
        if not room_id:
            raise ChannelError(self.name, f"conversation {outbound.conversation_id} has no Matrix room to reply in")
        answer = self.api.call("PUT", f"/rooms/{q(room_id)}/send/m.room.message/{q(outbound.txn_id)}",
                               json={"msgtype": "m.notice" if outbound.automatic else "m.text",
                                     "body": outbound.text})
        event_id = answer.get("event_id")
        if not isinstance(event_id, str):
            raise ChannelError(self.name, "the homeserver accepted the reply but returned no event id")
        return event_id

    def send_direct(self, user_id: str, text: str, txn_id: str) -> tuple[str, str]:
        """Post `text` to one person in the desk's direct room with them (made on first
        use, see `matrix_direct`); (room id, event id). Idempotent through `txn_id`."""
        return DirectRooms(self.api).send(user_id, text, txn_id)

    def replies_after(self, room: str, event_id: str) -> list[tuple[str, str]]:
        """(sender, text) posted in a direct room after a page (see `matrix_direct`)."""
        return DirectRooms(self.api).replies_after(room, event_id)

    # -- files ------------------------------------------------------------------------

    def download(self, source: str) -> tuple[bytes, str]:
        """The content behind an attachment's mxc:// source and its content type."""
        return self.api.download(source)

    def probe(self) -> list[tuple[str, str | None]]:
        """Sign in (or use the token) and ask who we are (`config check --connect`)."""
        from . import attempt
        return [attempt(f"Matrix {self.config.user_id} at {self.config.homeserver}",
                        lambda: self.api.call("GET", "/account/whoami"))]

    def close(self) -> None:
        self.api.close()


def _json_list(text: str | None) -> list[str]:
    """A saved JSON list of strings ([] when absent or unreadable)."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _unique(events: list[dict]) -> list[dict]:
    """Events in order, each once (a back-filled page may overlap the timeline)."""
    seen: set[str] = set()
    kept = []
    for event in events:
        event_id = event.get("event_id")
        if event_id not in seen:
            seen.add(event_id)
            kept.append(event)
    return kept
