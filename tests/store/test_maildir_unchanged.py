"""A Maildir that has not changed since the last sync is not listed again (issue 21), and
nothing delivered to it is ever missed because of that."""

from __future__ import annotations

import os
import time

from tests.helpers.mail import deliver, make_email, make_maildir
from tui_desk import config as config_mod
from tui_desk.channels import maildir as maildir_mod
from tui_desk.sync import run


def _desk(tmp_path):
    box = make_maildir(tmp_path / "mail")
    conf = config_mod.from_dict({"channels": [{"name": "mail", "kind": "maildir", "path": str(box)}]},
                                tmp_path / "config.toml")
    return box, conf


def _age(box, seconds: float = 10) -> None:
    """Make both folders' times older than the settle window (as minutes after a delivery)."""
    past = time.time() - seconds
    for sub in ("new", "cur"):
        os.utime(box / sub, (past, past))


def _as_saved(box, store) -> None:
    """Give both folders back the times the last sync saved."""
    for sub in ("new", "cur"):
        ns = int(store.sync_state("mail")[f"mtime {sub}"])
        os.utime(box / sub, ns=(ns, ns))


def _new(store, conf) -> int:
    return run(conf, store).channels["mail"].new


def test_unchanged_folders_are_not_listed_and_a_change_is_seen(tmp_path, store):
    box, conf = _desk(tmp_path)
    deliver(box, make_email(subject="first", message_id="<m1@x.example>"))
    _age(box)
    assert _new(store, conf) == 1
    assert {"mtime new", "mtime cur"} <= set(store.sync_state("mail"))
    # a file slipped in while the folder's time stays what was saved: proves the listing is skipped
    sneaked = deliver(box, make_email(subject="sneaked", message_id="<m2@x.example>"))
    _as_saved(box, store)
    assert _new(store, conf) == 0
    # a real change (another delivery) gives the folder a new time: both are found
    os.utime(box / "new")  # now
    deliver(box, make_email(subject="third", message_id="<m3@x.example>"))
    assert _new(store, conf) == 2
    assert sneaked.exists()


def test_a_time_inside_the_settle_window_is_not_trusted(tmp_path, store):
    """A delivery in the same clock tick as the listing leaves the folder's time as it was;
    so a time that recent is never saved, and the next sync lists again."""
    box, conf = _desk(tmp_path)
    deliver(box, make_email(subject="first", message_id="<m1@x.example>"))
    assert _new(store, conf) == 1  # the folder changed just now: its time is not saved
    assert store.sync_state("mail").get("mtime new") is None
    stamp = os.stat(box / "new").st_mtime_ns
    deliver(box, make_email(subject="same tick", message_id="<m2@x.example>"))
    os.utime(box / "new", ns=(stamp, stamp))  # as if in the same tick as the listing
    assert _new(store, conf) == 1


def test_a_renamed_file_or_a_failed_batch_saves_no_stale_time(tmp_path, store, monkeypatch):
    box, conf = _desk(tmp_path)
    path = deliver(box, make_email(subject="first", message_id="<m1@x.example>"))
    _age(box)
    assert _new(store, conf) == 1
    saved = store.sync_state("mail")
    os.rename(path, box / "cur" / (path.name + ":2,S"))  # a mail client read it: both folders change
    _age(box, 5)
    assert _new(store, conf) == 0  # listed again, nothing new; the new times are saved
    assert store.sync_state("mail") != saved
    # a batch that fails to store saves no time: the next sync lists again and stores it
    deliver(box, make_email(subject="second", message_id="<m2@x.example>"))
    _age(box, 3)
    def unreadable(self, chunk):
        raise maildir_mod.ChannelError("mail", "cannot read: disk gone")

    with monkeypatch.context() as patched:
        patched.setattr(maildir_mod.MaildirChannel, "_read_batch", unreadable)
        assert run(conf, store).channels["mail"].error
    assert _new(store, conf) == 1
