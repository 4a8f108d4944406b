"""Rotation (kms-behaviour.md §5): schedules moved forward by the tests' clock
(tests/timetravel.py), on-demand rotation, AWS managed keys' yearly rotation, and every
ciphertext decrypting after several rotations."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.helpers import json_of, ok

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(days: float = 0, **delta: float) -> datetime:
    return T0 + timedelta(days=days, **delta)


def stamp(days: float) -> str:
    """A timestamp as kmscli prints it."""
    return (T0 + timedelta(days=days)).isoformat(timespec="microseconds")


def _rotations(run: Runner, key: str, when: datetime, *extra: str) -> list[dict[str, Any]]:
    doc = json_of(run("key", "rotation", "list", key, "--json", *extra, now=when))
    rotations: list[dict[str, Any]] = doc["Rotations"]
    return rotations


def _current(run: Runner, key: str, when: datetime) -> str:
    meta = json_of(run("key", "describe", key, "--json", now=when))["KeyMetadata"]
    return str(meta["CurrentKeyMaterialId"])


@pytest.fixture
def key(run_inproc: Runner) -> str:
    return ok(run_inproc("key", "create", now=at())).out.strip()


def test_enable_status_and_period_limits(run_inproc: Runner, key: str) -> None:
    arn = json_of(run_inproc("key", "describe", key, "--json", now=at()))["KeyMetadata"]["Arn"]
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at()))
    assert status == {"KeyId": arn, "KeyRotationEnabled": False}

    for days, bound in ((89, "greater than or equal to 90"), (2561, "less than or equal to 2560")):
        refused = run_inproc("key", "rotation", "enable", key, "--period-days", str(days))
        assert refused.status == 2
        assert (
            f"ValidationException: 1 validation error detected: Value '{days}' at "
            f"'rotationPeriodInDays' failed to satisfy constraint: Member must have value {bound}"
        ) in refused.err

    ok(run_inproc("key", "rotation", "enable", key, now=at(1)))
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(1)))
    assert status == {
        "KeyId": arn,
        "KeyRotationEnabled": True,
        "RotationPeriodInDays": 365,
        "NextRotationDate": stamp(366),
    }
    # Calling again changes the period; the schedule keeps its start (the enable date).
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at(2)))
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(2)))
    assert status["RotationPeriodInDays"] == 90 and status["NextRotationDate"] == stamp(91)
    assert _rotations(run_inproc, key, at(2)) == []

    ok(run_inproc("key", "rotation", "disable", key, now=at(3)))
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(3)))
    assert status == {"KeyId": arn, "KeyRotationEnabled": False}
    assert _rotations(run_inproc, key, at(1000)) == []  # disabled schedules never rotate


def test_due_rotation_happens_once_with_aws_dates(run_inproc: Runner, key: str) -> None:
    original = _current(run_inproc, key, at())
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    assert _rotations(run_inproc, key, at(90, seconds=-1)) == []

    # Any command that opens the keyring after the due instant rotates the key, once.
    ok(run_inproc("key", "list", now=at(100)))
    ok(run_inproc("key", "list", now=at(100)))
    rotations = _rotations(run_inproc, key, at(100))
    assert len(rotations) == 1
    entry = rotations[0]
    assert entry["RotationDate"] == stamp(90) and entry["RotationType"] == "AUTOMATIC"
    assert entry["KeyMaterialState"] == "CURRENT" and entry["KeyMaterialId"] != original
    assert _current(run_inproc, key, at(100)) == entry["KeyMaterialId"]
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(100)))
    assert status["NextRotationDate"] == stamp(180)

    everything = _rotations(run_inproc, key, at(100), "--include-key-material", "ALL_KEY_MATERIAL")
    assert [(e["KeyMaterialId"], e["KeyMaterialState"]) for e in everything] == [
        (original, "NON_CURRENT"),
        (entry["KeyMaterialId"], "CURRENT"),
    ]
    assert "RotationDate" not in everything[0] and "RotationType" not in everything[0]

    # Skipped periods are caught up, each dated when it fell due.
    rotations = _rotations(run_inproc, key, at(400))
    assert [r["RotationDate"] for r in rotations] == [stamp(90 * n) for n in (1, 2, 3, 4)]
    assert [r["KeyMaterialState"] for r in rotations] == ["NON_CURRENT"] * 3 + ["CURRENT"]


def test_a_disabled_key_does_not_rotate_and_catches_up_when_enabled(
    run_inproc: Runner, key: str
) -> None:
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    ok(run_inproc("key", "disable", key, now=at(10)))
    assert _rotations(run_inproc, key, at(200)) == []  # past due, but disabled
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(200)))
    assert status["KeyRotationEnabled"] is True  # the setting does not change
    ok(run_inproc("key", "enable", key, now=at(200)))
    rotations = _rotations(run_inproc, key, at(200))
    assert [(r["RotationDate"], r["RotationType"]) for r in rotations] == [
        (stamp(200), "AUTOMATIC")
    ]
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(200)))
    assert status["NextRotationDate"] == stamp(290)


def test_a_key_enabled_again_before_its_date_keeps_its_schedule(
    run_inproc: Runner, key: str
) -> None:
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    ok(run_inproc("key", "disable", key, now=at(10)))
    ok(run_inproc("key", "enable", key, now=at(20)))
    assert _rotations(run_inproc, key, at(20)) == []
    assert [r["RotationDate"] for r in _rotations(run_inproc, key, at(95))] == [stamp(90)]


def test_pending_deletion_suspends_rotation_and_cancel_restores_it(
    run_inproc: Runner, key: str
) -> None:
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    ok(run_inproc("key", "schedule-deletion", key, "--yes", now=at(80)))
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(95)))
    assert status["KeyRotationEnabled"] is False
    assert _rotations(run_inproc, key, at(95)) == []
    ok(run_inproc("key", "cancel-deletion", key, now=at(96)))
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(96)))
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    ok(run_inproc("key", "enable", key, now=at(97)))  # past due while not enabled: now
    assert [r["RotationDate"] for r in _rotations(run_inproc, key, at(97))] == [stamp(97)]


def test_aws_managed_key_rotates_yearly_by_itself(run_inproc: Runner, tmp_path: Path) -> None:
    (tmp_path / "p").write_bytes(b"managed")
    ok(run_inproc("encrypt", "p", now=at()))
    meta = json_of(run_inproc("key", "describe", "alias/aws/kmscli", "--json", now=at()))
    key, arn = meta["KeyMetadata"]["KeyId"], meta["KeyMetadata"]["Arn"]
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at()))
    assert status == {
        "KeyId": arn,
        "KeyRotationEnabled": True,
        "RotationPeriodInDays": 365,
        "NextRotationDate": stamp(365),
    }
    assert _rotations(run_inproc, key, at(364)) == []
    ok(run_inproc("decrypt", "-f", "p.kms", now=at(800)))  # any command catches up
    rotations = _rotations(run_inproc, key, at(800))
    assert [(r["RotationDate"], r["RotationType"]) for r in rotations] == [
        (stamp(365), "AUTOMATIC"),
        (stamp(730), "AUTOMATIC"),
    ]
    for args in (
        ("key", "rotation", "enable", key, "--period-days", "90"),
        ("key", "rotation", "disable", key),
        ("key", "rotate", key),
    ):
        refused = run_inproc(*args, now=at(800))
        assert refused.status == 2 and "UnsupportedOperationException" in refused.err
        assert "AWS managed key" in refused.err
    assert (tmp_path / "p").read_bytes() == b"managed"


def test_on_demand_rotation_limit_and_schedule(run_inproc: Runner, key: str) -> None:
    arn = json_of(run_inproc("key", "describe", key, "--json", now=at()))["KeyMetadata"]["Arn"]
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    first = json_of(run_inproc("key", "rotate", key, "--json", now=at(1)))
    assert first == {"KeyId": arn}
    for n in range(2, 26):
        ok(run_inproc("key", "rotate", key, now=at(1, minutes=n)))
    refused = run_inproc("key", "rotate", key, now=at(2))
    assert refused.status == 2
    assert refused.err.splitlines()[0] == (
        "kmscli: error: LimitExceededException: The on-demand rotations limit has been reached "
        "for the given keyId. No more on-demand rotations can be performed for this key: "
        f"{arn}"
    )
    rotations = _rotations(run_inproc, key, at(2))
    assert len(rotations) == 25 and {r["RotationType"] for r in rotations} == {"ON_DEMAND"}
    # On-demand rotations do not move the automatic schedule.
    status = json_of(run_inproc("key", "rotation", "status", key, "--json", now=at(2)))
    assert status["NextRotationDate"] == stamp(90)


def test_on_demand_rotation_conflicts_with_a_rotation_due_shortly(
    run_inproc: Runner, key: str
) -> None:
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    refused = run_inproc("key", "rotate", key, now=at(90, minutes=-10))
    assert refused.status == 4 and "ConflictException" in refused.err
    ok(run_inproc("key", "rotate", key, now=at(90, minutes=-30)))


def test_old_and_new_ciphertexts_decrypt_after_several_rotations(
    run_inproc: Runner, key: str, tmp_path: Path
) -> None:
    materials = []
    for n in range(4):
        when = at(n)
        materials.append(_current(run_inproc, key, when))
        (tmp_path / f"f{n}").write_bytes(b"file %d" % n)
        ok(run_inproc("encrypt", "-k", key, f"f{n}", now=when))
        ok(run_inproc("encrypt", "--direct", "-k", key, f"f{n}", "-o", f"b{n}", now=when))
        ok(run_inproc("key", "rotate", key, now=when))
    assert len(set(materials)) == 4
    for n in range(4):
        (tmp_path / f"f{n}").unlink()
        decrypted = json_of(run_inproc("decrypt", f"f{n}.kms", "--json", now=at(9)))
        assert decrypted["Files"][0]["KeyMaterialId"] == materials[n]
        assert (tmp_path / f"f{n}").read_bytes() == b"file %d" % n
        blob = json_of(run_inproc("decrypt", f"b{n}", "-o", "-", "--json", now=at(9)))
        assert blob["KeyMaterialId"] == materials[n]
        verbose = ok(run_inproc("decrypt", "-v", "-f", f"f{n}.kms", now=at(9)))
        assert f"(material {materials[n]})" in verbose.err
    # New encryption uses the newest material.
    newest = _current(run_inproc, key, at(9))
    assert newest not in materials
    ok(run_inproc("encrypt", "--direct", "-k", key, "f0", "-o", "b9", now=at(9)))
    assert json_of(run_inproc("inspect", "b9", "--json"))["KeyMaterialId"] == newest


def test_rotation_refusals_for_ineligible_keys(run_inproc: Runner) -> None:
    multi = ok(run_inproc("key", "create", "--multi-region")).out.strip()
    ok(run_inproc("key", "replicate", multi, "--replica-region", "eu-west-1"))
    for args in (("key", "rotate", multi), ("key", "rotation", "enable", multi)):
        refused = run_inproc(*args, "--region", "eu-west-1")
        assert refused.status == 2 and "UnsupportedOperationException" in refused.err
        assert "replica" in refused.err


def test_due_rotation_in_a_real_process(run: Runner, tmp_path: Path) -> None:
    key = ok(run("key", "create", now=at())).out.strip()
    (tmp_path / "p").write_bytes(b"before")
    ok(run("encrypt", "-k", key, "p", now=at()))
    ok(run("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    done = ok(run("decrypt", "-v", "-f", "p.kms", now=at(91)))
    rotations = json.loads(ok(run("key", "rotation", "list", key, "--json", now=at(91))).out)
    assert [r["RotationDate"] for r in rotations["Rotations"]] == [stamp(90)]
    assert rotations["Rotations"][0]["KeyMaterialId"] not in done.err  # old material decrypted
    listed = ok(run("key", "rotation", "list", key, now=at(91))).out.splitlines()
    assert listed[0].split("\t") == [
        "KeyMaterialId",
        "KeyMaterialState",
        "RotationDate",
        "RotationType",
    ]


def test_concurrent_commands_rotate_a_due_key_once(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    import subprocess

    from tests import timetravel

    key = ok(run("key", "create", now=at())).out.strip()
    ok(run("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    env = {**kmscli_env, timetravel.TEST_NOW_VARIABLE: timetravel.iso(at(100))}
    processes = [
        subprocess.Popen(
            [timetravel.launcher(), "key", "describe", key],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    rotations = json.loads(ok(run("key", "rotation", "list", key, "--json", now=at(100))).out)
    assert [r["RotationDate"] for r in rotations["Rotations"]] == [stamp(90)]


def test_nothing_due_means_no_write(
    run_inproc: Runner, key: str, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    home = Path(kmscli_env["KMSCLI_HOME"])
    ok(run_inproc("key", "rotation", "enable", key, now=at()))
    (tmp_path / "p").write_bytes(b"x")
    ok(run_inproc("encrypt", "-k", key, "p", now=at()))

    def files() -> dict[str, tuple[int, int]]:
        """The keyring's records and journal (the audit trail is appended to by every call)."""
        return {
            str(p.relative_to(home)): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in home.rglob("*")
            if p.is_file() and p.name != "lock" and "audit" not in p.relative_to(home).parts
        }

    before = files()
    for args in (("key", "describe", key), ("decrypt", "-f", "p.kms"), ("key", "list")):
        ok(run_inproc(*args, now=at(364)))
    assert files() == before  # the due check only read
    ok(run_inproc("key", "list", now=at(366)))
    assert files() != before  # the rotation fell due and was written


