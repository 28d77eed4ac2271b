"""The Matrix client-server API over httpx: auth, retries, rate limits, clear errors.

Every call goes through `MatrixAPI.call`, which
- waits as long as a 429 answer's `retry_after_ms` asks (bounded) and tries again;
- retries network errors and 5xx answers with exponential backoff, then gives up with
  a `ChannelError` naming the channel and the reason;
- turns 401/403 into a `ChannelError` that names the channel and says what to check.
The access token only ever travels in the Authorization header: never in a URL, an
error message or a log line.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from urllib.parse import quote

import httpx

from ..errors import ChannelError, DeskError
from ..secrets import Secret
from ..textsafe import one_line

CLIENT = "/_matrix/client/v3"
RETRIES = 4
"""Tries after the first for network errors and 5xx answers (backoff 1, 2, 4, 8 s)."""
RATE_LIMIT_TRIES = 8
MAX_RETRY_AFTER_S = 60.0
"""A 429 asking for a longer wait than this is waited this long (then asked again)."""


def q(part: str) -> str:
    """One path segment (a room id, event id or transaction id), percent-encoded."""
    return quote(part, safe="")


class MatrixAPI:
    """One homeserver session for one channel. Logs in lazily (password) on first call."""

    def __init__(self, channel: str, homeserver: str, user_id: str, secret: Secret, *,
                 use_password: bool = False, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.channel = channel
        self.user_id = user_id
        self.homeserver = homeserver.rstrip("/")
        self.secret = secret
        self.use_password = use_password
        self.sleep = sleep
        self._token: str | None = None
        self.http = httpx.Client(base_url=self.homeserver, transport=transport, timeout=60.0,
                                 headers={"User-Agent": "tui-desk"}, follow_redirects=True)

    # -- auth -------------------------------------------------------------------------

    def device_id(self) -> str:
        """A stable device per channel and account: transaction ids are scoped to the
        device, so a reply retried after a crash (even after a new login) is recognised."""
        digest = hashlib.sha256(f"{self.channel}\0{self.user_id}".encode()).hexdigest()[:10].upper()
        return f"TUIDESK{digest}"

    def token(self) -> str:
        if self._token is None:
            if not self.use_password:
                self._token = self.secret.reveal()
            else:
                answer = self.call("POST", "/login", auth=False, json={
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": self.user_id},
                    "password": self.secret.reveal(),
                    "device_id": self.device_id(),
                    "initial_device_display_name": f"tui-desk ({self.channel})",
                })
                self._token = answer["access_token"]
        return self._token

    # -- calls ------------------------------------------------------------------------

    def call(self, method: str, path: str, *, params: dict | None = None, json: object = None,
             timeout: float | None = None, auth: bool = True, prefix: str = CLIENT) -> dict:
        """One API call; the decoded JSON answer. Raises ChannelError when it cannot succeed."""
        answer = self.raw(method, prefix + path, params=params, json=json, timeout=timeout, auth=auth)
        try:
            data = answer.json()
        except ValueError:
            raise ChannelError(self.channel, f"{method} {path.split('?')[0]}: the homeserver did not answer JSON") from None
        if not isinstance(data, dict):
            raise ChannelError(self.channel, f"{method} {path}: unexpected answer from the homeserver")
        return data

    def raw(self, method: str, url: str, *, params: dict | None = None, json: object = None,
            timeout: float | None = None, auth: bool = True) -> httpx.Response:
        """One request with the retry policy; a 2xx response (anything else raises)."""
        failures = limited = 0
        while True:
            headers = {"Authorization": f"Bearer {self.token()}"} if auth else {}
            try:
                answer = self.http.request(method, url, params=params, json=json, headers=headers,
                                           timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
            except httpx.TransportError as exc:
                failures += 1
                if failures > RETRIES:
                    raise ChannelError(self.channel, f"cannot reach {self.homeserver}: {_reason(exc)}"
                                                     f" (tried {failures} times)") from None
                self.sleep(2.0 ** (failures - 1))
                continue
            if answer.status_code < 300:
                return answer
            code, message = _matrix_error(answer)
            if answer.status_code == 429:
                limited += 1
                if limited > RATE_LIMIT_TRIES:
                    raise ChannelError(self.channel, f"the homeserver keeps rate-limiting us (429 {code})")
                self.sleep(min(_retry_after(answer), MAX_RETRY_AFTER_S))
                continue
            if answer.status_code >= 500:
                failures += 1
                if failures > RETRIES:
                    raise ChannelError(self.channel, f"{self.homeserver} failed {failures} times"
                                                     f" ({answer.status_code} {code}: {message})")
                self.sleep(2.0 ** (failures - 1))
                continue
            raise self._refusal(method, url, answer.status_code, code, message)

    def _refusal(self, method: str, url: str, status: int, code: str, message: str) -> DeskError:
        what = url.removeprefix(CLIENT).split("?")[0]
        if status == 401 or code == "M_UNKNOWN_TOKEN":
            return ChannelError(self.channel, f"the homeserver refused our access token ({status} {code}: {message});"
                                              f" check access_token for {self.user_id}")
        if status == 403 and what == "/login":
            return ChannelError(self.channel, f"login as {self.user_id} refused ({status} {code}: {message});"
                                              " check the password")
        if status == 403:
            return MatrixRefused(self.channel, status, code,
                                 f"{self.user_id} is not allowed to {method} {what} ({status} {code}: {message})")
        return MatrixRefused(self.channel, status, code, f"{method} {what}: {status} {code}: {message}")

    # -- helpers used by the channel --------------------------------------------------

    def download(self, mxc: str) -> tuple[bytes, str]:
        """The content of an mxc:// URI and its content type (authenticated media first)."""
        if not mxc.startswith("mxc://") or mxc.count("/") != 3:
            raise ChannelError(self.channel, f"not a Matrix media URI: {one_line(mxc)[:100]}")
        server, media = mxc[len("mxc://"):].split("/", 1)
        try:
            answer = self.raw("GET", f"/_matrix/client/v1/media/download/{q(server)}/{q(media)}")
        except MatrixRefused as exc:
            if exc.status not in (400, 404) or exc.code not in ("M_UNRECOGNIZED", "M_NOT_FOUND", "M_UNKNOWN"):
                raise
            answer = self.raw("GET", f"/_matrix/media/v3/download/{q(server)}/{q(media)}")
        return answer.content, answer.headers.get("content-type", "application/octet-stream")

    def close(self) -> None:
        self.http.close()


class MatrixRefused(ChannelError):
    """The homeserver said no to one request (kept apart so callers can skip one room)."""

    def __init__(self, channel: str, status: int, code: str, cause: str) -> None:
        super().__init__(channel, cause)
        self.status = status
        self.code = code


def _matrix_error(answer: httpx.Response) -> tuple[str, str]:
    """(errcode, error) of a Matrix error answer, made safe to print."""
    try:
        data = answer.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    code = one_line(str(data.get("errcode") or "M_UNKNOWN"))[:60]
    message = one_line(str(data.get("error") or answer.reason_phrase or ""))[:200]
    return code, message


def _retry_after(answer: httpx.Response) -> float:
    """Seconds to wait: retry_after_ms from the body, else the Retry-After header, else 1."""
    try:
        data = answer.json()
        if isinstance(data, dict) and isinstance(data.get("retry_after_ms"), (int, float)):
            return max(0.0, data["retry_after_ms"] / 1000.0)
    except ValueError:
        pass
    try:
        return max(0.0, float(answer.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc) or type(exc).__name__
    return one_line(text)[:200]
