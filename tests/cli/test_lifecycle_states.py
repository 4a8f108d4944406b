"""Key state transitions through the CLI, and each refusal with AWS's exception name and words.

Creating and Updating never persist (ReplicateKey and UpdatePrimaryRegion finish within the
call); their cells of the table are held by tests/unit/test_kms_states.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, Runner
from tests.helpers import json_of, ok

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _state(run: Runner, key: str, **kw: Any) -> str:
    meta = json_of(run("key", "describe", key, "--json", **kw))["KeyMetadata"]
    assert meta["Enabled"] is (meta["KeyState"] == "Enabled")
    return str(meta["KeyState"])


def _refused(result: Result, status: int, code: str, message: str | None = None) -> None:
    assert result.status == status, (result.status, result.err)
    line = result.err.splitlines()[0]
    assert line.startswith(f"kmscli: error: {code}: "), line
    if message is not None:
        assert line == f"kmscli: error: {code}: {message}", line


@pytest.fixture
def key(run_inproc: Runner) -> str:
    return ok(run_inproc("key", "create", now=T0)).out.strip()


def _arn(run: Runner, key: str) -> str:
    return str(json_of(run("key", "describe", key, "--json"))["KeyMetadata"]["Arn"])


def test_enabled_disabled_pending_deletion_and_back(
    run_inproc: Runner, key: str, tmp_path: Path
) -> None:
    arn = _arn(run_inproc, key)
    (tmp_path / "p").write_bytes(b"x")
    assert _state(run_inproc, key) == "Enabled"

    ok(run_inproc("key", "disable", key))
    assert _state(run_inproc, key) == "Disabled"
    _refused(run_inproc("encrypt", "-k", key, "p"), 6, "DisabledException", f"{arn} is disabled.")
    _refused(run_inproc("key", "rotate", key), 6, "DisabledException", f"{arn} is disabled.")
    _refused(
        run_inproc("key", "rotation", "enable", key), 6, "DisabledException", f"{arn} is disabled."
    )
    _refused(
        run_inproc("key", "cancel-deletion", key),
        6,
        "KMSInvalidStateException",
        f"{arn} is not pending deletion.",
    )

    scheduled = json_of(run_inproc("key", "schedule-deletion", key, "--yes", "--json"))
    assert scheduled["KeyState"] == "PendingDeletion" and scheduled["KeyId"] == arn
    assert _state(run_inproc, key) == "PendingDeletion"
    pending = f"{arn} is pending deletion."
    for args in (
        ("encrypt", "-k", key, "p"),
        ("key", "enable", key),
        ("key", "disable", key),
        ("key", "rotate", key),
        ("key", "rotation", "enable", key),
        ("key", "tag", key, "a=b"),
        ("key", "untag", key, "a"),
        ("key", "update-description", key, "x"),
        ("key", "schedule-deletion", key, "--yes"),
        ("alias", "create", "alias/late", key),
        ("datakey", "generate", "-k", key, "--no-plaintext"),
    ):
        _refused(run_inproc(*args), 6, "KMSInvalidStateException", pending)
    # Reading metadata, policies, tags and rotations still works while pending.
    for args in (
        ("key", "describe", key),
        ("policy", "get", key),
        ("key", "tags", key),
        ("key", "rotation", "list", key),
    ):
        ok(run_inproc(*args))
    status = json_of(run_inproc("key", "rotation", "status", key, "--json"))
    assert status == {"KeyId": arn, "KeyRotationEnabled": False}

    assert json_of(run_inproc("key", "cancel-deletion", key, "--json")) == {"KeyId": arn}
    assert _state(run_inproc, key) == "Disabled"  # always Disabled after a cancel
    meta = json_of(run_inproc("key", "describe", key, "--json"))["KeyMetadata"]
    assert "DeletionDate" not in meta and "PendingDeletionWindowInDays" not in meta
    ok(run_inproc("key", "enable", key))
    assert _state(run_inproc, key) == "Enabled"
    ok(run_inproc("encrypt", "-k", key, "p"))


def test_pending_import_and_external_origin(run_inproc: Runner, tmp_path: Path) -> None:
    created = json_of(run_inproc("key", "create", "--origin", "EXTERNAL", "--json"))
    meta = created["KeyMetadata"]
    key, arn = meta["KeyId"], meta["Arn"]
    assert meta["KeyState"] == "PendingImport" and meta["Enabled"] is False
    assert meta["Origin"] == "EXTERNAL" and "CurrentKeyMaterialId" not in meta
    (tmp_path / "p").write_bytes(b"x")
    pending = f"{arn} is pending import."
    for args in (
        ("encrypt", "-k", key, "p"),
        ("encrypt", "--direct", "-k", key, "p", "-o", "p.blob"),
        ("key", "enable", key),
        ("key", "disable", key),
        ("key", "rotate", key),
    ):
        _refused(run_inproc(*args), 6, "KMSInvalidStateException", pending)
    external = f"{arn} origin is EXTERNAL which is not valid for this operation."
    _refused(
        run_inproc("key", "rotation", "enable", key), 2, "UnsupportedOperationException", external
    )
    _refused(
        run_inproc("key", "rotation", "status", key), 2, "UnsupportedOperationException", external
    )
    # Deleting material that was never imported has no effect; the key stays PendingImport.
    assert json_of(run_inproc("key", "delete-material", key, "--json")) == {"KeyId": arn}
    assert _state(run_inproc, key) == "PendingImport"
    # A PendingImport key can be scheduled for deletion and cancelled (back to Disabled).
    ok(run_inproc("key", "schedule-deletion", key, "--yes"))
    assert _state(run_inproc, key) == "PendingDeletion"
    ok(run_inproc("key", "cancel-deletion", key))
    assert _state(run_inproc, key) == "Disabled"


def test_import_operations_refuse_aws_kms_keys(
    run_inproc: Runner, key: str, tmp_path: Path
) -> None:
    arn = _arn(run_inproc, key)
    message = f"{arn} origin is AWS_KMS which is not valid for this operation."
    (tmp_path / "t").write_bytes(b"t")
    for args in (
        ("key", "import-parameters", key, "--out-dir", str(tmp_path)),
        ("key", "import-material", key, "--material", "t", "--token", "t", "--no-expiry"),
        ("key", "delete-material", key),
    ):
        _refused(run_inproc(*args), 2, "UnsupportedOperationException", message)


def test_management_commands_take_aliases_too(run_inproc: Runner, key: str) -> None:
    ok(run_inproc("alias", "create", "alias/life", key))
    for args in (
        ("key", "rotate", "alias/life"),
        ("key", "tag", "alias/life", "a=b"),
        ("key", "rotation", "status", "alias/life"),
        ("key", "schedule-deletion", "alias/life", "--yes"),
    ):
        ok(run_inproc(*args))


def test_the_aws_managed_key_refuses_management(run_inproc: Runner, tmp_path: Path) -> None:
    (tmp_path / "p").write_bytes(b"x")
    ok(run_inproc("encrypt", "p"))  # creates alias/aws/kmscli
    meta = json_of(run_inproc("key", "describe", "alias/aws/kmscli", "--json"))["KeyMetadata"]
    key = meta["KeyId"]
    for args in (
        ("key", "schedule-deletion", key, "--yes"),
        ("key", "tag", key, "a=b"),
        ("key", "disable", key),
    ):
        _refused(run_inproc(*args), 5, "AccessDeniedException")
    for args in (
        ("key", "rotate", key),
        ("key", "rotation", "enable", key),
        ("key", "rotation", "disable", key),
    ):
        _refused(run_inproc(*args), 2, "UnsupportedOperationException")
