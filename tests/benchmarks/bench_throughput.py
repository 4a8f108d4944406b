"""Throughput, memory and start-up of `kmscli encrypt`/`decrypt`, against baselines of the same run.

Run by hand (it is not collected by pytest):

    python tests/benchmarks/bench_throughput.py                 # 1 GiB, in /dev/shm when present
    python tests/benchmarks/bench_throughput.py --size 4GiB     # peak RSS must stay flat
    python tests/benchmarks/bench_throughput.py --size 64MiB --no-esdk   # a quick look
    python tests/benchmarks/bench_throughput.py --startup-only          # the start-up row alone

It measures, in one run and on one random file:
- the baseline: a plain in-memory AES-256-GCM loop (cryptography) at the same frame size;
- `kmscli encrypt` and `kmscli decrypt`, file to file, as real processes;
- aws-encryption-sdk streaming encrypt and decrypt at the same suite and frame size with 1 MiB
  reads, in a child process (if installed);
- age encrypt and decrypt with an X25519 identity (if `age` and `age-keygen` are installed);
- `kmscli reencrypt --header-only` of the encrypted file under another key, which must be at
  least 5 times faster than the decrypt + encrypt it replaces (it rewrites the header and copies
  the body; the default re-encryption is a decrypt + encrypt in one streaming pass);
- start-up: `kmscli encrypt` of a 1 KB file against `python -c "import click, cryptography..."`,
  30 runs of each, interleaved; the ratio of the minimums must be at most 2.
It prints MB/s (10^6 bytes of plaintext per second), the ratio to the baseline, and each
process's peak RSS (from wait4).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve()
PYTHON = sys.executable
KMSCLI = shutil.which("kmscli", path=str(Path(PYTHON).parent)) or shutil.which("kmscli")
STARTUP_RUNS = 30

BASELINE_CHILD = r"""
import os, sys, time
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
size, frame = int(sys.argv[1]), int(sys.argv[2])
aead = AESGCM(os.urandom(32))
chunk = os.urandom(frame)
nonce = bytearray(12)
frames = size // frame
start = time.perf_counter()
for index in range(frames):
    nonce[8:] = (index + 1).to_bytes(4, "big")
    aead.encrypt(bytes(nonce), chunk, b"aad")
print(time.perf_counter() - start)
"""

ESDK_CHILD = r"""
import sys, time
import aws_encryption_sdk
from aws_encryption_sdk.identifiers import (
    Algorithm, CommitmentPolicy, EncryptionKeyType, WrappingAlgorithm)
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKeyProvider

class Static(RawMasterKeyProvider):
    provider_id = "bench"
    def _get_raw_key(self, key_id):
        return WrappingKey(WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING, b"k" * 32,
                           EncryptionKeyType.SYMMETRIC)

