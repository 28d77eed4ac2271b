"""Direct messages from the desk's Matrix account to one person (on-call pages).

A page goes to a room only the desk account and that person are in. The first page
creates it (createRoom with `is_direct` and an invite, preset trusted_private_chat);
later pages reuse it. The room is remembered in the desk account's own account data:

- under `PAGE_ROOMS` ({"rooms": {user id: room id}}): the desk's record, which sync reads
  too, so a page room (and whatever the person answers in it) never becomes a customer
  conversation;
- under `m.direct`, so a Matrix client logged in as the desk account lists the room as
  a direct chat with that person.

A remembered room is checked before use: if the person left it they are invited again;
if they are banned, or the desk account is no longer in it, a new room is made.
Sending is a PUT with a transaction id: a retried request returns the first event.
"""

from __future__ import annotations

from ..errors import ChannelError
from .matrix_api import MatrixAPI, MatrixRefused, q

PAGE_ROOMS = "org.tui-desk.page_rooms"
"""Account-data type of the desk's record of its page rooms."""
DIRECT = "m.direct"


def page_rooms(content: object) -> dict[str, str]:
    """{user id: room id} from the content of a PAGE_ROOMS account-data event (tolerant:
    anything malformed is left out)."""
    rooms = content.get("rooms") if isinstance(content, dict) else None
    if not isinstance(rooms, dict):
        return {}
    return {user: room for user, room in rooms.items() if isinstance(user, str) and isinstance(room, str)}


class DirectRooms:
    """The desk account's direct rooms, over one API session."""

    def __init__(self, api: MatrixAPI) -> None:
        self.api = api

    def _account_data(self, kind: str) -> dict:
        try:
            return self.api.call("GET", f"/user/{q(self.api.user_id)}/account_data/{q(kind)}")
        except MatrixRefused as exc:
            if exc.status == 404:
                return {}  # never written yet
            raise

    def _put_account_data(self, kind: str, content: dict) -> None:
        self.api.call("PUT", f"/user/{q(self.api.user_id)}/account_data/{q(kind)}", json=content)

    def recorded(self) -> dict[str, str]:
        """Page rooms by user id, as last recorded."""
        return page_rooms(self._account_data(PAGE_ROOMS))

    def room_for(self, user_id: str) -> str:
        """The room to page `user_id` in: the remembered one when still usable, else a new one."""
        known = self.recorded()
        room = known.get(user_id)
        if room is not None and self._usable(room, user_id):
            return room
        room = self._create(user_id)
        # remember before anything is said in the room: sync reads this record and leaves
        # the room alone, even when it sees the room in the same /sync as the page
        self._put_account_data(PAGE_ROOMS, {"rooms": {**known, user_id: room}})
        self._add_to_m_direct(user_id, room)
        return room

    def _usable(self, room: str, user_id: str) -> bool:
        try:
            member = self.api.call("GET", f"/rooms/{q(room)}/state/m.room.member/{q(user_id)}")
        except MatrixRefused:
            return False  # we left the room, it is gone, or the person never was in it
        membership = member.get("membership")
        if membership in ("join", "invite"):
            return True
        if membership == "leave":
            try:
                self.api.call("POST", f"/rooms/{q(room)}/invite", json={"user_id": user_id})
                return True
            except MatrixRefused:
                return False
        return False  # banned: start afresh

    def _create(self, user_id: str) -> str:
        answer = self.api.call("POST", "/createRoom", json={
            "preset": "trusted_private_chat", "is_direct": True, "invite": [user_id],
            "name": "On-call pages",
        })
        room = answer.get("room_id")
        if not isinstance(room, str):
            raise ChannelError(self.api.channel, "the homeserver created the page room but returned no room id")
        return room

    def _add_to_m_direct(self, user_id: str, room: str) -> None:
        direct = self._account_data(DIRECT)
        rooms = direct.get(user_id) if isinstance(direct.get(user_id), list) else []
        if room not in rooms:
            self._put_account_data(DIRECT, {**direct, user_id: [*rooms, room]})

    def replies_after(self, room: str, event_id: str, limit: int = 20) -> list[tuple[str, str]]:
        """(sender, text) of the messages posted in `room` after `event_id`, oldest
        first: how the person answers a page ("ack")."""
        answer = self.api.call("GET", f"/rooms/{q(room)}/context/{q(event_id)}", params={"limit": limit})
        out = []
        for event in answer.get("events_after") or []:
            content = event.get("content") if isinstance(event, dict) else None
            if event.get("type") == "m.room.message" and isinstance(content, dict) \
                    and isinstance(content.get("body"), str) and isinstance(event.get("sender"), str):
                out.append((event["sender"], content["body"]))
        return out

    def send(self, user_id: str, text: str, txn_id: str) -> tuple[str, str]:
        """Post `text` to `user_id` in their direct room; (room id, event id)."""
        room = self.room_for(user_id)
        answer = self.api.call("PUT", f"/rooms/{q(room)}/send/m.room.message/{q(txn_id)}",
                               json={"msgtype": "m.text", "body": text})
        event_id = answer.get("event_id")
        if not isinstance(event_id, str):
            raise ChannelError(self.api.channel, "the homeserver accepted the page but returned no event id")
        return room, event_id
