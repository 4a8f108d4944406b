"""Multi-Region keys (kms-behaviour.md §6): replicas, shared and independent properties, the
primary role, deletion rules, and ciphertexts crossing regions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tests.helpers import json_of, ok
from tests.keyring_files import naming_of

T0 = datetime(2030, 1, 1, tzinfo=UTC)
EU = ("--region", "eu-west-1")
AP = ("--region", "ap-southeast-2")


def at(days: float = 0) -> datetime:
    return T0 + timedelta(days=days)


def _meta(run: Runner, key: str, *region: str, **kw: Any) -> dict[str, Any]:
    meta: dict[str, Any] = json_of(run("key", "describe", key, "--json", *region, **kw))[
        "KeyMetadata"
    ]
    return meta


@pytest.fixture
def mrk(run_inproc: Runner) -> str:
    key = ok(run_inproc("key", "create", "--multi-region", "--description", "p", now=at()))
    return key.out.strip()


def test_create_and_replicate(run_inproc: Runner, mrk: str) -> None:
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", mrk)
    primary = _meta(run_inproc, mrk)
    assert primary["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "PRIMARY",
        "PrimaryKey": {"Arn": primary["Arn"], "Region": "us-east-1"},
        "ReplicaKeys": [],
    }
    response = json_of(
        run_inproc(
            "key",
            "replicate",
            mrk,
            "--replica-region",
            "eu-west-1",
            "--description",
            "dr",
            "--tag",
            "site=dublin",
            "--json",
            now=at(1),
        )
    )
    replica_meta = response["ReplicaKeyMetadata"]
    replica_arn = primary["Arn"].replace("us-east-1", "eu-west-1")
    assert replica_meta["Arn"] == replica_arn and replica_meta["KeyId"] == mrk
    assert replica_meta["KeyState"] == "Creating" and replica_meta["Enabled"] is False
    assert response["ReplicaTags"] == [{"TagKey": "site", "TagValue": "dublin"}]
    assert json.loads(response["ReplicaPolicy"])["Statement"][0]["Sid"] == (
        "Enable IAM User Permissions"
    )
    replica = _meta(run_inproc, mrk, *EU)
    assert replica["KeyState"] == "Enabled" and replica["Description"] == "dr"
    assert replica["CurrentKeyMaterialId"] == primary["CurrentKeyMaterialId"]
    assert replica["MultiRegionConfiguration"] == {
        "MultiRegionKeyType": "REPLICA",
        "PrimaryKey": {"Arn": primary["Arn"], "Region": "us-east-1"},
        "ReplicaKeys": [{"Arn": replica_arn, "Region": "eu-west-1"}],
    }
    assert _meta(run_inproc, mrk)["MultiRegionConfiguration"]["ReplicaKeys"] == [
        {"Arn": replica_arn, "Region": "eu-west-1"}
    ]
    text = ok(run_inproc("key", "replicate", mrk, "--replica-region", "ap-southeast-2"))
    assert text.out == primary["Arn"].replace("us-east-1", "ap-southeast-2") + "\n"
    assert len(_meta(run_inproc, mrk, *EU)["MultiRegionConfiguration"]["ReplicaKeys"]) == 2


def test_replication_refusals(run_inproc: Runner, mrk: str) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1"))
    again = run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1")
    assert again.status == 4 and "AlreadyExistsException" in again.err
    replica_arn = _meta(run_inproc, mrk, *EU)["Arn"]
    of_replica = run_inproc("key", "replicate", mrk, "--replica-region", "ap-southeast-2", *EU)
    assert of_replica.status == 2
    assert f"UnsupportedOperationException: {replica_arn} is not a multi-region primary key." in (
        of_replica.err
    )
    single = ok(run_inproc("key", "create")).out.strip()
    refused = run_inproc("key", "replicate", single, "--replica-region", "eu-west-1")
    assert refused.status == 2 and "UnsupportedOperationException" in refused.err
    bad_region = run_inproc("key", "replicate", mrk, "--replica-region", "mars")
    assert bad_region.status == 2 and "ValidationException" in bad_region.err
    same = run_inproc("key", "replicate", mrk, "--replica-region", "us-east-1")
    assert same.status == 2 and "ValidationException" in same.err
    ok(run_inproc("key", "disable", mrk))
    disabled = run_inproc("key", "replicate", mrk, "--replica-region", "ap-southeast-2")
    assert disabled.status == 6 and "DisabledException" in disabled.err


def test_round_trip_across_regions(run_inproc: Runner, mrk: str, tmp_path: Path) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1"))
    (tmp_path / "p").write_bytes(b"crosses the ocean")
    ok(run_inproc("encrypt", "-k", mrk, "p", "-o", "us.kms"))
    ok(run_inproc("encrypt", "--direct", "-k", mrk, "-c", "a=b", "p", "-o", "us.blob"))
    decrypted = json_of(run_inproc("decrypt", "us.kms", "-o", "eu.out", "--json", *EU))
    eu_arn = _meta(run_inproc, mrk, *EU)["Arn"]
    assert decrypted["Files"][0]["KeyId"] == eu_arn
    assert (tmp_path / "eu.out").read_bytes() == b"crosses the ocean"
    blob = json_of(run_inproc("decrypt", "us.blob", "-c", "a=b", "-o", "-", "--json", *EU))
    assert blob["KeyId"] == eu_arn
    # -k with the replica's own ARN or ID accepts the primary's data key (MRK-aware match).
    for given in (eu_arn, mrk):
        ok(run_inproc("decrypt", "-k", given, "us.kms", "-o", "-", *EU))
    # And back: encrypted in the replica's region, decrypted in the primary's.
    ok(run_inproc("encrypt", "-k", mrk, "p", "-o", "eu.kms", *EU))
    ok(run_inproc("decrypt", "eu.kms", "-o", "back"))
    assert (tmp_path / "back").read_bytes() == b"crosses the ocean"
    # A region without a replica cannot decrypt.
    elsewhere = run_inproc("decrypt", "us.kms", "-o", "-", *AP)
    assert elsewhere.status == 7 and "IncorrectKeyException" in elsewhere.err


def test_shared_and_independent_properties(run_inproc: Runner, mrk: str, tmp_path: Path) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1", now=at()))
    (tmp_path / "p").write_bytes(b"v1")
    ok(run_inproc("encrypt", "-k", mrk, "p", "-o", "v1.kms", now=at()))
    # Rotation is shared: set on the primary, its material and schedule reach the replica.
    ok(run_inproc("key", "rotation", "enable", mrk, "--period-days", "90", now=at()))
    status = json_of(run_inproc("key", "rotation", "status", mrk, "--json", *EU, now=at()))
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    ok(run_inproc("key", "rotate", mrk, now=at(1)))
    ok(run_inproc("key", "list", now=at(91)))  # the automatic rotation falls due
    primary = _meta(run_inproc, mrk, now=at(91))
    replica = _meta(run_inproc, mrk, *EU, now=at(91))
    assert replica["CurrentKeyMaterialId"] == primary["CurrentKeyMaterialId"]
    replica_rotations = json_of(run_inproc("key", "rotation", "list", mrk, "--json", *EU))
    assert [r["RotationType"] for r in replica_rotations["Rotations"]] == [
        "ON_DEMAND",
        "AUTOMATIC",
    ]
    ok(run_inproc("encrypt", "-k", mrk, "p", "-o", "v3.kms", *EU, now=at(91)))
    for name in ("v1.kms", "v3.kms"):
        ok(run_inproc("decrypt", name, "-o", "-", now=at(91)))
        ok(run_inproc("decrypt", name, "-o", "-", *EU, now=at(91)))
    # Independent: description, tags, aliases, enabled state.
    ok(run_inproc("key", "update-description", mrk, "replica words", *EU))
    ok(run_inproc("key", "tag", mrk, "only=eu", *EU))
    ok(run_inproc("alias", "create", "alias/eu-only", mrk, *EU))
    ok(run_inproc("key", "disable", mrk, *EU))
    primary = _meta(run_inproc, mrk)
    assert primary["Description"] == "p" and primary["KeyState"] == "Enabled"
    assert json_of(run_inproc("key", "tags", mrk, "--json"))["Tags"] == []
    assert run_inproc("key", "describe", "alias/eu-only").status == 3
    assert _meta(run_inproc, "alias/eu-only", *EU)["KeyState"] == "Disabled"
    refused = run_inproc("decrypt", "v1.kms", "-o", "-", *EU)
    assert refused.status == 6 and "DisabledException" in refused.err
    ok(run_inproc("decrypt", "v1.kms", "-o", "-"))


def test_update_primary_region(run_inproc: Runner, mrk: str) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1"))
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "ap-southeast-2"))
    wrong = run_inproc("key", "update-primary-region", mrk, "us-east-1", *EU)
    assert wrong.status == 2 and "is not a multi-region primary key." in wrong.err
    missing = run_inproc("key", "update-primary-region", mrk, "ca-central-1")
    assert missing.status == 3 and "NotFoundException" in missing.err
    ok(run_inproc("key", "update-primary-region", mrk, "eu-west-1"))
    eu = _meta(run_inproc, mrk, *EU)["MultiRegionConfiguration"]
    us = _meta(run_inproc, mrk)["MultiRegionConfiguration"]
    ap = _meta(run_inproc, mrk, *AP)["MultiRegionConfiguration"]
    assert eu["MultiRegionKeyType"] == "PRIMARY" and us["MultiRegionKeyType"] == "REPLICA"
    assert eu["PrimaryKey"]["Region"] == us["PrimaryKey"]["Region"] == "eu-west-1"
    assert ap["PrimaryKey"]["Region"] == "eu-west-1"
    assert {r["Region"] for r in eu["ReplicaKeys"]} == {"us-east-1", "ap-southeast-2"}
    # Rotation now happens in the new primary's region only.
    assert run_inproc("key", "rotate", mrk).status == 2
    ok(run_inproc("key", "rotate", mrk, *EU))
    ids = {_meta(run_inproc, mrk, *r)["CurrentKeyMaterialId"] for r in ((), EU, AP)}
    assert len(ids) == 1


def test_deletion_rules(run_inproc: Runner, mrk: str, tmp_path: Path) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1", now=at()))
    # A primary with replicas waits for them: PendingReplicaDeletion, no date yet.
    response = json_of(
        run_inproc("key", "schedule-deletion", mrk, "--days", "10", "--yes", "--json")
    )
    assert response["KeyState"] == "PendingReplicaDeletion" and "DeletionDate" not in response
    assert response["PendingWindowInDays"] == 10
    meta = _meta(run_inproc, mrk)
    assert meta["KeyState"] == "PendingReplicaDeletion" and "DeletionDate" not in meta
    assert meta["PendingDeletionWindowInDays"] == 10
    refused = run_inproc("encrypt", "-k", mrk, "--direct", "-", input=b"x")
    assert refused.status == 6 and "is pending deletion." in refused.err
    # The replica is independent and still works.
    (tmp_path / "p").write_bytes(b"x")
    ok(run_inproc("encrypt", "-k", mrk, "p", *EU, now=at()))
    ok(run_inproc("key", "schedule-deletion", mrk, "--days", "7", "--yes", *EU, now=at()))
    again = run_inproc("key", "replicate", mrk, "--replica-region", "ap-southeast-2")
    assert again.status == 6 and "is pending deletion." in again.err
    # Nothing changes for the primary until the replica is actually deleted (day 7); then its
    # own 10-day window starts.
    assert _meta(run_inproc, mrk, now=at(6))["KeyState"] == "PendingReplicaDeletion"
    meta = _meta(run_inproc, mrk, now=at(8))
    assert meta["KeyState"] == "PendingDeletion"
    assert meta["DeletionDate"] == (T0 + timedelta(days=17)).isoformat(timespec="microseconds")
    assert meta["MultiRegionConfiguration"]["ReplicaKeys"] == []
    assert run_inproc("key", "describe", mrk, *EU, now=at(8)).status == 3
    assert run_inproc("key", "describe", mrk, now=at(17)).status == 3


def test_cancelling_a_replica_deletion_keeps_the_set(run_inproc: Runner, mrk: str) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1", now=at()))
    ok(run_inproc("key", "schedule-deletion", mrk, "--days", "7", "--yes", *EU, now=at()))
    # A replica pending deletion still holds its region: cancel it or wait.
    again = run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1", now=at(1))
    assert again.status == 4 and "AlreadyExistsException" in again.err
    ok(run_inproc("key", "cancel-deletion", mrk, *EU, now=at(3)))
    assert _meta(run_inproc, mrk, *EU, now=at(30))["KeyState"] == "Disabled"
    assert len(_meta(run_inproc, mrk, now=at(30))["MultiRegionConfiguration"]["ReplicaKeys"]) == 1
    # A primary can be deleted once its replica is gone for good.
    ok(run_inproc("key", "schedule-deletion", mrk, "--days", "7", "--yes", *EU, now=at(30)))
    assert run_inproc("key", "describe", mrk, *EU, now=at(37)).status == 3
    scheduled = json_of(run_inproc("key", "schedule-deletion", mrk, "--yes", "--json", now=at(37)))
    assert scheduled["KeyState"] == "PendingDeletion"


def test_one_late_command_performs_chained_deletions_in_order(
    run_inproc: Runner, mrk: str, kmscli_env: dict[str, str]
) -> None:
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1", now=at()))
    ok(run_inproc("key", "schedule-deletion", mrk, "--days", "10", "--yes", now=at()))
    ok(run_inproc("key", "schedule-deletion", mrk, "--days", "7", "--yes", *EU, now=at()))
    # Nothing runs until day 40: then the replica goes (day 7), which starts the primary's
    # 10-day window, which has passed too (day 17): both are gone after one command.
    assert run_inproc("key", "describe", mrk, now=at(40)).status == 3
    assert run_inproc("key", "describe", mrk, *EU, now=at(40)).status == 3
    assert list(naming_of(kmscli_env).kind_dir("keys").iterdir()) == []
