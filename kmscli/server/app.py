"""The HTTP side of `kmscli serve`: requests in, one KmsService call each, responses out.

Owns: `Application.handle` (a request → SigV4 verification → access key → operation → status
and body; usable without sockets), the pool of keyring handles (a `Keyring` object is used by
one request at a time; its flock keeps requests consistent with each other and with other
processes; every handle shares the keys unlocked once at start, so no request ever pays for
the passphrase's Argon2id), and `KmsServer`: the accept loop, and one HTTP/1.1 keep-alive
exchange after another on each connection that `connections` admits, each request read by
`wire` under its deadline and always answered with AWS's error JSON when refused.

Must not: print, read the environment or install signal handlers (the serve command does);
interpret request members (`operations`) or encode them (`protocol`).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from kmscli.kms.ids import is_valid_region
from kmscli.kms.service import KmsService
from kmscli.server import access_keys, protocol, sigv4, wire
from kmscli.server.connections import Connection, ConnectionEnded, ConnectionTable, Limits
from kmscli.server.operations import OPERATIONS, Operation
from kmscli.server.protocol import ProtocolError
from kmscli.store import Keyring

SIGNED_HEADERS = ("content-type", "host", "x-amz-date", "x-amz-target")
"""Headers every request must sign: the operation and its encoding are part of what is
signed, so a captured request cannot be replayed as another operation. botocore, the AWS CLI
and the other AWS SDKs sign every header they send but a few hop-by-hop ones."""

LISTEN_BACKLOG = 512
ACCEPT_BATCH = 256
ACCEPT_BACKOFF = 0.05  # seconds

Log = Callable[[str], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KeyringPool:
    """Handles on the keyring opened at start, each lent to one request at a time; grows to
    the peak concurrency. A new handle shares the first one's keys: no unlock work."""

    def __init__(self, first: Keyring) -> None:
        self._first = first
        self._free: list[Keyring] = [first]
        self._lock = threading.Lock()
        self.opened = 1

    @contextlib.contextmanager
    def lease(self) -> Iterator[Keyring]:
        with self._lock:
            keyring = self._free.pop() if self._free else None
            if keyring is None:
                keyring = self._first.duplicate()
                self.opened += 1
        try:
            yield keyring
        finally:
            with self._lock:
                self._free.append(keyring)


@dataclass
class Response:
    status: int
    body: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    operation: str = "-"


@dataclass
class Application:
    """Everything a request needs: the keyrings, the clocks, the regions served, a log."""

    pool: KeyringPool
    clock: Callable[[], datetime] = _utcnow
    """The service's "now" (rotation schedules, deletion windows, audit times)."""
    signing_clock: Callable[[], datetime] = _utcnow
    """The wall clock that request dates are checked against (SigV4's 15 minutes)."""
    region: str | None = None
    """Serve this region only; None serves every region a request is signed for."""
    log: Log | None = None
    """Where internal errors (with their tracebacks) are reported."""
    access_log: Log | None = None
    """Where one line per request goes (the serve command's --verbose)."""

    def region_ok(self, region: str) -> bool:
        return is_valid_region(region) and (self.region is None or region == self.region)

    def _operation(self, request: sigv4.Request) -> Operation:
        targets = request.header("X-Amz-Target")
        if len(targets) > 1:
            raise protocol.serialization_error("X-Amz-Target is given more than once")
        target = targets[0].strip() if targets else ""
        name = target.removeprefix(protocol.TARGET_PREFIX)
        operation = OPERATIONS.get(name) if target.startswith(protocol.TARGET_PREFIX) else None
        if operation is None:
            raise ProtocolError(
                "UnknownOperationException",
                f"kmscli does not implement the operation '{target}'" if target else "",
            )
        return operation

    def handle(self, request: sigv4.Request) -> Response:
        operation = "-"
        try:
            credential = sigv4.parse(request, must_sign=SIGNED_HEADERS)
            sigv4.check_scope(credential, service="kms", region_ok=self.region_ok)
            if request.header("X-Amz-Security-Token"):
                raise sigv4.unrecognized_client()  # kmscli issues long-term keys only
            sigv4.check_time(credential, self.signing_clock())
            with self.pool.lease() as keyring:
                found = access_keys.lookup(keyring, credential.access_key_id)
                if found is None:
                    raise sigv4.unrecognized_client()
                principal, secret = found
                sigv4.verify(request, credential, secret)
                chosen = self._operation(request)
                operation = chosen.name
                members = protocol.parse_body(request.body)
                service = KmsService(
                    keyring, region=credential.region, caller=principal, clock=self.clock
                )
                service.catch_up()  # what fell due since the last request, before this one
                result: Mapping[str, Any] = chosen.call(service, members)
            return Response(200, protocol.encode_response(result), operation=operation)
        except Exception as error:
            status, body = protocol.encode_error(error)
            response = Response(status, body, operation=operation)
            if status >= 500 and self.log is not None:
                details = "".join(traceback.format_exception(error)).rstrip()
                self.log(f"internal error in request {response.request_id}:\n{details}")
            return response


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and address:
        return str(address[0])
    return "-"


