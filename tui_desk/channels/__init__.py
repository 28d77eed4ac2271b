"""Channels: the only code that talks to mail servers, chat servers and export files.

One module per kind; `open_channel` builds the right one from its config.
"""

from __future__ import annotations

from pathlib import Path

from ..config import Channel as ChannelConfig
from ..errors import ChannelError
from .base import Batch, Change, Channel, Item, Outbound


def open_channel(config: ChannelConfig, base: Path | None = None) -> Channel:
    """A channel object for one `[[channels]]` entry; relative paths are taken from `base`."""
    if config.kind == "maildir":
        from .maildir import MaildirChannel
        return MaildirChannel(config, base)
    if config.kind == "jsonl":
        from .jsonl import JsonlChannel
        return JsonlChannel(config, base)
    if config.kind == "imap":
        from .imap import ImapChannel
        return ImapChannel(config, base)
    if config.kind == "matrix":
        from .matrix import MatrixChannel
        return MatrixChannel(config, base)
    raise ChannelError(config.name, f"the {config.kind} channel is not available in this version yet")


__all__ = ["Batch", "Change", "Channel", "Item", "Outbound", "open_channel"]
