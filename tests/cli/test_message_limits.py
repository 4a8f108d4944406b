"""Frame lengths a header declares cannot drive decrypt's memory: peak RSS of the real process.

A header with a valid tag is easy to make for anyone allowed GenerateDataKey: the tests below do
exactly that (a data key from the test keyring, a genuine v2 header declaring 2**31-1 or 2**32-1
byte frames) and follow it with hundreds of MiB of zeros, then measure the peak RSS of the
`kmscli decrypt` process (getrusage of a helper's only child).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kmscli.crypto.framing import compute_header_tag, derive_committing_keys
from kmscli.message.context import serialize_encryption_context
from kmscli.message.header import HEADER_IV_V2, EncryptedDataKey, serialize_header_body_v2
from kmscli.message.suites import DEFAULT_SUITE
from tests.conftest import KMSCLI, Runner

MiB = 1024 * 1024
CONTEXT = {"purpose": "limits"}
PAYLOAD = 256 * MiB  # what follows the hostile header: more than the whole RSS bound
RSS_BOUND = 100 * MiB

# Runs one command as its only child and reports the child's peak RSS. In "pipe" mode it feeds
# the child's stdin from INPUT followed by EXTRA zero bytes (until the child stops reading).
_MEASURE = r"""
import json, resource, subprocess, sys
mode, source, extra, errors, *command = sys.argv[1:]
with open(errors, "wb") as err:
    if mode == "file":
        status = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err).returncode
    else:
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                 stderr=err)
        try:
            with open(source, "rb") as data:
                child.stdin.write(data.read())
            zeros, left = bytes(1 << 20), int(extra)
            while left > 0:
                child.stdin.write(zeros[:left])
                left -= len(zeros)
            child.stdin.close()
        except BrokenPipeError:
            pass
        status = child.wait()
