"""The [[channels]] tables of the config: one dataclass per channel kind.

Read by config.load (strictly, like every section); a secret is kept as a `Secret`
reference and resolved only when the channel connects. Each dataclass checks what
spans its own keys (`check`); the kinds themselves are listed in `channel_kinds`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union

from .configload import check_secret
from .errors import ConfigError
from .paths import is_loopback
from .secrets import Secret


@dataclass
class MaildirChannel:
    """A local Maildir folder (mail fetched by another tool, or the demo)."""

    name: str
    """Unique name of the channel, used in `--channel` and in the inbox sidebar."""
    kind: Literal["maildir"]
    path: str
    """The Maildir folder (the one holding cur/, new/, tmp/)."""
    sent_path: str = ""
    """Maildir that replies are written to; empty means "<path>/.Sent" (Maildir++ style)."""

    def check(self, file: Path | str, prefix: str) -> None:
        """Nothing spans this kind's keys."""


@dataclass
class JsonlChannel:
    """A chat export: one JSON object per line (conversation, sender_id, sender_name, text, time)."""

    name: str
    kind: Literal["jsonl"]
    path: str
    """The .jsonl file; lines appended later are picked up by the next sync."""

    def check(self, file: Path | str, prefix: str) -> None:
        """Nothing spans this kind's keys."""


@dataclass
class ImapChannel:
    """A shared support mailbox over IMAP, with replies over SMTP."""

    name: str
    kind: Literal["imap"]
    host: str
    """IMAP server host name."""
    username: str
    port: int = 993
    tls: Literal["ssl", "starttls", "none"] = "ssl"
    """"none" is accepted only for loopback hosts."""
    password: str | None = field(default=None, repr=False)
    """The password itself (prefer password_env or password_cmd)."""
    password_env: str | None = None
    """Name of an environment variable holding the password."""
    password_cmd: str | None = None
    """A command printing the password, e.g. "pass show support/imap"."""
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    mark_seen: bool = False
    """Fetch with BODY.PEEK (false) so sync never changes what people see in their mail client."""
    batch_size: int = 500
    """Messages per FETCH and per database transaction (batches of 400 and more are parsed in
    worker processes while the previous one is stored)."""
    smtp_host: str = ""
    """SMTP server for replies; empty means the IMAP host."""
    smtp_port: int = 465
    smtp_tls: Literal["ssl", "starttls", "none"] = "ssl"
    smtp_username: str = ""
    """Empty means the IMAP username; the SMTP password is the IMAP one unless smtp_password* is set."""
    smtp_password: str | None = field(default=None, repr=False)
    smtp_password_env: str | None = None
    smtp_password_cmd: str | None = None
    smtp_auth: bool = True
    """false: send without logging in (a local relay such as a host's own Postfix)."""
    smtp_timeout: float = 30.0
    """Seconds (at most 60) to wait for the SMTP server at each step. A reply whose 250 does
    not come in time is "uncertain" (it may have been sent) and is not retried automatically."""
    sent_folder: str = "Sent"
    """Where sent replies are appended over IMAP; empty disables it."""

    def secret(self) -> Secret:
        """The IMAP password reference."""
        return Secret(self.password, self.password_env, self.password_cmd, f"channel {self.name}")

    def smtp_secret(self) -> Secret:
        """The SMTP password: smtp_password* when set, else the IMAP one."""
        own = Secret(self.smtp_password, self.smtp_password_env, self.smtp_password_cmd, f"channel {self.name} (SMTP)")
        return own if own.configured else self.secret()

    def check(self, file: Path | str, prefix: str) -> None:
        """One form per secret, a bounded SMTP timeout, clear text only to loopback hosts;
        ConfigError naming the key (`prefix` is e.g. "channels[0]")."""
        check_secret(file, prefix, self, "password")
        check_secret(file, prefix, self, "smtp_password")
        if not 0 < self.smtp_timeout <= 60:  # a whole send must stay well inside the outbox's lease
            raise ConfigError(file, f"{prefix}.smtp_timeout", "expected seconds between 0 and 60, e.g. 30")
        for key in ("tls", "smtp_tls"):
            host = self.host if key == "tls" else (self.smtp_host or self.host)
            if getattr(self, key) == "none" and not is_loopback(host):
                raise ConfigError(
                    file, f"{prefix}.{key}",
                    f'"none" sends the password in clear; allowed only for loopback hosts, not {host!r}',
                )


@dataclass
class MatrixChannel:
    """Matrix rooms (a website chat widget or a bridge) through the client-server API."""

    name: str
    kind: Literal["matrix"]
    homeserver: str
    """Base URL, e.g. "https://matrix.example.org"."""
    user_id: str
    access_token: str | None = field(default=None, repr=False)
    access_token_env: str | None = None
    access_token_cmd: str | None = None
    password: str | None = field(default=None, repr=False)
    password_env: str | None = None
    password_cmd: str | None = None
    rooms: list[str] = field(default_factory=list)
    """Room ids to follow; empty means every joined room."""
    auto_join_invites: bool = True
    history_on_first_sync: int = 50
    """Events per room taken on the first sync."""
    email_lookup: bool = False
    """Read each customer's email address from the homeserver's admin API (Synapse: the
    account must be a server admin), so one person's mail and chat are linked."""

    def secret(self) -> Secret:
        """The access token reference (or the password when no token is configured)."""
        token = Secret(self.access_token, self.access_token_env, self.access_token_cmd, f"channel {self.name}")
        if token.configured:
            return token
        return Secret(self.password, self.password_env, self.password_cmd, f"channel {self.name}")

    def check(self, file: Path | str, prefix: str) -> None:
        """One form per secret (token, password)."""
        check_secret(file, prefix, self, "access_token")
        check_secret(file, prefix, self, "password")


Channel = Union[MaildirChannel, JsonlChannel, ImapChannel, MatrixChannel]
"""Any one `[[channels]]` entry (the registry in `channel_kinds` lists the same classes)."""
