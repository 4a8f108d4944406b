"""A FIFO, a directory or a huge file planted in a keyring is refused at once (exit 9), never a
hang or an unbounded read (issue 13: hostile input costs little)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.keyring_files import record_file


def _keyring(run: Runner, env: dict[str, str]) -> tuple[Path, str]:
    key = run("key", "create", "--description", "planted").out.strip()
    assert key
    return Path(env["KMSCLI_HOME"]), key


def _plant_fifo(path: Path) -> None:
    if path.is_dir():
        path.rename(path.with_name(path.name + ".moved"))
    else:
        path.unlink(missing_ok=True)
    os.mkfifo(path, 0o600)


@pytest.mark.parametrize(
    "where", ["record", "header", "journal", "audit-log", "audit-head", "lock"]
)
def test_a_fifo_in_the_keyring_is_refused_at_once(
    run: Runner, kmscli_env: dict[str, str], where: str
) -> None:
    home, key = _keyring(run, kmscli_env)
    path = {
        "record": record_file(kmscli_env, "keys", f"us-east-1/{key}"),
        "header": home / "header",
        "journal": home / "journal",
        "audit-log": home / "audit" / "log",
        "audit-head": home / "audit" / "head",
        "lock": home / "lock",
    }[where]
    _plant_fifo(path)
    # Each command reads the planted file: it must answer at once (the timeout is the test).
    for args in (("key", "describe", key), ("keyring", "verify")):
        result = run(*args, timeout=20)
        assert result.status == 9, (args, result.err)
        assert "not a regular file" in result.out + result.err, (args, result.out, result.err)


def test_a_huge_planted_journal_is_refused_before_it_is_read(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    home, key = _keyring(run, kmscli_env)
    journal = home / "journal"
    with journal.open("wb") as sparse:
        sparse.truncate(1 << 40)  # a terabyte of nothing: reading it would never end
    journal.chmod(0o600)
    result = run("key", "describe", key, timeout=20)
    assert result.status == 9, result.err
    assert "too large" in result.err
