"""The connections of `kmscli serve`: how many, for how long, and reading them under deadlines.

Owns: admitting connections (at most `max_connections` served at once, one thread each; a new
connection past the cap takes the slot of a connection waiting for a request, idle or
half-sent: one whose client never had a request succeed before one whose client did, the
longest waiting first; when every slot is busy serving a request, the newcomer waits up to
`admission_wait` for one and is then turned away: answered 503, which SDKs retry, and
closed); the deadlines of each connection (an idle keep-alive connection is closed after
`idle_timeout`; once the first byte of a request has come the whole request must come within
`request_timeout`, however slowly it trickles); reading and writing bytes under those
deadlines; stopping (idle connections are closed at once, half-sent requests keep their
deadline, requests being served finish).

So a flood of idle or trickling connections costs each one a socket and a thread at most for a
few seconds, and never keeps a well-behaved client out for longer than it takes to evict one.

Must not: parse HTTP (`wire`), know the service (`app`), or read the environment.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kmscli.server import wire

RECV_SIZE = 64 * 1024


@dataclass(frozen=True)
class Limits:
    max_connections: int = 128
    request_timeout: float = 5.0
    """Seconds from the first byte of a request to its last."""
    idle_timeout: float = 10.0
    """Seconds a connection may wait, without a byte, for its next request."""
    admission_wait: float = 1.0
    """Seconds a connection past the cap waits for a slot while every slot is serving."""
    write_timeout: float = 10.0
    """Seconds a response may take to be accepted by a client that reads slowly."""
    linger: float = 1.0
    """Seconds a refused connection is drained before it is closed."""


class ConnectionEnded(Exception):  # noqa: N818 - an end, not an error
    """The connection is over: the peer closed it, a deadline passed, or it was evicted."""

    def __init__(self, *, timed_out: bool = False) -> None:
        super().__init__("connection closed")
        self.timed_out = timed_out


class Connection:
    """One accepted socket and the bytes received on it but not yet consumed."""

    def __init__(self, sock: socket.socket, peer: str, table: ConnectionTable) -> None:
        self.sock = sock
        self.peer = peer
        self._table = table
        self.buffer = bytearray()
        # The fields below change under the table's lock.
        self.busy = False
        self.proven = False
        """A request on this connection succeeded: its client holds an access key."""
        self.started = False
        """A byte of the next request has come (its whole-request deadline runs)."""
        self.waiting_since = time.monotonic()
        self.deadline = self.waiting_since + table.limits.idle_timeout
        self.evicted = False
        self.closed = False

    def _fill(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ConnectionEnded(timed_out=True)
        try:
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(RECV_SIZE)
        except TimeoutError:
            raise ConnectionEnded(timed_out=True) from None
        except OSError:
            raise ConnectionEnded() from None
        if not chunk:
            raise ConnectionEnded()
        if not self.started:
            self._table.request_started(self)
        self.buffer += chunk

    def read_head(self) -> bytes:
        """The next request head, through its blank line (ConnectionEnded, ProtocolError)."""
        searched = 0
        while True:
            while self.buffer[:2] == b"\r\n":  # empty lines before a request are allowed
                del self.buffer[:2]
                searched = 0
            end = wire.head_end(self.buffer, searched)
            if end >= 0:
                head = bytes(self.buffer[:end])
                del self.buffer[:end]
                return head
            searched = len(self.buffer)
            self._fill()

    def read_body(self, length: int) -> bytes:
        while len(self.buffer) < length:
            self._fill()
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return body

    def send(self, data: bytes) -> None:
        try:
            self.sock.settimeout(self._table.limits.write_timeout)
            self.sock.sendall(data)
        except OSError:
            raise ConnectionEnded() from None

    def linger(self) -> None:
        """After a refusal, before closing: stop sending, then read and drop what the client
        still sends, for at most `linger` seconds (none once the server is stopping), so that
        the close does not reset the connection, discarding the answer, while the client is
        still sending."""
        if self._table.stopping:
            return
        end = time.monotonic() + self._table.limits.linger
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            while (remaining := end - time.monotonic()) > 0:
                self.sock.settimeout(remaining)
                if not self.sock.recv(RECV_SIZE):
                    return

    def wake(self) -> None:
        """Wake the thread reading this connection (its recv returns end-of-file). Called
        under the table's lock, which `close` also takes, so the socket is still open."""
        if not self.closed:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self.sock.close()


