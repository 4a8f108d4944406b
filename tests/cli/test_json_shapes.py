"""Every `--json` document has the response shape of its AWS KMS operation in botocore's model.

Members and types are checked recursively against botocore's KMS service model (the one the AWS
CLI uses): no member that AWS does not have, every required member present, strings, booleans,
integers, Base64 blobs, ISO 8601 timestamps with a zone, and enum values. A new command must be
listed here: with its operation, as a non-AWS document, or as printing nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.cli.test_lifecycle_json import LIFECYCLE_CASES, LIFECYCLE_SILENT
from tests.conftest import Runner

MODEL = botocore.session.get_session().get_service_model("kms")


def check_shape(value: Any, shape: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{where}: expected an object"
        unknown = set(value) - set(shape.members)
        assert not unknown, f"{where}: members AWS does not have: {sorted(unknown)}"
        missing = set(shape.required_members) - set(value)
        assert not missing, f"{where}: required members missing: {sorted(missing)}"
        for name, member in value.items():
            check_shape(member, shape.members[name], f"{where}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{where}: expected a list"
        for index, item in enumerate(value):
            check_shape(item, shape.member, f"{where}[{index}]")
    elif kind == "map":
        assert isinstance(value, dict), f"{where}: expected a map"
        for key, item in value.items():
            check_shape(key, shape.key, f"{where} key")
            check_shape(item, shape.value, f"{where}[{key}]")
    elif kind == "string":
        assert isinstance(value, str), f"{where}: expected a string"
        if shape.enum:
            assert value in shape.enum, f"{where}: {value!r} not in {shape.enum}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{where}: expected a boolean"
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: expected int"
    elif kind == "timestamp":
        assert isinstance(value, str), f"{where}: expected an ISO 8601 string"
        assert datetime.fromisoformat(value).tzinfo is not None, f"{where}: no zone in {value}"
    elif kind == "blob":
        assert isinstance(value, str), f"{where}: expected Base64"
        base64.b64decode(value, validate=True)
    else:  # pragma: no cover - the KMS model has no other kinds
        raise AssertionError(f"{where}: unexpected shape kind {kind}")


def assert_matches(output: str, operation: str) -> dict[str, Any]:
    document = json.loads(output)
    check_shape(document, MODEL.operation_model(operation).output_shape, operation)
    return document  # type: ignore[no-any-return]


Setup = Callable[[Runner, Path], list[str]]


def _no_args(*_made: object) -> list[str]:
    """For setups that only create something first (a key to list)."""
    return []


def _key(run: Runner, _tmp: Path) -> str:
    return run("key", "create", "--alias", "alias/shape", "--tag", "t=v").out.strip()


def _blob(run: Runner, tmp: Path) -> str:
    key = _key(run, tmp)
    assert (
        run("encrypt", "--direct", "-k", key, "-c", "a=b", "-o", "b.blob", input=b"x").status == 0
    )
    return "b.blob"


def _account(run: Runner) -> str:
    return str(json.loads(run("keyring", "status", "--json").out)["AccountId"])


def _granted(run: Runner, tmp: Path) -> str:
    key = _key(run, tmp)
    user = f"arn:aws:iam::{_account(run)}:user/x"
    args = ["--grantee", user, "--operations", "Encrypt", "--retiring", user, "--name", "g"]
    assert run("policy", "grant", "create", key, *args, "--context-subset", "a=b").status == 0
    return key


def _asym(run: Runner, spec: str, usage: str) -> str:
    return run("key", "create", "--key-spec", spec, "--key-usage", usage).out.strip()


def _file(tmp: Path, data: bytes) -> str:
    path = tmp / "input.bin"
    path.write_bytes(data)
    return str(path)


def _signed(run: Runner, tmp: Path) -> list[str]:
    key = _asym(run, "ECC_NIST_P256", "SIGN_VERIFY")
    (tmp / "m").write_bytes(b"plaintext")
    assert run("sign", str(tmp / "m"), "-k", key, "-o", str(tmp / "m.sig")).status == 0
    return [str(tmp / "m"), "-k", key, "--signature", str(tmp / "m.sig")]


def _maced(run: Runner, tmp: Path) -> list[str]:
    key = _asym(run, "HMAC_256", "GENERATE_VERIFY_MAC")
    (tmp / "m").write_bytes(b"plaintext")
    assert run("mac", "generate", str(tmp / "m"), "-k", key, "-o", str(tmp / "m.mac")).status == 0
    return [str(tmp / "m"), "-k", key, "--mac", str(tmp / "m.mac")]


def _peer(run: Runner, tmp: Path) -> list[str]:
    key = _asym(run, "ECC_NIST_P256", "KEY_AGREEMENT")
    other = _asym(run, "ECC_NIST_P256", "KEY_AGREEMENT")
    assert run("key", "public-key", other, "-o", str(tmp / "peer.der")).status == 0
    return [key, "--public-key", str(tmp / "peer.der")]


CASES: dict[tuple[str, ...], tuple[str, Setup]] = {
    ("sign",): ("Sign", lambda r, t: ["-", "-k", _asym(r, "ECC_NIST_P256", "SIGN_VERIFY")]),
    ("verify",): ("Verify", _signed),
    ("key", "public-key"): (
        "GetPublicKey",
        lambda r, t: [_asym(r, "RSA_2048", "ENCRYPT_DECRYPT")],
    ),
    ("mac", "generate"): (
        "GenerateMac",
        lambda r, t: ["-", "-k", _asym(r, "HMAC_256", "GENERATE_VERIFY_MAC")],
    ),
    ("mac", "verify"): ("VerifyMac", _maced),
    ("datakey", "pair"): (
        "GenerateDataKeyPair",
        lambda r, t: ["-k", _key(r, t), "--key-pair-spec", "ECC_NIST_P256", "-c", "a=b"],
    ),
    ("key", "derive-shared-secret"): ("DeriveSharedSecret", _peer),
    ("key", "create"): ("CreateKey", lambda r, t: ["--description", "d", "--tag", "a=b"]),
    ("key", "describe"): ("DescribeKey", lambda r, t: [_key(r, t)]),
    ("key", "list"): ("ListKeys", lambda r, t: _no_args(_key(r, t))),
    ("alias", "list"): ("ListAliases", lambda r, t: _no_args(_key(r, t))),
    ("policy", "get"): ("GetKeyPolicy", lambda r, t: [_key(r, t)]),
    ("policy", "list"): ("ListKeyPolicies", lambda r, t: [_key(r, t)]),
    ("datakey", "generate"): ("GenerateDataKey", lambda r, t: ["-k", _key(r, t), "-c", "a=b"]),
    ("datakey", "decrypt"): ("Decrypt", lambda r, t: [_blob(r, t), "-c", "a=b"]),
    ("random",): ("GenerateRandom", lambda r, t: [*_no_args(_key(r, t)), "--bytes", "16"]),
    ("encrypt",): ("Encrypt", lambda r, t: ["--direct", "-k", _key(r, t), "-"]),
    ("decrypt",): ("Decrypt", lambda r, t: ["-c", "a=b", _blob(r, t), "-o", "-"]),
    ("policy", "grant", "create"): (
        "CreateGrant",
        lambda r, t: [
            _key(r, t),
            "--grantee",
            "arn:aws:iam::123456789012:user/x",
            "--operations",
            "Encrypt",
        ],
    ),
    ("policy", "grant", "list"): ("ListGrants", lambda r, t: [_granted(r, t)]),
    ("policy", "grant", "list-retirable"): (
        "ListRetirableGrants",
        lambda r, t: [*_no_args(_granted(r, t)), f"arn:aws:iam::{_account(r)}:user/x"],
    ),
}
EXTRA_CASES: list[tuple[tuple[str, ...], str, Setup]] = [
    (
        ("datakey", "generate"),
        "GenerateDataKeyWithoutPlaintext",
        lambda r, t: ["-k", _key(r, t), "--no-plaintext"],
    ),
    (("alias", "list"), "ListAliases", lambda r, t: ["--key", _key(r, t)]),
    (
        ("datakey", "pair"),
        "GenerateDataKeyPairWithoutPlaintext",
        lambda r, t: ["-k", _key(r, t), "--key-pair-spec", "RSA_2048", "--no-plaintext"],
    ),
    (
        ("key", "describe"),
        "DescribeKey",
        lambda r, t: [_asym(r, "ECC_NIST_P384", "KEY_AGREEMENT")],
    ),
    (
        ("key", "describe"),
        "DescribeKey",
        lambda r, t: [_asym(r, "HMAC_512", "GENERATE_VERIFY_MAC")],
    ),
    (
        ("encrypt",),
        "Encrypt",
        lambda r, t: [
            "--direct",
            "-k",
            _asym(r, "RSA_2048", "ENCRYPT_DECRYPT"),
            "--encryption-algorithm",
            "RSAES_OAEP_SHA_256",
            "-o",
            "-",
            _file(t, b"secret"),
        ],
    ),
]
# Commands whose --json document is kmscli's own (no AWS operation matches them).
OWN_DOCUMENTS = {
    ("keyring", "init"),
    ("keyring", "status"),
    ("keyring", "verify"),
    ("keyring", "backup"),
    ("keyring", "restore"),
    ("inspect",),
    ("policy", "validate"),
    ("policy", "simulate"),
    ("audit",),
    # IAM's GetUserPolicy/ListUserPolicies shapes, not KMS's.
    ("policy", "identity", "get"),
    ("policy", "identity", "list"),
    # IAM's CreateAccessKey/ListAccessKeys shapes (plus PrincipalArn); serve prints its URL.
    ("principal", "access-key", "create"),
    ("principal", "access-key", "list"),
    ("serve",),
}
# Commands that print nothing on success, as the AWS CLI for the same operations.
SILENT = {
    ("key", "enable"),
    ("key", "disable"),
    ("key", "update-description"),
    ("alias", "create"),
    ("alias", "update"),
    ("alias", "delete"),
    ("policy", "put"),
    ("policy", "identity", "put"),
    ("policy", "identity", "delete"),
    ("policy", "grant", "retire"),
    ("policy", "grant", "revoke"),
    ("principal", "access-key", "delete"),
}
CASES.update(LIFECYCLE_CASES)  # rotation, deletion, tags, multi-Region, import, reencrypt
SILENT |= LIFECYCLE_SILENT


def _commands() -> list[tuple[str, ...]]:
    import click

    from kmscli.cli.commands import cli

    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            else:
                found.append((*path, name))

    walk(cli, ())
    return sorted(found)


def test_every_command_is_classified() -> None:
    classified = set(CASES) | OWN_DOCUMENTS | SILENT
    unclassified = [" ".join(p) for p in _commands() if p not in classified]
    assert not unclassified, f"list these commands in {__file__}: {unclassified}"


@pytest.mark.parametrize("path", sorted(CASES), ids=" ".join)
def test_json_matches_botocore(run_inproc: Runner, tmp_path: Path, path: tuple[str, ...]) -> None:
    operation, setup = CASES[path]
    args = setup(run_inproc, tmp_path)
    result = run_inproc(*path, *args, "--json", input=b"plaintext")
    assert result.status == 0, result.err
    assert_matches(result.out, operation)


@pytest.mark.parametrize(
    ("path", "operation", "setup"), EXTRA_CASES, ids=[c[1] for c in EXTRA_CASES]
)
def test_json_variants_match_botocore(
    run_inproc: Runner, tmp_path: Path, path: tuple[str, ...], operation: str, setup: Setup
) -> None:
    result = run_inproc(*path, *setup(run_inproc, tmp_path), "--json")
    assert result.status == 0, result.err
    assert_matches(result.out, operation)


def test_the_checker_can_fail() -> None:
    with pytest.raises(AssertionError, match="members AWS does not have"):
        assert_matches('{"KeyMetadata": {"KeyId": "x", "Colour": "red"}}', "DescribeKey")
    with pytest.raises(AssertionError, match="expected a boolean"):
        assert_matches('{"KeyMetadata": {"KeyId": "x", "Enabled": "yes"}}', "DescribeKey")
    with pytest.raises(AssertionError, match="not in"):
        assert_matches('{"KeyMetadata": {"KeyId": "x", "KeyState": "Asleep"}}', "DescribeKey")
    with pytest.raises(AssertionError, match="required members missing"):
        assert_matches('{"KeyMetadata": {"Arn": "x"}}', "DescribeKey")
