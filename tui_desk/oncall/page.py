"""Paging the person on call through their roster contact: email, Matrix, or a command.

Email goes through `channels.smtp` to the SMTP server of [oncall.smtp], or of the imap
channel named by [oncall] smtp_channel, or of the first imap channel. A Matrix page is
a message from the account of the matrix channel named by [oncall] matrix_channel (or
the first one) in its direct room with the person; the channel finds or makes that
room. A command (`notify_cmd`) is run by /bin/sh and gets the page on standard input.
Every page, delivered or not, is an event row of kind "page".
"""

from __future__ import annotations

import os
import subprocess
import uuid

from ..channels import DirectMessenger, open_channel, smtp, supports
from ..config import Channel, Config
from ..errors import EXIT_FAILED, EXIT_USAGE, ConfigError, DeskError, UsageError
from ..textsafe import one_line
from .roster import Person
from .service import Oncall

NOTIFY_TIMEOUT_S = 30
MAX_MESSAGE = 10_000


def endpoint(config: Config) -> smtp.Endpoint:
    """The SMTP server email pages go through (see the module docstring)."""
    oc = config.oncall
    where = config.path or "config"
    if oc.smtp_channel:
        channel = config.channel(oc.smtp_channel)
        if not isinstance(channel, smtp.SmtpEntry):
            raise ConfigError(where, "oncall.smtp_channel", f"channel {channel.name!r} is not an imap channel")
        return smtp.endpoint_for(channel)
    if oc.smtp is not None:
        s = oc.smtp
        return smtp.Endpoint(s.host, s.port, s.tls, s.username, s.secret(), name="[oncall.smtp]")
    for channel in config.channels:
        if isinstance(channel, smtp.SmtpEntry):
            return smtp.endpoint_for(channel)
    raise ConfigError(where, "oncall", "email pages need an SMTP server: add [oncall.smtp] or an imap channel")


def matrix_channel(config: Config) -> Channel:
    """The channel whose account sends Matrix pages, one that can message a person
    directly (see the module docstring)."""
    where = config.path or "config"
    if config.oncall.matrix_channel:
        channel = config.channel(config.oncall.matrix_channel)
        if not supports(channel, DirectMessenger):
            raise ConfigError(where, "oncall.matrix_channel", f"channel {channel.name!r} is not a matrix channel")
        return channel
    for channel in config.channels:
        if supports(channel, DirectMessenger):
            return channel
    raise ConfigError(where, "oncall", "Matrix pages need a matrix channel: add one ([[channels]] kind = \"matrix\")")