@pytest.mark.parametrize(
    "command",
    [("keyring", "status"), ("keyring", "verify"), ("keyring", "backup", "-f", "b.kmsbak")],
    ids=lambda c: " ".join(c[:2]),
)
def test_keyring_commands_do_the_due_work_too(
    run_inproc: Runner, key: str, command: tuple[str, ...]
) -> None:
    # They open the keyring without the KMS service; a rotation due by then still happens.
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    ok(run_inproc(*command, now=at(100)))
    # Asked at a time before it was due, so this command does no rotation of its own:
    rotations = _rotations(run_inproc, key, at(1))
    assert [(r["RotationDate"], r["RotationType"]) for r in rotations] == [(stamp(90), "AUTOMATIC")]


def test_a_backup_holds_the_rotations_due_when_it_was_taken(
    run_inproc: Runner, key: str, tmp_path: Path
) -> None:
    ok(run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at()))
    ok(run_inproc("keyring", "backup", "nightly.kmsbak", now=at(100)))
    restored = {"KMSCLI_HOME": str(tmp_path / "restored")}
    ok(run_inproc("keyring", "restore", "nightly.kmsbak", env=restored, now=at(1)))
    doc = json_of(run_inproc("key", "rotation", "list", key, "--json", env=restored, now=at(1)))
    assert [r["RotationDate"] for r in doc["Rotations"]] == [stamp(90)]
