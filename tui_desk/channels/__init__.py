"""Channels: the only code that talks to mail servers, chat servers and export files.

One module per kind; `open_channel` builds the right one from its config.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..config import Channel as ChannelConfig
from ..errors import ChannelError, DeskError
from .base import Batch, Change, Channel, Item, Outbound


def open_channel(config: ChannelConfig, base: Path | None = None) -> Channel:
    """A channel object for one `[[channels]]` entry; relative paths are taken from `base`."""
    return _kind(config)(config, base)


def reply_problem(config: ChannelConfig, to_address: str, thread_key: str | None) -> str | None:
    """Why a reply on this channel could not reach this recipient, or None; asked without
    opening the channel (no connection, no secret), before a reply is queued."""
    return _kind(config).reply_problem(to_address, thread_key)


def local_problem(config: ChannelConfig, base: Path | None = None) -> str | None:
    """Why a sync could not read a local channel (a Maildir or an export that is not
    there), seen without a network or a secret; None for one that looks fine, or that
    lives on a server."""
    kind = _kind(config)
    return kind(config, base).local_problem() if hasattr(kind, "local_problem") else None


def probe(config: ChannelConfig, base: Path | None = None) -> list[tuple[str, str | None]]:
    """Reach a channel's servers (or files) as a sync would, reading and sending
    nothing: (what, problem) per server, problem None when it answered and took the login."""
    try:
        channel = open_channel(config, base)
    except ChannelError as exc:
        return [(config.name, str(exc))]
    try:
        return channel.probe()
    finally:
        channel.close()


def attempt(what: str, reach: Callable[[], object]) -> tuple[str, str | None]:
    """(what, None) when `reach()` succeeds, else (what, why not)."""
    try:
        reach()
        return what, None
    except DeskError as exc:
        return what, str(exc)


def sends_email(config: ChannelConfig) -> bool:
    """Whether this channel's replies are email (Cc, Bcc and attachments are for those)."""
    return getattr(_kind(config), "message_ids", False) is True


def _kind(config: ChannelConfig) -> type:
    if config.kind == "maildir":
        from .maildir import MaildirChannel
        return MaildirChannel
    if config.kind == "jsonl":
        from .jsonl import JsonlChannel
        return JsonlChannel
    if config.kind == "imap":
        from .imap import ImapChannel
        return ImapChannel
    if config.kind == "matrix":
        from .matrix import MatrixChannel
        return MatrixChannel
    raise ChannelError(config.name, f"the {config.kind} channel is not available in this version yet")


__all__ = ["Batch", "Change", "Channel", "Item", "Outbound", "local_problem", "open_channel", "probe", "sends_email", "reply_problem"]
