"""Damaged messages on slow pipes, Ctrl-C and closed or stalled outputs: the documented exit
status (7, 130, 141) and never "Fatal Python error" (a worker thread blocked in a buffered read or
write of stdin/stdout when the interpreter exits) nor a traceback.

Each case runs a few times: the failure it guards against depends on where the threads are.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner

MiB = 1024 * 1024
SIZE = 3 * MiB  # about three read-ahead chunks of 4 KiB frames
REPEAT = 3


@pytest.fixture
def message(run: Runner, tmp_path: Path) -> bytes:
    key = run("key", "create").out.strip()
    (tmp_path / "p").write_bytes(os.urandom(SIZE))
    done = run("encrypt", "-k", key, "--frame-size", "4096", "-o", "p.kms", "p")
    assert done.status == 0, done.err
    return (tmp_path / "p.kms").read_bytes()


def _start(
    env: dict[str, str],
    cwd: Path,
    stdout: int | object = subprocess.DEVNULL,
    command: tuple[str, ...] = ("decrypt", "-o", "-"),
) -> subprocess.Popen[bytes]:
    with (cwd / "err").open("wb") as err:
        return subprocess.Popen(
            [KMSCLI, *command],
            stdin=subprocess.PIPE,
            stdout=stdout,  # type: ignore[arg-type]
            stderr=err,
            env=env,
            cwd=cwd,
        )


def _feed(child: subprocess.Popen[bytes], data: bytes) -> None:
    """Write `data` and keep the pipe open (a slow writer), tolerating an early exit."""
    assert child.stdin is not None
    try:
        child.stdin.write(data)
        child.stdin.flush()
    except BrokenPipeError:
        pass


def _finish(child: subprocess.Popen[bytes], cwd: Path, timeout: float = 20) -> tuple[int, str]:
    try:
        status = child.wait(timeout=timeout)
    finally:
        child.kill()
        if child.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()
        child.wait()
    return status, (cwd / "err").read_text()


def _clean(err: str) -> None:
    assert "Fatal Python error" not in err, err
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err


def _wait_for(condition: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("attempt", range(REPEAT))
def test_a_damaged_frame_on_a_slow_pipe_exits_7(
    message: bytes, kmscli_env: dict[str, str], tmp_path: Path, attempt: int
) -> None:
    damaged = bytearray(message)
    damaged[len(message) * 2 // 5 + attempt * 977] ^= 0x01  # in the second read-ahead chunk
    child = _start(kmscli_env, tmp_path)
    _feed(child, bytes(damaged[: len(message) * 7 // 10]))  # then the writer stalls
    status, err = _finish(child, tmp_path)
    _clean(err)
    assert status == 7, err
    assert "damaged" in err


@pytest.mark.parametrize("attempt", range(REPEAT))
def test_ctrl_c_while_waiting_for_a_slow_pipe_exits_130(
    message: bytes, kmscli_env: dict[str, str], tmp_path: Path, attempt: int
) -> None:
    out = tmp_path / "out"
    with out.open("wb") as sink:
        child = _start(kmscli_env, tmp_path, stdout=sink)
        _feed(child, message[: len(message) * 7 // 10])
        _wait_for(lambda: out.stat().st_size > 0)  # mid-stream: frames were released
        time.sleep(0.05 * attempt)
        child.send_signal(signal.SIGINT)
        status, err = _finish(child, tmp_path)
    _clean(err)
    assert status == 130, err


@pytest.mark.parametrize("attempt", range(REPEAT))
def test_ctrl_c_while_stdout_is_stalled_exits_130(
    message: bytes, kmscli_env: dict[str, str], tmp_path: Path, attempt: int
) -> None:
    """Nobody reads stdout: the writer waits on a full pipe when the interrupt comes."""
    read_end, write_end = os.pipe()
    try:
        child = _start(kmscli_env, tmp_path, stdout=write_end)
        os.close(write_end)
        _feed(child, message)
        _wait_for(lambda: len(os.read(read_end, 1)) == 1)  # plaintext is flowing, then stalls
        time.sleep(0.3 + 0.05 * attempt)
        child.send_signal(signal.SIGINT)
        status, err = _finish(child, tmp_path)
    finally:
        os.close(read_end)
    _clean(err)
    assert status == 130, err


@pytest.mark.parametrize("attempt", range(REPEAT))
def test_stdout_closed_mid_decrypt_exits_141(
    message: bytes, kmscli_env: dict[str, str], tmp_path: Path, attempt: int
) -> None:
    read_end, write_end = os.pipe()
    child = _start(kmscli_env, tmp_path, stdout=write_end)
    os.close(write_end)
    try:
        _feed(child, message[: len(message) // 2 + attempt * 4099])
        os.read(read_end, 1)
    finally:
        os.close(read_end)  # the reader goes away mid-stream
    _feed(child, message[len(message) // 2 + attempt * 4099 :])
    status, err = _finish(child, tmp_path)
    _clean(err)
    assert status == 141, err


@pytest.mark.parametrize("attempt", range(REPEAT))
def test_ctrl_c_while_encrypt_waits_for_a_slow_pipe_exits_130(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path, attempt: int
) -> None:
    key = run("key", "create").out.strip()
    out = tmp_path / "out"
    with out.open("wb") as sink:
        child = _start(kmscli_env, tmp_path, stdout=sink, command=("encrypt", "-k", key))
        _feed(child, os.urandom(SIZE))  # a few chunks, then the writer stalls
        _wait_for(lambda: out.stat().st_size > 0)
        time.sleep(0.05 * attempt)
        child.send_signal(signal.SIGINT)
        status, err = _finish(child, tmp_path)
    _clean(err)
    assert status == 130, err