def _render(response: Response, *, keep_alive: bool, dated: bool = True) -> bytes:
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        "Server: kmscli",
        *([f"Date: {formatdate(usegmt=True)}"] if dated else []),
        f"Content-Type: {protocol.CONTENT_TYPE}",
        f"Content-Length: {len(response.body)}",
        f"x-amzn-RequestId: {response.request_id}",
    ]
    if not keep_alive:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


def _refusal(error: ProtocolError) -> Response:
    status, body = protocol.encode_error(error)
    return Response(status, body)


class KmsServer:
    """The listening socket and its accept loop; each accepted connection goes to
    `connections` for a slot and a thread.

    `stop()` stops accepting, closes idle connections, lets half-sent requests finish within
    their deadline and requests being served finish, and returns."""

    def __init__(
        self, address: tuple[str, int], application: Application, limits: Limits | None = None
    ) -> None:
        self.application = application
        self.limits = limits or Limits()
        busy = ProtocolError(
            "ServiceUnavailableException",
            "kmscli serve has as many connections as it serves at once: try again",
            503,
        )
        self.connections = ConnectionTable(
            self.limits, self._exchange, _render(_refusal(busy), keep_alive=False, dated=False)
        )
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.bind(address)
            self.socket.listen(max(LISTEN_BACKLOG, self.limits.max_connections))
            self.socket.setblocking(False)
        except BaseException:
            self.socket.close()
            raise
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        self._stopping = threading.Event()
        self._serving = threading.Event()
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host if isinstance(host, str) else host.decode()
        return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"

    def serve_forever(self, poll_interval: float = 0.1) -> None:
        """Accept connections until `stop()`; every pending connection at each wake-up, so
        that a burst of them never overflows the listen queue."""
        self._serving.set()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.socket, selectors.EVENT_READ)
                while not self._stopping.is_set():
                    if selector.select(poll_interval):
                        self._accept_all()
                    self.connections.expire_pending()
        finally:
            self._stopped.set()

    def _accept_all(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, address = self.socket.accept()
            except BlockingIOError:
                return
            except OSError:  # out of file descriptors or memory: let some close first
                self._stopping.wait(ACCEPT_BACKOFF)
                return
            sock.setblocking(True)
            self.connections.admit(sock, _peer(address))

    def stop(self) -> None:
        """Call from another thread than the one running `serve_forever`."""
        self._stopping.set()
        if self._serving.is_set():
            self._stopped.wait()
        self.socket.close()
        self.connections.stop()

    # -- one connection ------------------------------------------------------------------------

    def _exchange(self, connection: Connection) -> None:
        """Requests and responses on one connection until either side closes it."""
        with contextlib.suppress(ConnectionEnded):
            while self._one_request(connection):
                pass

    def _one_request(self, connection: Connection) -> bool:
        """Read, serve and answer one request; False when the connection is to be closed."""
        try:
            head = wire.parse_head(connection.read_head())
        except ProtocolError as error:
            self._refuse(connection, "-", _refusal(error))
            return False
        except ConnectionEnded as closed:
            if closed.timed_out and connection.started:
                self._refuse(connection, "-", self._timed_out())
            return False
        line = f"{head.method} {head.target}"
        if head.method != "POST":
            refusal = ProtocolError("UnknownOperationException", "KMS accepts POST / only", 405)
            self._refuse(connection, line, _refusal(refusal))
            return False
        if head.expects_continue:
            connection.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            body = connection.read_body(head.content_length)
        except ConnectionEnded as closed:
            if closed.timed_out:
                self._refuse(connection, line, self._timed_out())
            return False
        if not self.connections.begin(connection):
            return False
        split = urlsplit(head.target)
        request = sigv4.Request(
            method=head.method, path=split.path, query=split.query, headers=head.headers, body=body
        )
        response = self.application.handle(request)
        keep_alive = head.keep_alive and not self.connections.stopping
        self._answer(connection, line, response, keep_alive=keep_alive)
        succeeded = response.status == 200
        return keep_alive and self.connections.end(connection, succeeded=succeeded)

    def _timed_out(self) -> Response:
        seconds = f"{self.limits.request_timeout:g}"
        return _refusal(
            ProtocolError(
                "RequestTimeoutException",
                f"The request did not arrive whole within {seconds} seconds of its first byte",
                408,
            )
        )

    def _refuse(self, connection: Connection, line: str, response: Response) -> None:
        """Answer a request that is not read to its end, then close its connection."""
        self._answer(connection, line, response, keep_alive=False)
        connection.linger()

    def _answer(
        self, connection: Connection, line: str, response: Response, *, keep_alive: bool
    ) -> None:
        connection.send(_render(response, keep_alive=keep_alive))
        log = self.application.access_log
        if log is not None:
            log(f'{connection.peer} "{line} HTTP/1.1" {response.status} {response.operation}')


def make_server(
    host: str, port: int, application: Application, limits: Limits | None = None
) -> KmsServer:
    return KmsServer((host, port), application, limits)
