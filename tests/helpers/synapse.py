"""A private Synapse homeserver on 127.0.0.1 for integration tests and the bench.

Synapse (PyPI matrix-synapse) lives in its own venv, outside the project's: `.ci/run`
makes it, and `ensure_venv()` makes it on first use elsewhere (about 20 s, 240 MB).
Each server gets a temp dir with its own config, signing key and SQLite database, a
registration shared secret, a client listener only (no federation) and rate limits
raised. Users are registered with Synapse's own `register_new_matrix_user`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

VENV = Path(os.environ.get("TUI_DESK_SYNAPSE_VENV") or Path.home() / ".cache" / "tui-desk" / "synapse-venv")
SERVER_NAME = "desk.test"
_MANY = {"per_second": 100000, "burst_count": 100000}

CONFIG = """\
server_name: "{server_name}"
pid_file: {root}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {root}/homeserver.db
log_config: {root}/log.yaml
media_store_path: {root}/media
signing_key_path: {root}/signing.key
registration_shared_secret: "{secret}"
macaroon_secret_key: "{macaroon}"
form_secret: "{form}"
report_stats: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
url_preview_enabled: false
enable_metrics: false
caches:
  # 0: each test starts a desk from scratch, and an initial /sync must not be answered
  # from the previous test's cached one; "2m" is Synapse's default (tests of the desk
  # against that cache ask for it)
  sync_response_cache_duration: {sync_cache}
{limits}
"""

LOG = """\
version: 1
formatters:
  plain: {{format: "%(asctime)s %(name)s %(levelname)s %(message)s"}}
handlers:
  file: {{class: logging.FileHandler, filename: "{root}/homeserver.log", formatter: plain}}
root: {{level: WARNING, handlers: [file]}}
disable_existing_loggers: false
"""


def _limits() -> str:
    many = "{per_second: %d, burst_count: %d}" % (_MANY["per_second"], _MANY["burst_count"])
    lines = [f"rc_message: {many}", f"rc_registration: {many}", f"rc_admin_redaction: {many}",
             f"rc_joins: {{local: {many}, remote: {many}}}",
             f"rc_login: {{address: {many}, account: {many}, failed_attempts: {many}}}",
             f"rc_invites: {{per_room: {many}, per_user: {many}, per_issuer: {many}}}",
             f"rc_room_creation: {many}", f"rc_joins_per_room: {many}"]
    return "\n".join(lines)


def ensure_venv() -> str | None:
    """Make Synapse's venv if it is missing; None when it is usable, else why not."""
    python = VENV / "bin" / "python"
    if (VENV / "bin" / "register_new_matrix_user").exists():
        return None
    try:
        VENV.parent.mkdir(parents=True, exist_ok=True)
        lock = open(VENV.parent / ".synapse-install.lock", "a+")
    except OSError as exc:
        return f"cannot install Synapse into {VENV}: {exc.strerror}"
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time; the others wait and reuse it
        if (VENV / "bin" / "register_new_matrix_user").exists():
            return None
        steps = [[sys.executable, "-m", "venv", str(VENV)],
                 [str(python), "-m", "pip", "install", "--quiet", "matrix-synapse"]]
        for step in steps:
            try:
                done = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"cannot install Synapse into {VENV}: {type(exc).__name__}"
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["no output"])[-1]
                return f"cannot install Synapse into {VENV} ({' '.join(step[-2:])}): {last}"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class User:
    user_id: str
    password: str
    token: str
    device_id: str


