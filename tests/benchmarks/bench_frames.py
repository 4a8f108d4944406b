"""Throughput of the ESDK frame encoder/decoder against plain AES-GCM loops, file to file.

Not a pytest test (pytest collects test_*.py only). Run:

    .venv/bin/python tests/benchmarks/bench_frames.py [--size-mib 512] [--frames 65536,262144]
        [--repeat 3] [--signed] [--null] [--unthreaded] [--chunk BYTES]

Each measurement runs in its own child process (so its peak RSS is its own) on a random file in
/dev/shm; the best of --repeat runs is shown. Baselines, measured in the same run at the same
frame size:
  mem-loop   AESGCM.encrypt_into over one in-memory frame buffer, no I/O (the crypto ceiling)
  file-loop  one thread: readinto a frame, encrypt_into, write (the naive file-to-file loop)
  copy       readinto + write with no crypto at all (the I/O ceiling of this machine)
Ratios are ours / baseline. MB = 10**6 bytes of plaintext. `>/dev/null` rows read the file but
write to /dev/null, which shows the encoder's own cost without the filesystem's write cost.
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
DATA_KEY = bytes(range(32))


def _peak_rss_mib() -> float:
    # VmHWM is this process image's own peak; ru_maxrss would include the forking parent's.
    with open("/proc/self/status") as status:
        kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    return kib / 1024


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
    start = time.perf_counter()
    if mode == "mem-loop":
        aead = AESGCM(DATA_KEY)
        plain = bytearray(os.urandom(frame))
        out = bytearray(frame + 16)
        start = time.perf_counter()
        for seq in range(size // frame):
            aead.encrypt_into(seq.to_bytes(12, "big"), plain, b"aad", out)
    elif mode in ("file-loop", "copy"):
        aead = AESGCM(DATA_KEY)
        buf = memoryview(bytearray(frame))
        sealed = memoryview(bytearray(frame + 16))
        seq = 0
        with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
            while count := fin.readinto(buf):
                if mode == "copy":
                    fout.write(buf[:count])
                    continue
                seq += 1
                aead.encrypt_into(
                    seq.to_bytes(12, "big"), buf[:count], b"aad", sealed[: count + 16]
                )
                fout.write(sealed[: count + 16])
    elif mode.startswith("encrypt"):
        suite = suite_by_id(0x0578 if "signed" in mode else 0x0478)
        encryptor = MessageEncryptor(suite, {"purpose": "bench"}, frame, threaded=threaded)
        edk = EncryptedDataKey("bench", b"bench-key", bytes(48))
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            encryptor.write(fin, fout, DATA_KEY, [edk])
    elif mode.startswith("decrypt"):
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            decryptor = MessageDecryptor(fin, threaded=threaded)
            decryptor.read_header()
            decryptor.decrypt(DATA_KEY, fout)
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - start
    result = {"mbps": size / 1e6 / seconds, "rss_mib": _peak_rss_mib()}
    json.dump(result, sys.stdout)


def _run_child(args: list[str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, check=True
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def _write_random(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            out.write(block)
        out.write(block[: size % (1 << 20)])


def _encrypt_file(plain: Path, cipher: Path, frame: int, signed: bool) -> None:
    """Prepare decrypt input in a child, so this process stays small."""
    _run_child(
        [
            "encrypt-signed" if signed else "encrypt",
            str(frame),
            "0",
            str(plain),
            str(cipher),
            "1",
            "0",
        ]
    )


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.size = args.size_mib << 20
        self.plain = work.with_suffix(".plain")
        self.cipher = work.with_suffix(".cipher")
        self.out = work.with_suffix(".out")

    def measure(
        self, mode: str, frame: int, src: Path, *, threaded: bool = True
    ) -> dict[str, float]:
        sink = "/dev/null" if mode.endswith(">/dev/null") else str(self.out)
        kind = mode.split(" ", maxsplit=1)[0]
        runs = []
        for _ in range(self.args.repeat):
            self.out.unlink(missing_ok=True)
            argv = [kind, str(frame), str(self.size), str(src), sink, str(int(threaded))]
            runs.append(_run_child([*argv, str(self.args.chunk)]))
        return {"mbps": max(r["mbps"] for r in runs), "rss_mib": max(r["rss_mib"] for r in runs)}

    def run(self) -> None:
        args = self.args
        _write_random(self.plain, self.size)
        modes = ["encrypt", "decrypt"] + (
            ["encrypt-signed", "decrypt-signed"] if args.signed else []
        )
        if args.null:
            modes += [f"{mode} >/dev/null" for mode in modes]
        print(f"{args.size_mib} MiB file in /dev/shm, best of {args.repeat}; cpus={os.cpu_count()}")
        head = f"{'frame':>8} {'mode':<30} {'MB/s':>7} {'/mem-loop':>9} {'/file-loop':>10}"
        print(f"{head} {'/copy':>6} {'RSS MiB':>8}")
        for frame in (int(f) for f in args.frames.split(",")):
            rows = {
                name: self.measure(name, frame, self.plain)
                for name in ("mem-loop", "file-loop", "copy")
            }
            for mode in modes:
                src = self.plain
                if mode.startswith("decrypt"):
                    _encrypt_file(self.plain, self.cipher, frame, "signed" in mode)
                    src = self.cipher
                rows[mode] = self.measure(mode, frame, src)
                if args.unthreaded:
                    rows[f"{mode} (1 thread)"] = self.measure(mode, frame, src, threaded=False)
            for name, row in rows.items():
                ratios = [
                    row["mbps"] / rows[base]["mbps"] for base in ("mem-loop", "file-loop", "copy")
                ]
                mem, loop, copy = ratios
                line = f"{frame:>8} {name:<30} {row['mbps']:>7.0f} {mem:>9.2f} {loop:>10.2f}"
                print(f"{line} {copy:>6.2f} {row['rss_mib']:>8.1f}", flush=True)

    def cleanup(self) -> None:
        for path in (self.plain, self.cipher, self.out):
            path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--frames", default="65536,262144,1048576")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--signed", action="store_true", help="also measure suite 0x0578")
    parser.add_argument("--null", action="store_true", help="also measure output to /dev/null")
    parser.add_argument("--unthreaded", action="store_true", help="also measure threaded=False")
    parser.add_argument("--chunk", type=int, default=0, help="override CHUNK_TARGET_BYTES")
    parser.add_argument("--child", nargs=7, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, frame, size, src, dst, threaded, chunk = args.child
        size_bytes = int(size) or os.path.getsize(src)
        _child(mode, int(frame), size_bytes, src, dst, threaded == "1", int(chunk))
        return
    bench = Bench(args, SHM / f"kmscli-bench-{os.getpid()}")
    try:
        bench.run()
    finally:
        bench.cleanup()


if __name__ == "__main__":
    main()
