"""`kmscli encrypt` / `decrypt` with data-key caching (--cache-max-age and its limits).

The keyring's audit trail counts the KMS calls: one GenerateDataKey (or Decrypt) record per data
key the KMS was asked for, so caching shows as fewer records, the limits as more. Everything
written with a cached data key is an ordinary message that any process decrypts without a cache.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kmscli.message.header import parse_header
from tests.conftest import Runner

N = 7


@pytest.fixture
def key(run_inproc: Runner) -> str:
    return run_inproc("key", "create", "--alias", "alias/logs").out.strip()


def _calls(run: Runner, key: str, operation: str) -> int:
    result = run("audit", "--key", key, "--json")
    assert result.status == 0, result.err
    return sum(event["eventName"] == operation for event in json.loads(result.out)["Records"])


def _files(tmp_path: Path, name: str = "logs", size: int = 100, count: int = N) -> list[str]:
    directory = tmp_path / name
    directory.mkdir()
    for number in range(count):
        (directory / f"{number}.log").write_bytes(os.urandom(size))
    return [f"{name}/{number}.log" for number in range(count)]


def _encrypt(run: Runner, key: str, files: list[str], out: Path, *options: str) -> str:
    out.mkdir()
    result = run("encrypt", "-v", "-k", key, "-o", str(out), *options, *files)
    assert result.status == 0, result.err
    return result.err


def _edk(path: Path) -> bytes:
    """The KMS ciphertext of the message's first encrypted data key (inspect shows its length)."""
    with path.open("rb") as message:
        return parse_header(message).encrypted_data_keys[0].ciphertext


