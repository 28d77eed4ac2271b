"""Answers to surveys, read while sync stores new messages (inside the batch's transaction).

A customer's message in a conversation with an open survey (sent, unanswered, not
expired) that reads as a score (survey.answer) is the answer: stored in that
conversation, a `satisfaction` event, and the conversation keeps its status, unless
the score is 1 or 2 with a comment: then it reopens, tagged csat-low, for a follow-up.
In chat, a solved room's next message would start a new conversation; a score goes to
the surveyed one instead (only while it is the room's latest). Anything else is an
ordinary message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..model import ParsedMessage
from ..store import Store
from .answer import Answer, read_answer

LOW = 2
"""Scores up to this, with a comment, reopen the conversation for a follow-up."""


@dataclass(frozen=True)
class Reading:
    survey_id: int
    conversation_id: int
    answer: Answer

    @property
    def follow_up(self) -> bool:
        return self.answer.score <= LOW and bool(self.answer.comment)


class Intake:
    """Reads answers during one sync run."""

    def __init__(self, store: Store, now: dt.datetime | None = None) -> None:
        self.store = store
        self.now = now
        """The instant expiry is judged at (None: the moment each message is read)."""
        self.answers = 0
        # most syncs have no survey waiting: then no message costs a lookup
        self.waiting = store.surveys_waiting(now)

    def read(self, channel: str, msg: ParsedMessage, conversation_id: int | None) -> Reading | None:
        """The survey answer `msg` is, or None (an ordinary message)."""
        if not self.waiting or msg.direction != "in" or msg.automatic or msg.loop_class != "human":
            return None
        at = self.now or dt.datetime.now(dt.timezone.utc)
        survey = self.store.open_survey(conversation_id, at)
        if survey is None and conversation_id is None and msg.thread_key is not None:
            survey = self.store.open_survey_in_room(channel, msg.thread_key, at)
        if survey is None:
            return None
        answer = read_answer(msg.text)
        return Reading(survey["id"], survey["conversation_id"], answer) if answer else None

    def record(self, reading: Reading, message_id: int) -> None:
        self.store.record_survey_answer(reading.survey_id, reading.conversation_id, message_id,
                                        reading.answer.score, reading.answer.comment, follow_up=reading.follow_up)
        self.answers += 1