def _close_socket(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()


def _turn_away(sock: socket.socket, reply: bytes) -> None:
    """Answer `reply` to a connection that got no slot and close it, without ever waiting:
    what it sent so far is read first (unread bytes would make the close a reset that can
    discard the reply), as much as has come."""
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        for _ in range(4):
            if not sock.recv(RECV_SIZE):
                break
    with contextlib.suppress(OSError):
        sock.send(reply)
    _close_socket(sock)


class ConnectionTable:
    """The connections being served, the ones waiting for a slot, and their threads."""

    def __init__(
        self, limits: Limits, serve: Callable[[Connection], None], turn_away: bytes = b""
    ) -> None:
        """`serve` runs in a connection's thread until it is done with it; `turn_away` is
        what a connection that got no slot is answered before it is closed."""
        self.limits = limits
        self._serve = serve
        self._turn_away = turn_away
        self._lock = threading.Lock()
        self._open: dict[Connection, None] = {}
        self._pending: deque[tuple[socket.socket, str, float]] = deque()
        self._threads: set[threading.Thread] = set()
        self._stopping = False

    @property
    def stopping(self) -> bool:
        return self._stopping

    def open_count(self) -> int:
        with self._lock:
            return len(self._open)

    # -- admission -----------------------------------------------------------------------------

    def admit(self, sock: socket.socket, peer: str) -> None:
        """A connection just accepted. Never blocks (the accept loop calls it)."""
        with self._lock:
            if self._stopping:
                _close_socket(sock)
                return
            if len(self._open) >= self.limits.max_connections:
                victim = self._victim()
                if victim is None:
                    self._pending.append((sock, peer, time.monotonic()))
                    while len(self._pending) > self.limits.max_connections:
                        _turn_away(self._pending.popleft()[0], self._turn_away)
                    return
                victim.evicted = True
                del self._open[victim]
                victim.wake()
            self._start(sock, peer)

    def _victim(self) -> Connection | None:
        """The connection to close for a newcomer: of those not being served, one that never
        had a request succeed before one that did (a client that holds an access key), the one
        waiting longest first."""
        waiting = [c for c in self._open if not c.busy]
        if not waiting:
            return None
        return min(waiting, key=lambda c: (c.proven, c.waiting_since))

    def _start(self, sock: socket.socket, peer: str) -> None:
        connection = Connection(sock, peer, self)
        self._open[connection] = None
        thread = threading.Thread(
            target=self._run, args=(connection,), name="kmscli-serve-connection", daemon=True
        )
        self._threads.add(thread)
        thread.start()

    def expire_pending(self) -> None:
        """Close the connections that waited for a slot longer than `admission_wait`."""
        with self._lock:
            self._expire_pending(time.monotonic())

    def _expire_pending(self, now: float) -> None:
        while self._pending and now - self._pending[0][2] > self.limits.admission_wait:
            _turn_away(self._pending.popleft()[0], self._turn_away)

    def _run(self, connection: Connection) -> None:
        try:
            self._serve(connection)
        finally:
            self._release(connection)

    def _release(self, connection: Connection) -> None:
        with self._lock:
            self._open.pop(connection, None)
            connection.close()
            self._threads.discard(threading.current_thread())
            if self._stopping:
                return
            self._expire_pending(time.monotonic())
            while self._pending and len(self._open) < self.limits.max_connections:
                sock, peer, _ = self._pending.popleft()
                self._start(sock, peer)

    # -- a connection's life -------------------------------------------------------------------

    def request_started(self, connection: Connection) -> None:
        with self._lock:
            connection.started = True
            connection.deadline = time.monotonic() + self.limits.request_timeout

    def begin(self, connection: Connection) -> bool:
        """A whole request has come: serve it, unless the connection lost its slot."""
        with self._lock:
            if connection.evicted:
                return False
            connection.busy = True
            return True

    def end(self, connection: Connection, *, succeeded: bool) -> bool:
        """The response was sent: wait for the next request, unless the server is stopping."""
        with self._lock:
            if self._stopping:
                return False
            now = time.monotonic()
            connection.busy = False
            connection.proven = connection.proven or succeeded
            connection.waiting_since = now
            connection.started = bool(connection.buffer)
            limits = self.limits
            timeout = limits.request_timeout if connection.started else limits.idle_timeout
            connection.deadline = now + timeout
            return True

    # -- stopping ------------------------------------------------------------------------------

    def stop(self) -> None:
        """Close idle and waiting connections now; return once every other has finished
        (a half-sent request within its deadline, a request being served when it is answered)."""
        with self._lock:
            self._stopping = True
            while self._pending:
                _turn_away(self._pending.popleft()[0], self._turn_away)
            for connection in self._open:
                if not connection.busy and not connection.started:
                    connection.wake()
            threads = list(self._threads)
        for thread in threads:
            thread.join()
