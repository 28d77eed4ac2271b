"""Secrets given as a value, an environment variable or a command.

A `Secret` is only a reference until `reveal()` is called by the channel that needs it;
its repr never shows the value, and errors name where it was looked for, never what it is.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass, field

from .errors import ConfigError


@dataclass(frozen=True)
class Secret:
    """Where a secret comes from: at most one of value, env, cmd."""

    value: str | None = field(default=None, repr=False)
    env: str | None = None
    cmd: str | None = None
    owner: str = "config"
    """Who the secret belongs to, for error messages (e.g. "channel support-mail")."""

    @property
    def configured(self) -> bool:
        return bool(self.value or self.env or self.cmd)

    def reveal(self, timeout: float = 30.0) -> str:
        """The secret itself; ConfigError (without the value) if it cannot be had."""
        if self.value:
            return self.value
        if self.env:
            found = os.environ.get(self.env)
            if not found:
                raise ConfigError("environment", self.env, f"{self.owner}: variable is not set or empty")
            return found
        if self.cmd:
            try:
                done = subprocess.run(
                    shlex.split(self.cmd), capture_output=True, text=True, timeout=timeout, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise ConfigError("password command", self.cmd.split()[0], f"{self.owner}: {type(exc).__name__}") from None
            if done.returncode != 0 or not done.stdout.strip():
                # stderr may echo the secret store's content: report only the exit code
                raise ConfigError(
                    "password command", self.cmd.split()[0],
                    f"{self.owner}: exited with {done.returncode} and printed no password",
                )
            return done.stdout.splitlines()[0]
        raise ConfigError("config", self.owner, "no password configured (password, password_env or password_cmd)")

    def __str__(self) -> str:  # never the value
        return "<secret>"
