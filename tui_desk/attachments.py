"""Attachments fetched on demand: chat files are recorded by reference when synced
(name, type, size, where from) and downloaded only when someone opens them."""

from __future__ import annotations

from pathlib import Path

from .channels import Downloader, open_channel
from .config import Config
from .errors import DeskError, NotFound
from .store import Store


def fetch(config: Config, store: Store, attachment_id: int) -> Path:
    """The file holding attachment `attachment_id`, downloaded through its channel first
    if only its reference is stored. DeskError when it cannot be had."""
    found = store.attachment(attachment_id)
    if found is None:
        raise NotFound(f"no attachment {attachment_id}")
    if found["path"] and Path(found["path"]).exists():
        return Path(found["path"])
    if not found["source"]:
        raise DeskError(f"attachment {attachment_id}: its content was not stored")
    channel = open_channel(config, found["channel"])
    try:
        if not isinstance(channel, Downloader):
            raise DeskError(f"channel {found['channel']}: this kind of channel cannot fetch files")
        data, content_type = channel.download(found["source"])
    finally:
        channel.close()
    return store.attachment_fetched(attachment_id, data, content_type.split(";")[0].strip() or None)