mode, source, target, frame = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
provider = Static()
provider.add_master_key(b"bench-key")
client = aws_encryption_sdk.EncryptionSDKClient(
    commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
start = time.perf_counter()
with open(source, "rb") as src, open(target, "wb") as dst:
    kwargs = dict(mode=mode, source=src, key_provider=provider)
    if mode == "e":
        kwargs.update(frame_length=frame, algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
    with client.stream(**kwargs) as stream:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            dst.write(chunk)
print(time.perf_counter() - start)
"""


def parse_size(text: str) -> int:
    match = re.fullmatch(r"(\d+)\s*([KMG]i?B)?", text.strip(), re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text}")
    units = {
        "kib": 1 << 10,
        "mib": 1 << 20,
        "gib": 1 << 30,
        "kb": 10**3,
        "mb": 10**6,
        "gb": 10**9,
        None: 1,
    }
    unit = match[2].lower() if match[2] else None
    return int(match[1]) * units[unit]


def run_measured(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run a process; return wall seconds, its own peak RSS in KiB, and its stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(list(args), stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        assert process.stderr is not None
        err = process.stderr.read().decode()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({process.returncode}): {err}")
    return elapsed, usage.ru_maxrss, text


def write_random_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as handle:
        remaining = size
        while remaining > 0:
            piece = block[: min(len(block), remaining)]
            handle.write(piece)
            remaining -= len(piece)
            block = hashlib.sha512(block[:64]).digest() + block[64:]  # keep it varied


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def default_frame_length() -> int:
    from kmscli.message.encoder import DEFAULT_FRAME_LENGTH

    return int(DEFAULT_FRAME_LENGTH)


def measure_startup(work: Path, env: dict[str, str], key: str) -> tuple[list[float], list[float]]:
    """Seconds of `python -c "import click, cryptography..."` and of `kmscli encrypt` of 1 KB,
    STARTUP_RUNS of each, interleaved so that both see the same load."""
    small = work / "small.txt"
    small.write_bytes(os.urandom(1000))
    # As installed: bytecode cached (the warm-up run writes it where it was stale).
    startup_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    python_c = [PYTHON, "-c", "import click, cryptography.hazmat.primitives.ciphers.aead"]
    encrypt_1kb = [KMSCLI or "kmscli", "encrypt", "-f", "-k", key, str(small)]
    startups: list[float] = []
    one_kbs: list[float] = []
    for index in range(STARTUP_RUNS + 1):
        python_c_seconds = run_measured(python_c, startup_env)[0]
        encrypt_seconds = run_measured(encrypt_1kb, startup_env)[0]
        if index:  # the first pair only warms up
            startups.append(python_c_seconds)
            one_kbs.append(encrypt_seconds)
    return startups, one_kbs


def print_startup(startups: list[float], one_kbs: list[float]) -> None:
    ratio = min(one_kbs) / min(startups)
    median_ratio = statistics.median(one_kbs) / statistics.median(startups)
    print(
        f"start-up ({len(startups)} runs each, min / median): python -c 'import click, "
        f"cryptography...aead' {min(startups) * 1000:.0f} / "
        f"{statistics.median(startups) * 1000:.0f} ms; kmscli encrypt of 1 KB "
        f"{min(one_kbs) * 1000:.0f} / {statistics.median(one_kbs) * 1000:.0f} ms; "
        f"{ratio:.2f}x / {median_ratio:.2f}x ({'meets' if ratio <= 2 else 'MISSES'} the 2x target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="default 1GiB")
    parser.add_argument("--frame", type=int, default=None, help="frame length (kmscli default)")
    parser.add_argument("--dir", type=Path, default=None, help="default /dev/shm when present")
    parser.add_argument("--no-esdk", action="store_true", help="skip aws-encryption-sdk")
    parser.add_argument("--repeat", type=int, default=1, help="best of N for each row")
    parser.add_argument("--startup-only", action="store_true", help="only the 1 KB start-up row")
    options = parser.parse_args()
    if KMSCLI is None:
        raise SystemExit("kmscli is not installed")
    frame = options.frame or default_frame_length()
    base_dir = options.dir or (Path("/dev/shm") if Path("/dev/shm").is_dir() else None)
    size = options.size
    rows: list[tuple[str, float, int]] = []

    with tempfile.TemporaryDirectory(dir=base_dir, prefix="kmscli-bench-") as scratch:
        work = Path(scratch)
        env = dict(
            os.environ,
            KMSCLI_HOME=str(work / "keyring"),
            KMSCLI_ROOT_KEY_FILE=str(work / "root.key"),
        )
        env.pop("KMSCLI_PASSPHRASE", None)
        if options.startup_only:
            key = subprocess.run(
                [KMSCLI, "key", "create"], env=env, capture_output=True, check=True, text=True
            ).stdout.strip()
            print_startup(*measure_startup(work, env, key))
            return
        plain = work / "plain.bin"
        write_random_file(plain, size)
        original = file_digest(plain)
        key = subprocess.run(
            [KMSCLI, "key", "create"], env=env, capture_output=True, check=True, text=True
        ).stdout.strip()

        def best(label: str, args: Sequence[str], parse_stdout: bool = False) -> None:
            timings = []
            peak = 0
            for _ in range(options.repeat):
                elapsed, rss, out = run_measured(args, env)
                timings.append(float(out.strip()) if parse_stdout else elapsed)
                peak = max(peak, rss)
            rows.append((label, min(timings), peak))

        best(
            "baseline: in-memory AES-GCM loop",
            [PYTHON, "-c", BASELINE_CHILD, str(size), str(frame)],
            parse_stdout=True,
        )
        encrypted = work / "plain.bin.kms"
        best(
            "kmscli encrypt (file to file)",
            [KMSCLI, "encrypt", "-f", "-q", "-k", key, "--frame-size", str(frame), str(plain)],
        )
        best(
            "kmscli decrypt (file to file)",
            [KMSCLI, "decrypt", "-f", "-q", "-o", str(work / "back.bin"), str(encrypted)],
        )
        assert file_digest(work / "back.bin") == original, "kmscli round trip differs"
        (work / "back.bin").unlink()
        # Re-encryption under another key: the header is rewritten and the body copied, against
        # the decrypt + encrypt it replaces (the two rows above).
        other = subprocess.run(
            [KMSCLI, "key", "create"], env=env, capture_output=True, check=True, text=True
        ).stdout.strip()
        best(
            "kmscli reencrypt (in place)",
            [KMSCLI, "reencrypt", "--header-only", "-q", "-k", other, str(encrypted)],
        )
        subprocess.run(
            [
                KMSCLI,
                "decrypt",
                "-f",
                "-q",
                "-k",
                other,
                "-o",
                str(work / "back.bin"),
                str(encrypted),
            ],
            env=env,
            check=True,
        )
        assert file_digest(work / "back.bin") == original, "kmscli reencrypt changed the data"
        (work / "back.bin").unlink()

        if not options.no_esdk:
            try:
                import aws_encryption_sdk  # noqa: F401
            except ImportError:
                print("aws-encryption-sdk not installed: skipped")
            else:
                best(
                    "aws-encryption-sdk stream encrypt",
                    [PYTHON, "-c", ESDK_CHILD, "e", str(plain), str(work / "esdk.bin"), str(frame)],
                )
                best(
                    "aws-encryption-sdk stream decrypt",
                    [
                        PYTHON,
                        "-c",
                        ESDK_CHILD,
                        "d",
                        str(work / "esdk.bin"),
                        str(work / "esdk.out"),
                        str(frame),
                    ],
                )
                assert file_digest(work / "esdk.out") == original
                (work / "esdk.bin").unlink()
                (work / "esdk.out").unlink()

        if shutil.which("age") and shutil.which("age-keygen"):
            identity = work / "age.key"
            subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
            recipient = subprocess.run(
                ["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True
            ).stdout.strip()
            best(
                "age encrypt (X25519)",
                ["age", "-r", recipient, "-o", str(work / "a.age"), str(plain)],
            )
            best(
                "age decrypt",
                ["age", "-d", "-i", str(identity), "-o", str(work / "a.out"), str(work / "a.age")],
            )
        else:
            print("age not installed: skipped")

        startups, one_kbs = measure_startup(work, env, key)

    baseline = rows[0][1]
    megabytes = size / 1e6
    print(f"\nplaintext {size:,} bytes, frame {frame:,} bytes, files in {base_dir or 'tmp'}")
    print(f"{'':38} {'MB/s':>8} {'ratio':>7} {'peak RSS':>10}")
    for label, seconds, rss in rows:
        print(
            f"{label:38} {megabytes / seconds:8.0f} {baseline / seconds:7.2f} {rss / 1024:7.1f} MiB"
        )
    elapsed_of = {label: elapsed for label, elapsed, _ in rows}
    round_trip = (
        elapsed_of["kmscli decrypt (file to file)"] + elapsed_of["kmscli encrypt (file to file)"]
    )
    speedup = round_trip / elapsed_of["kmscli reencrypt (in place)"]
    print(
        f"\nreencrypt: {speedup:.1f}x faster than decrypt + encrypt "
        f"({'meets' if speedup >= 5 else 'MISSES'} the 5x target)"
    )
    print_startup(startups, one_kbs)


if __name__ == "__main__":
    main()