def _deliver(desk: Oncall, person: Person, rotation: str, text: str, *, key: str | None = None,
             by: str | None = None) -> dict:
    """Send one page; what identifies it on the way (recorded with the page's event).
    `key`: the page's own Matrix transaction id and Message-ID (an escalation notice,
    sent again after a crash under the same key); `by`: who pages (default: this agent)."""
    config = desk.config
    by = by or config.agent.name
    if person.contact == "email":
        sender = config.oncall.page_from or config.desk.support_address
        msg = smtp.message(
            sender=sender, to=[person.email],
            subject=f"[{one_line(config.desk.name)} on call] {one_line(text.strip().splitlines()[0])[:120]}",
            text=f"{text}\n\n-- \nPaged by {by} through tui-desk (rotation {rotation}).\n",
            headers={"X-Tui-Desk-Page": rotation},
        )
        if key:
            domain = sender.rpartition("@")[2].strip("> ") or "tui-desk.invalid"
            msg.replace_header("Message-ID", f"<{key}@{domain}>")
        smtp.send(endpoint(config), msg)
        return {"message_id": msg["Message-ID"]} if key else {}
    if person.contact == "matrix":
        # one transaction id per page: a request retried after a lost answer posts it once
        txn_id = key or f"tuidesk-page-{uuid.uuid4().hex}"
        channel = open_channel(config, matrix_channel(config))
        try:
            room, event_id = channel.send_direct(
                person.matrix, f"On-call page ({rotation}, from {by}):\n{text}", txn_id)
        finally:
            channel.close()
        return {"txn_id": txn_id, "room": room, "event_id": event_id}
    if person.contact == "command":
        env = {**os.environ, "TUI_DESK_ONCALL_WHO": person.id, "TUI_DESK_ONCALL_ROTATION": rotation}
        try:
            # through the shell, so redirections work ("cat >> pages.txt"); the page itself
            # only ever reaches the command on stdin, never its command line
            done = subprocess.run(["/bin/sh", "-c", person.notify_cmd], input=text, text=True, env=env,
                                  capture_output=True, timeout=NOTIFY_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeskError(f"notify_cmd for {person.id}: {type(exc).__name__}: {exc}") from None
        if done.returncode != 0:
            raise DeskError(f"notify_cmd for {person.id} exited with {done.returncode}")
        return {}
    raise DeskError(f"{person.id}'s contact {person.contact!r} is not one tui-desk can page")


def _no_contact(config: Config, who: str) -> ConfigError:
    """A person on call whom the roster cannot reach: a config mistake (exit 2)."""
    if not config.oncall.roster:
        return ConfigError(config.path or "config", "oncall.roster",
                           f"{who} is on call but there is no roster saying how to reach them ([people.{who}])")
    return ConfigError(config.oncall.roster, f"people.{who}", f"{who} is on call but has no entry to page them by")


def page(desk: Oncall, text: str, rotation: str | None = None, conversation_id: int | None = None) -> list[dict]:
    """Page whoever is on call now in `rotation` (or in every rotation, each person once).
    Returns one result per person; raises DeskError after recording if any page failed."""
    text = (text or "").strip()
    if not text:
        raise UsageError("--message is empty")
    if len(text) > MAX_MESSAGE:
        raise UsageError(f"--message is longer than {MAX_MESSAGE} characters")
    if conversation_id is not None:
        text += "\n\n" + conversation_lines(desk, conversation_id)
    targets: dict[str, str] = {}
    for rot in desk.rotations(rotation):
        seg = rot.at(desk.now)
        if seg is not None:
            targets.setdefault(seg.who, rot.name)
    if not targets:
        raise DeskError("nobody is on call now (the rotation has not started)")
    results = []
    config_mistakes = 0
    for who, rot_name in targets.items():
        person = desk.roster.get(who)
        result = {"who": who, "rotation": rot_name, "contact": person.contact if person else None, "ok": True}
        sent: dict = {}
        try:
            if person is None:
                raise _no_contact(desk.config, who)
            sent = _deliver(desk, person, rot_name, text)
        except DeskError as exc:
            result.update(ok=False, error=str(exc))
            config_mistakes += isinstance(exc, ConfigError)
        desk.store.oncall_record_page(desk.actor, {**result, **sent, "message": text[:500]}, conversation_id)
        results.append(result)
    failed = [r for r in results if not r["ok"]]
    if failed:
        raise PageFailed(results, config_mistake=config_mistakes == len(results))
    return results


def conversation_lines(desk: Oncall, conversation_id: int) -> str:
    """What a page about a conversation tells of it: its id, the customer, the subject and
    the first lines of the customer's latest message, one line each, cleaned."""
    conversation = desk.store.conversation(conversation_id)
    if conversation is None:
        raise UsageError(f"no conversation {conversation_id}")
    who = " ".join(filter(None, [one_line(conversation["customer_name"] or ""),
                                 f"<{one_line(conversation['customer_address'])}>"
                                 if conversation["customer_address"] else ""]))
    lines = [f"Conversation #{conversation_id} from {who[:120] or 'an unknown customer'}",
             f"Subject: {one_line(conversation['subject'] or '')[:120]}"]
    inbound = [m for m in desk.store.messages(conversation_id) if m["direction"] == "in"]
    if inbound:
        text = [line for line in (inbound[-1]["text"] or "").splitlines() if line.strip()][:4]
        lines += ["> " + one_line(line)[:200] for line in text]
    return "\n".join(lines)


class PageFailed(DeskError):
    """At least one page could not be delivered (each attempt is recorded). Exit 2 when
    nobody was reached because of a config mistake (no SMTP server, no matrix channel)."""

    def __init__(self, results: list[dict], config_mistake: bool = False) -> None:
        self.results = results
        self.exit_code = EXIT_USAGE if config_mistake else EXIT_FAILED
        super().__init__("; ".join(f"page to {r['who']} failed: {r['error']}" for r in results if not r["ok"]))
