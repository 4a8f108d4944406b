"""Every row of the §4.7 acceptance table.

A = 111122223333 owns K in us-west-2; B = 444455556666.

Each row is one request; rows with several requests are split into ids "<n>-<case>".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from kmscli.policy import (
    GrantView,
    Principal,
    Request,
    default_key_policy,
    evaluate,
    parse_identity_policy,
    parse_key_policy,
)
from kmscli.policy.conditions import ConditionValue

A = "111122223333"
B = "444455556666"
K = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALIAS_X = f"arn:aws:kms:us-west-2:{A}:alias/x"

ALICE = f"arn:aws:iam::{A}:user/alice"
ADMIN = f"arn:aws:iam::{A}:user/admin"
APP_SESSION = f"arn:aws:sts::{A}:assumed-role/EncryptionApp/s1"
ENGINEERING = f"arn:aws:sts::{B}:assumed-role/Engineering/s1"
EXAMPLE_ROLE = f"arn:aws:sts::{A}:assumed-role/ExampleRole/s1"
R = f"arn:aws:sts::{A}:assumed-role/R/s1"

USE_ACTIONS = [
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


def allow(principal: object, actions: object, condition: object = None) -> dict[str, object]:
    st: dict[str, object] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": actions,
        "Resource": "*",
    }
    if condition is not None:
        st["Condition"] = condition
    return st


def key_policy(*statements: Mapping[str, object], default: bool = False) -> str:
    body: list[Mapping[str, object]] = list(statements)
    if default:
        body.insert(0, json.loads(default_key_policy(A))["Statement"][0])
    return json.dumps({"Version": "2012-10-17", "Statement": body})


def iam(effect: str, actions: object, resource: str = K) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, "Action": actions, "Resource": resource}],
        }
    )


def aws(arn: str) -> dict[str, str]:
    return {"AWS": arn}


@dataclass(frozen=True)
class Row:
    id: str
    policy: str
    caller: str
    action: str
    allowed: bool
    reason: str
    iam: tuple[str, ...] = ()
    context: Mapping[str, str] | None = None
    conditions: Mapping[str, ConditionValue] = field(default_factory=dict)
    resource: str = K
    key_policy_applies: bool = True
    grants: tuple[GrantView, ...] = ()


DEFAULT = default_key_policy(A)
ROLE_5 = key_policy(allow(aws(f"arn:aws:iam::{A}:role/EncryptionApp"), USE_ACTIONS))
ADMIN_7 = key_policy(allow(aws(ADMIN), ADMIN_ACTIONS))
CROSS_9 = key_policy(allow(aws(f"arn:aws:iam::{B}:root"), USE_ACTIONS), default=True)
STAR_13 = key_policy(allow("*", "kms:Encrypt"))
VIA_14 = key_policy(
    allow(
        "*",
        USE_ACTIONS,
        {
            "StringEquals": {
                "kms:CallerAccount": A,
                "kms:ViaService": "ec2.us-west-2.amazonaws.com",
            }
        },
    )
)
DENY_15 = key_policy(
    allow(aws(f"arn:aws:iam::{A}:role/ExampleRole"), ["kms:Encrypt", "kms:Decrypt"]),
    {
        "Effect": "Deny",
        "Principal": aws(f"arn:aws:iam::{A}:role/ExampleRole"),
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
    },
)
GRANT_15 = GrantView(EXAMPLE_ROLE, frozenset({"Encrypt"}), grant_id="g15")
EC_16 = {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}
R_ROLE = aws(f"arn:aws:iam::{A}:role/R")
CONTEXT_16 = key_policy(allow(R_ROLE, "kms:GenerateDataKey", EC_16))
CONTEXT_18 = key_policy(
    allow(
        R_ROLE,
        "kms:GenerateDataKey",
        {**EC_16, "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}},
    )
)
ANY_19 = key_policy(
    allow(
        R_ROLE,
        ["kms:Encrypt", "kms:GenerateDataKey*"],
        {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"}},
    )
)
NULL_20 = key_policy(
    allow(R_ROLE, ["kms:Encrypt", "kms:Decrypt"], {"Null": {"kms:EncryptionContextKeys": "false"}})
)
VIA_EC2 = {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}

ROWS = [
    Row("1", DEFAULT, ALICE, "kms:Encrypt", False, "no-identity-policy"),
    Row("2", DEFAULT, ALICE, "kms:Encrypt", True, "allowed-by-iam", (iam("Allow", "kms:Encrypt"),)),
    Row(
        "3",
        key_policy(allow(aws(f"arn:aws:iam::{A}:role/App"), "kms:*")),
        ALICE,
        "kms:Encrypt",
        False,
        "no-resource-policy",
        (iam("Allow", "kms:*", "*"),),
    ),
    Row(
        "4",
        key_policy(allow(aws(ALICE), "kms:Decrypt")),
        ALICE,
        "kms:Decrypt",
        False,
        "explicit-deny-identity",
        (iam("Deny", "kms:Decrypt"),),
    ),
    Row(
        "5",
        ROLE_5,
        APP_SESSION,
        "kms:GenerateDataKeyWithoutPlaintext",
        True,
        "allowed-by-key-policy",
    ),
    Row("6", ROLE_5, APP_SESSION, "kms:ScheduleKeyDeletion", False, "no-resource-policy"),
    Row("7", ADMIN_7, ADMIN, "kms:ScheduleKeyDeletion", False, "no-resource-policy"),
    Row(
        "8-key-half",
        ADMIN_7,
        ADMIN,
        "kms:CreateAlias",
        True,
        "allowed-by-key-policy",
        (iam("Allow", "kms:CreateAlias", f"arn:aws:kms:us-west-2:{A}:alias/*"),),
    ),
    Row(
        "8-alias-half",
        ADMIN_7,
        ADMIN,
        "kms:CreateAlias",
        True,
        "allowed-by-iam",
        (iam("Allow", "kms:CreateAlias", f"arn:aws:kms:us-west-2:{A}:alias/*"),),
        resource=ALIAS_X,
        key_policy_applies=False,
    ),
    Row(
        "8-alias-half-without-iam",
        ADMIN_7,
        ADMIN,
        "kms:CreateAlias",
        False,
        "no-identity-policy",
        resource=ALIAS_X,
        key_policy_applies=False,
    ),
    Row(
        "9",
        CROSS_9,
        ENGINEERING,
        "kms:Decrypt",
        True,
        "allowed-cross-account",
        (iam("Allow", USE_ACTIONS),),
    ),
    Row("10", CROSS_9, ENGINEERING, "kms:Decrypt", False, "no-identity-policy"),
    Row(
        "11",
        DEFAULT,
        ENGINEERING,
        "kms:Encrypt",
        False,
        "no-resource-policy",
        (iam("Allow", "kms:*", "*"),),
    ),
    Row(
        "12",
        key_policy(allow(aws(f"arn:aws:iam::{B}:root"), "kms:*"), default=True),
        ENGINEERING,
        "kms:ScheduleKeyDeletion",
        False,
        "not-cross-account-action",
        (iam("Allow", "kms:*", "*"),),
    ),
    Row(
        "13-foreign-with-iam",
        STAR_13,
        ENGINEERING,
        "kms:Encrypt",
        True,
        "allowed-cross-account",
        (iam("Allow", "kms:Encrypt"),),
    ),
    Row("13-foreign-without-iam", STAR_13, ENGINEERING, "kms:Encrypt", False, "no-identity-policy"),
    Row("13-same-account-no-iam", STAR_13, ALICE, "kms:Encrypt", True, "allowed-by-key-policy"),
    Row("14-direct", VIA_14, ALICE, "kms:Encrypt", False, "no-resource-policy"),
    Row(
        "14-via-ec2",
        VIA_14,
        ALICE,
        "kms:Encrypt",
        True,
        "allowed-by-key-policy",
        conditions=VIA_EC2,
    ),
    Row(
        "14-b-via-ec2",
        VIA_14,
        ENGINEERING,
        "kms:Encrypt",
        False,
        "no-resource-policy",
        (iam("Allow", "kms:*", "*"),),
        conditions=VIA_EC2,
    ),
    Row(
        "15-oaep-sha1",
        DENY_15,
        EXAMPLE_ROLE,
        "kms:Encrypt",
        False,
        "explicit-deny-resource",
        conditions={"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1"},
        grants=(GRANT_15,),
    ),
    Row(
        "15-oaep-sha256",
        DENY_15,
        EXAMPLE_ROLE,
        "kms:Encrypt",
        True,
        "allowed-by-key-policy",
        conditions={"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"},
        grants=(GRANT_15,),
    ),
    Row(
        "16",
        CONTEXT_16,
        R,
        "kms:GenerateDataKey",
        True,
        "allowed-by-key-policy",
        context={"AppName": "ExampleApp", "Team": "x"},
    ),
    Row(
        "17-key-case",
        CONTEXT_16,
        R,
        "kms:GenerateDataKey",
        True,
        "allowed-by-key-policy",
        context={"appname": "ExampleApp"},
    ),
    Row(
        "17-value-case",
        CONTEXT_16,
        R,
        "kms:GenerateDataKey",
        False,
        "no-resource-policy",
        context={"AppName": "exampleapp"},
    ),
    Row("17-absent", CONTEXT_16, R, "kms:GenerateDataKey", False, "no-resource-policy"),
    Row(
        "18-extra-key",
        CONTEXT_18,
        R,
        "kms:GenerateDataKey",
        False,
        "no-resource-policy",
        context={"AppName": "ExampleApp", "Project": "Alpha"},
    ),
    Row(
        "18-only-appname",
        CONTEXT_18,
        R,
        "kms:GenerateDataKey",
        True,
        "allowed-by-key-policy",
        context={"AppName": "ExampleApp"},
    ),
    Row(
        "19-has-appname",
        ANY_19,
        R,
        "kms:GenerateDataKeyPair",
        True,
        "allowed-by-key-policy",
        context={"AppName": "Helper", "Project": "Alpha"},
    ),
    Row(
        "19-no-appname",
        ANY_19,
        R,
        "kms:Encrypt",
        False,
        "no-resource-policy",
        context={"Project": "Alpha"},
    ),
    Row(
        "20-with-context",
        NULL_20,
        R,
        "kms:Encrypt",
        True,
        "allowed-by-key-policy",
        context={"any": "thing"},
    ),
    Row("20-without-context", NULL_20, R, "kms:Encrypt", False, "no-resource-policy"),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_acceptance_row(row: Row) -> None:
    caller = Principal.parse(row.caller)
    request = Request(
        principal=caller,
        action=row.action,
        resource_arn=row.resource,
        resource_account=A,
        condition_values=row.conditions,
        encryption_context=row.context,
        key_policy_applies=row.key_policy_applies,
    )
    decision = evaluate(
        request,
        key_policy=parse_key_policy(row.policy),
        identity_policies=[parse_identity_policy(p) for p in row.iam],
        grants=row.grants,
    )
    assert (decision.allowed, decision.reason) == (row.allowed, row.reason)
    if decision.allowed:
        assert decision.matched, "an allow must say what allowed it"


def test_row_15_a_grant_that_alone_would_allow_still_loses_to_the_deny() -> None:
    account = allow(aws(f"arn:aws:iam::{A}:root"), "kms:*")
    deny = {
        "Effect": "Deny",
        "Principal": aws(f"arn:aws:iam::{A}:role/ExampleRole"),
        "Action": "kms:Encrypt",
        "Resource": "*",
    }
    request = Request(Principal.parse(EXAMPLE_ROLE), "kms:Encrypt", K, A)
    without_deny = parse_key_policy(key_policy(account))
    allowed = evaluate(request, key_policy=without_deny, identity_policies=[], grants=[GRANT_15])
    assert (allowed.allowed, allowed.reason, allowed.matched) == (
        True,
        "allowed-by-grant",
        ("grant:g15",),
    )
    with_deny = parse_key_policy(key_policy(account, deny))
    denied = evaluate(request, key_policy=with_deny, identity_policies=[], grants=[GRANT_15])
    assert (denied.allowed, denied.reason) == (False, "explicit-deny-resource")
    assert denied.matched == ("key-policy:Statement[1]",)
