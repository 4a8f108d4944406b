"""Hostile connections against a real `kmscli serve` process: a flood of idle connections, a
client that trickles bytes, SIGTERM while it does, and requests that must cost no Argon2id.

Every server here is a subprocess on 127.0.0.1 with a free port, stopped by the test; every
loop is bounded.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import resource
import select
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.config
import botocore.exceptions
import pytest

from kmscli.crypto.primitives import argon2id
from kmscli.server.connections import Limits
from kmscli.store import layout
from kmscli.store.rootkey import ARGON2_ITERATIONS, ARGON2_LANES, ARGON2_MEMORY_KIB
from tests.conftest import KMSCLI, Runner
from tests.server.conftest import ACCOUNT, REGION, ROOT, Server, serving
from tests.server.test_authentication import _signed

CAP = 64
FLOOD = 1200
USER_OPEN_FILES = 1024  # the usual soft limit of a login shell


def _limit_open_files() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (USER_OPEN_FILES, hard))


def _raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.fail(f"this test needs {needed} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def _access_key(run: Runner) -> tuple[str, str]:
    created = run("principal", "access-key", "create", ROOT)
    assert created.status == 0, created.err
    key_id, secret = created.out.strip().split("\t")
    return key_id, secret


class Served:
    def __init__(self, process: subprocess.Popen[bytes], url: str) -> None:
        self.process = process
        self.url = url
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.address = (parts.hostname, parts.port)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
def serve(kmscli_env: dict[str, str], tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Served:
        process = subprocess.Popen(
            [KMSCLI, "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env or kmscli_env,
            cwd=tmp_path,
            preexec_fn=_limit_open_files,  # noqa: PLW1509 - only a setrlimit, before exec
        )
        started.append(process)
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
        return Served(process, url)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def _client(served: Served, key: tuple[str, str]) -> Any:
    return boto3.client(
        "kms",
        endpoint_url=served.url,
        region_name=REGION,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
        config=botocore.config.Config(
            retries={"max_attempts": 1}, connect_timeout=3, read_timeout=5
        ),
    )


def _signed_exchange(connection: http.client.HTTPConnection, url: str, key: tuple[str, str]) -> int:
    body = json.dumps({"NumberOfBytes": 8}).encode()
    request = _signed(url, key[0], key[1], "TrentService.GenerateRandom", body)
    connection.request("POST", "/", body=body, headers=dict(request.headers.items()))
    response = connection.getresponse()
    response.read()
    return response.status


def _closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@pytest.mark.slow
def test_a_flood_of_idle_connections_does_not_lock_clients_out(
    run: Runner, kmscli_env: dict[str, str], serve: Any
) -> None:
    _raise_open_files(FLOOD + 512)
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0
    key = _access_key(run)
    served = serve("--max-connections", str(CAP))
    established = http.client.HTTPConnection(served.address[0], served.address[1], timeout=5)
    assert _signed_exchange(established, served.url, key) == 200
    flood: list[socket.socket] = []
    try:
        flooding = time.monotonic()
        for count in range(1, FLOOD + 1):
            sock = socket.create_connection(served.address, timeout=5)
            flood.append(sock)
            sock.sendall(b"P")
            if count % 200 == 0:  # a client with a connection from before keeps it
                assert _signed_exchange(established, served.url, key) == 200, count
        started = time.monotonic()
        assert _signed_exchange(established, served.url, key) == 200, started - flooding
        # A new client gets in.
        made = _client(served, key).create_key()["KeyMetadata"]["KeyId"]
        assert time.monotonic() - started < 5
        assert _client(served, key).describe_key(KeyId=made)["KeyMetadata"]["Enabled"]
        # The flood holds at most CAP connections (the server closed the others).
        deadline = time.monotonic() + 3
        still_open = FLOOD
        while time.monotonic() < deadline:
            still_open = sum(not _closed_by_server(sock) for sock in flood)
            if still_open <= CAP:
                break
            time.sleep(0.2)
        assert still_open <= CAP
    finally:
        for sock in flood:
            sock.close()
        established.close()
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=10) == 0


def _trickle_until_closed(
    sockets: dict[str, socket.socket], data: dict[str, bytes], interval: float, limit: float
) -> dict[str, tuple[float, bytes]]:
    """Send one byte of each data every `interval` until the server closes each socket; when
    (seconds from the first byte) and what the server answered, per name."""
    started = time.monotonic()
    sent = dict.fromkeys(sockets, 0)
    answers = {name: b"" for name in sockets}
    ended: dict[str, tuple[float, bytes]] = {}
    while len(ended) < len(sockets) and time.monotonic() - started < limit:
        for name, sock in sockets.items():
            if name in ended or sent[name] >= len(data[name]):
                continue
            try:
                sock.send(data[name][sent[name] : sent[name] + 1])
                sent[name] += 1
            except OSError:
                pass
        readable, _, _ = select.select(
            [s for n, s in sockets.items() if n not in ended], [], [], interval
        )
        for sock in readable:
            name = next(n for n, s in sockets.items() if s is sock)
            try:
                chunk = sock.recv(65536)
            except OSError:
                chunk = b""
            answers[name] += chunk
            if not chunk:
                ended[name] = (time.monotonic() - started, answers[name])
    return ended


def test_a_trickling_client_is_cut_off_at_the_deadline(
    run: Runner, kmscli_env: dict[str, str], serve: Any
) -> None:
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0
    served = serve("--request-timeout", "2")
    head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"x" * 100 + b"\r\n\r\n"
    body_first = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n"
    sockets = {
        "head": socket.create_connection(served.address, timeout=5),
        "body": socket.create_connection(served.address, timeout=5),
    }
    try:
        sockets["body"].sendall(body_first)
        ended = _trickle_until_closed(
            sockets, {"head": head, "body": b"{" * 500}, interval=0.25, limit=8
        )
    finally:
        for sock in sockets.values():
            sock.close()
    assert set(ended) == {"head", "body"}, "a trickling client was not cut off"
    for when, answer in ended.values():
        assert 1.5 < when < 5
        status_line, _, rest = answer.partition(b"\r\n")
        assert status_line == b"HTTP/1.1 408 Request Timeout"
        error = json.loads(rest.partition(b"\r\n\r\n")[2])
        assert error["__type"] == "RequestTimeoutException"


@pytest.mark.slow
def test_sigterm_stops_the_server_while_a_client_trickles(
    run: Runner, kmscli_env: dict[str, str], serve: Any
) -> None:
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0
    served = serve()  # the default request timeout (5 seconds)
    sock = socket.create_connection(served.address, timeout=5)
    stop = threading.Event()

    def trickle() -> None:
        for _ in range(60):  # at most 30 seconds
            try:
                sock.send(b"x" if stop.wait(0.5) is False else b"")
            except OSError:
                return
            if stop.is_set():
                return

    sock.sendall(b"POST / HTTP/1.1\r\nX-Slow: ")
    sender = threading.Thread(target=trickle)
    sender.start()
    try:
        time.sleep(1)
        signalled = time.monotonic()
        served.process.send_signal(signal.SIGTERM)
        status = served.process.wait(timeout=15)
        elapsed = time.monotonic() - signalled
    finally:
        stop.set()
        sender.join(timeout=5)
        sock.close()
    assert status == 0
    assert elapsed < 7  # the trickle's deadline: 5 seconds from its first byte


@pytest.mark.slow
def test_unknown_keys_and_bad_signatures_cost_no_argon2(
    run: Runner, kmscli_env: dict[str, str], serve: Any
) -> None:
    """A passphrase keyring is unlocked once, at start. Requests that arrive while another
    process holds the keyring's lock (so that they overlap) with an unknown access key or a
    bad signature are refused, and the server spends far less CPU on them than one Argon2id
    derivation of the passphrase."""
    env = {**kmscli_env, "KMSCLI_PASSPHRASE": "correct horse battery staple"}
    assert run("keyring", "init", "--passphrase", "--account-id", ACCOUNT, env=env).status == 0
    created = run("principal", "access-key", "create", ROOT, env=env)
    assert created.status == 0, created.err
    key_id, secret = created.out.strip().split("\t")
    served = serve(env=env)
    _client(served, (key_id, secret)).list_keys()  # the first request imports what it needs
    before = time.process_time()
    argon2id(
        b"x" * 16,
        salt=b"s" * 16,
        memory_kib=ARGON2_MEMORY_KIB,
        iterations=ARGON2_ITERATIONS,
        lanes=ARGON2_LANES,
    )
    one_derivation = time.process_time() - before
    callers = [("AKIAAAAAAAAAAAAAAAA" + "ABCDEF"[i], "s" * 40) for i in range(4)]
    callers += [(key_id, "w" * 40)] * 4
    answers: list[tuple[str, int]] = []

    def call(credentials: tuple[str, str]) -> None:
        client = _client(served, credentials)
        try:
            client.list_keys()
        except botocore.exceptions.ClientError as error:
            answers.append(
                (
                    error.response["Error"]["Code"],
                    error.response["ResponseMetadata"]["HTTPStatusCode"],
                )
            )

    home = Path(kmscli_env["KMSCLI_HOME"])
    spent = served.cpu_seconds()
    with (home / layout.LOCK).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another kmscli process writing
        threads = [threading.Thread(target=call, args=(c,)) for c in callers]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        fcntl.flock(lock, fcntl.LOCK_UN)
    for thread in threads:
        thread.join(timeout=30)
    spent = served.cpu_seconds() - spent
    assert sorted(answers) == sorted(
        [("UnrecognizedClientException", 400)] * 4 + [("InvalidSignatureException", 400)] * 4
    )
    assert spent < one_derivation / 2, (spent, one_derivation)


def _open_connection(server: Server) -> socket.socket:
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=10)


def _http(server: Server, timeout: float) -> http.client.HTTPConnection:
    parts = urlsplit(server.url)
    assert parts.hostname is not None
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _wait_closed(
    sock: socket.socket, limit: float, received: bytearray | None = None
) -> float | None:
    """Seconds until the server closes `sock` (None if not within `limit`); what it sent goes
    to `received`."""
    started = time.monotonic()
    sock.settimeout(limit)
    try:
        while chunk := sock.recv(65536):
            if received is not None:
                received += chunk
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - started


def test_idle_connections_are_closed_after_the_idle_time(kmscli_env: dict[str, str]) -> None:
    with serving(kmscli_env, Limits(idle_timeout=1.0)) as server:
        silent = _open_connection(server)
        kept_alive = _http(server, timeout=5)
        key = server.access_key()
        assert _signed_exchange(kept_alive, server.url, key) == 200
        assert kept_alive.sock is not None
        for sock in (silent, kept_alive.sock):
            closed_after = _wait_closed(sock, limit=5)
            assert closed_after is not None and closed_after < 4
        silent.close()
        kept_alive.close()


def test_past_the_cap_with_every_slot_busy_a_newcomer_waits_then_is_turned_away(
    kmscli_env: dict[str, str],
) -> None:
    with serving(kmscli_env, Limits(max_connections=2, admission_wait=1.0)) as server:
        key = server.access_key()
        answers: list[int] = []

        def call() -> None:
            connection = _http(server, timeout=10)
            answers.append(_signed_exchange(connection, server.url, key))
            connection.close()

        with (server.home / layout.LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # both requests wait for the keyring: both slots busy
            callers = [threading.Thread(target=call) for _ in range(2)]
            for caller in callers:
                caller.start()
            time.sleep(0.5)
            newcomer = _open_connection(server)
            newcomer.sendall(b"POST / HTTP/1.1\r\n")
            turned_away = bytearray()
            closed_after = _wait_closed(newcomer, limit=5, received=turned_away)
            newcomer.close()
            fcntl.flock(lock, fcntl.LOCK_UN)
        for caller in callers:
            caller.join(timeout=10)
        assert closed_after is not None and 0.8 < closed_after < 4
        head, _, body = bytes(turned_away).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), turned_away
        assert json.loads(body)["__type"] == "ServiceUnavailableException"
        assert answers == [200, 200]


def test_more_connections_than_open_files_allow_are_refused(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0

    def few_open_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    done = subprocess.run(
        [KMSCLI, "serve", "--port", "0", "--max-connections", "200"],
        capture_output=True,
        env=kmscli_env,
        cwd=tmp_path,
        preexec_fn=few_open_files,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert b"--max-connections 200 needs 664 open files, over the limit of 256" in done.stderr
    assert done.stdout == b""
