"""The HTTP side of `kmscli serve`: requests in, one KmsService call each, responses out.

Owns: `Application.handle` (a request → SigV4 verification → access key → operation → status
and body; usable without sockets), the pool of opened keyrings (a `Keyring` object is used by
one request at a time; its flock keeps requests consistent with each other and with other
processes), and `KmsServer`, the standard library `ThreadingHTTPServer` speaking HTTP/1.1 with
keep-alive, one thread per connection, whose `stop()` refuses new connections, lets every
request in flight finish and closes idle connections.

Must not: print, read the environment or install signal handlers (the serve command does);
interpret request members (`operations`) or encode them (`protocol`).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kmscli.kms.ids import is_valid_region
from kmscli.kms.service import KmsService
from kmscli.server import access_keys, protocol, sigv4
from kmscli.server.operations import OPERATIONS, Operation
from kmscli.server.protocol import ProtocolError
from kmscli.store import Keyring, open_keyring

MAX_BODY = 1024 * 1024
IDLE_POLL = 0.1  # seconds between checks for a stop while a connection is idle
READ_TIMEOUT = 30.0  # a client that stops sending mid-request is dropped after this

Log = Callable[[str], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def keyring_opener(
    home: Path,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    passphrase: Callable[[], bytes | None],
) -> Callable[[], Keyring]:
    """Opens the keyring again for the pool; the passphrase is asked for at most once."""
    remembered: list[bytes | None] = []

    def once() -> bytes | None:
        if not remembered:
            remembered.append(passphrase())
        return remembered[0]

    def opener() -> Keyring:
        return open_keyring(
            home,
            root_key_file=root_key_file,
            root_key_dir=root_key_dir,
            passphrase=once,
            create=False,
        )

    return opener


class KeyringPool:
    """Opened keyrings, each lent to one request at a time; grows to the peak concurrency."""

    def __init__(self, opener: Callable[[], Keyring], first: Keyring | None = None) -> None:
        self._opener = opener
        self._free: list[Keyring] = [first] if first is not None else []
        self._lock = threading.Lock()
        self.opened = len(self._free)

    @contextlib.contextmanager
    def lease(self) -> Iterator[Keyring]:
        with self._lock:
            keyring = self._free.pop() if self._free else None
        if keyring is None:
            keyring = self._opener()
            with self._lock:
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
            credential = sigv4.parse(request)
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
                result: dict[str, Any] = chosen.call(service, members)
            return Response(200, protocol.encode_response(result), operation=operation)
        except Exception as error:
            status, body = protocol.encode_error(error)
            response = Response(status, body, operation=operation)
            if status >= 500 and self.log is not None:
                details = "".join(traceback.format_exception(error)).rstrip()
                self.log(f"internal error in request {response.request_id}:\n{details}")
            return response


class KmsServer(ThreadingHTTPServer):
    """ThreadingHTTPServer whose handler threads are joined on `stop()` (none is cut off)."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], application: Application) -> None:
        self.application = application
        self.stopping = threading.Event()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, KmsRequestHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = host if isinstance(host, str) else host.decode()
        return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"

    def stop(self) -> None:
        """Stop accepting, finish the requests in flight, close idle connections, return.

        Call from another thread than the one running `serve_forever`."""
        self.stopping.set()
        self.shutdown()
        self.server_close()


class KmsRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kmscli"
    sys_version = ""
    timeout = READ_TIMEOUT
    server: KmsServer

    def handle(self) -> None:
        """Serve requests on this connection until it closes or the server stops while idle."""
        self.close_connection = True
        while self._next_request_arrives():
            self.handle_one_request()
            if self.close_connection:
                break

    def _next_request_arrives(self) -> bool:
        while not self.server.stopping.is_set():
            try:
                readable, _, _ = select.select([self.connection], [], [], IDLE_POLL)
            except (OSError, ValueError):
                return False
            if readable:
                return True
        return False

    def _reply(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", protocol.CONTENT_TYPE)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("x-amzn-RequestId", response.request_id)
        if self.server.stopping.is_set():
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(response.body)

    def _refuse(self, status: int, code: str, message: str) -> None:
        _, body = protocol.encode_error(ProtocolError(code, message, status))
        self.close_connection = True
        self._reply(Response(status, body))

    def do_POST(self) -> None:
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.strip().isdigit():
            self._refuse(411, "SerializationException", "Content-Length is required")
            return
        length = int(length_header)
        if length > MAX_BODY:
            self._refuse(413, "SerializationException", "The request body is too large")
            return
        try:
            body = self.rfile.read(length)
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if len(body) < length:
            self.close_connection = True
            return
        split = urlsplit(self.path)
        request = sigv4.Request(
            method="POST",
            path=split.path,
            query=split.query,
            headers=tuple(self.headers.items()),
            body=body,
        )
        response = self.server.application.handle(request)
        self._operation = response.operation
        self._reply(response)

    def _not_allowed(self) -> None:
        self._refuse(405, "UnknownOperationException", "KMS accepts POST / only")

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        log = self.server.application.access_log
        if log is not None:
            log(f"{self.address_string()} {format % args}")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log = self.server.application.access_log
        if log is not None:
            operation = getattr(self, "_operation", "-")
            log(f'{self.address_string()} "{self.requestline}" {code} {operation}')


def make_server(host: str, port: int, application: Application) -> KmsServer:
    return KmsServer((host, port), application)