def test_encrypting_many_files_asks_once_for_a_data_key(
    run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    files = _files(tmp_path)
    _encrypt(run_inproc, key, files, tmp_path / "plain")
    assert _calls(run_inproc, key, "GenerateDataKey") == N

    other = run_inproc("key", "create").out.strip()
    log = _encrypt(run_inproc, other, files, tmp_path / "cached", "--cache-max-age", "300")
    assert _calls(run_inproc, other, "GenerateDataKey") == 1
    lines = log.splitlines()
    assert [line.endswith("(cached data key)") for line in lines] == [False] + [True] * (N - 1)


def test_max_messages_bounds_the_files_per_data_key(
    run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    files = _files(tmp_path)
    _encrypt(
        run_inproc,
        key,
        files,
        tmp_path / "out",
        "--cache-max-age",
        "300",
        "--cache-max-messages",
        "2",
    )
    assert _calls(run_inproc, key, "GenerateDataKey") == math.ceil(N / 2)
    edks = [_edk(tmp_path / "out" / f"{n}.log.kms") for n in range(N)]
    assert [edks.index(edk) for edk in edks] == [0, 0, 2, 2, 4, 4, 6]


def test_max_bytes_counts_the_plaintext_of_each_file(
    run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    files = _files(tmp_path, size=100)
    options = ("--cache-max-age", "300", "--cache-max-bytes", "250")
    _encrypt(run_inproc, key, files, tmp_path / "out", *options)
    assert _calls(run_inproc, key, "GenerateDataKey") == math.ceil(N / 2)  # 2 files of 100 each


def test_an_expired_entry_is_not_used(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    files = _files(tmp_path)
    _encrypt(run_inproc, key, files, tmp_path / "out", "--cache-max-age", "0.000000001")
    assert _calls(run_inproc, key, "GenerateDataKey") == N


def test_cached_files_decrypt_anywhere_and_decrypting_them_asks_once(
    run: Runner, run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    files = _files(tmp_path)
    _encrypt(run, key, files, tmp_path / "enc", "--cache-max-age", "300")
    encrypted = [f"enc/{n}.log.kms" for n in range(N)]
    headers = [json.loads(run_inproc("inspect", f, "--json").out) for f in encrypted]
    assert len({h["MessageId"] for h in headers}) == N  # one data key, N messages
    assert len({_edk(tmp_path / f) for f in encrypted}) == 1

    (tmp_path / "plain").mkdir()
    result = run("decrypt", "-o", "plain", *encrypted)  # another process, no cache
    assert result.status == 0, result.err
    for number in range(N):
        original = (tmp_path / "logs" / f"{number}.log").read_bytes()
        assert (tmp_path / "plain" / f"{number}.log").read_bytes() == original
    assert _calls(run_inproc, key, "Decrypt") == N

    (tmp_path / "cached").mkdir()
    result = run("decrypt", "-v", "-o", "cached", "--cache-max-age", "300", *encrypted)
    assert result.status == 0, result.err
    assert _calls(run_inproc, key, "Decrypt") == N + 1
    assert result.err.count("(cached data key)") == N - 1
    for number in range(N):
        original = (tmp_path / "logs" / f"{number}.log").read_bytes()
        assert (tmp_path / "cached" / f"{number}.log").read_bytes() == original

    (tmp_path / "pairs").mkdir()
    limited = ("--cache-max-age", "300", "--cache-max-messages", "2")
    assert run_inproc("decrypt", "-o", "pairs", *limited, *encrypted).status == 0
    assert _calls(run_inproc, key, "Decrypt") == N + 1 + math.ceil(N / 2)


def test_decrypting_files_of_distinct_data_keys_gains_nothing(
    run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    files = _files(tmp_path, count=3)
    _encrypt(run_inproc, key, files, tmp_path / "enc")
    (tmp_path / "out").mkdir()
    encrypted = [f"enc/{n}.log.kms" for n in range(3)]
    result = run_inproc("decrypt", "-o", "out", "--cache-max-age", "300", *encrypted)
    assert result.status == 0, result.err
    assert _calls(run_inproc, key, "Decrypt") == 3


def test_a_cached_key_still_honours_minus_k_and_minus_c(
    run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    files = _files(tmp_path, count=2)
    _encrypt(run_inproc, key, files, tmp_path / "enc", "-c", "team=ops", "--cache-max-age", "300")
    other = run_inproc("key", "create").out.strip()
    (tmp_path / "out").mkdir()
    cache = ("--cache-max-age", "300")
    encrypted = ["enc/0.log.kms", "enc/1.log.kms"]
    wrong_key = run_inproc("decrypt", "-o", "out", *cache, "-k", other, *encrypted)
    assert wrong_key.status == 7
    wrong_context = run_inproc("decrypt", "-o", "out", *cache, "-c", "team=dev", *encrypted)
    assert wrong_context.status == 7
    assert not list((tmp_path / "out").iterdir())
    right = run_inproc("decrypt", "-o", "out", *cache, "-k", key, "-c", "team=ops", *encrypted)
    assert right.status == 0, right.err


@contextmanager
def _fifo(path: Path, data: bytes) -> Iterator[None]:
    os.mkfifo(path)

    def feed() -> None:
        with path.open("wb") as sink:
            sink.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        yield
    finally:
        writer.join(timeout=30)


def test_inputs_of_unknown_length_are_never_cached(
    run: Runner, run_inproc: Runner, tmp_path: Path, key: str
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.log").write_bytes(b"a" * 50)
    (tmp_path / "in" / "d.log").write_bytes(b"d" * 50)
    (tmp_path / "out").mkdir()
    with _fifo(tmp_path / "in" / "b.log", b"b" * 50), _fifo(tmp_path / "in" / "c.log", b"c" * 50):
        result = run(
            "encrypt",
            "-v",
            "-k",
            key,
            "--cache-max-age",
            "300",
            "-o",
            "out",
            *(f"in/{name}.log" for name in "abcd"),
        )
    assert result.status == 0, result.err
    # a asks, the pipes b and c (no size known) ask each, d reuses a's data key
    assert _calls(run_inproc, key, "GenerateDataKey") == 3
    assert [line.endswith("(cached data key)") for line in result.err.splitlines()] == [
        False,
        False,
        False,
        True,
    ]
    for name in "abcd":
        decrypted = run_inproc("decrypt", "-o", "-", f"out/{name}.log.kms")
        assert decrypted.stdout == name.encode() * 50

    piped = run("encrypt", "-k", key, "--cache-max-age", "300", "-o", "-", "-", input=b"stdin")
    assert piped.status == 0, piped.err
    assert _calls(run_inproc, key, "GenerateDataKey") == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("encrypt", "--cache-max-messages", "5", "f"), "--cache-max-age"),
        (("encrypt", "--cache-max-bytes", "5", "f"), "--cache-max-age"),
        (("decrypt", "--cache-max-messages", "5", "f.kms"), "--cache-max-age"),
        (("decrypt", "--cache-max-bytes", "0", "f.kms"), "--cache-max-age"),
        (("encrypt", "--cache-max-age", "0", "f"), "greater than 0"),
        (("encrypt", "--cache-max-age", "-1", "f"), "greater than 0"),
        (("encrypt", "--cache-max-age", "nan", "f"), "greater than 0"),
        (("encrypt", "--cache-max-age", "inf", "f"), "greater than 0"),
        (("decrypt", "--cache-max-age", "soon", "f.kms"), "--cache-max-age"),
        (("encrypt", "--cache-max-age", "9", "--cache-max-messages", "0", "f"), "messages"),
        (
            ("encrypt", "--cache-max-age", "9", "--cache-max-messages", "4294967297", "f"),
            "messages",
        ),
        (("encrypt", "--cache-max-age", "9", "--cache-max-bytes", "-1", "f"), "bytes"),
        (("encrypt", "--cache-max-age", "9", "--cache-max-bytes", "1GiB", "f"), "bytes"),
        (("encrypt", "--cache-max-age", "9", "--cache-max-bytes", str(2**63), "f"), "bytes"),
        (
            (
                "encrypt",
                "--cache-max-age",
                "9",
                "--algorithm",
                "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
                "f",
            ),
            "signed suite 0x0578",
        ),
        (("encrypt", "--cache-max-age", "9", "--direct", "f"), "--direct"),
        (
            (
                "decrypt",
                "--cache-max-age",
                "9",
                "--encryption-algorithm",
                "RSAES_OAEP_SHA_256",
                "f",
            ),
            "RSA",
        ),
    ],
)
def test_limits_are_validated_before_any_work(
    run_inproc: Runner, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    assert run_inproc("keyring", "init").status == 0  # so the audit trail below is there
    (tmp_path / "f").write_bytes(b"data")
    (tmp_path / "f.kms").write_bytes(b"\x02")
    result = run_inproc(*args)
    assert result.status == 2, result.err
    assert message in result.err
    assert not (tmp_path / "f.kms.kms").exists()
    audit = json.loads(run_inproc("audit", "--json").out)["Records"]
    assert not [e for e in audit if e["eventName"] in ("GenerateDataKey", "Decrypt", "Encrypt")]


def test_the_options_are_documented_in_the_help(run_inproc: Runner) -> None:
    for command in ("encrypt", "decrypt"):
        text = " ".join(run_inproc(command, "--help").out.split())
        for option in ("--cache-max-age SECONDS", "--cache-max-messages N", "--cache-max-bytes N"):
            assert option in text
        assert "audit trail shows one" in text and "until the entry expires" in text
    encrypt_help = run_inproc("encrypt", "--help").out
    assert "kmscli encrypt -k alias/backups --cache-max-age" in encrypt_help
