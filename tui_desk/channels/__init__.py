"""Channels: the only code that talks to mail servers, chat servers and export files.

One module per kind, registered in `tui_desk.channel_kinds`; `open_channel` is the one
place that builds a channel (with the folder its relative paths are taken from).
Callers ask what a channel can do (`supports`, or `isinstance` with the Protocols of
`channels.base`), never which kind it is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from ..channel_kinds import kind_of
from ..config import Channel as ChannelConfig, Config
from ..errors import ChannelError, DeskError
from .base import (Batch, Change, Channel, DeliveryRecorder, DirectMessenger, Downloader, Item, LocalSource,
                   LongPoller, Outbound, Puller, Sender, Watcher)

Which = str | ChannelConfig | Path | None
"""After a desk config: a channel's name or entry. After an entry: the folder its
relative paths are taken from."""


def open_channel(config: Config | ChannelConfig, which: Which = None) -> Channel:
    """A channel object for one `[[channels]]` entry: `open_channel(desk_config, name)`
    (or the entry itself), its relative paths taken from the config file's folder; or
    `open_channel(entry, base)` with that folder given (None: the working directory)."""
    entry, base = _entry(config, which)
    return _class(entry)(entry, base)


def supports(config: ChannelConfig, capability: type) -> bool:
    """Whether channels of this entry's kind have `capability` (a method Protocol of
    channels.base, e.g. Watcher), asked without opening one."""
    return issubclass(_class(config), capability)


def reply_problem(config: ChannelConfig, to_address: str, thread_key: str | None) -> str | None:
    """Why a reply on this channel could not reach this recipient, or None; asked without
    opening the channel (no connection, no secret), before a reply is queued."""
    return _class(config).reply_problem(to_address, thread_key)


def local_problem(config: Config | ChannelConfig, which: Which = None) -> str | None:
    """Why a sync could not read a local channel (a Maildir or an export that is not
    there), seen without a network or a secret; None for one that looks fine, or that
    lives on a server. Arguments as for `open_channel`."""
    entry, _ = _entry(config, which)
    return open_channel(config, which).local_problem() if supports(entry, LocalSource) else None


def probe(config: Config | ChannelConfig, which: Which = None) -> list[tuple[str, str | None]]:
    """Reach a channel's servers (or files) as a sync would, reading and sending
    nothing: (what, problem) per server, problem None when it answered and took the login.
    Arguments as for `open_channel`."""
    entry, _ = _entry(config, which)
    try:
        channel = open_channel(config, which)
    except ChannelError as exc:
        return [(entry.name, str(exc))]
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
    return getattr(_class(config), "message_ids", False) is True


def _entry(config: Config | ChannelConfig, which: Which) -> tuple[ChannelConfig, Path | None]:
    """The channel entry and the folder its relative paths are taken from."""
    if not isinstance(config, Config):
        return config, which if isinstance(which, Path) else None
    if which is None or isinstance(which, Path):
        raise TypeError("open_channel(desk_config, ...) needs a channel name or entry")
    entry = config.channel(which) if isinstance(which, str) else which
    return entry, config.path.parent if config.path else None


def _class(config: ChannelConfig) -> type:
    """The channel class of this entry's kind (its module imported on first use)."""
    module, _, attr = kind_of(config).factory.partition(":")
    return getattr(importlib.import_module(f".{module}", __name__), attr)


__all__ = ["Batch", "Change", "Channel", "DeliveryRecorder", "DirectMessenger", "Downloader", "Item", "LocalSource",
           "LongPoller", "Outbound", "Puller", "Sender", "Watcher", "attempt", "local_problem", "open_channel",
           "probe", "reply_problem", "sends_email", "supports"]
