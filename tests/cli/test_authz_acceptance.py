"""The authorization acceptance scenarios of kms-behaviour.md §4.7, through the command line.

Account A (111122223333) owns key K in us-west-2; B is 444455556666. Each row sets K's key
policy (`policy put`), the callers' identity policies (`policy identity put`, by the root of the
caller's account), then performs the request as the caller (`--as`) with the key ARN, and checks
the exit status and, for a refusal, AWS's AccessDeniedException wording. Rows whose request
cannot be made by a real command (a call through EC2, an RSA algorithm) use `policy simulate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cli.authz_world import (
    ADMIN,
    ALICE,
    B_ENGINEERING,
    B_ENGINEERING_SESSION,
    DEFAULT_STATEMENT,
    ENCRYPTION_APP,
    ENCRYPTION_APP_SESSION,
    EXAMPLE_ROLE,
    R_ROLE,
    R_SESSION,
    ROOT_B,
    World,
    allow,
    deny,
    iam,
    iam_allow,
    iam_deny,
    key_policy,
)
from tests.conftest import Result, Runner

USE = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]
ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
]
VIA_EC2 = {
    "StringEquals": {
        "kms:CallerAccount": "111122223333",
        "kms:ViaService": "ec2.us-west-2.amazonaws.com",
    }
}
APP_CONTEXT = {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}

NO_IDENTITY = "because no identity-based policy allows the kms:"
NO_RESOURCE = "because no resource-based policy allows the kms:"
IDENTITY_DENY = "with an explicit deny in an identity-based policy"
RESOURCE_DENY = "with an explicit deny in a resource-based policy"


@dataclass(frozen=True)
class Row:
    number: str
    policy: dict[str, Any] | None
    """None: the default key policy."""
    identity: tuple[tuple[str, dict[str, Any]], ...]
    caller: str
    request: str
    """An operation name: Encrypt, Decrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext,
    ScheduleKeyDeletion, CreateAlias."""
    expected: int
    why: str
    context: dict[str, str] = field(default_factory=dict)
    denial: str = ""


ROWS = [
    Row("1", None, (), ALICE, "Encrypt", 5, "nothing allows", denial=NO_IDENTITY),
    Row(
        "2",
        None,
        ((ALICE, iam(iam_allow("kms:Encrypt", "{KEY_ARN}"))),),
        ALICE,
        "Encrypt",
        0,
        "account delegated + IAM allow",
    ),
    Row(
        "3",
        key_policy(allow("arn:aws:iam::111122223333:role/App", "kms:*")),
        ((ALICE, iam(iam_allow("kms:*"))),),
        ALICE,
        "Encrypt",
        5,
        "IAM allows are ignored without the account principal",
        denial=NO_RESOURCE,
    ),
    Row(
        "4",
        key_policy(allow(ALICE, "kms:Decrypt")),
        ((ALICE, iam(iam_deny("kms:Decrypt"))),),
        ALICE,
        "Decrypt",
        5,
        "an IAM deny still counts",
        denial=IDENTITY_DENY,
    ),
    Row(
        "4-control",
        key_policy(allow(ALICE, "kms:Decrypt")),
        (),
        ALICE,
        "Decrypt",
        0,
        "the key policy names alice: no IAM policy needed",
    ),
    Row(
        "5",
        key_policy(allow(ENCRYPTION_APP, USE)),
        (),
        ENCRYPTION_APP_SESSION,
        "GenerateDataKeyWithoutPlaintext",
        0,
        "the role ARN covers its session; GenerateDataKey* matches",
    ),
    Row(
        "6",
        key_policy(allow(ENCRYPTION_APP, USE)),
        (),
        ENCRYPTION_APP_SESSION,
        "ScheduleKeyDeletion",
        5,
        "not listed",
        denial=NO_RESOURCE,
    ),
    Row(
        "7",
        key_policy(allow(ADMIN, ADMIN_ACTIONS)),
        (),
        ADMIN,
        "ScheduleKeyDeletion",
        5,
        "Delete* does not match ScheduleKeyDeletion",
        denial=NO_RESOURCE,
    ),
    Row(
        "8",
        key_policy(allow(ADMIN, ADMIN_ACTIONS)),
        ((ADMIN, iam(iam_allow("kms:CreateAlias", "arn:aws:kms:us-west-2:111122223333:alias/*"))),),
        ADMIN,
        "CreateAlias",
        0,
        "key side through Create*, alias side through IAM",
    ),
    Row(
        "8-control",
        key_policy(allow(ADMIN, ADMIN_ACTIONS)),
        (),
        ADMIN,
        "CreateAlias",
        5,
        "the alias half needs IAM",
        denial=NO_IDENTITY,
    ),
    Row(
        "9",
        key_policy(DEFAULT_STATEMENT, allow(ROOT_B, USE)),
        ((B_ENGINEERING, iam(iam_allow(USE, "{KEY_ARN}"))),),
        B_ENGINEERING_SESSION,
        "Decrypt",
        0,
        "both halves present",
    ),
    Row(
        "10",
        key_policy(DEFAULT_STATEMENT, allow(ROOT_B, USE)),
        (),
        B_ENGINEERING_SESSION,
        "Decrypt",
        5,
        "the external IAM half is missing",
        denial=NO_IDENTITY,
    ),
    Row(
        "11",
        None,
        ((B_ENGINEERING, iam(iam_allow("kms:*"))),),
        B_ENGINEERING_SESSION,
        "Encrypt",
        5,
        "the key policy does not trust B",
        denial=NO_RESOURCE,
    ),
    Row(
        "12",
        key_policy(DEFAULT_STATEMENT, allow(ROOT_B, "kms:*")),
        ((B_ENGINEERING, iam(iam_allow("kms:*"))),),
        B_ENGINEERING_SESSION,
        "ScheduleKeyDeletion",
        5,
        "not a cross-account operation",
    ),
    Row(
        "13-B",
        key_policy(allow("*", "kms:Encrypt")),
        ((B_ENGINEERING, iam(iam_allow("kms:Encrypt", "{KEY_ARN}"))),),
        B_ENGINEERING_SESSION,
        "Encrypt",
        0,
        "* trusts every account; the foreign caller needs its IAM allow",
    ),
    Row(
        "13-B-without-IAM",
        key_policy(allow("*", "kms:Encrypt")),
        (),
        B_ENGINEERING_SESSION,
        "Encrypt",
        5,
        "the foreign caller's IAM half is missing",
        denial=NO_IDENTITY,
    ),
    Row(
        "13-A",
        key_policy(allow("*", "kms:Encrypt")),
        (),
        ALICE,
        "Encrypt",
        0,
        "* names the same-account caller directly: no IAM needed",
    ),
    Row(
        "14",
        key_policy(allow("*", USE, Condition=VIA_EC2)),
        (),
        ALICE,
        "Encrypt",
        5,
        "kms:ViaService is absent from a direct call",
        denial=NO_RESOURCE,
    ),
    Row(
        "15",
        key_policy(
            allow(EXAMPLE_ROLE, USE),
            deny(
                EXAMPLE_ROLE,
                ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*"],
                Condition={"StringNotEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
            ),
        ),
        (),
        EXAMPLE_ROLE,
        "Encrypt",
        5,
        "an explicit deny beats the allow",
        denial=RESOURCE_DENY,
    ),
    Row(
        "16",
        key_policy(allow(R_ROLE, "kms:GenerateDataKey", Condition=APP_CONTEXT)),
        (),
        R_SESSION,
        "GenerateDataKey",
        0,
        "extra pairs are fine",
        context={"AppName": "ExampleApp", "Team": "x"},
    ),
    Row(
        "17-key-case",
        key_policy(allow(R_ROLE, "kms:GenerateDataKey", Condition=APP_CONTEXT)),
        (),
        R_SESSION,
        "GenerateDataKey",
        0,
        "the context key's name is matched case-insensitively",
        context={"appname": "ExampleApp"},
    ),
    Row(
        "17-value-case",
        key_policy(allow(R_ROLE, "kms:GenerateDataKey", Condition=APP_CONTEXT)),
        (),
        R_SESSION,
        "GenerateDataKey",
        5,
        "the value is case-sensitive",
        context={"AppName": "exampleapp"},
        denial=NO_RESOURCE,
    ),
    Row(
        "17-absent",
        key_policy(allow(R_ROLE, "kms:GenerateDataKey", Condition=APP_CONTEXT)),
        (),
        R_SESSION,
        "GenerateDataKey",
        5,
        "an absent key fails a positive operator",
        denial=NO_RESOURCE,
    ),
    Row(
        "18",
        key_policy(
            allow(
                R_ROLE,
                "kms:GenerateDataKey",
                Condition={
                    **APP_CONTEXT,
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]},
                },
            )
        ),
        (),
        R_SESSION,
        "GenerateDataKey",
        5,
        "an extra context key is forbidden",
        context={"AppName": "ExampleApp", "Project": "Alpha"},
        denial=NO_RESOURCE,
    ),
    Row(
        "18-control",
        key_policy(
            allow(
                R_ROLE,
                "kms:GenerateDataKey",
                Condition={
                    **APP_CONTEXT,
                    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]},
                },
            )
        ),
        (),
        R_SESSION,
        "GenerateDataKey",
        0,
        "only the allowed key",
        context={"AppName": "ExampleApp"},
    ),
    Row(
        "19-with",
        key_policy(
            allow(
                R_ROLE,
                ["kms:Encrypt", "kms:GenerateDataKey*"],
                Condition={"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"}},
            )
        ),
        (),
        R_SESSION,
        "Encrypt",
        0,
        "one matching key is enough",
        context={"AppName": "Helper", "Project": "Alpha"},
    ),
    Row(
        "19-without",
        key_policy(
            allow(
                R_ROLE,
                ["kms:Encrypt", "kms:GenerateDataKey*"],
                Condition={"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"}},
            )
        ),
        (),
        R_SESSION,
        "Encrypt",
        5,
        "no matching key",
        context={"Project": "Alpha"},
        denial=NO_RESOURCE,
    ),
    Row(
        "20-with",
        key_policy(
            allow(
                R_ROLE,
                ["kms:Encrypt"],
                Condition={"Null": {"kms:EncryptionContextKeys": "false"}},
            )
        ),
        (),
        R_SESSION,
        "Encrypt",
        0,
        "some context is present",
        context={"any": "thing"},
    ),
    Row(
        "20-without",
        key_policy(
            allow(
                R_ROLE,
                ["kms:Encrypt"],
                Condition={"Null": {"kms:EncryptionContextKeys": "false"}},
            )
        ),
        (),
        R_SESSION,
        "Encrypt",
        5,
        "no context at all",
        denial=NO_RESOURCE,
    ),
]


def _pairs(context: dict[str, str]) -> list[str]:
    return [arg for k, v in context.items() for arg in ("-c", f"{k}={v}")]


def perform(world: World, key_id: str, row: Row, blob: str) -> Result:
    arn = world.arn(key_id)
    out = str(world.tmp / f"out-{row.number}")
    context = _pairs(row.context)
    if row.request == "Encrypt":
        args = ["encrypt", "--direct", "-k", arn, *context, "-o", out, "-"]
    elif row.request == "Decrypt":
        args = ["decrypt", "-k", arn, *context, "-o", out, blob]
    elif row.request == "GenerateDataKey":
        args = ["datakey", "generate", "-k", arn, *context, "--ciphertext-out", out]
        args += ["--plaintext-out", out + ".key"]
    elif row.request == "GenerateDataKeyWithoutPlaintext":
        args = ["datakey", "generate", "-k", arn, *context, "--no-plaintext"]
    elif row.request == "ScheduleKeyDeletion":
        args = ["key", "schedule-deletion", arn, "--days", "7", "--yes"]
    elif row.request == "CreateAlias":
        args = ["alias", "create", "alias/x", key_id]
    else:  # pragma: no cover - a typo in the table
        raise AssertionError(row.request)
    return world.kmscli(*args, caller=row.caller, input=b"plaintext")


@pytest.mark.parametrize("row", ROWS, ids=[r.number for r in ROWS])
def test_acceptance_scenario(run_inproc: Runner, tmp_path: Path, row: Row) -> None:
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    blob = world.blob(key_id, row.context)
    if row.policy is not None:
        world.put_key_policy(key_id, row.policy)
    for principal, document in row.identity:
        world.put_identity(principal, document, key_id=key_id)
    result = perform(world, key_id, row, blob)
    assert result.status == row.expected, f"§4.7 #{row.number} ({row.why}): {result.err}"
    if row.expected == 5:
        assert "AccessDeniedException" in result.err
        action = "GenerateDataKey" if row.request.startswith("GenerateDataKey") else ""
        assert f"User: {row.caller} is not authorized to perform: kms:" in result.err
        assert f"on resource: {world.arn(key_id)}" in result.err or row.request == "CreateAlias"
        assert action in result.err
        assert row.denial in result.err
        assert not (tmp_path / f"out-{row.number}").exists(), "a refused call wrote output"


def test_14_through_a_service_with_simulate(run_inproc: Runner, tmp_path: Path) -> None:
    """#14: the same call through EC2 is allowed for A's principals, not for B's."""
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    world.put_key_policy(key_id, key_policy(allow("*", USE, Condition=VIA_EC2)))
    ec2 = ["--via-service", "ec2.us-west-2.amazonaws.com"]
    direct = world.simulate(key_id, "kms:Encrypt", ALICE)
    assert direct["EvalDecision"] == "implicitDeny"
    via = world.simulate(key_id, "kms:Encrypt", ALICE, *ec2)
    assert via["EvalDecision"] == "allowed" and via["MatchedStatements"] == [
        "key-policy:Statement[0]"
    ]
    world.put_identity(B_ENGINEERING, iam(iam_allow("kms:*")))
    foreign = world.simulate(key_id, "kms:Encrypt", B_ENGINEERING_SESSION, *ec2)
    assert foreign["EvalDecision"] == "implicitDeny"


