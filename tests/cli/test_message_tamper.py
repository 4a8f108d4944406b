"""A damaged message through the CLI: exit 7 (8 for a broken header), no output, input untouched."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from tests.conftest import Runner

FRAME = 256
HEADER_STATUSES = {7, 8}


def _setup(run: Runner, tmp_path: Path, size: int = FRAME * 3 + 17) -> tuple[bytes, bytes]:
    key = run("key", "create", "--alias", "alias/t").out.strip()
    plaintext = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    (tmp_path / "p").write_bytes(plaintext)
    encrypted = run(
        "encrypt", "-k", key, "-c", "purpose=test", "--frame-size", str(FRAME), "-o", "m.kms", "p"
    )
    assert encrypted.status == 0, encrypted.err
    return plaintext, (tmp_path / "m.kms").read_bytes()


def _header_length(message: bytes, run: Runner) -> int:
    import json

    return int(json.loads(run("inspect", "m.kms", "--json").out)["HeaderLength"])


def _check_refused(
    run: Runner, tmp_path: Path, damaged: bytes, statuses: set[int], label: str
) -> None:
    (tmp_path / "bad.kms").write_bytes(damaged)
    digest = hashlib.sha256(damaged).digest()
    result = run("decrypt", "-c", "purpose=test", "-o", "out", "bad.kms")
    assert result.status in statuses, (label, result.status, result.err)
    assert not (tmp_path / "out").exists(), label
    assert not [p for p in tmp_path.iterdir() if "kmscli-tmp" in p.name], label
    assert hashlib.sha256((tmp_path / "bad.kms").read_bytes()).digest() == digest


def test_every_header_byte(run_inproc: Runner, tmp_path: Path) -> None:
    _plaintext, message = _setup(run_inproc, tmp_path)
    for index in range(_header_length(message, run_inproc)):
        damaged = bytearray(message)
        damaged[index] ^= 0x01
        _check_refused(run_inproc, tmp_path, bytes(damaged), HEADER_STATUSES, f"byte {index}")


def test_a_sample_of_body_bytes(run_inproc: Runner, tmp_path: Path) -> None:
    _plaintext, message = _setup(run_inproc, tmp_path)
    start = _header_length(message, run_inproc)
    for index in range(start, len(message), 7):
        damaged = bytearray(message)
        damaged[index] ^= 0x80
        _check_refused(run_inproc, tmp_path, bytes(damaged), {7}, f"byte {index}")


def test_truncation_everywhere_and_trailing_bytes(run_inproc: Runner, tmp_path: Path) -> None:
    _plaintext, message = _setup(run_inproc, tmp_path)
    header = _header_length(message, run_inproc)
    regular = 4 + 12 + FRAME + 16
    cuts = {header + k * regular for k in range(4)} | {
        header + 5,
        header + regular + 100,
        len(message) - 1,
        len(message) - 16,
    }
    for cut in sorted(cuts):
        _check_refused(run_inproc, tmp_path, message[:cut], {7}, f"cut at {cut}")
    for cut in range(1, header, 9):
        _check_refused(run_inproc, tmp_path, message[:cut], HEADER_STATUSES, f"cut at {cut}")
    _check_refused(run_inproc, tmp_path, message + b"\x00", {7}, "trailing byte")


@pytest.mark.parametrize("change", ["swap", "drop", "duplicate"])
def test_frames_reordered(run_inproc: Runner, tmp_path: Path, change: str) -> None:
    _plaintext, message = _setup(run_inproc, tmp_path)
    header = _header_length(message, run_inproc)
    regular = 4 + 12 + FRAME + 16
    frames = [message[header + k * regular : header + (k + 1) * regular] for k in range(3)]
    assert [struct.unpack(">I", f[:4])[0] for f in frames] == [1, 2, 3]
    tail = message[header + 3 * regular :]
    if change == "swap":
        body = frames[1] + frames[0] + frames[2]
    elif change == "drop":
        body = frames[0] + frames[2]
    else:
        body = frames[0] + frames[1] + frames[1] + frames[2]
    _check_refused(run_inproc, tmp_path, message[:header] + body + tail, {7}, change)


def test_required_context_mismatch_and_real_process(run: Runner, tmp_path: Path) -> None:
    plaintext, message = _setup(run, tmp_path)
    wrong = run("decrypt", "-c", "purpose=other", "-o", "out", "m.kms")
    assert wrong.status == 7 and not (tmp_path / "out").exists()
    damaged = bytearray(message)
    damaged[-3] ^= 1
    _check_refused(run, tmp_path, bytes(damaged), {7}, "last tag byte")
    good = run("decrypt", "-c", "purpose=test", "-o", "out", "m.kms")
    assert good.status == 0 and (tmp_path / "out").read_bytes() == plaintext


def test_to_stdout_the_final_frame_is_held_back(run_inproc: Runner, tmp_path: Path) -> None:
    plaintext, message = _setup(run_inproc, tmp_path)
    (tmp_path / "cut.kms").write_bytes(message[:-1])
    result = run_inproc("decrypt", "-o", "-", "cut.kms")
    assert result.status == 7
    assert plaintext.startswith(result.stdout)
    assert len(result.stdout) <= 3 * FRAME, "the final frame must not be released"
