"""The CLI contract with --backend aws, through the real `kmscli` process against a moto server.

Every command that has a KMS operation behind it is run here once at least: its request reaches
the server (moto keeps the state, so a later command sees the effect) and its output has the
local backend's shape. moto checks neither signatures nor policies and skips some key-state
rules, so what is tested here is kmscli's side of the API; the local backend's tests hold the
KMS semantics.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.helpers import ok

ACCOUNT = "123456789012"  # moto's account


def _create(aws: Runner, *args: str) -> str:
    return ok(aws("key", "create", *args)).out.strip()


@pytest.mark.slow
def test_key_lifecycle_through_the_api(aws: Runner) -> None:
    key = _create(aws, "--description", "first", "--tag", "team=storage", "--alias", "alias/app")
    metadata = json.loads(ok(aws("key", "describe", "alias/app", "--json")).out)["KeyMetadata"]
    assert metadata["KeyId"] == key
    assert metadata["Arn"] == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key}"
    assert metadata["Description"] == "first"
    assert metadata["CreationDate"].endswith("+00:00")  # ISO 8601 with zone, as local

    ok(aws("key", "update-description", key, "second"))
    ok(aws("key", "disable", key))
    described = json.loads(ok(aws("key", "describe", key, "--json")).out)["KeyMetadata"]
    assert (described["Description"], described["KeyState"]) == ("second", "Disabled")
    ok(aws("key", "enable", key))

    listed = ok(aws("key", "list")).out
    header, *rows = listed.splitlines()
    assert header.split("\t")[:2] == ["KeyId", "KeyState"]
    row = next(r.split("\t") for r in rows if r.startswith(key))
    assert row[1] == "Enabled" and "alias/app" in row[4] and row[5] == "second"
    assert key in {k["KeyId"] for k in json.loads(ok(aws("key", "list", "--json")).out)["Keys"]}

    ok(aws("key", "tag", key, "env=prod"))
    tags = json.loads(ok(aws("key", "tags", key, "--json")).out)["Tags"]
    assert {t["TagKey"]: t["TagValue"] for t in tags} == {"team": "storage", "env": "prod"}
    ok(aws("key", "untag", key, "team"))
    tags = json.loads(ok(aws("key", "tags", key, "--json")).out)["Tags"]
    assert [t["TagKey"] for t in tags] == ["env"]

    scheduled = aws("key", "schedule-deletion", key, "--days", "7", "--yes", "--json")
    deletion = json.loads(ok(scheduled).out)
    assert deletion["KeyId"].endswith(key)
    state = json.loads(ok(aws("key", "describe", key, "--json")).out)["KeyMetadata"]["KeyState"]
    assert state == "PendingDeletion"
    ok(aws("key", "cancel-deletion", key))
    state = json.loads(ok(aws("key", "describe", key, "--json")).out)["KeyMetadata"]["KeyState"]
    assert state == "Disabled"


def test_aliases(aws: Runner) -> None:
    first, second = _create(aws), _create(aws)
    ok(aws("alias", "create", "alias/team", first))
    aliases = json.loads(ok(aws("alias", "list", "--json")).out)["Aliases"]
    assert {"AliasName": "alias/team", "TargetKeyId": first}.items() <= next(
        a for a in aliases if a["AliasName"] == "alias/team"
    ).items()
    ok(aws("alias", "update", "alias/team", second))
    assert (
        json.loads(ok(aws("key", "describe", "alias/team", "--json")).out)["KeyMetadata"]["KeyId"]
        == second
    )
    ok(aws("alias", "delete", "alias/team"))
    result = aws("key", "describe", "alias/team")
    assert result.status == 3 and "NotFoundException" in result.err


@pytest.mark.slow
def test_key_policy_and_grants(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws)
    assert ok(aws("policy", "list", key)).out.split() == ["default"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "root",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    ok(aws("policy", "put", key, str(tmp_path / "policy.json")))
    assert json.loads(ok(aws("policy", "get", key)).out) == policy

    bob = f"arn:aws:iam::{ACCOUNT}:user/bob"
    grant = ok(
        aws("policy", "grant", "create", key, "--grantee", bob, "--operations", "Decrypt,Encrypt")
    ).out.strip()
    grants = json.loads(ok(aws("policy", "grant", "list", key, "--json")).out)["Grants"]
    assert [(g["GrantId"], g["GranteePrincipal"]) for g in grants] == [(grant, bob)]
    ok(aws("policy", "grant", "revoke", key, grant))
    assert json.loads(ok(aws("policy", "grant", "list", key, "--json")).out)["Grants"] == []


def test_rotation(aws: Runner) -> None:
    key = _create(aws)
    ok(aws("key", "rotation", "enable", key, "--period-days", "90"))
    status = json.loads(ok(aws("key", "rotation", "status", key, "--json")).out)
    assert status["KeyRotationEnabled"] is True
    ok(aws("key", "rotate", key))
    rotations = json.loads(ok(aws("key", "rotation", "list", key, "--json")).out)["Rotations"]
    assert [r["RotationType"] for r in rotations] == ["ON_DEMAND"]
    assert "ON_DEMAND" in ok(aws("key", "rotation", "list", key)).out
    ok(aws("key", "rotation", "disable", key))
    status = json.loads(ok(aws("key", "rotation", "status", key, "--json")).out)
    assert status["KeyRotationEnabled"] is False


def test_multi_region_replica(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws, "--multi-region")
    assert key.startswith("mrk-")
    replica = json.loads(
        ok(aws("key", "replicate", key, "--replica-region", "eu-west-1", "--json")).out
    )["ReplicaKeyMetadata"]
    assert replica["Arn"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{key}"
    described = aws("key", "describe", key, "--json", "--region", "eu-west-1")
    assert json.loads(ok(described).out)["KeyMetadata"]["MultiRegion"] is True


def test_data_keys_and_random(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws)
    generated = json.loads(ok(aws("datakey", "generate", "-k", key, "-c", "a=b", "--json")).out)
    assert len(base64.b64decode(generated["Plaintext"])) == 32
    blob = tmp_path / "dk.blob"
    blob.write_bytes(base64.b64decode(generated["CiphertextBlob"]))
    decrypted = json.loads(ok(aws("datakey", "decrypt", str(blob), "-c", "a=b", "--json")).out)
    assert decrypted["Plaintext"] == generated["Plaintext"]
    random = json.loads(ok(aws("random", "--bytes", "24", "--json")).out)
    assert len(base64.b64decode(random["Plaintext"])) == 24


def test_direct_encrypt_and_decrypt(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"a short secret\n")
    ok(aws("encrypt", "--direct", "-k", key, "-c", "app=x", str(secret), "-o", "s.blob"))
    assert (tmp_path / "s.blob").read_bytes() != secret.read_bytes()
    result = aws("decrypt", "s.blob", "-c", "app=x", "-o", "-")
    assert ok(result).out == "a short secret\n"


@pytest.mark.parametrize("size", [0, 1, 4096, 300_000])
def test_file_round_trip(aws: Runner, tmp_path: Path, size: int) -> None:
    key = _create(aws)
    plain = tmp_path / "data.bin"
    plain.write_bytes(os.urandom(size))
    ok(aws("encrypt", "-k", key, "-c", "project=apollo", str(plain)))
    sealed = tmp_path / "data.bin.kms"
    header = json.loads(ok(aws("inspect", str(sealed), "--json")).out)
    arns = [edk["ProviderInfo"] for edk in header["EncryptedDataKeys"]]
    assert arns == [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{key}"]
    ok(aws("decrypt", str(sealed), "-o", "back.bin", "-c", "project=apollo"))
    assert (tmp_path / "back.bin").read_bytes() == plain.read_bytes()


def test_file_under_two_keys_decrypts_with_either(aws: Runner, tmp_path: Path) -> None:
    first, second = _create(aws), _create(aws)
    (tmp_path / "f").write_bytes(b"two keys")
    ok(aws("encrypt", "-k", first, "-k", second, "f"))
    ok(aws("key", "disable", first))
    ok(aws("decrypt", "f.kms", "-k", second, "-o", "out"))
    assert (tmp_path / "out").read_bytes() == b"two keys"


def test_stdin_to_stdout(aws: Runner) -> None:
    key = _create(aws)
    sealed = aws("encrypt", "-k", key, input=b"from a pipe")
    assert sealed.status == 0, sealed.err
    assert aws("decrypt", input=sealed.stdout).stdout == b"from a pipe"


def test_many_files_concurrently_keep_order_and_report_failures(
    aws: Runner, tmp_path: Path
) -> None:
    key = _create(aws)
    names = [f"f{i:03}" for i in range(40)]
    for name in names:
        (tmp_path / name).write_bytes(name.encode() * 10)
    (tmp_path / "out").mkdir()
    result = aws("encrypt", "-k", key, "-o", "out", *names, "missing", "--json")
    assert result.status == 10
    assert "missing" in result.err
    files = json.loads(result.out)["Files"]
    assert [Path(f["Input"]).name for f in files] == names
    (tmp_path / "plain").mkdir()
    sealed = [f"out/{name}.kms" for name in names]
    ok(aws("decrypt", "-o", "plain", *sealed, env={"KMSCLI_MAX_CONCURRENCY": "7"}))
    for name in names:
        assert (tmp_path / "plain" / name).read_bytes() == name.encode() * 10


def test_sign_verify_and_public_key(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws, "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")
    message = tmp_path / "m"
    message.write_bytes(b"signed words")
    ok(aws("sign", "-k", key, str(message), "-o", "m.sig"))
    ok(aws("verify", "-k", key, str(message), "--signature", "m.sig"))
    big = tmp_path / "big"
    big.write_bytes(os.urandom(100_000))  # over 4096 bytes: signed as its digest
    ok(aws("sign", "-k", key, str(big), "-o", "big.sig"))
    ok(aws("verify", "-k", key, str(big), "--signature", "big.sig"))
    pem = ok(aws("key", "public-key", key, "--pem")).out
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_mac(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws, "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC")
    (tmp_path / "m").write_bytes(b"mac me")
    ok(aws("mac", "generate", "-k", key, "m", "-o", "m.mac"))
    assert len((tmp_path / "m.mac").read_bytes()) == 32
    ok(aws("mac", "verify", "-k", key, "m", "--mac", "m.mac"))


def test_a_server_error_page_is_reported_by_its_status(aws: Runner) -> None:
    # moto answers GetParametersForImport with an HTML error page (HTTP 500).
    key = _create(aws, "--origin", "EXTERNAL")
    result = aws("key", "import-parameters", key, "--out-dir", ".", env={"AWS_MAX_ATTEMPTS": "1"})
    assert result.status == 10
    assert "HTTP 500" in result.err and "<html" not in result.err.lower()


def test_encrypt_needs_a_key(aws: Runner, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    result = aws("encrypt", "f")
    assert result.status == 2 and "give -k KEY" in result.err
    key = _create(aws)
    assert aws("encrypt", "f", env={"KMSCLI_KEY": key}).status == 0


def test_inspect_an_aws_blob(aws: Runner, tmp_path: Path) -> None:
    key = _create(aws)
    assert aws("encrypt", "--direct", "-k", key, "-o", "b", input=b"x").status == 0
    document = json.loads(ok(aws("inspect", "b", "--json")).out)
    assert document["Format"] == "AWS KMS ciphertext blob"
    assert document["Bytes"] == (tmp_path / "b").stat().st_size


def test_plain_text_is_not_a_blob(aws: Runner, tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"just text\n" * 1000)
    result = aws("decrypt", "big.txt", "-o", "-")
    assert result.status == 8


@pytest.mark.slow
def test_reencrypt_a_blob_and_a_message(aws: Runner, tmp_path: Path) -> None:
    old, new = _create(aws), _create(aws)
    assert aws("encrypt", "--direct", "-k", old, "-o", "b", input=b"blob").status == 0
    (tmp_path / "m").write_bytes(b"message" * 1000)
    assert aws("encrypt", "-k", old, "m").status == 0
    ok(aws("reencrypt", "-k", new, "b", "m.kms"))
    ok(aws("key", "disable", old))
    assert aws("decrypt", "b", "-o", "-", "-k", new).stdout == b"blob"
    assert aws("decrypt", "m.kms", "-o", "-", "-k", new).stdout == b"message" * 1000


def test_the_region_of_the_aws_config_file_is_used(aws: Runner, tmp_path: Path) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[default]\nregion = eu-north-1\n")
    created = aws("key", "create", "--json", env={"AWS_CONFIG_FILE": str(config)})
    assert json.loads(ok(created).out)["KeyMetadata"]["Arn"].startswith("arn:aws:kms:eu-north-1:")
    explicit = aws(
        "key", "create", "--json", "--region", "ap-south-1", env={"AWS_CONFIG_FILE": str(config)}
    )
    assert ":ap-south-1:" in json.loads(ok(explicit).out)["KeyMetadata"]["Arn"]
