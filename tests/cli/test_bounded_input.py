"""Whole inputs are read with a bound, and settings files never block.

Every FILE|- that a command reads whole (policies, blobs, import material and tokens,
signatures, MACs, public keys) is cut off at its documented limit plus one byte: an endless
input (/dev/zero, or stdin fed from it) is refused at once with exit 2 and a message naming the
limit. The root key file must be a regular file: a FIFO nobody writes to, or a directory, is
refused (exit 9) without waiting. The passphrase file never blocks either, and a device there
is refused.

The commands run as real processes with a 1 GiB address-space limit, so that an unbounded read
ends (in a MemoryError) instead of taking the machine's memory, and with a timeout.
"""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Result, Runner

ZERO = "/dev/zero"
MEMORY_LIMIT = 1 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_limited(
    env: Mapping[str, str], *args: str, stdin: str | None = None, timeout: float = 20
) -> Result:
    with open(stdin or os.devnull, "rb") as source:
        done = subprocess.run(
            [KMSCLI, *args],
            stdin=source,
            capture_output=True,
            env=dict(env),
            timeout=timeout,
            preexec_fn=_limited,
            check=False,
        )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def key(run: Runner) -> str:
    created = run("key", "create")
    assert created.status == 0, created.err
    return created.out.strip()


ENDLESS_FILE_ARGUMENTS = [
    (("policy", "validate", ZERO), "32768 bytes"),
    (("policy", "validate", "--identity", ZERO), "131072 bytes"),
    (("policy", "put", "{key}", ZERO), "32768 bytes"),
    (("key", "create", "--policy", ZERO), "32768 bytes"),
    (("key", "replicate", "{key}", "--replica-region", "eu-west-1", "--policy", ZERO), "32768"),
    (("policy", "identity", "put", "arn:aws:iam::111122223333:user/a", "p", ZERO), "131072"),
    (("datakey", "decrypt", ZERO), "6144 bytes"),
    (("key", "import-material", "{key}", "--material", ZERO, "--token", ZERO, "--no-expiry"), ""),
    (("verify", "{file}", "-k", "{key}", "--signature", ZERO), "12288 bytes"),
    (("mac", "verify", "{file}", "-k", "{key}", "--mac", ZERO), "12288 bytes"),
    (("mac", "generate", ZERO, "-k", "{key}"), "4096 bytes"),
    (("key", "derive-shared-secret", "{key}", "--public-key", ZERO), "16384 bytes"),
]


@pytest.mark.parametrize(
    ("args", "limit"),
    ENDLESS_FILE_ARGUMENTS,
    ids=[" ".join(a[:2]) for a, _ in ENDLESS_FILE_ARGUMENTS],
)
def test_an_endless_file_is_cut_off_at_the_limit(
    args: tuple[str, ...], limit: str, key: str, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "message").write_bytes(b"message")
    argv = [a.format(key=key, file=tmp_path / "message") for a in args]
    result = run_limited(kmscli_env, *argv)
    assert result.status == 2, result.err
    assert "larger than the limit of" in result.err and limit in result.err, result.err


@pytest.mark.parametrize(
    "args",
    [
        ("policy", "validate", "-"),
        ("policy", "put", "{key}", "-"),
        ("datakey", "decrypt", "-"),
        ("mac", "generate", "-", "-k", "{key}"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_an_endless_stdin_is_cut_off_at_the_limit(
    args: tuple[str, ...], key: str, kmscli_env: dict[str, str]
) -> None:
    result = run_limited(kmscli_env, *(a.format(key=key) for a in args), stdin=ZERO)
    assert result.status == 2, result.err
    assert "larger than the limit of" in result.err


def test_a_policy_just_under_the_limit_is_read_whole(run: Runner, key: str, tmp_path: Path) -> None:
    account = run("keyring", "status", "--json").out.split('"AccountId": "')[1][:12]
    policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":'
        f'"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}'
    )
    path = tmp_path / "p.json"
    path.write_text(policy + " " * (32768 - len(policy)))
    assert run("policy", "put", key, str(path)).status == 0
    path.write_text(policy + " " * (32769 - len(policy)))
    too_big = run("policy", "put", key, str(path))
    assert too_big.status == 2 and "LimitExceededException" in too_big.err


def test_a_fifo_as_root_key_file_is_refused_without_blocking(
    run: Runner, key: str, tmp_path: Path
) -> None:
    fifo = tmp_path / "root.fifo"
    os.mkfifo(fifo)
    result = run("key", "list", env={"KMSCLI_ROOT_KEY_FILE": str(fifo)}, timeout=10)
    assert result.status == 9, result.err
    assert "not a regular file" in result.err


def test_a_directory_as_root_key_file_is_refused(run: Runner, key: str, tmp_path: Path) -> None:
    result = run("key", "list", env={"KMSCLI_ROOT_KEY_FILE": str(tmp_path)}, timeout=10)
    assert result.status == 9, result.err
    assert "not a regular file" in result.err


def test_a_fifo_at_a_new_keyrings_root_key_path_is_refused(run: Runner, tmp_path: Path) -> None:
    fifo = tmp_path / "new.fifo"
    os.mkfifo(fifo)
    result = run("key", "create", env={"KMSCLI_ROOT_KEY_FILE": str(fifo)}, timeout=10)
    assert result.status == 9, result.err
    home = tmp_path / "keyring"
    assert not home.exists() or {p.name for p in home.iterdir()} <= {"lock"}


def test_a_passphrase_fifo_nobody_writes_to_does_not_block(run: Runner, tmp_path: Path) -> None:
    fifo = tmp_path / "pass.fifo"
    os.mkfifo(fifo)
    result = run(
        "keyring", "init", "--passphrase", env={"KMSCLI_PASSPHRASE_FILE": str(fifo)}, timeout=10
    )
    assert result.status == 2, result.err
    assert "passphrase is empty" in result.err


def test_a_passphrase_from_a_pipe_still_works(kmscli_env: dict[str, str]) -> None:
    script = f'KMSCLI_PASSPHRASE_FILE=<(printf "s3cret\\n") "{KMSCLI}" keyring init --passphrase'
    env = {k: v for k, v in kmscli_env.items() if k != "KMSCLI_ROOT_KEY_FILE"}
    made = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, timeout=30, check=False
    )
    assert made.returncode == 0, made.stderr
    listed = subprocess.run(
        [KMSCLI, "key", "list"],
        env={**env, "KMSCLI_PASSPHRASE": "s3cret"},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize("where", [ZERO, "directory"])
def test_a_device_or_directory_as_passphrase_file_is_refused(
    run: Runner, tmp_path: Path, where: str
) -> None:
    path = str(tmp_path) if where == "directory" else where
    result = run(
        "keyring", "init", "--passphrase", env={"KMSCLI_PASSPHRASE_FILE": path}, timeout=10
    )
    assert result.status == 9, result.err
    assert "not a regular file" in result.err


def test_a_device_as_configuration_file_is_refused(run: Runner) -> None:
    result = run("key", "list", env={"KMSCLI_CONFIG": ZERO}, timeout=10)
    assert result.status == 2, result.err
    assert "not a regular file" in result.err


def test_a_huge_configuration_file_is_refused(run: Runner, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("# " + "x" * (2 << 20) + "\n")
    result = run("key", "list", env={"KMSCLI_CONFIG": str(config)}, timeout=10)
    assert result.status == 2, result.err
    assert "larger than the limit of" in result.err
