"""A full disk, or a killed kmscli, leaves nothing behind: every writing command, on a real full
tmpfs, exits 10 with the output directory as it was (no temp file) and the input untouched; a
SIGKILL during a decrypt to a file leaves no plaintext anywhere in the directory; a named temp
file that a killed kmscli left (where unnamed ones cannot be used) is swept by a later run."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.private_mount import PrivateTmpfs, private_tmpfs
from tests.conftest import KMSCLI, Runner
from tests.helpers import ok

MARKER = b"PLAINTEXT-MARKER"


class World:
    """Keys and inputs made once per test in the test's directory (outside the tmpfs)."""

    def __init__(self, run: Runner, base: Path) -> None:
        self.run = run
        self.base = base
        self._keys: dict[str, str] = {}

    def key(self, kind: str) -> str:
        if kind not in self._keys:
            args = {
                "aes": [],
                "aes2": [],
                "sign": ["--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY"],
                "hmac": ["--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC"],
                "external": ["--origin", "EXTERNAL"],
            }[kind]
            self._keys[kind] = ok(self.run("key", "create", *args)).out.strip()
        return self._keys[kind]

    def file(self, name: str) -> str:
        """An input in the test's directory, made on first use."""
        path = self.base / name
        if not path.exists():
            if name == "big":
                path.write_bytes(os.urandom(3_000_000))
            elif name == "small":
                path.write_bytes(b"small input " * 20)
            elif name.endswith(".kms"):
                ok(self.run("encrypt", "-k", self.key("aes"), "-o", name, self.file(name[:-4])))
            elif name == "small.blob":
                ok(
                    self.run(
                        "encrypt", "--direct", "-k", self.key("aes"), "-o", name, self.file("small")
                    )
                )
            elif name == "dek.blob":
                key = self.key("aes")
                ok(
                    self.run(
                        "datakey", "generate", "-k", key, "--no-plaintext", "--ciphertext-out", name
                    )
                )
        return name


