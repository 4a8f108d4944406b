"""Key deletion: the waiting period, its refusals, and destruction beyond recovery after it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import KMSCLI, Runner
from tests.helpers import json_of, ok
from tests.keyring_files import naming_of, record_file

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(days: float = 0, **delta: float) -> datetime:
    return T0 + timedelta(days=days, **delta)


def stamp(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat(timespec="microseconds")


def _keyring_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def test_schedule_needs_yes_without_a_terminal(run_inproc: Runner) -> None:
    key = ok(run_inproc("key", "create")).out.strip()
    refused = run_inproc("key", "schedule-deletion", key)
    assert refused.status == 2 and "needs --yes when stdin is not a terminal" in refused.err
    assert json_of(run_inproc("key", "describe", key, "--json"))["KeyMetadata"]["KeyState"] == (
        "Enabled"
    )


def test_window_limits_and_default(run_inproc: Runner) -> None:
    key = ok(run_inproc("key", "create", now=at())).out.strip()
    for days, bound in (("6", "greater than or equal to 7"), ("31", "less than or equal to 30")):
        refused = run_inproc("key", "schedule-deletion", key, "--days", days, "--yes")
        assert refused.status == 2
        assert (
            f"ValidationException: 1 validation error detected: Value '{days}' at "
            f"'pendingWindowInDays' failed to satisfy constraint: Member must have value {bound}"
        ) in refused.err
    printed = ok(run_inproc("key", "schedule-deletion", key, "--yes", now=at()))
    assert printed.out == stamp(30) + "\n"
    meta = json_of(run_inproc("key", "describe", key, "--json", now=at(1)))["KeyMetadata"]
    assert meta["DeletionDate"] == stamp(30) and meta["PendingDeletionWindowInDays"] == 30
    ok(run_inproc("key", "cancel-deletion", key, now=at(2)))
    response = json_of(
        run_inproc("key", "schedule-deletion", key, "--days", "7", "--yes", "--json")
    )
    assert set(response) == {"KeyId", "DeletionDate", "KeyState", "PendingWindowInDays"}
    assert response["PendingWindowInDays"] == 7 and response["KeyState"] == "PendingDeletion"


def test_destruction_after_the_window_leaves_nothing(
    run_inproc: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    home = Path(kmscli_env["KMSCLI_HOME"])
    created = json_of(run_inproc("key", "create", "--alias", "alias/doomed", "--json", now=at()))
    meta = created["KeyMetadata"]
    key, arn = meta["KeyId"], meta["Arn"]
    keep = ok(run_inproc("key", "create", "--alias", "alias/kept", now=at())).out.strip()
    ok(run_inproc("key", "rotate", key, now=at()))
    (tmp_path / "p").write_bytes(b"lost forever")
    ok(run_inproc("encrypt", "-k", key, "-k", keep, "p", now=at()))
    ok(run_inproc("encrypt", "--direct", "-k", key, "p", "-o", "p.blob", now=at()))
    keys_dir = naming_of(kmscli_env).kind_dir("keys")
    key_files = list(keys_dir.iterdir())
    assert len(key_files) == 2
    doomed = [f for f in key_files if f == record_file(kmscli_env, "keys", f"us-east-1/{key}")]
    assert len(doomed) == 1
    sealed_before = doomed[0].read_bytes()

    ok(run_inproc("key", "schedule-deletion", key, "--days", "7", "--yes", now=at(1)))
    refused = run_inproc("decrypt", "-k", key, "-o", "-", "p.kms", now=at(8, seconds=-1))
    assert refused.status == 6 and "KMSInvalidStateException" in refused.err
    assert f"{arn} is pending deletion." in refused.err

    # The window has passed: the next command destroys the key.
    gone = run_inproc("key", "describe", key, now=at(8))
    assert gone.status == 3
    assert f"NotFoundException: Key '{arn}' does not exist" in gone.err
    assert not doomed[0].exists()
    assert [f.name for f in keys_dir.iterdir()] == [f.name for f in key_files if f not in doomed]
    assert sealed_before not in _keyring_bytes(home)
    aliases = json_of(run_inproc("alias", "list", "--json", now=at(8)))["Aliases"]
    assert {a["AliasName"] for a in aliases} >= {"alias/kept"}
    assert "alias/doomed" not in {a["AliasName"] for a in aliases}
    blob = run_inproc("decrypt", "-o", "-", "p.blob", now=at(9))
    assert blob.status == 5 and "AccessDeniedException" in blob.err
    for args in (("key", "cancel-deletion", key), ("key", "enable", key)):
        assert run_inproc(*args, now=at(9)).status == 3
    # The message still decrypts with the other key it was wrapped under.
    ok(run_inproc("decrypt", "-o", "out", "p.kms", now=at(9)))
    assert (tmp_path / "out").read_bytes() == b"lost forever"


def test_cancel_before_the_window_keeps_everything(run_inproc: Runner, tmp_path: Path) -> None:
    key = ok(run_inproc("key", "create", "--alias", "alias/saved", now=at())).out.strip()
    (tmp_path / "p").write_bytes(b"saved")
    ok(run_inproc("encrypt", "-k", "alias/saved", "p", now=at()))
    ok(run_inproc("key", "schedule-deletion", key, "--days", "7", "--yes", now=at(1)))
    ok(run_inproc("key", "cancel-deletion", key, now=at(7)))
    ok(run_inproc("key", "enable", key, now=at(30)))
    ok(run_inproc("decrypt", "-o", "out", "p.kms", now=at(30)))
    assert (tmp_path / "out").read_bytes() == b"saved"


def test_schedule_asks_on_a_terminal(kmscli_env: dict[str, str], tmp_path: Path) -> None:
    assert KMSCLI is not None
    key = (
        subprocess.run(
            [KMSCLI, "key", "create"], env=kmscli_env, capture_output=True, check=True, cwd=tmp_path
        )
        .stdout.decode()
        .strip()
    )

    def answer(text: bytes) -> tuple[int, bytes]:
        leader, follower = pty.openpty()
        process = subprocess.Popen(
            [KMSCLI, "key", "schedule-deletion", key, "--days", "7"],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=follower,
            env=kmscli_env,
            cwd=tmp_path,
        )
        os.close(follower)
        seen = b""
        while b"[y/N]" not in seen:
            ready, _, _ = select.select([leader], [], [], 30)
            assert ready, seen
            seen += os.read(leader, 1024)
        os.write(leader, text)
        out, _ = process.communicate(timeout=30)
        os.close(leader)
        assert b"delete key" in seen
        return process.returncode, out

    status, out = answer(b"n\n")
    assert status == 2 and out == b""
    status, out = answer(b"y\n")
    assert status == 0 and out.strip()
