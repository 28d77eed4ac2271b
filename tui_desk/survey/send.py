"""Sending surveys: run by sync after the rules, before the outbox delivers.

A conversation gets a survey when it has been solved, and stayed solved, for
`[survey] delay` (no more than delay + expires ago), unless: it is merged or tagged
no-survey or spam; the loop guard would not answer its customer (their latest
message is automatic, bulk, a bounce, our own, a teammate's, or any of theirs here is
bulk); the customer had a survey within `[survey] cooldown`; the guard's caps on
automatic messages are reached (tried again at the next sync). A skip for good is
recorded once as a `survey_skipped` event (the conversation's history says why).

The text is the template `[survey] template`, or its "<id>-<language>" variant for a
customer who writes in that language. It goes through the outbox (automatic, so no
agent's figures count it) with no undo wait: delivered in the same sync.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from .. import outbox
from ..config import Config
from ..durations import parse_duration
from ..errors import DeskError
from ..rules.guard import may_auto_reply
from ..store import Store

if TYPE_CHECKING:  # the templates (Jinja2, rapidfuzz) are imported only when surveys are on
    from ..templates.library import Template, TemplateLibrary
from .language import detect


@dataclass
class SurveyRun:
    """What one run did."""

    queued: int = 0
    """Surveys queued (the outbox delivers them right after)."""
    skipped: int = 0
    """Conversations due one that get none (each recorded once, with why)."""
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"queued": self.queued, "skipped": self.skipped}


def send_due(config: Config, store: Store, now: dt.datetime | None = None,
             library: TemplateLibrary | None = None) -> SurveyRun:
    """Queue a survey for every conversation due one."""
    result = SurveyRun()
    if not config.survey.enabled:
        return result
    now = now or dt.datetime.now(dt.timezone.utc)
    delay, cooldown, expires = (parse_duration(v) for v in (config.survey.delay, config.survey.cooldown,
                                                             config.survey.expires))
    from ..templates.library import TemplateLibrary
    from ..templates.quick import preview
    library = library or TemplateLibrary.for_config(config)
    if library.get(config.survey.template) is None:
        result.errors.append(f"survey: no template {config.survey.template!r} in {library.folder}"
                             " (write one, or set [survey] template); no survey was sent")
        return result
    for candidate in store.survey_candidates(now - delay, now - delay - expires):
        cid = candidate["id"]
        why = reason_not(config, store, candidate, now - cooldown)
        if why is not None:
            store.survey_skipped(cid, why)
            result.skipped += 1
            continue
        _, address = store.recipient(cid)
        if _cap(config, store, address, now):
            continue  # the caps on automatic messages: tried again at the next sync
        template, language = pick_template(library, config.survey.template, store.customer_texts(candidate["customer_id"]))
        draft = preview(config, store, template, cid, agent=config.desk.name, now=now)
        if not draft.rendered.ok:
            result.errors.append(f"survey: template {template.id} cannot be sent by itself: "
                                 + ("; ".join(draft.rendered.problems) or "fill in " + ", ".join(draft.rendered.missing)))
            return result
        try:
            survey = store.queue_survey(cid, draft.rendered.text, template_id=template.id, language=language,
                                        recipient=address, txn_id=f"tuidesk-{uuid.uuid4().hex}", expires=expires,
                                        solved_before=now - delay, cooldown_since=now - cooldown, at=now)
        except DeskError as exc:
            result.errors.append(f"survey for conversation {cid}: {exc}")
            continue
        result.queued += survey is not None
    return result


def reason_not(config: Config, store: Store, candidate: dict, cooldown_since: dt.datetime) -> str | None:
    """Why this conversation gets no survey (for good), or None."""
    cid = candidate["id"]
    last_class, bulk = store.survey_inbound_classes(cid)
    if last_class is None:
        return "the customer never wrote"
    if bulk:
        return "the customer's messages here are bulk mail"
    _, address = store.recipient(cid)
    why = may_auto_reply(last_class, address) or outbox.reply_problem(config, store, cid)
    if why:
        return why
    if store.customer_surveyed_since(candidate["customer_id"], cooldown_since):
        return f"the customer had a survey within {config.survey.cooldown}"
    return None


def pick_template(library: TemplateLibrary, base: str, texts: list[str]) -> tuple[Template, str]:
    """(the survey template in the customer's language if there is one, else the
    desk's; the language the customer writes in, "" when unclear)."""
    language = detect(texts)
    default = library.get(base)
    if language:
        variant = library.get(f"{base}-{language}")
        if variant is not None:
            return variant, language
        if default is not None and default.language == language:
            return default, language
    return default, language


def _cap(config: Config, store: Store, address: str, now: dt.datetime) -> bool:
    """The loop guard's caps on automatic messages to one recipient (as rules obey them)."""
    limits = config.automation
    return any(store.automatic_sent_to(address, now - span) >= limit
               for span, limit in ((dt.timedelta(hours=1), limits.max_per_hour),
                                   (dt.timedelta(days=1), limits.max_per_day)))
