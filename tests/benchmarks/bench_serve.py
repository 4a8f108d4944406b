"""Requests per second of `kmscli serve` for 1 KB Encrypt with 16 concurrent clients, beside moto.

Run by hand (it is not collected by pytest):

    python tests/benchmarks/bench_serve.py                   # 16 clients, 10 s per server
    python tests/benchmarks/bench_serve.py --seconds 3 --clients 4

Each server runs as its own process on 127.0.0.1: `kmscli serve --port 0` over a fresh keyring
(key-file mode, one symmetric key, an access key for the account root) and moto's
`ThreadedMotoServer` (pip install 'moto[server]'). The clients are separate processes, one
boto3 client each (HTTP keep-alive, no retries), calling Encrypt with 1 KB of plaintext in a loop
for the same duration. It prints requests/s, latency percentiles and errors for each server.
kmscli does what AWS does per request (SigV4 verification, key policy evaluation, one audit
event appended, durably); moto checks no signature and no policy, which is what it trades for.

On a 2-CPU machine the 16 boto3 client processes need most of the CPU, so both servers are
client-bound there (measured: kmscli serve 171 req/s, moto 189 req/s, p50 73 / 66 ms). The
server's own cost, measured in-process on one thread (Application.handle), is about 1.3 ms per
1 KB Encrypt: half of it the audit append, a quarter the access key and key record reads.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PYTHON = sys.executable
KMSCLI = shutil.which("kmscli", path=str(Path(PYTHON).parent)) or shutil.which("kmscli")
REGION = "us-east-1"


def _client(url: str, key_id: str, secret: str) -> Any:
    import boto3
    import botocore.config

    return boto3.client(
        "kms",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1}, max_pool_connections=2),
    )


def _worker(args: tuple[str, str, str, str, int, float, float]) -> tuple[list[float], int]:
    url, key_id, secret, key, size, start_at, seconds = args
    client = _client(url, key_id, secret)
    plaintext = os.urandom(size)
    client.encrypt(KeyId=key, Plaintext=plaintext)  # connect and warm up
    while time.time() < start_at:
        time.sleep(0.001)
    latencies: list[float] = []
    errors = 0
    deadline = start_at + seconds
    while (now := time.perf_counter()) and time.time() < deadline:
        try:
            client.encrypt(KeyId=key, Plaintext=plaintext)
        except Exception:
            errors += 1
            continue
        latencies.append(time.perf_counter() - now)
    return latencies, errors


def _measure(
    name: str, url: str, key_id: str, secret: str, key: str, clients: int, size: int, seconds: float
) -> dict[str, Any]:
    start_at = time.time() + 3.0  # every worker connected and warmed up first
    jobs = [(url, key_id, secret, key, size, start_at, seconds)] * clients
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_worker, jobs)
    latencies = sorted(value for result in results for value in result[0])
    errors = sum(result[1] for result in results)
    count = len(latencies)

    def percentile(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] * 1000 if count else float("nan")

    return {
        "server": name,
        "requests": count,
        "rps": count / seconds,
        "p50": percentile(0.50),
        "p99": percentile(0.99),
        "mean": statistics.fmean(latencies) * 1000 if count else float("nan"),
        "errors": errors,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _kmscli(base: Path, clients: int, size: int, seconds: float) -> dict[str, Any]:
    assert KMSCLI is not None, "the kmscli console script is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMSCLI_", "AWS_"))}
    env.update(
        {
            "KMSCLI_HOME": str(base / "keyring"),
            "KMSCLI_ROOT_KEY_FILE": str(base / "root.key"),
            "XDG_CONFIG_HOME": str(base / "config"),
            "XDG_DATA_HOME": str(base / "data"),
        }
    )

    def kmscli(*args: str) -> str:
        done = subprocess.run([KMSCLI, *args], env=env, capture_output=True, check=True)
        return done.stdout.decode().strip()

    kmscli("keyring", "init", "--account-id", "111122223333")
    key = kmscli("key", "create", "--description", "bench")
    key_id, secret = kmscli(
        "principal", "access-key", "create", "arn:aws:iam::111122223333:root"
    ).split("\t")
    server = subprocess.Popen(
        [KMSCLI, "-q", "serve", "--port", "0"], env=env, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().decode().strip()
        return _measure("kmscli serve", url, key_id, secret, key, clients, size, seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)


MOTO = """
import sys, time
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
sys.stdin.read()
server.stop()
"""


def _moto(clients: int, size: int, seconds: float) -> dict[str, Any] | None:
    try:
        import moto.server  # noqa: F401
    except ImportError:
        print("moto[server] is not installed: skipping moto", file=sys.stderr)
        return None
    port = _free_port()
    server = subprocess.Popen(
        [PYTHON, "-c", MOTO, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        key = _client(url, "testing", "testing").create_key()["KeyMetadata"]["KeyId"]
        return _measure(
            "moto ThreadedMotoServer", url, "testing", "testing", key, clients, size, seconds
        )
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", type=int, default=1024, help="plaintext bytes per Encrypt")
    parser.add_argument("--no-moto", action="store_true")
    args = parser.parse_args()
    print(
        f"Encrypt of {args.size} B, {args.clients} concurrent clients (processes), "
        f"{args.seconds:g} s each, {os.cpu_count()} CPUs"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as base:
        rows.append(_kmscli(Path(base), args.clients, args.size, args.seconds))
    if not args.no_moto:
        measured = _moto(args.clients, args.size, args.seconds)
        if measured is not None:
            rows.append(measured)
    print(f"{'server':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'mean ms':>9}{'errors':>8}")
    for row in rows:
        print(
            f"{row['server']:<26}{row['rps']:>9.0f}{row['p50']:>9.1f}{row['p99']:>9.1f}"
            f"{row['mean']:>9.1f}{row['errors']:>8}"
        )


if __name__ == "__main__":
    main()
