"""The channel-kind registry: each kind's config class and factory, what each kind can
do (asked as a capability, not by name), and `open_channel` taking a channel's relative
paths from the config file's folder."""

from __future__ import annotations

import typing

import pytest

from tui_desk import channels, config as config_mod
from tui_desk.channel_kinds import CHANNEL_KINDS, KINDS, MEDIUM, kind_of
from tui_desk.channels import (DeliveryRecorder, DirectMessenger, Downloader, LocalSource, Puller, Sender, Watcher,
                               local_problem, open_channel, supports)
from tui_desk.config_channels import Channel
from tui_desk.errors import ChannelError, ConfigError

ENTRIES = {
    "maildir": {"name": "mail", "kind": "maildir", "path": "inbox"},
    "jsonl": {"name": "chat", "kind": "jsonl", "path": "chat.jsonl"},
    "imap": {"name": "box", "kind": "imap", "host": "127.0.0.1", "username": "desk", "tls": "none",
             "smtp_tls": "none", "password": "x"},
    "matrix": {"name": "rooms", "kind": "matrix", "homeserver": "http://127.0.0.1:1", "user_id": "@desk:x",
               "access_token": "t"},
}
CAN = {
    "maildir": {Puller, Sender, LocalSource},
    "jsonl": {Puller, Sender, LocalSource},
    "imap": {Puller, Sender, Watcher, DeliveryRecorder},
    "matrix": {Puller, Sender, Downloader, DirectMessenger},
}


def desk(tmp_path, *names: str) -> config_mod.Config:
    return config_mod.from_dict({"channels": [ENTRIES[n] for n in names]}, tmp_path / "config.toml")


def test_the_registry_is_what_the_config_reads():
    assert list(CHANNEL_KINDS) == [kind.name for kind in KINDS] == list(ENTRIES)
    assert set(CHANNEL_KINDS.values()) == set(typing.get_args(Channel))
    assert MEDIUM == {"maildir": "email", "jsonl": "chat", "imap": "email", "matrix": "chat"}
    with pytest.raises(ConfigError, match=r"channels\[0\]\.kind.*expected one of maildir, jsonl, imap, matrix"):
        config_mod.from_dict({"channels": [{"name": "x", "kind": "slack"}]})


@pytest.mark.parametrize("name", list(ENTRIES))
def test_each_kind_says_what_it_can_do(tmp_path, name):
    entry = desk(tmp_path, name).channels[0]
    assert kind_of(entry).name == name
    every = {Puller, Sender, Watcher, Downloader, DeliveryRecorder, LocalSource, DirectMessenger}
    assert {cap for cap in every if supports(entry, cap)} == CAN[name]
    assert channels.sends_email(entry) is (MEDIUM[name] == "email")


def test_an_unknown_kind_is_a_channel_error():
    entry = config_mod.MaildirChannel(name="odd", kind="maildir", path="x")
    entry.kind = "fax"  # type: ignore[assignment]
    with pytest.raises(ChannelError, match="the fax channel is not available in this version yet"):
        open_channel(entry)


def test_relative_paths_are_taken_from_the_config_files_folder(tmp_path, monkeypatch):
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "inbox" / sub).mkdir(parents=True)
    (tmp_path / "chat.jsonl").write_text("")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = desk(tmp_path, "maildir", "jsonl")
    for name in ("mail", "chat"):
        assert local_problem(config, name) is None
        channel = open_channel(config, config.channel(name))
        assert channel.path.is_relative_to(tmp_path) and not channel.path.is_relative_to(elsewhere)
        channel.close()
    # without the desk config there is no folder to start from: the working directory
    assert "does not exist" in local_problem(config.channels[0])
    with pytest.raises(ConfigError, match="no channel named 'nope'"):
        open_channel(config, "nope")


def test_a_server_channel_has_no_local_problem(tmp_path):
    assert local_problem(desk(tmp_path, "imap"), "box") is None


def test_each_config_checks_itself_with_the_same_words(tmp_path):
    loud = {**ENTRIES["imap"], "host": "mail.example.org"}
    with pytest.raises(ConfigError, match=r'channels\[0\]\.tls.*"none" sends the password in clear; allowed only'
                                          r" for loopback hosts, not 'mail.example.org'"):
        config_mod.from_dict({"channels": [loud]})
    with pytest.raises(ConfigError, match=r"channels\[1\]\.smtp_timeout.*expected seconds between 0 and 60"):
        config_mod.from_dict({"channels": [ENTRIES["maildir"], {**ENTRIES["imap"], "smtp_timeout": 61}]})
    with pytest.raises(ConfigError, match=r"channels\[0\]"):
        config_mod.from_dict({"channels": [{**ENTRIES["matrix"], "access_token_env": "T"}]})
