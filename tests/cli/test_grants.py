"""Grants through the command line: create, list, use, constrain, retire, revoke, tokens, limits.

The key policy is the default one throughout (it trusts only the account), so whatever a
grantee can do here it can do because of its grant.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.cli.authz_world import (
    ALICE,
    B_ENGINEERING,
    B_ENGINEERING_SESSION,
    BOB,
    ROOT_B,
    A,
    B,
    World,
    iam,
    iam_allow,
)
from tests.conftest import Result

GRANT_ID = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def key_id(world: World) -> str:
    return world.create_key()


def grant(
    world: World, key: str, grantee: str, operations: str, *args: str, caller: str | None = None
) -> dict[str, Any]:
    result = world.ok(
        "policy",
        "grant",
        "create",
        key,
        "--grantee",
        grantee,
        "--operations",
        operations,
        *args,
        "--json",
        caller=caller,
    )
    document: dict[str, Any] = json.loads(result.out)
    return document


def encrypt(world: World, key: str, caller: str, *args: str) -> Result:
    return world.kmscli(
        "encrypt", "--direct", "-k", key, *args, "-o", "-", "-", caller=caller, input=b"data"
    )


def listing(world: World, key: str, *args: str, caller: str | None = None) -> dict[str, Any]:
    result = world.ok("policy", "grant", "list", key, "--json", *args, caller=caller)
    document: dict[str, Any] = json.loads(result.out)
    return document


def test_create_prints_the_grant_id_and_json_gives_the_token(world: World, key_id: str) -> None:
    text = world.ok(
        "policy", "grant", "create", key_id, "--grantee", BOB, "--operations", "Encrypt"
    )
    assert GRANT_ID.match(text.out.strip())
    document = grant(world, key_id, BOB, "Encrypt")
    assert set(document) == {"GrantId", "GrantToken"}
    assert GRANT_ID.match(document["GrantId"]) and document["GrantToken"]
    assert document["GrantId"] != text.out.strip()


def test_the_grantee_may_do_exactly_what_the_grant_lists(world: World, key_id: str) -> None:
    arn = world.arn(key_id)
    assert encrypt(world, arn, BOB).status == 5
    grant(world, key_id, BOB, "Encrypt,DescribeKey")
    assert encrypt(world, arn, BOB).status == 0
    assert world.kmscli("key", "describe", arn, caller=BOB).status == 0
    generate = world.kmscli("datakey", "generate", "-k", arn, "--no-plaintext", caller=BOB)
    assert generate.status == 5 and "kms:GenerateDataKeyWithoutPlaintext" in generate.err
    assert world.kmscli("key", "disable", arn, caller=BOB).status == 5
    assert encrypt(world, arn, ALICE).status == 5, "a grant is for its grantee only"


def test_list_grants_shape(world: World, key_id: str) -> None:
    first = grant(
        world,
        key_id,
        BOB,
        "Decrypt,Encrypt",
        "--retiring",
        ALICE,
        "--name",
        "bob-1",
        "--context-subset",
        "project=apollo",
    )
    second = grant(world, key_id, ALICE, "DescribeKey")
    document = listing(world, key_id)
    assert document["Truncated"] is False
    entries = {g["GrantId"]: g for g in document["Grants"]}
    assert set(entries) == {first["GrantId"], second["GrantId"]}
    one = entries[first["GrantId"]]
    assert one["KeyId"] == world.arn(key_id)
    assert one["Name"] == "bob-1"
    assert one["GranteePrincipal"] == BOB and one["RetiringPrincipal"] == ALICE
    assert one["IssuingAccount"] == f"arn:aws:iam::{A}:root"
    assert one["Operations"] == ["Decrypt", "Encrypt"]
    assert one["Constraints"] == {"EncryptionContextSubset": {"project": "apollo"}}
    assert "T" in one["CreationDate"] and "+00:00" in one["CreationDate"]
    other = entries[second["GrantId"]]
    assert "Name" not in other and "RetiringPrincipal" not in other and "Constraints" not in other
    only = listing(world, key_id, "--grantee", ALICE)["Grants"]
    assert [g["GrantId"] for g in only] == [second["GrantId"]]
    by_id = listing(world, key_id, "--grant-id", first["GrantId"])["Grants"]
    assert [g["GrantId"] for g in by_id] == [first["GrantId"]]
    table = world.ok("policy", "grant", "list", key_id).out.splitlines()
    assert table[0].split("\t")[0] == "GrantId" and len(table) == 3


def test_list_grants_pages(world: World, key_id: str) -> None:
    ids = [grant(world, key_id, BOB, "Encrypt")["GrantId"] for _ in range(3)]
    page = listing(world, key_id, "--limit", "2")
    assert page["Truncated"] is True and len(page["Grants"]) == 2
    rest = listing(world, key_id, "--limit", "2", "--marker", page["NextMarker"])
    assert rest["Truncated"] is False and "NextMarker" not in rest
    assert sorted(g["GrantId"] for g in page["Grants"] + rest["Grants"]) == sorted(ids)
    assert len(listing(world, key_id)["Grants"]) == 3
    bad = world.kmscli("policy", "grant", "list", key_id, "--marker", "nope")
    assert bad.status == 2 and "InvalidMarkerException" in bad.err
    assert world.kmscli("policy", "grant", "list", key_id, "--limit", "101").status == 2


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--operations", "Encrypt,Fly"], "ValidationException"),
        (["--operations", "Sign"], "ValidationException"),
        (["--operations", "GenerateMac"], "ValidationException"),
        (["--operations", "Encrypt", "--name", "bad name"], "ValidationException"),
        (["--operations", "Encrypt", "--name", "x" * 257], "ValidationException"),
        (["--operations", "Encrypt", "--grantee", "bob"], "ValidationException"),
        (["--operations", "Encrypt", "--retiring", "arn:aws:iam::1:user/x"], "ValidationException"),
        (
            [
                "--operations",
                "Encrypt",
                *[a for n in range(9) for a in ("--context-equals", f"k{n}=v")],
            ],
            "ValidationException",
        ),
        (["--operations", "Encrypt", "--context-subset", "k=" + "v" * 385], "ValidationException"),
        (
            ["--operations", "Encrypt", "--context-subset", "a=b", "--context-equals", "a=b"],
            "UsageError",
        ),
    ],
)
def test_create_grant_validation(world: World, key_id: str, args: list[str], code: str) -> None:
    if "--grantee" not in args:
        args = ["--grantee", BOB, *args]
    result = world.kmscli("policy", "grant", "create", key_id, *args)
    assert result.status == 2 and code in result.err, result.err
    assert listing(world, key_id)["Grants"] == []


def test_context_equals_is_exact(world: World, key_id: str) -> None:
    arn = world.arn(key_id)
    grant(world, key_id, BOB, "Encrypt,DescribeKey", "--context-equals", "project=apollo")
    assert encrypt(world, arn, BOB, "-c", "project=apollo").status == 0
    assert encrypt(world, arn, BOB, "-c", "project=apollo", "-c", "x=y").status == 5
    assert encrypt(world, arn, BOB, "-c", "project=Apollo").status == 5
    assert encrypt(world, arn, BOB).status == 5
    # Constraints do not apply to DescribeKey.
    assert world.kmscli("key", "describe", arn, caller=BOB).status == 0


def test_context_subset_allows_more_pairs(world: World, key_id: str) -> None:
    arn = world.arn(key_id)
    grant(world, key_id, BOB, "Encrypt", "--context-subset", "project=apollo")
    assert encrypt(world, arn, BOB, "-c", "project=apollo", "-c", "x=y").status == 0
    assert encrypt(world, arn, BOB, "-c", "x=y").status == 5


def test_a_grant_to_the_account_reaches_principals_through_iam(world: World, key_id: str) -> None:
    arn = world.arn(key_id)
    world.put_key_policy(
        key_id,
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{A}:user/admin"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
    )
    world.ok(
        "policy",
        "grant",
        "create",
        key_id,
        "--grantee",
        f"arn:aws:iam::{A}:root",
        "--operations",
        "Encrypt",
        caller=f"arn:aws:iam::{A}:user/admin",
    )
    assert encrypt(world, arn, ALICE).status == 5
    world.put_identity(ALICE, iam(iam_allow("kms:Encrypt")))
    assert encrypt(world, arn, ALICE).status == 0


def test_name_makes_create_grant_idempotent(world: World, key_id: str) -> None:
    args = ["--name", "retry-me", "--context-equals", "a=b"]
    first = grant(world, key_id, BOB, "Encrypt,Decrypt", *args)
    again = grant(world, key_id, BOB, "Decrypt,Encrypt", *args)
    assert again["GrantId"] == first["GrantId"]
    assert again["GrantToken"] != first["GrantToken"]
    for token in (first["GrantToken"], again["GrantToken"]):
        assert world.kmscli("key", "describe", key_id, "--grant-token", token).status == 0
    changed = grant(world, key_id, BOB, "Encrypt", *args)
    assert changed["GrantId"] != first["GrantId"]
    unnamed = [grant(world, key_id, BOB, "Encrypt")["GrantId"] for _ in range(2)]
    assert unnamed[0] != unnamed[1]
    assert len(listing(world, key_id)["Grants"]) == 4


def test_grant_tokens_are_checked_wherever_they_are_accepted(
    world: World, key_id: str, tmp_path: Path
) -> None:
    arn = world.arn(key_id)
    token = grant(
        world,
        key_id,
        BOB,
        "Encrypt,Decrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext,DescribeKey,CreateGrant",
    )["GrantToken"]
    blob = world.blob(key_id)
    (tmp_path / "plain.txt").write_text("hello")
    uses = [
        ["encrypt", "--direct", "-k", arn, "-o", "-", "-"],
        ["encrypt", "-f", "-k", arn, "-o", str(tmp_path / "p.kms"), str(tmp_path / "plain.txt")],
        ["decrypt", "-o", "-", blob],
        ["datakey", "generate", "-k", arn, "--no-plaintext"],
        ["datakey", "decrypt", "-f", blob, "-o", str(tmp_path / "dk")],
        ["key", "describe", arn],
        ["policy", "grant", "create", arn, "--grantee", ALICE, "--operations", "Encrypt"],
    ]
    for args in uses:
        good = world.kmscli(*args, "--grant-token", token, caller=BOB, input=b"x")
        assert good.status == 0, (args, good.err)
        bad = world.kmscli(*args, "--grant-token", token[:-4] + "AAAA", caller=BOB, input=b"x")
        assert bad.status == 2 and "InvalidGrantTokenException" in bad.err, (args, bad.err)
    too_many = world.kmscli(
        "key", "describe", arn, *[a for _ in range(11) for a in ("--grant-token", token)]
    )
    assert too_many.status == 2 and "ValidationException" in too_many.err


def test_a_token_dies_with_its_grant(world: World, key_id: str) -> None:
    document = grant(world, key_id, BOB, "Encrypt")
    world.ok("policy", "grant", "revoke", key_id, document["GrantId"])
    result = world.kmscli("key", "describe", key_id, "--grant-token", document["GrantToken"])
    assert result.status == 2 and "InvalidGrantTokenException" in result.err


def test_a_grant_derived_create_grant_may_only_narrow(world: World, key_id: str) -> None:
    grant(world, key_id, BOB, "CreateGrant,Decrypt,Encrypt", "--context-equals", "a=b")

    def derived(*args: str) -> int:
        return world.kmscli(
            "policy", "grant", "create", world.arn(key_id), "--grantee", ALICE, *args, caller=BOB
        ).status

    assert derived("--operations", "Decrypt", "--context-equals", "a=b") == 0
    assert derived("--operations", "Decrypt,Encrypt", "--context-equals", "a=b") == 0
    assert derived("--operations", "Decrypt,ReEncryptFrom", "--context-equals", "a=b") == 5
    assert derived("--operations", "Decrypt", "--context-equals", "a=c") == 5
    assert derived("--operations", "Decrypt", "--context-subset", "a=b") == 5
    assert derived("--operations", "Decrypt") == 5


def test_subset_parent_allows_equal_or_stricter_children(world: World, key_id: str) -> None:
    grant(world, key_id, BOB, "CreateGrant,Encrypt", "--context-subset", "a=b")

    def derived(*args: str) -> int:
        return world.kmscli(
            "policy",
            "grant",
            "create",
            world.arn(key_id),
            "--grantee",
            ALICE,
            "--operations",
            "Encrypt",
            *args,
            caller=BOB,
        ).status

    assert derived("--context-subset", "a=b", "--context-subset", "c=d") == 0
    assert derived("--context-equals", "a=b") == 0
    assert derived("--context-subset", "c=d") == 5
    assert derived() == 5


@pytest.mark.parametrize(
    ("retirer", "operations", "allowed"),
    [
        ("retiring", "Encrypt", True),
        ("grantee", "Encrypt,RetireGrant", True),
        ("grantee", "Encrypt", False),
        ("issuer", "Encrypt", True),
        ("stranger", "Encrypt", False),
    ],
)
def test_who_may_retire(
    world: World, key_id: str, retirer: str, operations: str, allowed: bool
) -> None:
    stranger = f"arn:aws:iam::{A}:user/carol"
    document = grant(world, key_id, BOB, operations, "--retiring", ALICE)
    caller = {
        "retiring": ALICE,
        "grantee": BOB,
        "issuer": f"arn:aws:iam::{A}:root",
        "stranger": stranger,
    }[retirer]
    result = world.kmscli(
        "policy", "grant", "retire", world.arn(key_id), document["GrantId"], caller=caller
    )
    assert result.status == (0 if allowed else 5), result.err
    assert (listing(world, key_id)["Grants"] == []) == allowed


def test_retire_by_token_alone(world: World, key_id: str) -> None:
    document = grant(world, key_id, BOB, "Encrypt", "--retiring", ALICE)
    result = world.kmscli(
        "policy", "grant", "retire", "--token", document["GrantToken"], caller=ALICE
    )
    assert result.status == 0, result.err
    assert listing(world, key_id)["Grants"] == []
    again = world.kmscli(
        "policy", "grant", "retire", "--token", document["GrantToken"], caller=ALICE
    )
    assert again.status == 2 and "InvalidGrantTokenException" in again.err


def test_retire_needs_the_key_arn_and_a_well_formed_id(world: World, key_id: str) -> None:
    document = grant(world, key_id, BOB, "Encrypt")
    by_id = world.kmscli("policy", "grant", "retire", key_id, document["GrantId"])
    assert by_id.status == 2 and "InvalidArnException" in by_id.err
    bad = world.kmscli("policy", "grant", "retire", world.arn(key_id), "xyz")
    assert bad.status == 2 and "InvalidGrantIdException" in bad.err
    missing = world.kmscli("policy", "grant", "retire", world.arn(key_id), "0" * 64)
    assert missing.status == 3 and "NotFoundException" in missing.err
    assert world.kmscli("policy", "grant", "retire").status == 2


def test_revoke_needs_kms_revoke_grant(world: World, key_id: str) -> None:
    document = grant(world, key_id, BOB, "Encrypt,RetireGrant")
    denied = world.kmscli("policy", "grant", "revoke", key_id, document["GrantId"], caller=BOB)
    assert denied.status == 5 and "kms:RevokeGrant" in denied.err
    world.put_identity(ALICE, iam(iam_allow("kms:RevokeGrant", "{KEY_ARN}")), key_id=key_id)
    assert (
        world.kmscli("policy", "grant", "revoke", key_id, document["GrantId"], caller=ALICE).status
        == 0
    )
    assert encrypt(world, world.arn(key_id), BOB).status == 5
    again = world.kmscli("policy", "grant", "revoke", key_id, document["GrantId"])
    assert again.status == 3
    malformed = world.kmscli("policy", "grant", "revoke", key_id, "G")
    assert malformed.status == 2 and "InvalidGrantIdException" in malformed.err


def test_list_retirable_grants(world: World, key_id: str) -> None:
    other = world.create_key()
    mine = grant(world, key_id, BOB, "Encrypt", "--retiring", ALICE)["GrantId"]
    theirs = grant(world, other, BOB, "Decrypt", "--retiring", ALICE)["GrantId"]
    grant(world, key_id, BOB, "Encrypt", "--retiring", BOB)
    document = json.loads(world.ok("policy", "grant", "list-retirable", ALICE, "--json").out)
    assert sorted(g["GrantId"] for g in document["Grants"]) == sorted([mine, theirs])
    assert document["Truncated"] is False
    denied = world.kmscli("policy", "grant", "list-retirable", ALICE, caller=BOB)
    assert denied.status == 5 and "kms:ListRetirableGrants" in denied.err
    foreign = world.kmscli("policy", "grant", "list-retirable", ALICE, caller=ROOT_B)
    assert foreign.status == 5
    world.put_identity(BOB, iam(iam_allow("kms:ListRetirableGrants")))
    assert world.kmscli("policy", "grant", "list-retirable", ALICE, caller=BOB).status == 0


def test_a_cross_account_grant_works_by_key_arn_only(world: World, key_id: str) -> None:
    arn = world.arn(key_id)
    grant(world, key_id, B_ENGINEERING, "Encrypt,DescribeKey")
    assert encrypt(world, arn, B_ENGINEERING_SESSION).status == 0
    assert world.kmscli("key", "describe", arn, caller=B_ENGINEERING_SESSION).status == 0
    by_id = encrypt(world, key_id, B_ENGINEERING_SESSION)
    assert by_id.status == 3
    assert f"Key 'arn:aws:kms:us-west-2:{B}:key/{key_id}' does not exist" in by_id.err


def test_grant_states(world: World, key_id: str) -> None:
    world.ok("key", "disable", key_id)
    disabled = world.kmscli(
        "policy", "grant", "create", key_id, "--grantee", BOB, "--operations", "Encrypt"
    )
    assert disabled.status == 6 and "DisabledException" in disabled.err
    assert listing(world, key_id)["Grants"] == []


def test_the_grants_per_key_limit(
    world: World, key_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kmscli.kms.grants as grants_module

    monkeypatch.setattr(grants_module, "MAX_GRANTS_PER_KEY", 2)
    grant(world, key_id, BOB, "Encrypt")
    grant(world, key_id, BOB, "Decrypt", "--name", "n")
    again = grant(world, key_id, BOB, "Decrypt", "--name", "n")  # a retry is not a new grant
    assert again["GrantId"]
    third = world.kmscli(
        "policy", "grant", "create", key_id, "--grantee", BOB, "--operations", "Encrypt"
    )
    assert third.status == 2 and "LimitExceededException" in third.err


def test_grants_in_the_audit_trail_keep_no_token(world: World, key_id: str) -> None:
    document = grant(world, key_id, BOB, "Encrypt", "--context-equals", "a=b")
    world.ok("key", "describe", key_id, "--grant-token", document["GrantToken"])
    world.ok("policy", "grant", "retire", "--token", document["GrantToken"])
    events = world.audit("--key", key_id)
    names = [e["eventName"] for e in events]
    assert names[-3:] == ["CreateGrant", "DescribeKey", "RetireGrant"]
    created = events[-3]
    assert created["requestParameters"]["constraints"] == {"encryptionContextEquals": {"a": "b"}}
    assert created["responseElements"] == {"grantId": document["GrantId"]}
    log = (world.tmp / "keyring" / "audit" / "log").read_text()
    assert document["GrantToken"] not in log


@pytest.mark.parametrize(
    ("key_spec", "key_usage", "operations", "valid"),
    [
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", ["GenerateDataKeyPair", "ReEncryptTo"], True),
        ("RSA_2048", "ENCRYPT_DECRYPT", ["Encrypt", "Decrypt", "GetPublicKey"], True),
        ("RSA_2048", "ENCRYPT_DECRYPT", ["GenerateDataKey"], False),
        ("RSA_2048", "SIGN_VERIFY", ["Sign", "Verify", "DescribeKey", "RetireGrant"], True),
        ("RSA_2048", "SIGN_VERIFY", ["Encrypt"], False),
        ("HMAC_256", "GENERATE_VERIFY_MAC", ["GenerateMac", "VerifyMac", "CreateGrant"], True),
        ("HMAC_256", "GENERATE_VERIFY_MAC", ["Sign"], False),
        ("ECC_NIST_P256", "KEY_AGREEMENT", ["DeriveSharedSecret", "GetPublicKey"], True),
        ("ECC_NIST_P256", "KEY_AGREEMENT", ["Decrypt"], False),
    ],
)
def test_grant_operations_must_suit_the_key(
    key_spec: str, key_usage: str, operations: list[str], valid: bool
) -> None:
    """The rule for key types the CLI cannot create yet, on key records directly."""
    from kmscli.errors import ValidationException
    from kmscli.kms.grants import check_constraints, check_operations
    from kmscli.kms.model import KeyRecord

    key = KeyRecord(
        key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
        region="us-west-2",
        account=A,
        creation_date="2027-01-01T00:00:00+00:00",
        key_spec=key_spec,
        key_usage=key_usage,
    )
    if valid:
        assert check_operations(operations, key) == operations
    else:
        with pytest.raises(ValidationException, match="not valid for"):
            check_operations(operations, key)
    if key_spec != "SYMMETRIC_DEFAULT":
        with pytest.raises(ValidationException, match="only to symmetric"):
            check_constraints(key, {"a": "b"}, None)
