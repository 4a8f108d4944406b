"""AWS KMS stand-ins for the aws backend's tests and benchmark: moto, and a proxy in front of it.

`MotoKms` runs moto's ThreadedMotoServer on 127.0.0.1 (a free port). `KmsProxy` forwards
requests to it, and can answer ThrottlingException to the first N requests of chosen
operations (as AWS does when a request quota is exceeded) and add a fixed delay to every
request (a network round trip, for the benchmark). It counts the requests of each operation.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class MotoKms:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.host, self.port = host, port
        self.url = f"http://{host}:{port}"

    def reset(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        connection.request("POST", "/moto-api/reset")
        connection.getresponse().read()
        connection.close()

    def stop(self) -> None:
        self._server.stop()


class KmsProxy:
    """An HTTP proxy to `upstream` that may throttle and delay; see the module docstring."""

    def __init__(self, upstream: MotoKms, *, delay: float = 0.0) -> None:
        self.upstream = upstream
        self.delay = delay
        self.throttle: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        """The most requests the proxy was answering at one time."""
        self.log: list[tuple[str, str, dict[str, Any]]] = []
        """(operation, region of the request's signature, request document) of each request."""
        self._lock = threading.Lock()
        self._local = threading.local()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes: without this, Nagle's algorithm and
                # the client's delayed ACK add 40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target = self.headers.get("X-Amz-Target", "")
                operation = target.rpartition(".")[2]
                status, headers, payload = proxy._answer(operation, self.headers, body)
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def throttle_next(self, operation: str, times: int) -> None:
        """Answer ThrottlingException to the next `times` requests of `operation`."""
        with self._lock:
            self.throttle[operation] = times

    def _answer(
        self, operation: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        scope = re.search(r"Credential=[^/]+/\d+/([^/]+)/", headers.get("Authorization", ""))
        with self._lock:
            self.log.append((operation, scope.group(1) if scope else "", json.loads(body or b"{}")))
            self.requests[operation] += 1
            throttle = self.throttle[operation] > 0
            if throttle:
                self.throttle[operation] -= 1
                self.throttled[operation] += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return self._forward(throttle, headers, body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _forward(
        self, throttle: bool, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if self.delay:
            time.sleep(self.delay)
        if throttle:
            refusal = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            return 400, [("Content-Type", "application/x-amz-json-1.1")], refusal.encode()
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self.upstream.host, self.upstream.port)
            self._local.connection = connection
        forwarded = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        connection.request("POST", "/", body=body, headers=forwarded)
        response = connection.getresponse()
        payload = response.read()
        kept = [
            (k, v)
            for k, v in response.getheaders()
            if k.lower() not in ("content-length", "connection", "transfer-encoding")
        ]
        return response.status, kept, payload

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
