"""A private Dovecot IMAP server on 127.0.0.1 for integration tests and the bench.

Its own config, state and log under a temp dir; users in a passwd-file with the uid/gid
of nobody (Dovecot refuses to run mail access as uid 0) and Maildirs owned by nobody.
Mail is delivered by writing Maildir files, which Dovecot picks up on the next SELECT.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_fsync = never
mail_max_userip_connections = 200
first_valid_uid = 1
imap_idle_notify_interval = 1 secs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""

_counter = itertools.count(1)
# Dovecot re-reads a changed passwd-file at most once a second, so users are written
# before it starts and handed out one per test
POOL = 60
PASSWORD = "secret"


def available() -> str | None:
    """None when a Dovecot can be started here, else why not."""
    if not shutil.which("dovecot") and not Path("/usr/sbin/dovecot").exists():
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return "no user 'nobody' to run mail access as"
    return None


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Dovecot's imap and auth processes)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """One running Dovecot; `add_user` gives each test its own mailbox."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.nobody = pwd.getpwnam("nobody")
        for sub in ("run", "state", "users"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.free = [f"user{i}" for i in range(1, POOL + 1)]
        (root / "passwd").write_text("".join(
            f"{name}:{{PLAIN}}{PASSWORD}:{self.nobody.pw_uid}:{self.nobody.pw_gid}::{root / 'users' / name}::\n"
            for name in self.free))
        self.conf = root / "dovecot.conf"
        self.conf.write_text(CONFIG.format(root=root, port=self.port))
        self.binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        self.doveadm_bin = shutil.which("doveadm") or "/usr/bin/doveadm"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode(errors='replace')}"
                                   f" {self.log()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start listening within 20 s")

    def stop(self) -> None:
        if self.proc is None:
            return
        children = _children(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pid in children:  # imap sessions would otherwise outlive the master a while
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # -- users and mail ----------------------------------------------------------------

    def add_user(self) -> "Mailbox":
        """A fresh user with an empty Maildir."""
        name = self.free.pop(0)
        home = self.root / "users" / name
        maildir = home / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self._own(home)
        return Mailbox(self, name, PASSWORD, maildir)

    def _own(self, path: Path) -> None:
        for top, dirs, files in os.walk(path):
            os.chown(top, self.nobody.pw_uid, self.nobody.pw_gid)
            for f in files:
                os.chown(os.path.join(top, f), self.nobody.pw_uid, self.nobody.pw_gid)

    def doveadm(self, *args: str) -> str:
        done = subprocess.run([self.doveadm_bin, "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout


class Mailbox:
    """One user's mailbox on the test Dovecot."""

    def __init__(self, server: Dovecot, user: str, password: str, maildir: Path) -> None:
        self.server = server
        self.user = user
        self.password = password
        self.maildir = maildir

    def folder_dir(self, folder: str = "INBOX") -> Path:
        if folder == "INBOX":
            return self.maildir
        path = self.maildir / f".{folder}"
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        self.server._own(path)
        return path

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        self.deliver_many([raw], folder)

    def deliver_many(self, raws, folder: str = "INBOX") -> int:
        target = self.folder_dir(folder) / "new"
        uid, gid = self.server.nobody.pw_uid, self.server.nobody.pw_gid
        count = 0
        for raw in raws:
            path = target / f"{time.time_ns()}.{os.getpid()}_{next(_counter)}.test"
            path.write_bytes(raw)
            os.chown(path, uid, gid)
            count += 1
        return count

    def uids(self, folder: str = "INBOX") -> list[int]:
        """The server's own list of UIDs in `folder` (through doveadm, not our client)."""
        out = self.server.doveadm("search", "-u", self.user, "mailbox", folder, "ALL")
        return sorted(int(line.split()[1]) for line in out.splitlines() if line.strip())

    def message_ids(self, folder: str = "INBOX") -> list[str]:
        """Message-ID header of every message in `folder`, as the server sees them."""
        out = self.server.doveadm("fetch", "-u", self.user, "hdr.message-id", "mailbox", folder, "ALL")
        found = []
        for line in out.splitlines():
            if line.lower().startswith("hdr.message-id:"):
                found.append(line.split(":", 1)[1].strip())
        return found

    def set_uidvalidity(self, value: int, folder: str = "INBOX") -> None:
        self.server.doveadm("mailbox", "update", "-u", self.user, "--uid-validity", str(value), folder)

    def status(self, folder: str = "INBOX") -> dict[str, int]:
        """The server's UIDVALIDITY, UIDNEXT and message count of `folder`."""
        out = self.server.doveadm("mailbox", "status", "-u", self.user, "uidvalidity uidnext messages", folder)
        return {k: int(v) for k, v in (part.split("=") for part in out.split()[1:])}

    def recreate(self, raws, folder: str = "INBOX") -> None:
        """Delete `folder` with all its mail and Dovecot's own records of it, make it again
        holding `raws`, and give it back its old UIDVALIDITY: UIDs start at 1 again."""
        validity = self.status(folder)["uidvalidity"]
        path = self.folder_dir(folder)
        for entry in path.iterdir():
            if entry.is_dir() and not entry.name.startswith(".") or entry.name.startswith("dovecot"):
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        for sub in ("cur", "new", "tmp"):
            (path / sub).mkdir(exist_ok=True)
        self.server._own(path)
        self.deliver_many(raws, folder)
        self.set_uidvalidity(validity, folder)

    def config(self, name: str = "support", **extra) -> dict:
        """A `[[channels]]` entry for this mailbox."""
        entry = {
            "name": name, "kind": "imap", "host": "127.0.0.1", "port": self.server.port, "tls": "none",
            "username": self.user, "password": self.password, "smtp_tls": "none",
        }
        entry.update(extra)
        return entry


# -- pytest fixtures (imported by the test modules that need a server) -----------------

def toml_config(path: Path, channels: list[dict], database: Path | None = None, **sections) -> Path:
    """Write a config file with these `[[channels]]` (values: str, int, bool, list of str)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = []
    if database is not None:
        lines += ["[storage]", f"database = {value(str(database))}", ""]
    for name, keys in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {value(v)}" for k, v in keys.items()]
        lines.append("")
    for channel in channels:
        lines.append("[[channels]]")
        lines += [f"{k} = {value(v)}" for k, v in channel.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _need_dovecot() -> None:
    from tests.conftest import need

    why = available()
    need(why is None, why or "")
    need(os.geteuid() == 0, "the test Dovecot is started as root (mail access as nobody)")


def _server():
    import tempfile

    _need_dovecot()
    root = Path(tempfile.mkdtemp(prefix="tui-desk-dovecot-"))
    os.chmod(root, 0o755)  # mail processes run as nobody and must reach the homes
    server = Dovecot(root)
    server.start()
    return server


def _cleanup(server: Dovecot) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


try:
    import pytest
except ImportError:  # used by the bench without pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(scope="session")
    def dovecot():
        """One private Dovecot for the session; each test takes its own user."""
        server = _server()
        yield server
        _cleanup(server)

    @pytest.fixture
    def own_dovecot():
        """A Dovecot of this test alone (for tests that stop the server)."""
        server = _server()
        yield server
        _cleanup(server)

    @pytest.fixture
    def mailbox(dovecot) -> Mailbox:
        return dovecot.add_user()