# Each case: the command's arguments given the tmpfs directory; inputs stay outside it.
Case = Callable[[World, Path], list[str]]
CASES: dict[str, Case] = {
    "encrypt": lambda w, d: ["encrypt", "-k", w.key("aes"), "-o", f"{d}/out.kms", w.file("big")],
    "encrypt --direct": lambda w, d: [
        "encrypt",
        "--direct",
        "-k",
        w.key("aes"),
        "-o",
        f"{d}/out.blob",
        w.file("small"),
    ],
    "decrypt": lambda w, d: ["decrypt", "-o", f"{d}/out", w.file("big.kms")],
    "decrypt a blob": lambda w, d: ["decrypt", "-o", f"{d}/out", w.file("small.blob")],
    "reencrypt -o": lambda w, d: [
        "reencrypt",
        "-k",
        w.key("aes2"),
        "-o",
        f"{d}/out.kms",
        w.file("big.kms"),
    ],
    "reencrypt --header-only -o": lambda w, d: [
        "reencrypt",
        "--header-only",
        "-k",
        w.key("aes2"),
        "-o",
        f"{d}/out.kms",
        w.file("big.kms"),
    ],
    "datakey generate": lambda w, d: [
        "datakey",
        "generate",
        "-k",
        w.key("aes"),
        "--plaintext-out",
        f"{d}/dek",
        "--ciphertext-out",
        f"{d}/dek.blob",
    ],
    "datakey pair": lambda w, d: [
        "datakey",
        "pair",
        "-k",
        w.key("aes"),
        "--key-pair-spec",
        "ECC_NIST_P256",
        "--private-key-out",
        f"{d}/pair.key",
        "--public-key-out",
        f"{d}/pair.pub",
    ],
    "datakey decrypt": lambda w, d: ["datakey", "decrypt", w.file("dek.blob"), "-o", f"{d}/dek"],
    "random": lambda w, d: ["random", "--bytes", "1024", "-o", f"{d}/random"],
    "sign": lambda w, d: ["sign", w.file("small"), "-k", w.key("sign"), "-o", f"{d}/sig"],
    "mac generate": lambda w, d: [
        "mac",
        "generate",
        w.file("small"),
        "-k",
        w.key("hmac"),
        "-o",
        f"{d}/mac",
    ],
    "key public-key": lambda w, d: ["key", "public-key", w.key("sign"), "-o", f"{d}/pub.der"],
    "key import-parameters": lambda w, d: [
        "key",
        "import-parameters",
        w.key("external"),
        "--out-dir",
        str(d),
    ],
    "keyring backup": lambda w, d: ["keyring", "backup", f"{d}/keyring.bak"],
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_full_disk_leaves_nothing_behind(
    name: str, run_inproc: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    world = World(run_inproc, tmp_path)
    world.key("aes")  # the keyring exists (for keyring backup)
    mount = tmp_path / "full"
    args = CASES[name](world, mount)
    inputs = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with private_tmpfs(mount, "512k") as fs:
        fs.fill()
        done = fs.run([KMSCLI, *args], env=kmscli_env, cwd=tmp_path)
        assert done.returncode == 10, done.stderr
        assert b"InputOutputError" in done.stderr and b"No space left" in done.stderr
        assert fs.listing() == ["filler"], "a temp file or partial output was left behind"
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == inputs


@pytest.mark.parametrize(
    "name", ["encrypt", "decrypt", "reencrypt -o", "reencrypt --header-only -o"]
)
def test_a_disk_filling_up_midway_leaves_nothing_behind(
    name: str, run_inproc: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    world = World(run_inproc, tmp_path)
    mount = tmp_path / "small"
    args = CASES[name](world, mount)
    with private_tmpfs(mount, "1m") as fs:
        done = fs.run([KMSCLI, *args], env=kmscli_env, cwd=tmp_path)
        assert done.returncode == 10, done.stderr
        assert fs.listing() == []


@pytest.mark.parametrize("header_only", [False, True])
def test_reencrypt_in_place_on_a_full_disk_keeps_the_input(
    header_only: bool, run_inproc: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    world = World(run_inproc, tmp_path)
    message = (tmp_path / world.file("small.kms")).read_bytes()
    blob = (tmp_path / world.file("small.blob")).read_bytes()
    mount = tmp_path / "full"
    with private_tmpfs(mount, "512k") as fs:
        fs.view("in.kms").write_bytes(message)
        fs.view("in.blob").write_bytes(blob)
        fs.fill()
        for name in ("in.kms", "in.blob"):
            args = ["reencrypt", "-k", world.key("aes2"), f"{mount}/{name}"]
            done = fs.run(
                [KMSCLI, *args, *(["--header-only"] * header_only)], env=kmscli_env, cwd=tmp_path
            )
            assert done.returncode == 10, done.stderr
        assert fs.listing() == ["filler", "in.blob", "in.kms"]
        assert fs.view("in.kms").read_bytes() == message
        assert fs.view("in.blob").read_bytes() == blob


def _wait_until_writing(pid: int, directory: Path, minimum: int) -> None:
    """Until process `pid` holds a file open in `directory` with at least `minimum` bytes
    (whether it has a name there or not: /proc/PID/fd shows both)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                where = os.readlink(f"/proc/{pid}/fd/{fd}")
                size = os.stat(f"/proc/{pid}/fd/{fd}").st_size
            except OSError:
                continue
            if where.startswith(f"{directory}/") and size >= minimum:
                return
        time.sleep(0.02)
    pytest.fail("the decrypt never wrote its output")


def _kill_decrypt_midway(fs: PrivateTmpfs, message: bytes, env: dict[str, str], cwd: Path) -> None:
    """Start a decrypt of `message` from a pipe to a file on `fs`, feed it three quarters of
    the message, wait until it has written plaintext, and SIGKILL it."""
    target = fs.mountpoint / "secret"
    process = subprocess.Popen(
        fs.command([KMSCLI, "decrypt", "-o", str(target), "-"], cwd),
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    stdin = process.stdin

    def feed() -> None:
        try:
            stdin.write(message[: len(message) * 3 // 4])
            stdin.flush()
        except OSError:
            pass  # the process died: the checks below say how

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        _wait_until_writing(process.pid, fs.mountpoint, 256 * 1024)
    finally:
        process.kill()
        process.wait()
        stdin.close()
        feeder.join(timeout=10)


def _message(run_inproc: Runner, tmp_path: Path) -> bytes:
    plaintext = b"".join(b"%s-%08d\n" % (MARKER, i) for i in range(240_000))  # 6 MB
    (tmp_path / "secret").write_bytes(plaintext)
    key = ok(run_inproc("key", "create")).out.strip()
    ok(run_inproc("encrypt", "-k", key, "secret"))
    return (tmp_path / "secret.kms").read_bytes()


def test_sigkill_during_decrypt_to_a_file_leaves_no_plaintext(
    run_inproc: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    message = _message(run_inproc, tmp_path)
    with private_tmpfs(tmp_path / "out", "64m") as fs:
        _kill_decrypt_midway(fs, message, kmscli_env, tmp_path)
        assert fs.listing() == []
        assert fs.files_holding(MARKER) == []


def test_a_killed_run_s_named_temp_file_is_swept_later(
    run_inproc: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    """Without /proc (so no unnamed temp file can be linked), a SIGKILL leaves a named temp
    file; the next kmscli run writing into that directory removes it once it is stale."""
    message = _message(run_inproc, tmp_path)
    with private_tmpfs(tmp_path / "out", "64m", without_proc=True) as fs:
        _kill_decrypt_midway(fs, message, kmscli_env, tmp_path)
        left = fs.listing()
        assert len(left) == 1 and left[0].endswith(".kmscli-tmp"), left
        assert fs.files_holding(MARKER) == left
        fresh = fs.run(
            [KMSCLI, "random", "--bytes", "8", "-o", str(fs.mountpoint / "r1")],
            env=kmscli_env,
            cwd=tmp_path,
        )
        assert fresh.returncode == 0, fresh.stderr
        assert fs.listing() == sorted([*left, "r1"]), "a recent temp file is not swept yet"
        an_hour_ago = time.time() - 3600
        os.utime(fs.view(left[0]), (an_hour_ago, an_hour_ago))
        later = fs.run(
            [KMSCLI, "random", "--bytes", "8", "-o", str(fs.mountpoint / "r2")],
            env=kmscli_env,
            cwd=tmp_path,
        )
        assert later.returncode == 0, later.stderr
        assert fs.listing() == ["r1", "r2"]
        assert fs.files_holding(MARKER) == []


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_the_sweep_removes_only_kmscli_s_stale_temp_files(run: Runner, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a temp file to another user needs root")
    folder = tmp_path / "out"
    folder.mkdir()
    dead, alive = _dead_pid(), os.getpid()
    an_hour_ago, two_days_ago = time.time() - 3600, time.time() - 2 * 86400
    files = {
        f".a.{dead}.0123abcd.kmscli-tmp": (an_hour_ago, 0, False),  # writer gone, stale
        f".b.{alive}.0123abcd.kmscli-tmp": (an_hour_ago, 0, True),  # writer running
        f".c.{dead}.0123abcd.kmscli-tmp": (time.time(), 0, True),  # changed recently
        f".d.{dead}.0123abcd.kmscli-tmp": (an_hour_ago, 65534, True),  # another user's
        ".e.0123abcd.kmscli-tmp": (two_days_ago, 0, False),  # an earlier version's, old
        ".f.0123abcd.kmscli-tmp": (an_hour_ago, 0, True),  # an earlier version's, recent
        ".g.kmscli-tmp": (two_days_ago, 0, True),  # not a name kmscli makes
        "h.txt": (two_days_ago, 0, True),
    }
    for name, (mtime, uid, _) in files.items():
        (folder / name).write_bytes(b"x")
        os.chown(folder / name, uid, uid)
        os.utime(folder / name, (mtime, mtime))
    assert run("keyring", "init").status == 0
    done = run("random", "--bytes", "8", "-o", str(folder / "r"))
    assert done.status == 0, done.err
    kept = sorted([name for name, (_, _, keep) in files.items() if keep] + ["r"])
    assert sorted(os.listdir(folder)) == kept