def test_14_through_kmscli_file_encryption(run_inproc: Runner, tmp_path: Path) -> None:
    """#14 with a real service: file encryption calls KMS as kmscli.<region>.amazonaws.com."""
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    via_kmscli = {
        "StringEquals": {
            "kms:CallerAccount": "111122223333",
            "kms:ViaService": "kmscli.us-west-2.amazonaws.com",
        }
    }
    world.put_key_policy(key_id, key_policy(allow("*", USE, Condition=via_kmscli)))
    (tmp_path / "doc.txt").write_text("file contents")
    assert world.kmscli("encrypt", "-k", world.arn(key_id), "doc.txt", caller=ALICE).status == 0
    assert (tmp_path / "doc.txt.kms").exists()
    direct = world.kmscli(
        "encrypt", "--direct", "-k", world.arn(key_id), "-o", "b", "-", caller=ALICE, input=b"x"
    )
    assert direct.status == 5
    other = world.kmscli(
        "encrypt", "-k", world.arn(key_id), "-o", "o.kms", "doc.txt", caller=B_ENGINEERING_SESSION
    )
    assert other.status == 5 and not (tmp_path / "o.kms").exists()


def test_15_the_algorithm_condition_with_simulate(run_inproc: Runner, tmp_path: Path) -> None:
    """#15: OAEP_SHA_1 is denied, OAEP_SHA_256 allowed; the deny beats a grant too."""
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    world.ok(
        "policy", "grant", "create", key_id, "--grantee", EXAMPLE_ROLE, "--operations", "Encrypt"
    )
    world.put_key_policy(key_id, ROWS[[r.number for r in ROWS].index("15")].policy or {})
    sha1 = world.simulate(
        key_id,
        "kms:Encrypt",
        EXAMPLE_ROLE,
        "--condition",
        "kms:EncryptionAlgorithm=RSAES_OAEP_SHA_1",
    )
    assert sha1["EvalDecision"] == "explicitDeny"
    assert sha1["MatchedStatements"] == ["key-policy:Statement[1]"]
    sha256 = world.simulate(
        key_id,
        "kms:Encrypt",
        EXAMPLE_ROLE,
        "--condition",
        "kms:EncryptionAlgorithm=RSAES_OAEP_SHA_256",
    )
    assert sha256["EvalDecision"] == "allowed"
    still = world.kmscli(
        "encrypt",
        "--direct",
        "-k",
        world.arn(key_id),
        "-o",
        "b",
        "-",
        caller=EXAMPLE_ROLE,
        input=b"x",
    )
    assert still.status == 5 and RESOURCE_DENY in still.err
