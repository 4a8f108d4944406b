"""Every condition operator and every condition key kmscli sets, through the command line.

Each case gives a key one statement (usually "allow alice this, if <condition>"), then makes a
real request as the caller and checks allowed (exit 0) or denied (exit 5). Keys the local KMS
cannot produce from a real request (aws:SourceIp, an RSA encryption algorithm) go through
`policy simulate --condition`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import timetravel
from tests.cli.authz_world import (
    ALICE,
    B_ENGINEERING,
    B_ENGINEERING_SESSION,
    BOB,
    DEFAULT_STATEMENT,
    R_ROLE,
    R_SESSION,
    A,
    World,
    allow,
    iam,
    iam_allow,
    key_policy,
)
from tests.conftest import Result, Runner

Request = Callable[[World, str], Result]


def encrypt_with(*context: str, caller: str = ALICE, key: str | None = None) -> Request:
    pairs = [a for pair in context for a in ("-c", pair)]

    def request(world: World, key_id: str) -> Result:
        target = key or world.arn(key_id)
        return world.kmscli(
            "encrypt",
            "--direct",
            "-k",
            target,
            *pairs,
            "-o",
            "-",
            "-",
            caller=caller,
            input=b"plaintext",
        )

    return request


def schedule_deletion(days: int) -> Request:
    def request(world: World, key_id: str) -> Result:
        return world.kmscli(
            "key",
            "schedule-deletion",
            world.arn(key_id),
            "--days",
            str(days),
            "--yes",
            caller=ALICE,
        )

    return request


def at(text: str) -> Request:
    def request(world: World, key_id: str) -> Result:
        world.now = timetravel.instant(text)
        try:
            return encrypt_with()(world, key_id)
        finally:
            world.now = None

    return request


@dataclass(frozen=True)
class Case:
    name: str
    condition: dict[str, Any]
    request: Request
    allowed: bool
    principal: str = ALICE
    action: str | list[str] = "kms:*"
    key_args: tuple[str, ...] = ()


def _cases() -> list[Case]:
    team = "kms:EncryptionContext:team"
    days = "kms:ScheduleKeyDeletionPendingWindowInDays"
    now = "aws:CurrentTime"
    cases: list[Case] = []

    def add(
        name: str, condition: dict[str, Any], request: Request, allowed: bool, **kw: Any
    ) -> None:
        cases.append(Case(name, condition, request, allowed, **kw))

    # String operators, on an encryption context pair.
    add("StringEquals-match", {"StringEquals": {team: "Blue"}}, encrypt_with("team=Blue"), True)
    add("StringEquals-case", {"StringEquals": {team: "Blue"}}, encrypt_with("team=blue"), False)
    add(
        "StringNotEquals-other", {"StringNotEquals": {team: "Blue"}}, encrypt_with("team=Red"), True
    )
    add(
        "StringNotEquals-same",
        {"StringNotEquals": {team: "Blue"}},
        encrypt_with("team=Blue"),
        False,
    )
    add("StringNotEquals-absent", {"StringNotEquals": {team: "Blue"}}, encrypt_with(), True)
    add(
        "StringEqualsIgnoreCase",
        {"StringEqualsIgnoreCase": {team: "Blue"}},
        encrypt_with("team=BLUE"),
        True,
    )
    add(
        "StringEqualsIgnoreCase-no",
        {"StringEqualsIgnoreCase": {team: "Blue"}},
        encrypt_with("team=Red"),
        False,
    )
    add(
        "StringNotEqualsIgnoreCase",
        {"StringNotEqualsIgnoreCase": {team: "Blue"}},
        encrypt_with("team=BLUE"),
        False,
    )
    add(
        "StringNotEqualsIgnoreCase-no",
        {"StringNotEqualsIgnoreCase": {team: "Blue"}},
        encrypt_with("team=Red"),
        True,
    )
    add("StringLike-star", {"StringLike": {team: "Bl*"}}, encrypt_with("team=Blue"), True)
    add("StringLike-question", {"StringLike": {team: "B?ue"}}, encrypt_with("team=Blue"), True)
    add("StringLike-no", {"StringLike": {team: "Bl*"}}, encrypt_with("team=Red"), False)
    add("StringNotLike", {"StringNotLike": {team: "Bl*"}}, encrypt_with("team=Red"), True)
    add("StringNotLike-no", {"StringNotLike": {team: "Bl*"}}, encrypt_with("team=Blue"), False)
    add(
        "values-are-ORed",
        {"StringEquals": {team: ["Red", "Blue"]}},
        encrypt_with("team=Blue"),
        True,
    )
    add(
        "keys-are-ANDed",
        {"StringEquals": {team: "Blue", "kms:EncryptionContext:env": "prod"}},
        encrypt_with("team=Blue"),
        False,
    )
    add(
        "operators-are-ANDed",
        {"StringEquals": {team: "Blue"}, "Null": {"kms:EncryptionContext:env": "false"}},
        encrypt_with("team=Blue", "env=x"),
        True,
    )
    add("IfExists-absent", {"StringEqualsIfExists": {team: "Blue"}}, encrypt_with(), True)
    add(
        "IfExists-present",
        {"StringEqualsIfExists": {team: "Blue"}},
        encrypt_with("team=Red"),
        False,
    )
    add(
        "policy-variable",
        {"StringEquals": {"kms:EncryptionContext:owner": "${aws:username}"}},
        encrypt_with("owner=alice"),
        True,
    )
    add(
        "policy-variable-other",
        {"StringEquals": {"kms:EncryptionContext:owner": "${aws:username}"}},
        encrypt_with("owner=bob"),
        False,
    )
    # Numeric operators, on ScheduleKeyDeletion's waiting period.
    for op, limit, good, bad in (
        ("NumericEquals", 7, 7, 8),
        ("NumericNotEquals", 7, 8, 7),
        ("NumericLessThan", 10, 7, 10),
        ("NumericLessThanEquals", 10, 10, 11),
        ("NumericGreaterThan", 20, 21, 20),
        ("NumericGreaterThanEquals", 20, 20, 19),
    ):
        add(f"{op}-{good}", {op: {days: str(limit)}}, schedule_deletion(good), True)
        add(f"{op}-{bad}", {op: {days: limit}}, schedule_deletion(bad), False)
    # Date operators, on aws:CurrentTime (the tests' clock, tests/timetravel.py).
    boundary = "2030-01-01T00:00:00Z"
    for op, before, after in (
        ("DateLessThan", "2029-06-01T00:00:00Z", "2030-06-01T00:00:00Z"),
        ("DateLessThanEquals", boundary, "2030-01-01T00:00:01Z"),
        ("DateGreaterThan", "2030-06-01T00:00:00Z", boundary),
        ("DateGreaterThanEquals", boundary, "2029-12-31T23:59:59Z"),
        ("DateEquals", boundary, "2029-06-01T00:00:00Z"),
        ("DateNotEquals", "2029-06-01T00:00:00Z", boundary),
    ):
        add(f"{op}-yes", {op: {now: boundary}}, at(before), True)
        add(f"{op}-no", {op: {now: boundary}}, at(after), False)
    add(
        "Date-epoch-seconds",
        {"DateLessThan": {now: "1893456000"}},
        at("2029-06-01T00:00:00Z"),
        True,
    )
    # Bool, on a key property.
    add(
        "Bool-true",
        {"Bool": {"kms:MultiRegion": "true"}},
        encrypt_with(),
        True,
        key_args=("--multi-region",),
    )
    add("Bool-false", {"Bool": {"kms:MultiRegion": "true"}}, encrypt_with(), False)
    # BinaryEquals: the request value read as Base64.
    add(
        "BinaryEquals",
        {"BinaryEquals": {"kms:EncryptionContext:b": "aGVsbG8="}},
        encrypt_with("b=aGVsbG8="),
        True,
    )
    add(
        "BinaryEquals-no",
        {"BinaryEquals": {"kms:EncryptionContext:b": "aGVsbG8="}},
        encrypt_with("b=d29ybGQ="),
        False,
    )
    # IP operators on a key no local request carries: absent.
    add("IpAddress-absent", {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, encrypt_with(), False)
    add(
        "NotIpAddress-absent",
        {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        encrypt_with(),
        True,
    )
    # ARN operators, on aws:PrincipalArn (Principal "*" so that bob is considered too).
    for op, pattern, alice_ok in (
        ("ArnEquals", ALICE, True),
        ("ArnLike", "arn:aws:iam::111122223333:user/a*", True),
        ("ArnNotEquals", ALICE, False),
        ("ArnNotLike", "arn:aws:iam::111122223333:user/a*", False),
    ):
        for caller, ok in ((ALICE, alice_ok), (BOB, not alice_ok)):
            add(
                f"{op}-{caller.rsplit('/', 1)[1]}",
                {op: {"aws:PrincipalArn": pattern}},
                encrypt_with(caller=caller),
                ok,
                principal="*",
            )
    # Null and the set qualifiers, on kms:EncryptionContextKeys.
    keys = "kms:EncryptionContextKeys"
    add("Null-true-absent", {"Null": {keys: "true"}}, encrypt_with(), True)
    add("Null-true-present", {"Null": {keys: "true"}}, encrypt_with("a=b"), False)
    add(
        "ForAnyValue-StringLike",
        {"ForAnyValue:StringLike": {keys: "app*"}},
        encrypt_with("x=1", "appName=y"),
        True,
    )
    add("ForAnyValue-absent", {"ForAnyValue:StringLike": {keys: "app*"}}, encrypt_with(), False)
    add(
        "ForAllValues-StringLike",
        {"ForAllValues:StringLike": {keys: "app*"}},
        encrypt_with("appA=1", "appB=2"),
        True,
    )
    add(
        "ForAllValues-extra",
        {"ForAllValues:StringLike": {keys: "app*"}},
        encrypt_with("appA=1", "x=2"),
        False,
    )
    add("ForAllValues-absent", {"ForAllValues:StringLike": {keys: "app*"}}, encrypt_with(), True)
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_condition_operator(run_inproc: Runner, tmp_path: Path, case: Case) -> None:
    world = World(run_inproc, tmp_path)
    key_id = world.create_key(*case.key_args)
    world.put_key_policy(
        key_id, key_policy(allow(case.principal, case.action, Condition=case.condition))
    )
    result = case.request(world, key_id)
    assert result.status == (0 if case.allowed else 5), result.err


# -- condition keys --------------------------------------------------------------------------------


def _world_with(
    run: Runner, tmp: Path, statement: dict[str, Any], *key_args: str
) -> tuple[World, str]:
    world = World(run, tmp)
    key_id = world.create_key(*key_args)
    world.put_key_policy(key_id, key_policy(statement))
    return world, key_id


def test_caller_account(run_inproc: Runner, tmp_path: Path) -> None:
    condition = {"StringEquals": {"kms:CallerAccount": A}}
    world, key_id = _world_with(
        run_inproc, tmp_path, allow("*", "kms:Encrypt", Condition=condition)
    )
    world.put_identity(B_ENGINEERING, iam(iam_allow("kms:*")))
    assert encrypt_with()(world, key_id).status == 0
    assert encrypt_with(caller=B_ENGINEERING_SESSION)(world, key_id).status == 5


def test_request_alias(run_inproc: Runner, tmp_path: Path) -> None:
    condition = {"StringEquals": {"kms:RequestAlias": "alias/app"}}
    world = World(run_inproc, tmp_path)
    key_id = world.create_key("--alias", "alias/app")
    world.put_key_policy(key_id, key_policy(allow(ALICE, "kms:*", Condition=condition)))
    alias_arn = f"arn:aws:kms:us-west-2:{A}:alias/app"
    assert encrypt_with(key="alias/app")(world, key_id).status == 0
    assert encrypt_with(key=alias_arn)(world, key_id).status == 0
    assert encrypt_with()(world, key_id).status == 5  # by key ARN: no RequestAlias


def test_resource_aliases_count_in_identity_policies(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)
    tagged = world.create_key("--alias", "alias/finance-main")
    other = world.create_key()
    world.put_identity(
        ALICE,
        iam(
            iam_allow(
                "kms:Encrypt",
                Condition={"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/finance-*"}},
            )
        ),
    )
    assert encrypt_with()(world, tagged).status == 0
    assert encrypt_with()(world, other).status == 5


def test_encryption_algorithm(run_inproc: Runner, tmp_path: Path) -> None:
    condition = {"StringEquals": {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}}
    world, key_id = _world_with(run_inproc, tmp_path, allow(ALICE, "kms:*", Condition=condition))
    assert encrypt_with()(world, key_id).status == 0
    rsa = world.simulate(
        key_id, "kms:Encrypt", ALICE, "--condition", "kms:EncryptionAlgorithm=RSAES_OAEP_SHA_1"
    )
    assert rsa["EvalDecision"] == "implicitDeny"


def test_grant_operations(run_inproc: Runner, tmp_path: Path) -> None:
    condition = {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Decrypt", "Encrypt"]}}
    world, key_id = _world_with(
        run_inproc, tmp_path, allow(ALICE, "kms:CreateGrant", Condition=condition)
    )

    def grant(operations: str) -> int:
        return world.kmscli(
            "policy",
            "grant",
            "create",
            key_id,
            "--grantee",
            BOB,
            "--operations",
            operations,
            caller=ALICE,
        ).status

    assert grant("Decrypt") == 0
    assert grant("Encrypt,Decrypt") == 0
    assert grant("Decrypt,ReEncryptFrom") == 5


@pytest.mark.parametrize(
    ("condition_key", "value", "key_args", "allowed"),
    [
        ("kms:KeySpec", "SYMMETRIC_DEFAULT", (), True),
        ("kms:KeySpec", "RSA_2048", (), False),
        ("kms:KeyUsage", "ENCRYPT_DECRYPT", (), True),
        ("kms:KeyUsage", "SIGN_VERIFY", (), False),
        ("kms:KeyOrigin", "AWS_KMS", (), True),
        ("kms:KeyOrigin", "EXTERNAL", (), False),
        ("kms:KeyOrigin", "EXTERNAL", ("--origin", "EXTERNAL"), True),
    ],
)
def test_key_property_keys(
    run_inproc: Runner,
    tmp_path: Path,
    condition_key: str,
    value: str,
    key_args: tuple[str, ...],
    allowed: bool,
) -> None:
    condition = {"StringEquals": {condition_key: value}}
    world, key_id = _world_with(
        run_inproc, tmp_path, allow(ALICE, "kms:DescribeKey", Condition=condition), *key_args
    )
    result = world.kmscli("key", "describe", world.arn(key_id), caller=ALICE)
    assert result.status == (0 if allowed else 5), result.err


def test_key_properties_of_a_create_key_request(run_inproc: Runner, tmp_path: Path) -> None:
    """CreateKey's IAM check sees the request's spec, usage, origin and multi-Region flag."""
    world = World(run_inproc, tmp_path)
    world.put_identity(
        ALICE,
        iam(
            iam_allow(
                "kms:CreateKey",
                Condition={
                    "StringEquals": {
                        "kms:KeySpec": "SYMMETRIC_DEFAULT",
                        "kms:KeyOrigin": "AWS_KMS",
                    },
                    "Bool": {"kms:MultiRegion": "false"},
                },
            )
        ),
    )
    assert world.kmscli("key", "create", caller=ALICE).status == 0
    assert world.kmscli("key", "create", "--multi-region", caller=ALICE).status == 5
    assert world.kmscli("key", "create", "--origin", "EXTERNAL", caller=ALICE).status == 5


def test_multi_region(run_inproc: Runner, tmp_path: Path) -> None:
    condition = {"Bool": {"kms:MultiRegion": "false"}}
    world = World(run_inproc, tmp_path)
    single = world.create_key()
    multi = world.create_key("--multi-region")
    for key_id in (single, multi):
        world.put_key_policy(key_id, key_policy(allow(ALICE, "kms:*", Condition=condition)))
    assert encrypt_with()(world, single).status == 0
    assert encrypt_with()(world, multi).status == 5


def test_bypass_policy_lockout_safety_check(run_inproc: Runner, tmp_path: Path) -> None:
    """kms:BypassPolicyLockoutSafetyCheck on PutKeyPolicy (key policy) and CreateKey (IAM)."""
    no_bypass = {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}}
    statement = allow(ALICE, "kms:PutKeyPolicy", Condition=no_bypass)
    world, key_id = _world_with(run_inproc, tmp_path, statement)
    policy = world.file(world._text(key_policy(statement), key_id))
    assert world.kmscli("policy", "put", key_id, policy, caller=ALICE).status == 0
    bypassing = world.kmscli(
        "policy", "put", key_id, policy, "--bypass-policy-lockout-safety-check", caller=ALICE
    )
    assert bypassing.status == 5
    world.put_identity(BOB, iam(iam_allow("kms:CreateKey", Condition=no_bypass)))
    own = world.file(key_policy(allow(BOB, "kms:*")))
    assert world.kmscli("key", "create", "--policy", own, caller=BOB).status == 0
    assert (
        world.kmscli(
            "key", "create", "--policy", own, "--bypass-policy-lockout-safety-check", caller=BOB
        ).status
        == 5
    )


def test_reencrypt_on_same_key(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)
    first = world.create_key()
    second = world.create_key()
    blob = world.blob(first)
    same = {"Bool": {"kms:ReEncryptOnSameKey": "true"}}
    for key_id in (first, second):
        world.put_key_policy(key_id, key_policy(allow(ALICE, "kms:ReEncrypt*", Condition=same)))

    def reencrypt(target: str) -> int:
        out = str(tmp_path / f"re-{target}")
        return world.kmscli(
            "reencrypt", "-k", world.arn(target), blob, "-o", out, caller=ALICE
        ).status

    assert reencrypt(first) == 0
    assert reencrypt(second) == 5


@pytest.mark.parametrize(
    ("condition", "caller", "allowed"),
    [
        ({"StringEquals": {"aws:PrincipalAccount": A}}, ALICE, True),
        ({"StringEquals": {"aws:PrincipalAccount": "444455556666"}}, ALICE, False),
        ({"StringEquals": {"aws:PrincipalType": "User"}}, ALICE, True),
        ({"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, ALICE, False),
        ({"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, R_SESSION, True),
        ({"StringEquals": {"aws:PrincipalArn": R_ROLE}}, R_SESSION, True),
        ({"StringEquals": {"aws:username": "alice"}}, ALICE, True),
        ({"StringEquals": {"aws:username": "alice"}}, BOB, False),
        ({"Null": {"aws:username": "true"}}, R_SESSION, True),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_principal_keys(
    run_inproc: Runner, tmp_path: Path, condition: dict[str, Any], caller: str, allowed: bool
) -> None:
    world, key_id = _world_with(
        run_inproc, tmp_path, allow("*", "kms:Encrypt", Condition=condition)
    )
    assert encrypt_with(caller=caller)(world, key_id).status == (0 if allowed else 5)


def test_resource_tags_count_in_identity_policies(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)
    tagged = world.create_key("--tag", "team=blue")
    other = world.create_key("--tag", "team=red")
    world.put_identity(
        ALICE,
        iam(iam_allow("kms:Encrypt", Condition={"StringEquals": {"aws:ResourceTag/team": "blue"}})),
    )
    assert encrypt_with()(world, tagged).status == 0
    assert encrypt_with()(world, other).status == 5


def test_request_tags_and_tag_keys(run_inproc: Runner, tmp_path: Path) -> None:
    tag_rule = allow(
        ALICE,
        "kms:TagResource",
        Condition={
            "StringEquals": {"aws:RequestTag/team": "blue"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]},
        },
    )
    untag_rule = allow(
        ALICE, "kms:UntagResource", Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["x"]}}
    )
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    world.put_key_policy(key_id, key_policy(tag_rule, untag_rule))

    def tag(*pairs: str) -> int:
        return world.kmscli("key", "tag", key_id, *pairs, caller=ALICE).status

    assert tag("team=blue") == 0
    assert tag("team=red") == 5
    assert tag("team=blue", "cost=1") == 5
    assert world.kmscli("key", "untag", key_id, "team", caller=ALICE).status == 5
    assert world.kmscli("key", "untag", key_id, "x", caller=ALICE).status == 0


def test_request_tags_on_create_key(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)
    world.put_identity(
        ALICE,
        iam(
            iam_allow(
                ["kms:CreateKey", "kms:TagResource"],
                Condition={"StringEquals": {"aws:RequestTag/owner": "${aws:username}"}},
            )
        ),
    )
    assert world.kmscli("key", "create", "--tag", "owner=alice", caller=ALICE).status == 0
    assert world.kmscli("key", "create", "--tag", "owner=bob", caller=ALICE).status == 5


def test_current_time_in_an_identity_policy(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    world.put_identity(
        ALICE,
        iam(
            iam_allow(
                "kms:Encrypt",
                Condition={"DateLessThan": {"aws:CurrentTime": "2031-01-01T00:00:00Z"}},
            )
        ),
    )
    assert at("2030-12-31T23:59:59Z")(world, key_id).status == 0
    assert at("2031-01-01T00:00:00Z")(world, key_id).status == 5


def test_source_ip_through_simulate(run_inproc: Runner, tmp_path: Path) -> None:
    condition = {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "2001:db8::/32"]}}
    world, key_id = _world_with(run_inproc, tmp_path, allow(ALICE, "kms:*", Condition=condition))
    for address, decision in (
        ("10.1.2.3", "allowed"),
        ("192.168.0.1", "implicitDeny"),
        ("2001:db8::1", "allowed"),
    ):
        result = world.simulate(
            key_id, "kms:Encrypt", ALICE, "--condition", f"aws:SourceIp={address}"
        )
        assert result["EvalDecision"] == decision, address


def test_the_default_key_policy_needs_no_condition(run_inproc: Runner, tmp_path: Path) -> None:
    """A control for this file: the same requests are allowed under the default policy."""
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    world.put_key_policy(key_id, key_policy(DEFAULT_STATEMENT))
    world.put_identity(ALICE, iam(iam_allow("kms:*")))
    assert encrypt_with("team=anything")(world, key_id).status == 0