print(json.dumps({"status": status,
                  "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))
"""


def measure(
    env: dict[str, str], cwd: Path, *args: str, pipe_from: Path | None = None, extra: int = 0
) -> tuple[int, int, str]:
    """(exit status, peak RSS in bytes, stderr) of `kmscli ARGS`, run as a fresh process."""
    errors = cwd / "measure.err"
    mode = "pipe" if pipe_from is not None else "file"
    helper = [sys.executable, "-c", _MEASURE, mode, str(pipe_from or ""), str(extra), str(errors)]
    done = subprocess.run(
        [*helper, KMSCLI, *args],
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)
    return report["status"], report["maxrss"], errors.read_text()


def hostile_header(run: Runner, frame_length: int) -> bytes:
    """A genuine v2 header (valid tag, a real data key of the keyring) declaring `frame_length`."""
    key = run("key", "create").out.strip()
    generated = json.loads(
        run("datakey", "generate", "-k", key, "-c", "purpose=limits", "--json").out
    )
    data_key = base64.b64decode(generated["Plaintext"])
    edk = EncryptedDataKey(
        "aws-kms", generated["KeyId"].encode(), base64.b64decode(generated["CiphertextBlob"])
    )
    message_id = os.urandom(32)
    derived, commitment = derive_committing_keys(
        data_key, suite_id=DEFAULT_SUITE.id, message_id=message_id
    )
    body = serialize_header_body_v2(
        suite=DEFAULT_SUITE,
        message_id=message_id,
        encryption_context_bytes=serialize_encryption_context(CONTEXT),
        encrypted_data_keys=[edk],
        frame_length=frame_length,
        commitment_key=commitment,
    )
    return body + compute_header_tag(derived, HEADER_IV_V2, body)


def _sparse(path: Path, head: bytes, size: int) -> Path:
    with path.open("wb") as handle:
        handle.write(head)
        handle.truncate(len(head) + size)  # zeros that cost no disk
    return path


@pytest.mark.parametrize("frame_length", [2**31 - 1, 2**32 - 1])
@pytest.mark.parametrize("through", ["file", "pipe"])
def test_a_declared_frame_length_does_not_drive_memory(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path, frame_length: int, through: str
) -> None:
    header = hostile_header(run, frame_length)
    if through == "file":
        _sparse(tmp_path / "hostile.kms", header, PAYLOAD)
        status, rss, err = measure(kmscli_env, tmp_path, "decrypt", "-o", "out", "hostile.kms")
    else:
        (tmp_path / "hostile.kms").write_bytes(header)
        status, rss, err = measure(
            kmscli_env,
            tmp_path,
            "decrypt",
            "-o",
            "out",
            "-",
            pipe_from=tmp_path / "hostile.kms",
            extra=PAYLOAD,
        )
    assert rss < RSS_BOUND, f"peak RSS {rss / MiB:.0f} MiB"
    assert status == 8, err
    assert "Traceback" not in err
    if frame_length < 2**31:  # allowed by the format: only our limit stands in the way
        assert f"frame length of {frame_length} bytes exceeds the limit" in err
        assert (
            f"hint: if you trust this message, allow it with --max-frame-length {frame_length}"
            in err
        )
    assert not (tmp_path / "out").exists()
    assert not [p for p in tmp_path.iterdir() if "kmscli-tmp" in p.name]


def test_the_hostile_header_is_genuine_and_a_raised_limit_still_costs_what_is_read(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    """With the limit raised to the declared 2**31-1 the header authenticates (exit 7 for the
    truncated frame, not 8), and memory follows the bytes actually there, not the declaration."""
    _sparse(tmp_path / "hostile.kms", hostile_header(run, 2**31 - 1), 8 * MiB)
    status, rss, err = measure(
        kmscli_env,
        tmp_path,
        "decrypt",
        "--max-frame-length",
        str(2**31 - 1),
        "-o",
        "out",
        "hostile.kms",
    )
    assert status == 7, err
    assert "truncated" in err
    assert rss < RSS_BOUND, f"peak RSS {rss / MiB:.0f} MiB"


@pytest.mark.slow
def test_a_legitimate_large_frame_needs_the_option(run: Runner, tmp_path: Path) -> None:
    key = run("key", "create").out.strip()
    plaintext = os.urandom(5 * MiB + 123)
    (tmp_path / "p").write_bytes(plaintext)
    frame = 8 * MiB
    assert run("encrypt", "-k", key, "--frame-size", str(frame), "-o", "p.kms", "p").status == 0
    refused = run("decrypt", "-o", "out", "p.kms")
    assert refused.status == 8, refused.err
    assert f"--max-frame-length {frame}" in refused.err
    assert not (tmp_path / "out").exists()
    piped = run("decrypt", "-o", "-", input=(tmp_path / "p.kms").read_bytes())
    assert piped.status == 8 and piped.stdout == b""
    allowed = run("decrypt", "--max-frame-length", str(frame), "-o", "out", "p.kms")
    assert allowed.status == 0, allowed.err
    assert (tmp_path / "out").read_bytes() == plaintext
    # reencrypt decrypts too (the default, full re-encryption): the same limit and option
    refused = run("reencrypt", "-k", key, "-o", "again.kms", "p.kms")
    assert refused.status == 8 and "--max-frame-length" in refused.err
    again = run("reencrypt", "-k", key, "--max-frame-length", str(frame), "-o", "a.kms", "p.kms")
    assert again.status == 0, again.err
    # a re-wrap holds no frame: no limit applies
    assert run("reencrypt", "-k", key, "--header-only", "-o", "h.kms", "p.kms").status == 0


def test_the_cli_default_is_the_decoders() -> None:
    from kmscli.cli import jobs
    from kmscli.message import decoder

    assert jobs.DEFAULT_MAX_FRAME_LENGTH == decoder.DEFAULT_MAX_FRAME_LENGTH


@pytest.mark.slow
@pytest.mark.parametrize(
    "algorithm",
    ["AES_256_GCM_HKDF_SHA512_COMMIT_KEY", "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"],
)
def test_large_frames_cost_two_frames_plus_a_constant(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path, algorithm: str
) -> None:
    """Allowed large frames: peak RSS within two frames of a tiny message's (the constant)."""
    key = run("key", "create").out.strip()
    frame = 16 * MiB
    plaintext = os.urandom(2 * frame + 5 * MiB + 7)  # two regular frames and a final one
    (tmp_path / "p").write_bytes(plaintext)
    (tmp_path / "tiny").write_bytes(b"tiny")
    for name, size in (("p", frame), ("tiny", 4096)):
        done = run("encrypt", "-k", key, "--algorithm", algorithm, "--frame-size", str(size), name)
        assert done.status == 0, done.err
    option = ("--max-frame-length", str(frame))
    status, constant, err = measure(kmscli_env, tmp_path, "decrypt", *option, "-o", "-", "tiny.kms")
    assert status == 0, err
    for target in ("out", "-"):
        status, rss, err = measure(kmscli_env, tmp_path, "decrypt", *option, "-o", target, "p.kms")
        assert status == 0, err
        extra = rss - constant
        assert extra < 2 * frame + 6 * MiB, f"{extra / MiB:.0f} MiB above the constant"
    assert (tmp_path / "out").read_bytes() == plaintext


def test_the_number_of_data_keys_is_bounded_on_inspect_and_decrypt(
    run: Runner, tmp_path: Path
) -> None:
    """inspect reads no frame, but a header of 65535 data keys of 3 x 65535 bytes each would
    be 12 GiB: it has decrypt's limit on their number (64 by default), with the same option."""
    keys = [EncryptedDataKey("aws-kms", b"arn:%d" % n, os.urandom(64)) for n in range(65)]
    body = serialize_header_body_v2(
        suite=DEFAULT_SUITE,
        message_id=os.urandom(32),
        encryption_context_bytes=b"",
        encrypted_data_keys=keys,
        frame_length=4096,
        commitment_key=os.urandom(32),
    )
    (tmp_path / "many.kms").write_bytes(body + os.urandom(16))
    for command in ("inspect", "decrypt"):
        refused = run(command, "many.kms")
        assert refused.status == 8, refused.err
        assert "65 encrypted data keys; the limit is 64" in refused.err
        assert "--max-encrypted-data-keys 65" in refused.err
    shown = run("inspect", "--max-encrypted-data-keys", "65", "many.kms", "--json")
    assert shown.status == 0, shown.err
    assert len(json.loads(shown.out)["EncryptedDataKeys"]) == 65
