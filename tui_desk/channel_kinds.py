"""The channel-kind registry: every kind of `[[channels]]` entry, in one list.

A kind is its name, its config dataclass (read and checked by `config.load`) and its
factory: the channel class that pulls and sends, named here as "module:Class" inside
`tui_desk.channels` and imported by it only when a channel of that kind is opened (so
reading the config, or `tui-desk --help`, never loads IMAP, HTTP or e-mail code).
What a kind can do is asked of its channel class through the Protocols of
`channels.base` (`Puller`, `Sender`, `Watcher`, `Downloader`, ...), never by its name.
A new kind is one new channel module, one config dataclass and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config_channels import Channel, ImapChannel, JsonlChannel, MaildirChannel, MatrixChannel
from .errors import ChannelError


@dataclass(frozen=True)
class ChannelKind:
    """One kind of channel."""

    name: str
    """The `kind` key of a `[[channels]]` table."""
    config_cls: type
    """The dataclass its table is read into (it checks itself: `check(file, prefix)`)."""
    factory: str
    """"module:Class" in tui_desk.channels: `channels.open_channel` imports it and calls
    Class(config, base). A name, not the class, so that this bottom layer never imports
    a channel module."""
    medium: str
    """"email" or "chat": what its conversations are, for people (templates written for
    one medium, the inbox's glyph)."""


KINDS: tuple[ChannelKind, ...] = (
    ChannelKind("maildir", MaildirChannel, "maildir:MaildirChannel", "email"),
    ChannelKind("jsonl", JsonlChannel, "jsonl:JsonlChannel", "chat"),
    ChannelKind("imap", ImapChannel, "imap:ImapChannel", "email"),
    ChannelKind("matrix", MatrixChannel, "matrix:MatrixChannel", "chat"),
)
REGISTRY: dict[str, ChannelKind] = {kind.name: kind for kind in KINDS}
CHANNEL_KINDS: dict[str, type] = {kind.name: kind.config_cls for kind in KINDS}
"""Kind name → config dataclass, as `config.load` reads `[[channels]]`."""
MEDIUM: dict[str, str] = {kind.name: kind.medium for kind in KINDS}
"""Kind name → "email" or "chat" (a kind name stored with a conversation row)."""


def kind_of(config: Channel) -> ChannelKind:
    """The registered kind of one `[[channels]]` entry; ChannelError for one unknown."""
    found = REGISTRY.get(config.kind)
    if found is None:
        raise ChannelError(config.name, f"the {config.kind} channel is not available in this version yet")
    return found
