"""Outputs that are not plain new files: a device or FIFO is written to as a stream and never
replaced, a socket is refused, a symbolic link is followed (a dangling one refused), and a new
file's mode is the input's permission bits minus the umask, never setuid, setgid or sticky."""

from __future__ import annotations

import os
import select
import socket
import stat
import subprocess
import threading
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.cli.private_mount import private_tmpfs
from tests.conftest import KMSCLI, Runner

PLAINTEXT = b"the plaintext of the special outputs test\n" * 10


@pytest.fixture
def key(run_inproc: Runner) -> str:
    return run_inproc("key", "create").out.strip()


@pytest.fixture
def message(run_inproc: Runner, tmp_path: Path, key: str) -> Path:
    (tmp_path / "x").write_bytes(PLAINTEXT)
    assert run_inproc("encrypt", "-k", key, "x").status == 0
    return tmp_path / "x.kms"


def _writers(key: str, target: str) -> list[list[str]]:
    """Commands that write `target`, each run with and without -f by the tests."""
    return [
        ["decrypt", "-o", target, "x.kms"],
        ["encrypt", "-k", key, "-o", target, "x"],
        ["random", "--bytes", "64", "-o", target],
        ["datakey", "generate", "-k", key, "--plaintext-out", target],
    ]


def test_a_device_is_written_to_never_replaced(
    message: Path, key: str, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    mount = tmp_path / "dev"
    with private_tmpfs(mount, "1m") as fs:
        # A null device, on a tmpfs that only this private mount namespace sees.
        os.mknod(fs.view("null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.chmod(fs.view("null"), 0o666)  # noqa: S103 - as /dev/null is
        for args in _writers(key, f"{mount}/null"):
            for force in ([], ["-f"]):
                done = fs.run([KMSCLI, *args, *force], env=kmscli_env, cwd=tmp_path)
                assert done.returncode == 0, (args, force, done.stderr)
                info = os.lstat(fs.view("null"))
                assert stat.S_ISCHR(info.st_mode) and info.st_rdev == os.makedev(1, 3)
                assert stat.S_IMODE(info.st_mode) == 0o666, "a device is never chmod-ed"
                assert fs.listing() == ["null"]


@contextmanager
def _drained(fifo: Path) -> Iterator[list[bytes]]:
    """A reader that takes everything written into `fifo` (into the yielded list)."""
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield received
    finally:
        reader.join(timeout=30)
        if reader.is_alive() and stat.S_ISFIFO(os.lstat(fifo).st_mode):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))  # let the reader go
            reader.join(timeout=5)


@pytest.mark.parametrize("force", [False, True])
def test_a_fifo_is_written_to_never_replaced(
    run: Runner, message: Path, key: str, tmp_path: Path, force: bool
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in _writers(key, "fifo"):
        with _drained(fifo) as received:
            done = run(*args, *(["-f"] if force else []))
            assert done.status == 0, (args, done.err)
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
        assert len(received) == 1
        if args[0] == "decrypt":
            assert received[0] == PLAINTEXT
        elif args[0] == "encrypt":
            assert received[0][:1] == b"\x02"
        else:
            assert len(received[0]) in (32, 64)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_terminal_is_written_to(run: Runner, message: Path, tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        tty.setraw(slave)
        name = os.ttyname(slave)
        for force in ([], ["-f"]):
            done = run("decrypt", "-o", name, "x.kms", *force)
            assert done.status == 0, done.err
            received = b""
            while select.select([master], [], [], 2)[0]:
                received += os.read(master, 65536)
                if len(received) >= len(PLAINTEXT):
                    break
            assert received == PLAINTEXT
            assert stat.S_ISCHR(os.stat(name).st_mode)
    finally:
        os.close(master)
        os.close(slave)


def test_a_socket_is_refused(run: Runner, message: Path, tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_UNIX)
    try:
        listener.bind(str(tmp_path / "sock"))
        for force in ([], ["-f"]):
            done = run("decrypt", "-o", "sock", "x.kms", *force)
            assert done.status == 2, done.err
            assert "socket" in done.err
            assert stat.S_ISSOCK(os.lstat(tmp_path / "sock").st_mode)
    finally:
        listener.close()


def test_a_symbolic_link_is_followed_and_kept(
    run: Runner, message: Path, key: str, tmp_path: Path
) -> None:
    (tmp_path / "real").write_bytes(b"old contents")
    (tmp_path / "sub").mkdir()
    os.symlink("../real", tmp_path / "sub" / "link")
    refused = run("decrypt", "-o", "sub/link", "x.kms")
    assert refused.status == 4 and (tmp_path / "real").read_bytes() == b"old contents"
    done = run("decrypt", "-f", "-o", "sub/link", "x.kms")
    assert done.status == 0, done.err
    assert os.readlink(tmp_path / "sub" / "link") == "../real"
    assert (tmp_path / "real").read_bytes() == PLAINTEXT
    assert sorted(os.listdir(tmp_path / "sub")) == ["link"]
    assert run("encrypt", "-f", "-k", key, "-o", "sub/link", "x").status == 0
    assert os.path.islink(tmp_path / "sub" / "link")
    assert run("decrypt", "-o", "-", "real").stdout == PLAINTEXT


def test_a_dangling_symbolic_link_is_refused(run: Runner, message: Path, tmp_path: Path) -> None:
    os.symlink("nowhere/plain", tmp_path / "dangling")
    (tmp_path / "nowhere").mkdir()
    for force in ([], ["-f"]):
        done = run("decrypt", "-o", "dangling", "x.kms", *force)
        assert done.status == 10, done.err
        assert "symbolic link" in done.err
        assert os.readlink(tmp_path / "dangling") == "nowhere/plain"
        assert os.listdir(tmp_path / "nowhere") == []


def _run_with_umask(
    umask: int, args: list[str], env: dict[str, str], cwd: Path, input: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [KMSCLI, *args],
        input=input,
        env=env,
        cwd=cwd,
        capture_output=True,
        check=False,
        preexec_fn=lambda: os.umask(umask),
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize(
    ("input_mode", "umask", "expected"),
    [
        (0o6777, 0o022, 0o755),  # setuid and setgid never copied
        (0o1644, 0o022, 0o644),  # nor sticky
        (0o644, 0o077, 0o600),
        (0o664, 0o002, 0o664),
        (0o666, 0o022, 0o644),
        (0o6750, 0o002, 0o750),
    ],
    ids=lambda bits: f"{bits:04o}",
)
def test_output_mode_is_the_input_s_bits_minus_the_umask(
    message: Path,
    key: str,
    tmp_path: Path,
    kmscli_env: dict[str, str],
    input_mode: int,
    umask: int,
    expected: int,
) -> None:
    os.chmod(tmp_path / "x", input_mode)
    os.chmod(message, input_mode)
    for args, output in (
        (["decrypt", "-o", "plain", "x.kms"], "plain"),
        (["encrypt", "-k", key, "-o", "cipher", "x"], "cipher"),
        (["encrypt", "--direct", "-k", key, "-o", "blob", "x"], "blob"),
    ):
        done = _run_with_umask(umask, args, kmscli_env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert _mode(tmp_path / output) == expected, (args, oct(_mode(tmp_path / output)))


@pytest.mark.parametrize("umask", [0o077, 0o022, 0o002], ids=lambda bits: f"umask{bits:03o}")
def test_new_files_from_stdin_or_without_an_input_honour_the_umask(
    key: str, tmp_path: Path, kmscli_env: dict[str, str], umask: int
) -> None:
    sign_key = (
        subprocess.run(
            [KMSCLI, "key", "create", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY"],
            env=kmscli_env,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    cases = [
        (["encrypt", "-k", key, "-o", "from-stdin", "-"], "from-stdin", 0o666),
        (["sign", "-", "-k", sign_key, "-o", "sig"], "sig", 0o644),
        (["key", "public-key", sign_key, "-o", "pub"], "pub", 0o644),
        (["random", "--bytes", "16", "-o", "random"], "random", 0o600),
    ]
    for args, output, bits in cases:
        done = _run_with_umask(umask, args, kmscli_env, tmp_path, input=b"data")
        assert done.returncode == 0, done.stderr
        assert _mode(tmp_path / output) == bits & ~umask, (args, oct(_mode(tmp_path / output)))
