"""Encrypting (and decrypting) many small files with --backend aws: the pool of concurrent KMS
calls against one call at a time, against the same server in the same run.

Run by hand (it is not collected by pytest):

    python tests/benchmarks/bench_aws_pool.py                  # 2,000 files of 1 KB, 20 ms
    python tests/benchmarks/bench_aws_pool.py --files 500 --latency 0 --concurrency 16

The server is moto's ThreadedMotoServer behind the tests' KmsProxy (tests/aws/servers.py), which
adds `--latency` seconds to every request: a network round trip to AWS KMS, which is what the
pool exists to overlap (moto on 127.0.0.1 answers in about a millisecond, so with no latency
both runs are bound by the CPU of this machine, shared by kmscli and moto). Each run is one
`kmscli encrypt -o DIR FILE...` process; the sequential run sets KMSCLI_MAX_CONCURRENCY=1.
It prints seconds, files/s, KMS requests, and the pool's speed-up over the sequential run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.aws.servers import CREDENTIALS, KmsProxy, MotoKms  # noqa: E402

KMSCLI = shutil.which("kmscli", path=str(Path(sys.executable).parent)) or shutil.which("kmscli")


def _environment(url: str, base: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KMSCLI_", "AWS_"))}
    env.update(
        {
            "KMSCLI_BACKEND": "aws",
            "AWS_ENDPOINT_URL_KMS": url,
            "AWS_CONFIG_FILE": str(base / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(base / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
            **CREDENTIALS,
        }
    )
    return env


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed: {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1024, help="bytes per file")
    parser.add_argument("--latency", type=float, default=0.020, help="seconds added per request")
    parser.add_argument("--concurrency", type=int, default=10, help="the pool's size")
    args = parser.parse_args()
    assert KMSCLI is not None, "install kmscli first (pip install -e '.[test]')"

    moto = MotoKms()
    proxy = KmsProxy(moto, delay=args.latency)
    base = Path(
        tempfile.mkdtemp(prefix="bench-aws-", dir="/dev/shm" if Path("/dev/shm").is_dir() else None)
    )
    try:
        env = _environment(proxy.url, base)
        key = (
            subprocess.run([KMSCLI, "key", "create"], env=env, capture_output=True, check=True)
            .stdout.decode()
            .strip()
        )
        names = []
        (base / "in").mkdir()
        for i in range(args.files):
            name = f"in/f{i:05}.log"
            (base / name).write_bytes(os.urandom(args.size))
            names.append(name)
        print(
            f"{args.files} files of {args.size} B, {args.latency * 1000:.0f} ms added per "
            f"request, pool of {args.concurrency}"
        )
        print(f"{'':34} {'seconds':>8} {'files/s':>8} {'requests':>9}")
        timings: dict[str, float] = {}
        for label, concurrency in (("one call at a time", 1), ("pool", args.concurrency)):
            for verb in ("encrypt", "decrypt"):
                out = base / f"{verb}-{concurrency}"
                out.mkdir()
                sources = (
                    names
                    if verb == "encrypt"
                    else sorted(str(p.relative_to(base)) for p in (base / "encrypt-1").iterdir())
                )
                before = sum(proxy.requests.values())
                run_env = {**env, "KMSCLI_MAX_CONCURRENCY": str(concurrency)}
                extra = ["-k", key] if verb == "encrypt" else []
                seconds = _run([KMSCLI, verb, *extra, "-o", str(out), *sources], run_env, base)
                requests = sum(proxy.requests.values()) - before
                timings[f"{verb} {concurrency}"] = seconds
                print(
                    f"{verb + ', ' + label:34} {seconds:8.2f} {args.files / seconds:8.0f} "
                    f"{requests:9}"
                )
        for verb in ("encrypt", "decrypt"):
            ratio = timings[f"{verb} 1"] / timings[f"{verb} {args.concurrency}"]
            print(f"{verb}: the pool is {ratio:.1f}x one call at a time")
    finally:
        shutil.rmtree(base, ignore_errors=True)
        proxy.stop()
        moto.stop()


if __name__ == "__main__":
    main()
