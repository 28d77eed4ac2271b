"""Errors a user can act on, each with the exit code the CLI documents.

Anything that is the user's to fix (a config mistake, a bad argument, a channel that
refuses to log in) is raised as a `DeskError`; the CLI prints its message on one line
and exits with its code. Everything else is a bug and says so.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # a channel or an action failed; others may have succeeded
EXIT_USAGE = 2  # bad config or bad input: nothing was done
EXIT_LOCKED = 75  # EX_TEMPFAIL: another sync holds the lock; cron retries next minute


class DeskError(Exception):
    """A problem the user can fix; `str()` is the whole message."""

    exit_code = EXIT_FAILED


class UsageError(DeskError):
    """Bad input on the command line (unknown id, unparseable date, ...)."""

    exit_code = EXIT_USAGE


class ConfigError(DeskError):
    """A mistake in the config file: names the file, the key and what is expected."""

    exit_code = EXIT_USAGE

    def __init__(self, path: object, key: str | None, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(f"config error in {where}{problem}")


class LockedError(DeskError):
    """Another process holds the sync lock on this database."""

    exit_code = EXIT_LOCKED


class ChannelError(DeskError):
    """A channel could not be reached or refused us; names the channel and the cause."""

    def __init__(self, channel: str, cause: str, *, uncertain: bool = False) -> None:
        self.channel = channel
        self.cause = cause
        self.uncertain = uncertain
        """True when it failed after the message began to go out: it may have been delivered."""
        super().__init__(f"channel {channel}: {cause}")


class NotFound(UsageError):
    """An id given by the user does not exist."""


class StoreBusy(DeskError):
    """The database stayed locked or unreachable for longer than the store waits."""
