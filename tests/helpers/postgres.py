"""A throwaway PostgreSQL server on 127.0.0.1 for the store's contract tests and the bench.

Debian's `postgresql` package: `initdb` and the server refuse to run as root, so as
root both run as the `postgres` user (in a folder that user can enter). fsync is off:
the data is thrown away. One server per test session; each test gets a database of
its own (`fresh_database`), dropped after it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
_counter = itertools.count(1)


def _tool(name: str) -> str | None:
    for folder in _BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def available() -> str | None:
    """None when a PostgreSQL server and psycopg are here, else why not."""
    if _tool("initdb") is None or _tool("pg_ctl") is None:
        return "PostgreSQL is not installed (apt-get install postgresql)"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'psycopg[binary]')"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no user 'postgres' to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Server:
    """A running server: `url(db)` names a database on it, `admin()` connects as superuser."""

    def __init__(self, root: Path, port: int, user: str) -> None:
        self.root, self.port, self.user = root, port, user

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self):
        import psycopg
        return psycopg.connect(self.url(), autocommit=True)

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new empty database for one test; yields its URL, drops it afterwards."""
        name = f"desk_{os.getpid()}_{next(_counter)}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield self.url(name)
        finally:
            with self.admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def server() -> Iterator[Server]:
    """Start a server (initdb included, under a second), stop it and remove its files."""
    why = available()
    if why:
        raise RuntimeError(why)
    base = Path(tempfile.mkdtemp(prefix="tui-desk-pg-"))
    base.chmod(0o755)  # the server user must enter it (mkdtemp makes it 0700)
    data, sockets = base / "data", base / "run"
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    port = _free_port()
    try:
        if os.geteuid() == 0:
            shutil.chown(base, "postgres")
        sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(sockets, "postgres")
        subprocess.run(_as_server_user([_tool("initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8",
                                        "--locale=C", "--no-sync"]), check=True, capture_output=True)
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        subprocess.run(_as_server_user([_tool("pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w",
                                        "-t", "30", "-o", options, "start"]), check=True, capture_output=True)
        running = Server(base, port, user)
        deadline = time.monotonic() + 30
        while True:  # pg_ctl -w waits, but be sure the TCP listener answers
            try:
                running.admin().close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        try:
            yield running
        finally:
            subprocess.run(_as_server_user([_tool("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           capture_output=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
