"""`kmscli audit`: every operation leaves a CloudTrail-like record, secrets never do, and
`audit --verify` catches an edited, removed, reordered or cut-off record (exit 7).
"""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.cli.authz_world import ALICE, NOBODY, World
from tests.conftest import KMSCLI, Runner


def _log(world: World) -> Path:
    return world.tmp / "keyring" / "audit" / "log"


def test_allowed_and_denied_operations_are_recorded(world: World) -> None:
    key_id = world.create_key("--description", "audited")
    arn = world.arn(key_id)
    world.ok("encrypt", "--direct", "-k", arn, "-c", "project=apollo", "-o", "b", "-", input=b"x")
    denied = world.kmscli("key", "disable", key_id, caller=NOBODY)
    assert denied.status == 5
    events = world.audit()
    assert [e["eventName"] for e in events] == ["CreateKey", "Encrypt", "DisableKey"]
    create, encrypt, disable = events
    for event in events:
        assert event["eventSource"] == "kms.amazonaws.com"
        assert event["awsRegion"] == "us-west-2"
        assert event["eventTime"].endswith("Z")
        assert event["recipientAccountId"] == "111122223333"
        assert event["resources"] == [
            {"accountId": "111122223333", "type": "AWS::KMS::Key", "ARN": arn}
        ]
    assert create["userIdentity"] == {
        "type": "Root",
        "arn": "arn:aws:iam::111122223333:root",
        "accountId": "111122223333",
    }
    assert create["requestParameters"]["description"] == "audited"
    assert create["requestParameters"]["keySpec"] == "SYMMETRIC_DEFAULT"
    assert create["responseElements"]["keyMetadata"]["arn"] == arn
    assert encrypt["requestParameters"] == {
        "keyId": arn,
        "encryptionContext": {"project": "apollo"},
    }
    assert "errorCode" not in encrypt
    assert disable["userIdentity"]["arn"] == NOBODY
    assert disable["userIdentity"]["type"] == "IAMUser"
    assert disable["errorCode"] == "AccessDeniedException"
    assert disable["errorMessage"].startswith(f"User: {NOBODY} is not authorized")
    assert disable["responseElements"] is None


def test_failures_before_authorization_are_recorded_too(world: World) -> None:
    missing = "11111111-2222-4333-8444-555555555555"
    assert world.kmscli("key", "describe", missing).status == 3
    assert world.kmscli("random", "--bytes", "5000").status == 2
    events = world.audit()
    assert [(e["eventName"], e["errorCode"]) for e in events] == [
        ("DescribeKey", "NotFoundException"),
        ("GenerateRandom", "ValidationException"),
    ]
    assert events[0]["requestParameters"] == {"keyId": missing}


def test_file_encryption_is_recorded_as_made_through_kmscli(world: World, tmp_path: Path) -> None:
    key_id = world.create_key()
    (tmp_path / "doc").write_text("words")
    world.ok("encrypt", "-k", key_id, "doc")
    world.ok("decrypt", "-o", str(tmp_path / "doc.out"), "doc.kms")
    names = [(e["eventName"], e["userIdentity"].get("invokedBy")) for e in world.audit()]
    assert names[1:] == [
        ("GenerateDataKey", "kmscli.us-west-2.amazonaws.com"),
        ("Decrypt", "kmscli.us-west-2.amazonaws.com"),
    ]


def test_no_secret_reaches_the_log(world: World, tmp_path: Path) -> None:
    key_id = world.create_key()
    secret = b"TOP-SECRET-PLAINTEXT-0123456789"
    direct = world.ok("encrypt", "--direct", "-k", key_id, "-o", "-", "--json", "-", input=secret)
    blob = json.loads(direct.out)["CiphertextBlob"]
    generated = json.loads(world.ok("datakey", "generate", "-k", key_id, "--json").out)
    (tmp_path / "blob").write_bytes(base64.b64decode(generated["CiphertextBlob"]))
    decrypted = json.loads(world.ok("datakey", "decrypt", "blob", "--json").out)
    token = json.loads(
        world.ok(
            "policy",
            "grant",
            "create",
            key_id,
            "--grantee",
            ALICE,
            "--operations",
            "Encrypt",
            "--json",
        ).out
    )["GrantToken"]
    world.ok("key", "describe", key_id, "--grant-token", token)
    log = _log(world).read_text()
    for value in (
        secret.decode(),
        base64.b64encode(secret).decode(),
        blob,
        generated["CiphertextBlob"],
        generated["Plaintext"],
        decrypted["Plaintext"],
        token,
    ):
        assert value not in log
    assert "numberOfBytes" not in log or '"keySpec":"AES_256"' in log


def test_filters_by_key_and_time(world: World) -> None:
    world.now = datetime(2027, 1, 1, tzinfo=UTC)
    first = world.create_key("--alias", "alias/first")
    world.now = datetime(2027, 6, 1, tzinfo=UTC)
    second = world.create_key()
    world.ok("key", "describe", "alias/first")
    world.ok("key", "describe", second)
    by_key = [e["eventName"] for e in world.audit("--key", first)]
    assert by_key == ["CreateKey", "DescribeKey"]
    assert [e["eventName"] for e in world.audit("--key", "alias/first")] == by_key
    assert [e["eventName"] for e in world.audit("--key", world.arn(second))] == [
        "CreateKey",
        "DescribeKey",
    ]
    recent = world.audit("--since", "2027-03-01T00:00:00Z")
    assert [e["eventTime"] for e in recent] == ["2027-06-01T00:00:00Z"] * 3
    table = world.ok("audit", "--since", "2027-03-01").out.splitlines()
    assert table[0].split("\t") == ["EventTime", "EventName", "Caller", "Resources", "ErrorCode"]
    assert len(table) == 4
    bad = world.kmscli("audit", "--since", "last tuesday")
    assert bad.status == 2


