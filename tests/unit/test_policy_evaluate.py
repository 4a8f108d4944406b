"""The evaluator: principals, Not* elements, resources, variables, grants, messages, lockout."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import pytest

from kmscli.errors import (
    KMSInternalException,
    MalformedPolicyDocumentException,
    ValidationException,
)
from kmscli.policy import (
    CROSS_ACCOUNT_ACTIONS,
    Decision,
    GrantView,
    Principal,
    Request,
    access_denied_message,
    default_key_policy,
    evaluate,
    lockout_check,
    parse_identity_policy,
    parse_key_policy,
)
from kmscli.policy.conditions import ConditionValue
from kmscli.policy.document import LOCKOUT, PolicyDocument

A = "111122223333"
B = "444455556666"
K = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:us-west-2:{A}:key/ffffffff-12ab-34cd-56ef-1234567890ab"
ROOT = f"arn:aws:iam::{A}:root"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{A}:user/bob"
APP = f"arn:aws:iam::{A}:role/App"
APP_SESSION = f"arn:aws:sts::{A}:assumed-role/App/s1"
B_ROOT = f"arn:aws:iam::{B}:root"
B_USER = f"arn:aws:iam::{B}:user/carol"


def kp(*statements: Mapping[str, object], version: str = "2012-10-17") -> PolicyDocument:
    return parse_key_policy(json.dumps({"Version": version, "Statement": list(statements)}))


def st(
    principal: object = "*",
    action: object = "kms:*",
    *,
    effect: str = "Allow",
    resource: object = "*",
    condition: object = None,
    sid: str | None = None,
    negate: Sequence[str] = (),
) -> dict[str, object]:
    """A key-policy statement; `negate` names elements to write as NotX."""
    out: dict[str, object] = {"Effect": effect}
    for name, value in (("Principal", principal), ("Action", action), ("Resource", resource)):
        out[f"Not{name}" if name in negate else name] = value
    if condition is not None:
        out["Condition"] = condition
    if sid is not None:
        out["Sid"] = sid
    return out


def ip(*statements: Mapping[str, object], version: str = "2012-10-17") -> PolicyDocument:
    return parse_identity_policy(json.dumps({"Version": version, "Statement": list(statements)}))


def ist(
    action: object = "kms:*",
    resource: object = K,
    *,
    effect: str = "Allow",
    condition: object = None,
    negate: Sequence[str] = (),
) -> dict[str, object]:
    out: dict[str, object] = {"Effect": effect}
    for name, value in (("Action", action), ("Resource", resource)):
        out[f"Not{name}" if name in negate else name] = value
    if condition is not None:
        out["Condition"] = condition
    return out


def decide(
    caller: str,
    action: str = "kms:Encrypt",
    *,
    key_policy: PolicyDocument | None,
    iam: Sequence[PolicyDocument] = (),
    grants: Sequence[GrantView] = (),
    resource: str = K,
    context: Mapping[str, str] | None = None,
    conditions: Mapping[str, ConditionValue] | None = None,
    key_policy_applies: bool = True,
    user_id: str | None = None,
) -> Decision:
    request = Request(
        principal=Principal.parse(caller, user_id=user_id),
        action=action,
        resource_arn=resource,
        resource_account=A,
        condition_values=dict(conditions or {}),
        encryption_context=context,
        key_policy_applies=key_policy_applies,
    )
    return evaluate(request, key_policy=key_policy, identity_policies=iam, grants=grants)


def allowed(caller: str, action: str = "kms:Encrypt", **kwargs: object) -> bool:
    return decide(caller, action, **kwargs).allowed  # type: ignore[arg-type]


# -- Principal -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "kind", "account", "name", "principal_arn"),
    [
        (ROOT, "root", A, "", ROOT),
        (ALICE, "user", A, "alice", ALICE),
        (
            f"arn:aws:iam::{A}:user/eng/alice",
            "user",
            A,
            "alice",
            f"arn:aws:iam::{A}:user/eng/alice",
        ),
        (APP, "role", A, "App", APP),
        (APP_SESSION, "assumed-role", A, "App", APP),
        (
            f"arn:aws:sts::{A}:federated-user/dev",
            "federated-user",
            A,
            "dev",
            f"arn:aws:sts::{A}:federated-user/dev",
        ),
        ("ec2.amazonaws.com", "service", "", "ec2.amazonaws.com", "ec2.amazonaws.com"),
    ],
)
def test_principal_parse(arn: str, kind: str, account: str, name: str, principal_arn: str) -> None:
    p = Principal.parse(arn)
    assert (p.type, p.account, p.name, p.principal_arn) == (kind, account, name, principal_arn)


def test_session_principal_details() -> None:
    p = Principal.parse(APP_SESSION)
    assert (p.role_arn, p.session_name, p.partition) == (APP, "s1", "aws")
    assert p.account_arn == ROOT
    assert Principal.parse(ALICE).role_arn is None
    assert Principal.parse(f"arn:aws:iam::{A}:user/eng/alice").path == "/eng/"


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "alice",
        "arn:aws:iam::1234:user/x",
        f"arn:aws:iam::{A}:group/g",
        f"arn:aws:s3:::{A}",
        f"arn:aws:sts::{A}:assumed-role/App",
        f"arn:aws:iam::{A}:user/*",
        "arn:aws:kms:us-west-2:1:key/x",
    ],
)
def test_principal_parse_rejects(arn: str) -> None:
    with pytest.raises(ValidationException):
        Principal.parse(arn)


def test_derived_global_condition_keys() -> None:
    assert Principal.parse(ALICE).global_condition_values() == {
        "aws:PrincipalArn": ALICE,
        "aws:PrincipalAccount": A,
        "aws:PrincipalType": "User",
        "aws:PrincipalIsAWSService": False,
        "kms:CallerAccount": A,
        "aws:username": "alice",
    }
    session = Principal.parse(APP_SESSION, user_id="AROAEXAMPLE:s1").global_condition_values()
    assert session["aws:PrincipalArn"] == APP
    assert session["aws:PrincipalType"] == "AssumedRole"
    assert session["aws:userid"] == "AROAEXAMPLE:s1"
    assert "aws:username" not in session
    assert Principal.parse(ROOT).global_condition_values()["aws:userid"] == A
    assert Principal.parse(ROOT).global_condition_values()["aws:PrincipalType"] == "Account"


# -- who a key policy names ------------------------------------------------------------------------


def test_user_arn_names_only_that_user() -> None:
    policy = kp(st({"AWS": ALICE}))
    assert allowed(ALICE, key_policy=policy)
    assert not allowed(BOB, key_policy=policy)
    assert not allowed(f"arn:aws:iam::{A}:user/eng/alice", key_policy=policy)


def test_role_arn_names_the_role_and_its_sessions_even_with_a_path() -> None:
    policy = kp(st({"AWS": f"arn:aws:iam::{A}:role/team/App"}))
    assert allowed(APP_SESSION, key_policy=policy)
    assert allowed(f"arn:aws:iam::{A}:role/team/App", key_policy=policy)
    assert not allowed(f"arn:aws:sts::{A}:assumed-role/Other/s1", key_policy=policy)
    assert not allowed(f"arn:aws:sts::{B}:assumed-role/App/s1", key_policy=policy)


def test_session_arn_names_only_that_session() -> None:
    policy = kp(st({"AWS": APP_SESSION}))
    assert allowed(APP_SESSION, key_policy=policy)
    assert not allowed(f"arn:aws:sts::{A}:assumed-role/App/s2", key_policy=policy)
    assert not allowed(APP, key_policy=policy)


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}])
def test_star_names_everyone(principal: object) -> None:
    policy = kp(st(principal))
    assert allowed(ALICE, key_policy=policy)
    assert allowed(ROOT, key_policy=policy)
    assert allowed("ec2.amazonaws.com", key_policy=policy)


def test_service_principal() -> None:
    policy = kp(st({"Service": "ec2.amazonaws.com"}, "kms:Decrypt"))
    assert (
        decide("ec2.amazonaws.com", "kms:Decrypt", key_policy=policy).reason
        == "allowed-by-key-policy"
    )
    assert not allowed("s3.amazonaws.com", "kms:Decrypt", key_policy=policy)
    assert not allowed(ALICE, "kms:Decrypt", key_policy=policy)


@pytest.mark.parametrize("account", [A, ROOT])
def test_account_principal_delegates_to_iam(account: str) -> None:
    policy = kp(st({"AWS": account}))
    no_iam = decide(ALICE, key_policy=policy)
    assert (no_iam.allowed, no_iam.reason) == (False, "no-identity-policy")
    with_iam = decide(ALICE, key_policy=policy, iam=[ip(ist("kms:Encrypt"))])
    assert (with_iam.allowed, with_iam.reason) == (True, "allowed-by-iam")
    assert with_iam.matched == ("key-policy:Statement[0]", "identity-policy[0]:Statement[0]")


def test_iam_must_allow_the_same_action_and_key() -> None:
    policy = kp(st({"AWS": A}))
    assert not allowed(ALICE, key_policy=policy, iam=[ip(ist("kms:Decrypt"))])
    assert not allowed(ALICE, key_policy=policy, iam=[ip(ist("kms:Encrypt", OTHER_KEY))])


def test_account_root_user_is_implicitly_allowed_what_the_account_is_allowed() -> None:
    policy = kp(st({"AWS": A}, "kms:Encrypt"))
    assert decide(ROOT, key_policy=policy).reason == "allowed-by-key-policy"
    assert not allowed(ROOT, "kms:Decrypt", key_policy=policy)


def test_root_user_without_an_account_statement_is_denied() -> None:
    policy = kp(st({"AWS": APP}))
    assert decide(ROOT, key_policy=policy).reason == "no-resource-policy"


def test_iam_allows_are_ignored_without_an_account_statement() -> None:
    policy = kp(st({"AWS": APP}))
    d = decide(ALICE, key_policy=policy, iam=[ip(ist("*", "*"))])
    assert (d.allowed, d.reason) == (False, "no-resource-policy")


def test_missing_key_policy_denies() -> None:
    d = decide(ALICE, key_policy=None, iam=[ip(ist("*", "*"))])
    assert (d.allowed, d.reason) == (False, "no-resource-policy")


def test_ignored_statements_never_apply() -> None:
    policy = kp({"Effect": "Allow", "Principal": "*", "Action": "kms:*"})
    assert not allowed(ALICE, key_policy=policy)


# -- explicit deny ---------------------------------------------------------------------------------


def test_key_policy_deny_beats_allow() -> None:
    policy = kp(
        st({"AWS": ALICE}), st({"AWS": ALICE}, "kms:Encrypt", effect="Deny", sid="NoEncrypt")
    )
    d = decide(ALICE, key_policy=policy)
    assert (d.allowed, d.reason, d.matched) == (
        False,
        "explicit-deny-resource",
        ("key-policy:NoEncrypt",),
    )
    assert allowed(ALICE, "kms:Decrypt", key_policy=policy)


def test_key_policy_deny_on_the_account_principal_covers_its_users() -> None:
    policy = kp(st({"AWS": ALICE}), st({"AWS": A}, effect="Deny"))
    assert decide(ALICE, key_policy=policy).reason == "explicit-deny-resource"


def test_identity_deny_beats_direct_key_policy_allow() -> None:
    policy = kp(st({"AWS": ALICE}))
    d = decide(ALICE, key_policy=policy, iam=[ip(ist("kms:Encrypt", effect="Deny"))])
    assert (d.allowed, d.reason) == (False, "explicit-deny-identity")


def test_identity_deny_on_another_resource_does_not_apply() -> None:
    policy = kp(st({"AWS": ALICE}))
    assert allowed(ALICE, key_policy=policy, iam=[ip(ist("kms:Encrypt", OTHER_KEY, effect="Deny"))])


# -- NotAction, NotPrincipal, NotResource ----------------------------------------------------------


def test_not_action() -> None:
    policy = kp(st({"AWS": ALICE}, ["kms:Schedule*", "kms:Delete*"], negate=["Action"]))
    assert allowed(ALICE, "kms:Encrypt", key_policy=policy)
    assert not allowed(ALICE, "kms:ScheduleKeyDeletion", key_policy=policy)
    assert not allowed(ALICE, "kms:DeleteAlias", key_policy=policy)


def test_not_action_deny() -> None:
    policy = kp(
        st({"AWS": ALICE}), st({"AWS": ALICE}, "kms:Describe*", effect="Deny", negate=["Action"])
    )
    assert allowed(ALICE, "kms:DescribeKey", key_policy=policy)
    assert decide(ALICE, "kms:Encrypt", key_policy=policy).reason == "explicit-deny-resource"


def test_not_principal_with_deny_exempts_only_fully_listed_callers() -> None:
    deny_all_but = st({"AWS": [ALICE, ROOT]}, effect="Deny", negate=["Principal"])
    policy = kp(st("*"), deny_all_but)
    assert allowed(ALICE, key_policy=policy)
    assert decide(BOB, key_policy=policy).reason == "explicit-deny-resource"
    assert allowed(ROOT, key_policy=policy)


def test_not_principal_naming_a_user_without_its_account_still_denies_it() -> None:
    policy = kp(st("*"), st({"AWS": ALICE}, effect="Deny", negate=["Principal"]))
    assert not allowed(ALICE, key_policy=policy)


def test_not_principal_for_a_session_needs_its_role_and_account() -> None:
    role_and_account = kp(st("*"), st({"AWS": [APP, A]}, effect="Deny", negate=["Principal"]))
    assert allowed(APP_SESSION, key_policy=role_and_account)
    session_only = kp(st("*"), st({"AWS": [APP_SESSION, A]}, effect="Deny", negate=["Principal"]))
    assert not allowed(APP_SESSION, key_policy=session_only)


def test_not_principal_with_allow_allows_everyone_else() -> None:
    policy = kp(st({"AWS": [BOB, A]}, negate=["Principal"]))
    assert decide(ALICE, key_policy=policy).reason == "allowed-by-key-policy"
    assert not allowed(BOB, key_policy=policy)


def test_not_resource_in_identity_policy() -> None:
    policy = kp(st({"AWS": A}))
    iam = [ip(ist("kms:*", OTHER_KEY, negate=["Resource"]))]
    assert allowed(ALICE, key_policy=policy, iam=iam)
    assert not allowed(ALICE, key_policy=policy, iam=iam, resource=OTHER_KEY)


def test_not_resource_in_key_policy() -> None:
    policy = kp(st({"AWS": ALICE}, resource=OTHER_KEY, negate=["Resource"]))
    assert allowed(ALICE, key_policy=policy)
    assert not allowed(ALICE, key_policy=policy, resource=OTHER_KEY)


# -- actions and resources -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("kms:encrypt", "kms:Encrypt", True),
        ("KMS:ENCRYPT", "kms:Encrypt", True),
        ("kms:GenerateDataKey*", "kms:GenerateDataKeyPairWithoutPlaintext", True),
        ("kms:GenerateDataKey*", "kms:GenerateMac", False),
        ("kms:?ign", "kms:Sign", True),
        ("kms:?ign", "kms:Design", False),
        ("kms:Re*", "kms:ReEncryptFrom", True),
        ("*", "kms:ScheduleKeyDeletion", True),
        ("kms:Delete*", "kms:ScheduleKeyDeletion", False),
    ],
)
def test_action_patterns(pattern: str, action: str, expected: bool) -> None:
    assert allowed(ALICE, action, key_policy=kp(st({"AWS": ALICE}, pattern))) is expected


def test_key_policy_resource_star_means_this_key_and_an_arn_names_a_key() -> None:
    assert allowed(ALICE, key_policy=kp(st({"AWS": ALICE}, resource=K)))
    assert not allowed(ALICE, key_policy=kp(st({"AWS": ALICE}, resource=OTHER_KEY)))


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (K, True),
        ("*", True),
        (f"arn:aws:kms:*:{A}:key/*", True),
        (f"arn:aws:kms:us-west-2:{A}:key/1234abcd-*", True),
        (f"arn:aws:kms:*:{B}:key/*", False),
        (f"arn:aws:kms:us-west-2:{A}:alias/*", False),
        (f"arn:aws:kms:us-west-2:{A}:key/1234ABCD-12ab-34cd-56ef-1234567890ab", False),
    ],
)
def test_identity_resource_patterns(resource: str, expected: bool) -> None:
    policy = kp(st({"AWS": A}))
    assert allowed(ALICE, key_policy=policy, iam=[ip(ist("kms:Encrypt", resource))]) is expected


def test_identity_resource_for_alias_actions_is_the_alias_arn() -> None:
    alias = f"arn:aws:kms:us-west-2:{A}:alias/app/x"
    iam = [ip(ist("kms:CreateAlias", f"arn:aws:kms:us-west-2:{A}:alias/app/*"))]
    assert allowed(
        ALICE, "kms:CreateAlias", key_policy=None, iam=iam, resource=alias, key_policy_applies=False
    )
    other = f"arn:aws:kms:us-west-2:{A}:alias/other"
    assert not allowed(
        ALICE, "kms:CreateAlias", key_policy=None, iam=iam, resource=other, key_policy_applies=False
    )


# -- IAM-only actions ------------------------------------------------------------------------------


def test_iam_only_actions_ignore_the_key_policy() -> None:
    everything = kp(st("*"))
    create = {"key_policy": everything, "resource": "*", "key_policy_applies": False}
    assert decide(ALICE, "kms:CreateKey", **create).reason == "no-identity-policy"  # type: ignore[arg-type]
    iam = [ip(ist("kms:CreateKey", "*"))]
    assert decide(ALICE, "kms:CreateKey", iam=iam, **create).reason == "allowed-by-iam"  # type: ignore[arg-type]
    deny = [ip(ist("kms:CreateKey", "*")), ip(ist("kms:Create*", "*", effect="Deny"))]
    assert decide(ALICE, "kms:CreateKey", iam=deny, **create).reason == "explicit-deny-identity"  # type: ignore[arg-type]
    assert decide(ROOT, "kms:CreateKey", **create).allowed  # type: ignore[arg-type]


def test_key_policy_deny_does_not_reach_iam_only_actions() -> None:
    policy = kp(st("*", effect="Deny"))
    iam = [ip(ist("kms:ListAliases", "*"))]
    assert allowed(
        ALICE, "kms:ListAliases", key_policy=policy, iam=iam, resource="*", key_policy_applies=False
    )


# -- cross account ---------------------------------------------------------------------------------


def test_cross_account_needs_key_policy_and_foreign_iam() -> None:
    policy = kp(st({"AWS": B_USER}, "kms:Decrypt"))
    iam = [ip(ist("kms:Decrypt"))]
    assert (
        decide(B_USER, "kms:Decrypt", key_policy=policy, iam=iam).reason == "allowed-cross-account"
    )
    assert decide(B_USER, "kms:Decrypt", key_policy=policy).reason == "no-identity-policy"
    assert decide(
        f"arn:aws:iam::{B}:user/dave", "kms:Decrypt", key_policy=policy, iam=iam
    ).reason == ("no-resource-policy")


def test_foreign_root_user_needs_no_iam_policy() -> None:
    policy = kp(st({"AWS": B}, "kms:Decrypt"))
    assert decide(B_ROOT, "kms:Decrypt", key_policy=policy).reason == "allowed-cross-account"


def test_cross_account_actions_list() -> None:
    assert {
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:Sign",
        "kms:Verify",
        "kms:GenerateMac",
        "kms:VerifyMac",
        "kms:DeriveSharedSecret",
        "kms:CreateGrant",
        "kms:DescribeKey",
        "kms:GetKeyRotationStatus",
        "kms:GetPublicKey",
        "kms:ListGrants",
        "kms:RetireGrant",
        "kms:RevokeGrant",
    } <= CROSS_ACCOUNT_ACTIONS
    assert (
        not {
            "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion",
            "kms:CreateAlias",
            "kms:TagResource",
            "kms:EnableKey",
            "kms:GetKeyPolicy",
        }
        & CROSS_ACCOUNT_ACTIONS
    )


@pytest.mark.parametrize("action", sorted(CROSS_ACCOUNT_ACTIONS))
def test_every_cross_account_action_works_across_accounts(action: str) -> None:
    policy = kp(st({"AWS": B}))
    assert allowed(B_USER, action, key_policy=policy, iam=[ip(ist("kms:*", "*"))])


@pytest.mark.parametrize(
    "action", ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:GetKeyPolicy"]
)
def test_other_actions_never_work_across_accounts(action: str) -> None:
    policy = kp(st("*"))
    d = decide(B_ROOT, action, key_policy=policy, iam=[ip(ist("kms:*", "*"))])
    assert (d.allowed, d.reason) == (False, "not-cross-account-action")


# -- conditions in context -------------------------------------------------------------------------


def test_derived_caller_account_and_principal_arn() -> None:
    policy = kp(
        st(
            "*",
            condition={
                "StringEquals": {"kms:CallerAccount": A},
                "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/App"},
            },
        )
    )
    assert allowed(APP_SESSION, key_policy=policy)
    assert not allowed(ALICE, key_policy=policy)


def test_request_values_override_derived_values() -> None:
    policy = kp(st("*", condition={"StringEquals": {"kms:CallerAccount": B}}))
    assert not allowed(ALICE, key_policy=policy)
    assert allowed(ALICE, key_policy=policy, conditions={"KMS:CallerAccount": B})


def test_encryption_context_from_the_request_feeds_the_condition_keys() -> None:
    policy = kp(
        st(
            "*",
            condition={
                "StringEquals": {"kms:EncryptionContext:Team": "blue"},
                "ForAllValues:StringLike": {"kms:EncryptionContextKeys": ["Team", "App*"]},
            },
        )
    )
    assert allowed(ALICE, key_policy=policy, context={"Team": "blue", "AppName": "x"})
    assert not allowed(ALICE, key_policy=policy, context={"Team": "blue", "Other": "x"})
    assert not allowed(ALICE, key_policy=policy, context={"Team": "red"})


def test_current_time_and_derived_epoch_time() -> None:
    policy = kp(
        st(
            "*",
            condition={
                "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"},
                "NumericGreaterThan": {"aws:EpochTime": "1700000000"},
            },
        )
    )
    assert allowed(
        ALICE, key_policy=policy, conditions={"aws:CurrentTime": datetime(2025, 1, 1, tzinfo=UTC)}
    )
    assert not allowed(
        ALICE, key_policy=policy, conditions={"aws:CurrentTime": datetime(2031, 1, 1, tzinfo=UTC)}
    )
    assert not allowed(
        ALICE, key_policy=policy, conditions={"aws:CurrentTime": datetime(2023, 1, 1, tzinfo=UTC)}
    )
    assert not allowed(ALICE, key_policy=policy)


def test_bypass_flag_condition() -> None:
    policy = kp(
        st(
            {"AWS": ALICE},
            "kms:PutKeyPolicy",
            condition={"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}},
        )
    )
    assert allowed(
        ALICE,
        "kms:PutKeyPolicy",
        key_policy=policy,
        conditions={"kms:BypassPolicyLockoutSafetyCheck": False},
    )
    assert not allowed(
        ALICE,
        "kms:PutKeyPolicy",
        key_policy=policy,
        conditions={"kms:BypassPolicyLockoutSafetyCheck": True},
    )


# -- policy variables ------------------------------------------------------------------------------


def test_variables_in_identity_resource() -> None:
    policy = kp(st({"AWS": A}))
    iam = [ip(ist("kms:Encrypt", "arn:aws:kms:*:${aws:PrincipalAccount}:key/*"))]
    assert allowed(ALICE, key_policy=policy, iam=iam)


def test_username_variable_in_condition() -> None:
    policy = kp(
        st("*", condition={"StringEquals": {"kms:EncryptionContext:Owner": "${aws:username}"}})
    )
    assert allowed(ALICE, key_policy=policy, context={"Owner": "alice"})
    assert not allowed(BOB, key_policy=policy, context={"Owner": "alice"})


def test_userid_variable() -> None:
    policy = kp(st("*", condition={"StringLike": {"kms:EncryptionContext:Owner": "${aws:userid}"}}))
    assert allowed(
        APP_SESSION, key_policy=policy, context={"Owner": "AROA1:s1"}, user_id="AROA1:s1"
    )
    assert not allowed(
        APP_SESSION, key_policy=policy, context={"Owner": "AROA2:s1"}, user_id="AROA1:s1"
    )


def test_an_unresolvable_variable_drops_the_statement_even_a_negated_one() -> None:
    # Sessions have no aws:username: the Allow does not apply, nor does the Deny.
    allow_own = kp(
        st("*", condition={"StringEquals": {"kms:EncryptionContext:Owner": "${aws:username}"}})
    )
    assert not allowed(APP_SESSION, key_policy=allow_own, context={"Owner": "App"})
    deny_others = kp(
        st("*"),
        st(
            "*",
            effect="Deny",
            condition={"StringNotEquals": {"kms:EncryptionContext:Owner": "${aws:username}"}},
        ),
    )
    assert allowed(APP_SESSION, key_policy=deny_others, context={"Owner": "x"})
    assert not allowed(BOB, key_policy=deny_others, context={"Owner": "alice"})
    assert allowed(ALICE, key_policy=deny_others, context={"Owner": "alice"})


def test_variables_are_literal_in_version_2008() -> None:
    condition = {"StringEquals": {"kms:EncryptionContext:Owner": "${aws:username}"}}
    policy = kp(st("*", condition=condition), version="2008-10-17")
    assert not allowed(ALICE, key_policy=policy, context={"Owner": "alice"})
    assert allowed(ALICE, key_policy=policy, context={"Owner": "${aws:username}"})


# -- grants ----------------------------------------------------------------------------------------

ACCOUNT_ONLY = kp(st({"AWS": A}, "kms:DescribeKey"))


def grant(grantee: str, *ops: str, **constraints: Mapping[str, str]) -> GrantView:
    return GrantView(grantee, frozenset(ops), grant_id="g1", **constraints)


def test_grant_to_the_caller_allows_its_operations() -> None:
    g = grant(ALICE, "Encrypt")
    d = decide(ALICE, key_policy=ACCOUNT_ONLY, grants=[g])
    assert (d.allowed, d.reason, d.matched) == (True, "allowed-by-grant", ("grant:g1",))
    assert not allowed(ALICE, "kms:Decrypt", key_policy=ACCOUNT_ONLY, grants=[g])
    assert not allowed(BOB, key_policy=ACCOUNT_ONLY, grants=[g])


def test_grant_to_a_role_covers_its_sessions() -> None:
    assert allowed(APP_SESSION, key_policy=ACCOUNT_ONLY, grants=[grant(APP, "Encrypt")])


def test_grant_to_an_account_goes_through_iam() -> None:
    g = grant(ROOT, "Encrypt")
    assert not allowed(ALICE, key_policy=None, grants=[g])
    assert allowed(ALICE, key_policy=None, grants=[g], iam=[ip(ist("kms:Encrypt"))])
    assert allowed(ROOT, key_policy=None, grants=[g])


def test_grant_works_across_accounts() -> None:
    assert decide(B_USER, key_policy=ACCOUNT_ONLY, grants=[grant(B_USER, "Encrypt")]).allowed


def test_grant_equals_constraint_is_exact() -> None:
    g = grant(ALICE, "Decrypt", constraints_equals={"App": "x"})
    assert allowed(ALICE, "kms:Decrypt", key_policy=None, grants=[g], context={"App": "x"})
    assert not allowed(
        ALICE, "kms:Decrypt", key_policy=None, grants=[g], context={"App": "x", "T": "y"}
    )
    assert not allowed(ALICE, "kms:Decrypt", key_policy=None, grants=[g], context={"app": "x"})
    assert not allowed(ALICE, "kms:Decrypt", key_policy=None, grants=[g])


def test_grant_subset_constraint_allows_more_pairs() -> None:
    g = grant(ALICE, "Decrypt", constraints_subset={"App": "x"})
    assert allowed(
        ALICE, "kms:Decrypt", key_policy=None, grants=[g], context={"App": "x", "T": "y"}
    )
    assert not allowed(ALICE, "kms:Decrypt", key_policy=None, grants=[g], context={"App": "X"})
    assert not allowed(ALICE, "kms:Decrypt", key_policy=None, grants=[g], context={"T": "y"})


@pytest.mark.parametrize("action", ["kms:DescribeKey", "kms:RetireGrant"])
def test_constraints_are_ignored_for_describe_key_and_retire_grant(action: str) -> None:
    g = grant(ALICE, "DescribeKey", "RetireGrant", constraints_equals={"App": "x"})
    assert allowed(ALICE, action, key_policy=None, grants=[g])


def test_grant_derived_create_grant_may_only_narrow() -> None:
    parent = grant(ALICE, "Decrypt", "Encrypt", "CreateGrant", constraints_subset={"App": "x"})

    def child(ops: list[str], kind: str | None, pairs: dict[str, str] | None) -> bool:
        conditions: dict[str, ConditionValue] = {"kms:GrantOperations": ops}
        if kind is not None:
            conditions["kms:GrantConstraintType"] = kind
        return allowed(
            ALICE,
            "kms:CreateGrant",
            key_policy=None,
            grants=[parent],
            context=pairs,
            conditions=conditions,
        )

    assert child(["Decrypt"], "EncryptionContextSubset", {"App": "x", "T": "y"})
    assert child(["Decrypt", "Encrypt"], "EncryptionContextEquals", {"App": "x"})
    assert not child(["Decrypt", "Sign"], "EncryptionContextSubset", {"App": "x"})
    assert not child(["Decrypt"], "EncryptionContextSubset", {"T": "y"})
    assert not child(["Decrypt"], None, None)

    exact = grant(ALICE, "Decrypt", "CreateGrant", constraints_equals={"App": "x"})
    conditions: dict[str, ConditionValue] = {"kms:GrantOperations": ["Decrypt"]}
    equals = {**conditions, "kms:GrantConstraintType": "EncryptionContextEquals"}
    subset = {**conditions, "kms:GrantConstraintType": "EncryptionContextSubset"}
    assert allowed(
        ALICE,
        "kms:CreateGrant",
        key_policy=None,
        grants=[exact],
        context={"App": "x"},
        conditions=equals,
    )
    assert not allowed(
        ALICE,
        "kms:CreateGrant",
        key_policy=None,
        grants=[exact],
        context={"App": "x"},
        conditions=subset,
    )


# -- messages --------------------------------------------------------------------------------------


def _message(caller: str, action: str, **kwargs: object) -> str:
    request = Request(Principal.parse(caller), action, K, A)
    d = evaluate(request, **kwargs)  # type: ignore[arg-type]
    return access_denied_message(request, d)


def test_message_no_identity_policy() -> None:
    assert _message(ALICE, "kms:Encrypt", key_policy=kp(st({"AWS": A})), identity_policies=[]) == (
        f"User: {ALICE} is not authorized to perform: kms:Encrypt on resource: {K} "
        "because no identity-based policy allows the kms:Encrypt action"
    )


def test_message_no_resource_policy() -> None:
    assert _message(
        ALICE, "kms:Decrypt", key_policy=kp(st({"AWS": APP})), identity_policies=[]
    ) == (
        f"User: {ALICE} is not authorized to perform: kms:Decrypt on resource: {K} "
        "because no resource-based policy allows the kms:Decrypt action"
    )


def test_message_explicit_deny_in_resource_policy() -> None:
    policy = kp(st("*", effect="Deny"))
    assert _message(APP_SESSION, "kms:Sign", key_policy=policy, identity_policies=[]) == (
        f"User: {APP_SESSION} is not authorized to perform: kms:Sign on resource: {K} "
        "with an explicit deny in a resource-based policy"
    )


def test_message_explicit_deny_in_identity_policy() -> None:
    iam = [ip(ist("kms:*", "*", effect="Deny"))]
    assert _message(ALICE, "kms:Sign", key_policy=kp(st("*")), identity_policies=iam) == (
        f"User: {ALICE} is not authorized to perform: kms:Sign on resource: {K} "
        "with an explicit deny in an identity-based policy"
    )


def test_message_for_not_cross_account_action_names_the_resource_policy() -> None:
    message = _message(B_USER, "kms:PutKeyPolicy", key_policy=kp(st("*")), identity_policies=[])
    assert message.endswith("because no resource-based policy allows the kms:PutKeyPolicy action")


def test_message_refuses_an_allowed_decision() -> None:
    request = Request(Principal.parse(ALICE), "kms:Encrypt", K, A)
    with pytest.raises(KMSInternalException):
        access_denied_message(request, Decision(True, "allowed-by-key-policy"))


# -- lockout check ---------------------------------------------------------------------------------


def _lockout(policy: PolicyDocument, caller: str, iam: Sequence[PolicyDocument] = ()) -> None:
    lockout_check(
        policy, caller=Principal.parse(caller), key_arn=K, key_account=A, identity_policies=iam
    )


def test_lockout_default_policy_passes_for_root_and_for_iam_admins() -> None:
    default = parse_key_policy(default_key_policy(A))
    _lockout(default, ROOT)
    _lockout(default, ALICE, [ip(ist("kms:PutKeyPolicy", "*"))])


def test_lockout_default_policy_fails_for_a_user_without_iam() -> None:
    with pytest.raises(MalformedPolicyDocumentException) as info:
        _lockout(parse_key_policy(default_key_policy(A)), ALICE)
    assert info.value.message == LOCKOUT


def test_lockout_policy_that_drops_the_caller_fails() -> None:
    with pytest.raises(
        MalformedPolicyDocumentException, match="update the key policy in the future"
    ):
        _lockout(kp(st({"AWS": APP})), ALICE, [ip(ist("*", "*"))])
    _lockout(kp(st({"AWS": ALICE}, "kms:PutKeyPolicy")), ALICE)
    _lockout(kp(st({"AWS": APP}, "kms:Put*")), APP_SESSION)


def test_lockout_respects_explicit_denies() -> None:
    with pytest.raises(MalformedPolicyDocumentException):
        _lockout(kp(st({"AWS": ALICE}), st("*", "kms:PutKeyPolicy", effect="Deny")), ALICE)
    with pytest.raises(MalformedPolicyDocumentException):
        _lockout(kp(st({"AWS": ALICE})), ALICE, [ip(ist("kms:PutKeyPolicy", "*", effect="Deny"))])


def test_lockout_for_a_foreign_caller_always_fails() -> None:
    with pytest.raises(MalformedPolicyDocumentException):
        _lockout(kp(st("*")), B_ROOT)
