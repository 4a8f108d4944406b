"""Symmetric keys: CreateKey, ListKeys, DescribeKey, states, descriptions, policies, regions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.helpers import json_of

KEY_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_create_returns_aws_key_metadata(run_inproc: Runner) -> None:
    doc = json_of(
        run_inproc("key", "create", "--description", "backups", "--json", "--tag", "team=ops")
    )
    meta = doc["KeyMetadata"]
    assert isinstance(meta, dict)
    assert set(meta) == {
        "AWSAccountId",
        "KeyId",
        "Arn",
        "CreationDate",
        "Enabled",
        "Description",
        "KeyUsage",
        "KeyState",
        "Origin",
        "KeyManager",
        "CustomerMasterKeySpec",
        "KeySpec",
        "EncryptionAlgorithms",
        "MultiRegion",
        "CurrentKeyMaterialId",
    }
    assert KEY_ID.match(meta["KeyId"])
    assert re.fullmatch(r"\d{12}", meta["AWSAccountId"])
    assert meta["Arn"] == f"arn:aws:kms:us-east-1:{meta['AWSAccountId']}:key/{meta['KeyId']}"
    assert meta["Enabled"] is True and meta["KeyState"] == "Enabled"
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT" and meta["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["CustomerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert meta["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert meta["Origin"] == "AWS_KMS" and meta["KeyManager"] == "CUSTOMER"
    assert meta["MultiRegion"] is False and meta["Description"] == "backups"
    assert re.fullmatch(r"[0-9a-f]{64}", meta["CurrentKeyMaterialId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", meta["CreationDate"])


def test_text_mode_prints_the_id_alone_and_lists_are_tab_separated(run_inproc: Runner) -> None:
    created = run_inproc("key", "create", "--description", "a b")
    key_id = created.out.strip()
    assert created.out == key_id + "\n" and KEY_ID.match(key_id)
    listing = run_inproc("key", "list").out.splitlines()
    assert listing[0].split("\t") == [
        "KeyId",
        "KeyState",
        "KeyManager",
        "KeySpec",
        "Aliases",
        "Description",
    ]
    assert listing[1].split("\t") == [key_id, "Enabled", "CUSTOMER", "SYMMETRIC_DEFAULT", "", "a b"]


def test_list_keys_json_shape(run_inproc: Runner) -> None:
    ids = {run_inproc("key", "create").out.strip() for _ in range(3)}
    doc = json_of(run_inproc("key", "list", "--json"))
    assert doc["Truncated"] is False
    keys = doc["Keys"]
    assert isinstance(keys, list)
    assert {k["KeyId"] for k in keys} == ids
    assert all(k["KeyArn"].endswith("key/" + k["KeyId"]) for k in keys)


def test_regions_are_isolated(run_inproc: Runner) -> None:
    doc = json_of(run_inproc("key", "create", "--json"))
    meta = doc["KeyMetadata"]
    assert isinstance(meta, dict)
    other = run_inproc("key", "describe", meta["KeyId"], "--region", "eu-west-1")
    assert other.status == 3 and "does not exist" in other.err
    by_arn = run_inproc("key", "describe", meta["Arn"], "--region", "eu-west-1")
    assert by_arn.status == 3
    assert "NotFoundException: Invalid arn us-east-1" in by_arn.err
    assert json_of(run_inproc("key", "list", "--json", "--region", "eu-west-1"))["Keys"] == []
    assert run_inproc("key", "describe", meta["Arn"]).status == 0


def test_malformed_key_id_and_unknown_key(run_inproc: Runner) -> None:
    assert run_inproc("keyring", "init").status == 0
    bad = run_inproc("key", "describe", "not-a-key")
    assert bad.status == 3 and "NotFoundException: Invalid keyId 'not-a-key'" in bad.err
    unknown = run_inproc("key", "describe", "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert unknown.status == 3
    assert re.search(
        r"Key 'arn:aws:kms:us-east-1:\d{12}:key/1234abcd-12ab-34cd-56ef-"
        r"1234567890ab' does not exist",
        unknown.err,
    )


def test_enable_disable_and_description(run_inproc: Runner) -> None:
    key = run_inproc("key", "create").out.strip()
    assert run_inproc("key", "disable", key).status == 0
    meta = json_of(run_inproc("key", "describe", key, "--json"))["KeyMetadata"]
    assert isinstance(meta, dict)
    assert meta["KeyState"] == "Disabled" and meta["Enabled"] is False
    assert run_inproc("key", "disable", key).status == 0  # idempotent, as AWS
    assert run_inproc("key", "enable", key).status == 0
    assert run_inproc("key", "update-description", key, "new words").status == 0
    meta = json_of(run_inproc("key", "describe", key, "--json"))["KeyMetadata"]
    assert isinstance(meta, dict)
    assert meta["KeyState"] == "Enabled" and meta["Description"] == "new words"


def test_disable_takes_an_alias_too(run_inproc: Runner) -> None:
    key = run_inproc("key", "create", "--alias", "alias/x").out.strip()
    assert run_inproc("key", "disable", "alias/x").status == 0
    meta = json_of(run_inproc("key", "describe", key, "--json"))["KeyMetadata"]
    assert isinstance(meta, dict) and meta["KeyState"] == "Disabled"


def test_description_limit(run_inproc: Runner) -> None:
    assert run_inproc("key", "create", "--description", "d" * 8192).status == 0
    too_long = run_inproc("key", "create", "--description", "d" * 8193)
    assert too_long.status == 2 and "ValidationException" in too_long.err
    key = run_inproc("key", "create").out.strip()
    result = run_inproc("key", "update-description", key, "d" * 8193)
    assert result.status == 2 and "ValidationException" in result.err


def test_default_policy_is_stored_and_printed(run_inproc: Runner) -> None:
    doc = json_of(run_inproc("key", "create", "--json"))
    meta = doc["KeyMetadata"]
    assert isinstance(meta, dict)
    policy = json.loads(run_inproc("policy", "get", meta["KeyId"]).out)
    assert policy == {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{meta['AWSAccountId']}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    listed = json_of(run_inproc("policy", "list", meta["KeyId"], "--json"))
    assert listed == {"PolicyNames": ["default"], "Truncated": False}
    got = json_of(run_inproc("policy", "get", meta["KeyId"], "--json"))
    assert got["PolicyName"] == "default" and json.loads(str(got["Policy"])) == policy


def test_policy_file_is_stored_after_checks(run_inproc: Runner, tmp_path: Path) -> None:
    account = json_of(run_inproc("key", "create", "--json"))["KeyMetadata"]["AWSAccountId"]
    statement: dict[str, object] = {
        "Sid": "admin",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    (tmp_path / "p.json").write_text(json.dumps(document))
    key = run_inproc("key", "create", "--policy", str(tmp_path / "p.json")).out.strip()
    assert json.loads(run_inproc("policy", "get", key).out) == document
    (tmp_path / "bad.json").write_text("{not json")
    bad = run_inproc("key", "create", "--policy", str(tmp_path / "bad.json"))
    assert bad.status == 2 and "MalformedPolicyDocumentException" in bad.err
    statement["Sid"] = "x" * 33000  # inside `document`
    (tmp_path / "big.json").write_text(json.dumps(document))
    big = run_inproc("key", "create", "--policy", str(tmp_path / "big.json"))
    assert big.status == 2 and "LimitExceededException" in big.err
    put = run_inproc("policy", "put", key, str(tmp_path / "bad.json"))
    assert put.status == 2 and "MalformedPolicyDocumentException" in put.err


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--key-spec", "RSA_9999"], "ValidationException"),
        (["--key-spec", "RSA_2048"], "ValidationException"),  # no --key-usage
        (["--key-usage", "SIGN_VERIFY"], "ValidationException"),
        (["--origin", "NOWHERE"], "ValidationException"),
        (["--tag", "aws:x=1"], "TagException"),
        (["--tag", "k=1", "--tag", "k=2"], "TagException"),
        (["--tag", "k" * 129 + "=v"], "ValidationException"),
        (["--tag", "k=" + "v" * 257], "ValidationException"),
    ],
)
def test_create_refusals(run_inproc: Runner, args: list[str], code: str) -> None:
    result = run_inproc("key", "create", *args)
    assert result.status == 2, result.err
    assert f"kmscli: error: {code}:" in result.err
    assert json_of(run_inproc("key", "list", "--json"))["Keys"] == []


def test_too_many_tags(run_inproc: Runner) -> None:
    tags = [a for i in range(51) for a in ("--tag", f"k{i}=v")]
    result = run_inproc("key", "create", *tags)
    assert result.status == 2 and "TagException: Too many tags" in result.err
    assert run_inproc("key", "create", *tags[:100]).status == 0


def test_multi_region_key_id(run_inproc: Runner) -> None:
    meta = json_of(run_inproc("key", "create", "--multi-region", "--json"))["KeyMetadata"]
    assert isinstance(meta, dict)
    assert re.fullmatch(r"mrk-[0-9a-f]{32}", meta["KeyId"]) and meta["MultiRegion"] is True
    assert meta["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_aws_managed_key_is_created_on_first_use_and_refuses_changes(
    run_inproc: Runner, tmp_path: Path
) -> None:
    assert run_inproc("keyring", "init").status == 0
    assert "TargetKeyId" not in json_of(run_inproc("alias", "list", "--json"))["Aliases"][0]
    meta = json_of(run_inproc("key", "describe", "alias/aws/kmscli", "--json"))["KeyMetadata"]
    assert isinstance(meta, dict)
    assert meta["KeyManager"] == "AWS" and meta["KeyState"] == "Enabled"
    again = json_of(run_inproc("key", "describe", "alias/aws/kmscli", "--json"))["KeyMetadata"]
    assert again == meta
    key = meta["KeyId"]
    (tmp_path / "p.json").write_text(run_inproc("policy", "get", key).out)
    for args in (
        ["key", "disable", key],
        ["key", "update-description", key, "mine"],
        ["policy", "put", key, str(tmp_path / "p.json")],
        ["alias", "create", "alias/mine", key],
    ):
        result = run_inproc(*args)
        assert result.status == 5, (args, result.err)
        assert (
            "AccessDeniedException" in result.err and "is not authorized to perform" in result.err
        )
    for args in (
        ["alias", "delete", "alias/aws/kmscli"],
        ["alias", "update", "alias/aws/kmscli", key],
        ["alias", "create", "alias/aws/other", key],
    ):
        result = run_inproc(*args)
        assert result.status == 5 and "NotAuthorizedException" in result.err, (args, result.err)
    after = json_of(run_inproc("key", "describe", key, "--json"))["KeyMetadata"]
    assert after == meta