def test_audit_needs_no_key_permission(world: World) -> None:
    world.create_key()
    assert world.kmscli("audit", caller=NOBODY).status == 0
    assert world.kmscli("audit", "--verify", caller=NOBODY).status == 0


# -- verification ----------------------------------------------------------------------------------


def _filled(world: World) -> list[bytes]:
    key_id = world.create_key()
    for n in range(4):
        world.ok("key", "update-description", key_id, f"d{n}")
    lines = _log(world).read_bytes().splitlines(keepends=True)
    assert len(lines) == 5
    return lines


def _tamper_edit(lines: list[bytes]) -> list[bytes]:
    edited = list(lines)
    at = edited[2].index(b'"sealed":"') + 20
    flipped = b"B" if edited[2][at : at + 1] == b"A" else b"A"
    edited[2] = edited[2][:at] + flipped + edited[2][at + 1 :]
    assert edited[2] != lines[2]
    return edited


def _tamper_remove(lines: list[bytes]) -> list[bytes]:
    return lines[:2] + lines[3:]


def _tamper_reorder(lines: list[bytes]) -> list[bytes]:
    return [lines[0], lines[2], lines[1], *lines[3:]]


def _tamper_truncate(lines: list[bytes]) -> list[bytes]:
    return lines[:3]


def _tamper_cut(lines: list[bytes]) -> list[bytes]:
    return [*lines[:4], lines[4][:20]]


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (_tamper_edit, "fails its MAC (edited)"),
        (_tamper_remove, "record 3 is missing (removed)"),
        (_tamper_reorder, "out of order"),
        (_tamper_truncate, "truncated"),
        (_tamper_cut, "cut short"),
    ],
    ids=["edit", "removal", "reorder", "truncation", "cut-record"],
)
def test_verify_detects_tampering(world: World, tamper: Any, problem: str) -> None:
    lines = _filled(world)
    intact = world.ok("audit", "--verify")
    assert intact.out.startswith("audit log intact: 5 records")
    _log(world).write_bytes(b"".join(tamper(lines)))
    result = world.kmscli("audit", "--verify")
    assert result.status == 7, result.err
    assert "AuditLogIntegrityError" in result.err and problem in result.err
    as_json = world.kmscli("audit", "--verify", "--json")
    assert as_json.status == 7
    report = json.loads(as_json.out)
    assert report["Verified"] is False and any(problem in p for p in report["Problems"])


def test_verify_json_when_intact(world: World) -> None:
    _filled(world)
    report = json.loads(world.ok("audit", "--verify", "--json").out)
    assert report["Verified"] is True and report["Records"] == 5 and report["HeadSeq"] == 5
    assert report["Problems"] == [] and len(report["HeadMac"]) == 64


# -- denied file operations and concurrency ------------------------------------------------------


def test_a_denied_file_operation_leaves_no_output(world: World, tmp_path: Path) -> None:
    key_id = world.create_key()
    (tmp_path / "data.bin").write_bytes(b"data" * 100)
    before = sorted(p.name for p in tmp_path.iterdir())
    denied = world.kmscli("encrypt", "-k", key_id, "data.bin", caller=NOBODY)
    assert denied.status == 5 and "AccessDeniedException" in denied.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    world.ok("encrypt", "-k", key_id, "data.bin")
    (tmp_path / "data.bin").unlink()
    before = sorted(p.name for p in tmp_path.iterdir())
    denied = world.kmscli("decrypt", "data.bin.kms", caller=NOBODY)
    assert denied.status == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    streamed = world.kmscli("decrypt", "-o", "-", "data.bin.kms", caller=NOBODY)
    assert streamed.status == 5 and streamed.stdout == b""


def test_many_processes_at_once_keep_the_chain_valid(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert KMSCLI is not None
    env = dict(kmscli_env)
    key_id = run("key", "create").out.strip()
    processes = [
        subprocess.Popen(
            [KMSCLI, "encrypt", "--direct", "-k", key_id, "-o", str(tmp_path / f"b{n}"), "-"],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for n in range(8)
    ]
    for process in processes:
        _out, err = process.communicate(b"data", timeout=60)
        assert process.returncode == 0, err
    verified = run("audit", "--verify", "--json")
    assert verified.status == 0, verified.err
    report = json.loads(verified.out)
    assert report["Records"] == 9 and report["HeadSeq"] == 9


def test_a_forged_head_refuses_operations_before_they_act(world: World) -> None:
    key_id = world.create_key()
    head = world.tmp / "keyring" / "audit" / "head"
    head.write_bytes(b"\x00" * 100 + b"forged" + b"\x00" * 150)
    refused = world.kmscli("key", "disable", key_id)
    assert refused.status == 9 and "audit log head" in refused.err
    verify = world.kmscli("audit", "--verify")
    assert verify.status == 7
    head.unlink()
    (world.tmp / "keyring" / "audit" / "log").unlink()  # the owner starts a new trail
    world.ok("key", "describe", key_id)
    state = json.loads(world.ok("key", "describe", key_id, "--json").out)["KeyMetadata"]
    assert state["KeyState"] == "Enabled", "the refused disable acted anyway"