class Synapse:
    """One homeserver process; `pid` is Synapse's own process id."""

    def __init__(self, root: Path, sync_cache: str = "0") -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret = secrets.token_hex(16)
        self.process: subprocess.Popen | None = None
        root.mkdir(parents=True, exist_ok=True)
        (root / "media").mkdir(exist_ok=True)
        (root / "homeserver.yaml").write_text(CONFIG.format(
            server_name=SERVER_NAME, root=root, port=self.port, secret=self.secret,
            macaroon=secrets.token_hex(16), form=secrets.token_hex(16), limits=_limits(), sync_cache=sync_cache))
        (root / "log.yaml").write_text(LOG.format(root=root))
        seed = base64.b64encode(os.urandom(32)).decode().rstrip("=")
        (root / "signing.key").write_text(f"ed25519 a_test {seed}\n")

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        """Start the server (in the foreground of its own process) and wait until it answers."""
        # run Synapse's python directly (no wrapper shell), so Popen's pid is the server's own
        self.process = subprocess.Popen(
            [str(VENV / "bin" / "python"), "-m", "synapse.app.homeserver", "-c", str(self.root / "homeserver.yaml")],
            cwd=self.root, stdout=subprocess.DEVNULL, stderr=open(self.root / "stderr.log", "ab"),
            start_new_session=True,
        )
        with httpx.Client(base_url=self.url, timeout=2) as client:
            for _ in range(600):  # bounded: at most about a minute on a very busy machine
                if self.process.poll() is not None:
                    raise RuntimeError(f"Synapse exited with {self.process.returncode}: {self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/_matrix/client/versions").status_code == 200:
                        return
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(0.1)
        raise RuntimeError(f"Synapse did not answer on {self.url}: {self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self) -> str:
        lines = []
        for name in ("stderr.log", "homeserver.log"):
            with contextlib.suppress(OSError):
                lines += (self.root / name).read_text(errors="replace").splitlines()[-5:]
        return " | ".join(lines)

    def register(self, localpart: str, password: str | None = None, admin: bool = False) -> User:
        """Register a user with Synapse's own tool and log in to get a token."""
        password = password or secrets.token_hex(8)
        done = subprocess.run(
            [str(VENV / "bin" / "python"), str(VENV / "bin" / "register_new_matrix_user"), "-u", localpart, "-p", password,
             "--admin" if admin else "--no-admin", "-k", self.secret, self.url],
            capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise RuntimeError(f"register_new_matrix_user {localpart}: {done.stderr.strip() or done.stdout.strip()}")
        return self.login(localpart, password)

    def login(self, localpart: str, password: str) -> User:
        answer = httpx.post(f"{self.url}/_matrix/client/v3/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart},
            "password": password}, timeout=30)
        answer.raise_for_status()
        data = answer.json()
        return User(data["user_id"], password, data["access_token"], data["device_id"])


class Client:
    """A plain client-server API client for the test's customers (and its checks)."""

    def __init__(self, synapse: Synapse, user: User) -> None:
        self.user = user
        self.http = httpx.Client(base_url=synapse.url, timeout=60,
                                 headers={"Authorization": f"Bearer {user.token}"})
        self._txn = 0

    def call(self, method: str, path: str, **kwargs) -> dict:
        answer = self.http.request(method, "/_matrix/client/v3" + path, **kwargs)
        answer.raise_for_status()
        return answer.json()

    def create_room(self, invite: list[str] = (), name: str | None = None) -> str:
        body: dict = {"preset": "private_chat", "invite": list(invite)}
        if name:
            body["name"] = name
        return self.call("POST", "/createRoom", json=body)["room_id"]

    def join(self, room: str) -> None:
        self.call("POST", f"/join/{room}", json={})

    def send(self, room: str, content: dict | str, event_type: str = "m.room.message") -> str:
        if isinstance(content, str):
            content = {"msgtype": "m.text", "body": content}
        self._txn += 1
        return self.call("PUT", f"/rooms/{room}/send/{event_type}/t{self._txn}-{secrets.token_hex(4)}",
                         json=content)["event_id"]

    def redact(self, room: str, event_id: str, reason: str = "") -> str:
        self._txn += 1
        return self.call("PUT", f"/rooms/{room}/redact/{event_id}/r{self._txn}-{secrets.token_hex(4)}",
                         json={"reason": reason} if reason else {})["event_id"]

    def set_display_name(self, name: str) -> None:
        self.call("PUT", f"/profile/{self.user.user_id}/displayname", json={"displayname": name})

    def upload(self, data: bytes, content_type: str, filename: str) -> str:
        answer = self.http.post("/_matrix/media/v3/upload", params={"filename": filename}, content=data,
                                headers={"Content-Type": content_type})
        answer.raise_for_status()
        return answer.json()["content_uri"]

    def messages(self, room: str, limit: int = 100) -> list[dict]:
        """The room's latest message events, oldest first, as this user sees them."""
        chunk = self.call("GET", f"/rooms/{room}/messages", params={"dir": "b", "limit": limit})["chunk"]
        return [e for e in reversed(chunk) if e["type"] == "m.room.message"]

    def sync_texts(self, room: str) -> list[tuple[str, str]]:
        """(sender, body) of the room's messages in this user's own /sync."""
        data = self.call("GET", "/sync", params={"timeout": 0, "filter": '{"room":{"timeline":{"limit":100}}}'})
        events = data.get("rooms", {}).get("join", {}).get(room, {}).get("timeline", {}).get("events", [])
        return [(e["sender"], e["content"].get("body", "")) for e in events if e["type"] == "m.room.message"]

    def close(self) -> None:
        self.http.close()


@contextlib.contextmanager
def running(folder: Path, sync_cache: str = "0"):
    """A started Synapse in `folder`, stopped afterwards; skips (fails under CI=true)
    when it cannot be installed or started. `sync_cache`: how long it keeps /sync
    answers for a repeated request (Synapse's default is "2m")."""
    from tests.conftest import need
    why = ensure_venv()
    need(why is None, why or "")
    server = Synapse(folder, sync_cache)
    try:
        server.start()
    except RuntimeError as exc:
        need(False, f"Synapse would not start: {exc}")
    try:
        yield server
    finally:
        server.stop()
