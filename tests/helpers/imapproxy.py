"""A loopback IMAP proxy in front of the test Dovecot that injects one fault into FETCH.

Everything is forwarded byte for byte, except the answers to `UID FETCH`:
- `refuse`: UIDs whose FETCH fails the way a server with a damaged message answers:
  the other messages' FETCH responses come through, the damaged one's is left out,
  and the tagged OK becomes `NO [SERVERBUG] …` (Dovecot's own wording);
- `omit`: UIDs left out of the answer, which still ends in OK (a silent gap);
- `nil`: UIDs whose message comes as NIL instead of its bytes.
`requested` records the UIDs each UID FETCH asked for, so a test can tell whether a
quarantined message is still being asked for.
"""

from __future__ import annotations

import re
import socket
import threading

SERVERBUG = b"NO [SERVERBUG] Internal error occurred. Refer to server log for more information."
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_UID_FETCH = re.compile(rb"^(\S+) UID FETCH (\S+) ", re.IGNORECASE)
_FETCH_UID = re.compile(rb"\bUID (\d+)\b")


def uid_set(spec: bytes) -> set[int]:
    """The UIDs of an IMAP sequence set such as b"1,3:5" ("*" read as a large number)."""
    found: set[int] = set()
    for part in spec.split(b","):
        lo, _, hi = part.partition(b":")
        lo_n = 2**31 if lo == b"*" else int(lo)
        hi_n = lo_n if not hi else (2**31 if hi == b"*" else int(hi))
        lo_n, hi_n = min(lo_n, hi_n), max(lo_n, hi_n)
        if hi_n - lo_n > 100_000:  # "n:*": only the low end matters to these tests
            found.add(lo_n)
        else:
            found.update(range(lo_n, hi_n + 1))
    return found


class FaultyImap:
    """Listen on 127.0.0.1:`port`, forward to the real server on `upstream`."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.refuse: set[int] = set()
        self.omit: set[int] = set()
        self.nil: set[int] = set()
        self.requested: list[set[int]] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, name="imap-proxy", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        for sock in [self._listener, *self._sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream), timeout=30)
            self._sockets += [client, server]
            faulted: set[bytes] = set()  # tags of this connection's FETCHes answered NO
            threading.Thread(target=self._commands, args=(client, server, faulted), daemon=True).start()
            threading.Thread(target=self._responses, args=(server, client, faulted), daemon=True).start()

    def _commands(self, client: socket.socket, server: socket.socket, faulted: set[bytes]) -> None:
        """Client to server: forwarded as it comes; UID FETCH commands are noted."""
        reader = client.makefile("rb")
        try:
            while True:
                line = reader.readline()
                if not line:
                    break
                found = _UID_FETCH.match(line)
                if found:
                    uids = uid_set(found.group(2))
                    self.requested.append(uids)
                    if uids & self.refuse:
                        faulted.add(found.group(1))
                server.sendall(line)
                literal = _LITERAL.search(line)
                if literal:
                    server.sendall(reader.read(int(literal.group(1))))
        except OSError:
            pass
        finally:
            _quiet_shutdown(server)

    def _responses(self, server: socket.socket, client: socket.socket, faulted: set[bytes]) -> None:
        """Server to client, one whole response (with its literals) at a time."""
        reader = server.makefile("rb")
        try:
            while True:
                unit, text = _read_response(reader)
                if not unit:
                    break
                if text.startswith(b"* ") and b" FETCH (" in text[:40]:
                    uid = _FETCH_UID.search(text)
                    if uid and int(uid.group(1)) in (self.refuse | self.omit):
                        continue
                    if uid and int(uid.group(1)) in self.nil:
                        unit = re.sub(rb"\{\d+\+?\}\r\n", b"NIL", text)
                tag = text.split(b" ", 1)[0]
                if tag in faulted and text[len(tag):].startswith(b" OK"):
                    faulted.discard(tag)
                    unit = tag + b" " + SERVERBUG + b"\r\n"
                client.sendall(unit)
        except OSError:
            pass
        finally:
            _quiet_shutdown(client)


def _read_response(reader) -> tuple[bytes, bytes]:
    """One response: its bytes, and its text without the literals (to look into)."""
    unit, text = b"", b""
    while True:
        line = reader.readline()
        if not line:
            return unit, text
        unit += line
        text += line
        literal = _LITERAL.search(line)
        if not literal:
            return unit, text
        unit += reader.read(int(literal.group(1)))


def _quiet_shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
