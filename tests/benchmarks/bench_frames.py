"""Throughput of the ESDK frame encoder/decoder against plain AES-GCM loops, file to file.

Not a pytest test (pytest collects test_*.py only). Run:

    .venv/bin/python tests/benchmarks/bench_frames.py [--size-mib 512] [--frames 65536,262144]

Each measurement runs in its own child process (so its peak RSS is its own) on a random file in
/dev/shm, best of --repeat runs. Baselines measured in the same run, at the same frame size:
  mem-loop   AESGCM.encrypt_into over one in-memory frame buffer, no I/O (the crypto ceiling)
  file-loop  single thread: readinto a frame, encrypt_into, write (the naive file-to-file loop)
  copy       readinto + write with no crypto at all (the I/O ceiling of this machine)
Ratios are ours / baseline. MB = 10**6 bytes of plaintext.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SHM = Path("/dev/shm")


def _run_child(args: list[str]) -> dict[str, float]:
    """Run one measurement in a child; returns its JSON result plus its own peak RSS in MiB."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"child failed: {args}")
    result: dict[str, float] = json.loads(output)
    result["rss_mib"] = usage.ru_maxrss / 1024
    return result


def _child(
    mode: str, frame: int, size: int, src: str, dst: str, threaded: bool, chunk: int
) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from kmscli.message import decoder, encoder
    from kmscli.message.decoder import MessageDecryptor
    from kmscli.message.encoder import MessageEncryptor
    from kmscli.message.header import EncryptedDataKey
    from kmscli.message.suites import suite_by_id

    if chunk:
        encoder.CHUNK_TARGET_BYTES = decoder.CHUNK_TARGET_BYTES = chunk  # type: ignore[misc]
    data_key = bytes(range(32))
    edk = EncryptedDataKey("bench", b"bench-key", bytes(48))
    start = time.perf_counter()
    if mode == "mem-loop":
        aead = AESGCM(data_key)
        plain = bytearray(os.urandom(frame))
        out = bytearray(frame + 16)
        start = time.perf_counter()
        for seq in range(size // frame):
            aead.encrypt_into(seq.to_bytes(12, "big"), plain, b"aad", out)
    elif mode == "file-loop":
        aead = AESGCM(data_key)
        buf = memoryview(bytearray(frame))
        out = bytearray(frame + 16)
        seq = 0
        with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
            while count := fin.readinto(buf):
                seq += 1
                view = memoryview(out)[: count + 16]
                aead.encrypt_into(seq.to_bytes(12, "big"), buf[:count], b"aad", view)
                fout.write(view)
    elif mode == "copy":
        buf = memoryview(bytearray(frame))
        with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
            while count := fin.readinto(buf):
                fout.write(buf[:count])
    elif mode.startswith("encrypt"):
        suite = suite_by_id(0x0578 if mode.endswith("-signed") else 0x0478)
        encryptor = MessageEncryptor(suite, {"purpose": "bench"}, frame, threaded=threaded)
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            encryptor.write(fin, fout, data_key, [edk])
    elif mode.startswith("decrypt"):
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            decryptor = MessageDecryptor(fin, threaded=threaded)
            decryptor.read_header()
            decryptor.decrypt(data_key, fout)
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - start
    json.dump({"seconds": seconds, "mbps": size / 1e6 / seconds}, sys.stdout)


def _prepare(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            out.write(block)
        out.write(block[: size % (1 << 20)])


def _encrypt_file(plain: Path, cipher: Path, frame: int, signed: bool) -> None:
    from kmscli.message.encoder import MessageEncryptor
    from kmscli.message.header import EncryptedDataKey
    from kmscli.message.suites import suite_by_id

    encryptor = MessageEncryptor(suite_by_id(0x0578 if signed else 0x0478), {}, frame)
    with open(plain, "rb") as fin, open(cipher, "wb") as fout:
        encryptor.write(fin, fout, bytes(range(32)), [EncryptedDataKey("bench", b"k", bytes(48))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--frames", default="65536,262144,1048576")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--signed", action="store_true", help="also measure suite 0x0578")
    parser.add_argument("--unthreaded", action="store_true", help="also measure threaded=False")
    parser.add_argument("--null", action="store_true", help="also measure output to /dev/null")
    parser.add_argument("--chunk", type=int, default=0, help="override CHUNK_TARGET_BYTES")
    parser.add_argument("--child", nargs=7, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, frame, size, src, dst, threaded, chunk = args.child
        _child(mode, int(frame), int(size), src, dst, threaded == "1", int(chunk))
        return

    size = args.size_mib << 20
    plain = SHM / f"kmscli-bench-{os.getpid()}.plain"
    cipher = SHM / f"kmscli-bench-{os.getpid()}.cipher"
    out = SHM / f"kmscli-bench-{os.getpid()}.out"
    _prepare(plain, size)
    modes = ["encrypt", "decrypt"] + (["encrypt-signed", "decrypt-signed"] if args.signed else [])
    if args.null:
        modes += [f"{mode} >/dev/null" for mode in modes]
    print(f"{args.size_mib} MiB file in /dev/shm, best of {args.repeat}; cpus={os.cpu_count()}")
    print(f"{'frame':>8} {'mode':<22} {'MB/s':>7} {'vs mem-loop':>11} {'vs file-loop':>12} {'RSS MiB':>8}")
    try:
        for frame in (int(f) for f in args.frames.split(",")):
            best: dict[str, dict[str, float]] = {}

            def measure(
                label: str, mode: str, src: Path, threaded: bool = True, frame: int = frame
            ) -> None:
                runs = []
                sink = "/dev/null" if mode.endswith("/dev/null") else str(out)
                mode = mode.split(" ", maxsplit=1)[0]
                for _ in range(args.repeat):
                    out.unlink(missing_ok=True)
                    child = [mode, str(frame), str(size), str(src), sink, str(int(threaded))]
                    runs.append(_run_child([*child, str(args.chunk)]))
                top = max(runs, key=lambda r: r["mbps"])
                top["rss_mib"] = max(r["rss_mib"] for r in runs)
                best[label] = top

            measure("mem-loop", "mem-loop", plain)
            measure("file-loop", "file-loop", plain)
            measure("copy (no crypto)", "copy", plain)
            for mode in modes:
                signed = "-signed" in mode
                if mode.startswith("decrypt"):
                    _encrypt_file(plain, cipher, frame, signed)
                src = cipher if mode.startswith("decrypt") else plain
                measure(mode, mode, src)
                if args.unthreaded:
                    measure(mode + " (1 thread)", mode, src, threaded=False)
            for label, result in best.items():
                mem = result["mbps"] / best["mem-loop"]["mbps"]
                file = result["mbps"] / best["file-loop"]["mbps"]
                print(
                    f"{frame:>8} {label:<22} {result['mbps']:>7.0f} {mem:>11.2f} {file:>12.2f} "
                    f"{result['rss_mib']:>8.1f}"
                )
            sys.stdout.flush()
    finally:
        for path in (plain, cipher, out):
            path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
