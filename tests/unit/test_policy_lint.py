"""Warnings for risky but valid policies."""

from __future__ import annotations

import json
from collections.abc import Mapping

from kmscli.policy import default_key_policy, lint_policy, parse_identity_policy, parse_key_policy

A = "111122223333"
ROOT = f"arn:aws:iam::{A}:root"


def lint(*statements: Mapping[str, object]) -> list[str]:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return lint_policy(parse_key_policy(json.dumps(doc)))


def allow(principal: object, action: object = "kms:Encrypt", **extra: object) -> dict[str, object]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*", **extra}


def test_default_policy_is_clean() -> None:
    assert lint_policy(parse_key_policy(default_key_policy(A))) == []


def test_account_principal_with_kms_star_is_clean() -> None:
    assert lint(allow({"AWS": A}, "kms:*"), allow({"AWS": ROOT}, "*")) == []


def test_star_principal_without_condition() -> None:
    (warning,) = lint(allow("*", Sid="Open"))
    assert warning.startswith('Statement[0] (Sid "Open"): Principal "*" without a Condition')


def test_star_principal_with_condition_is_clean() -> None:
    scoped = allow("*", Condition={"StringEquals": {"kms:CallerAccount": A}})
    assert lint(scoped) == []


def test_star_principal_in_a_deny_is_clean() -> None:
    assert lint({"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}) == []


def test_kms_star_to_a_user_or_role() -> None:
    for action in ("kms:*", "*", ["kms:Encrypt", "KMS:*"]):
        warnings = lint(allow({"AWS": f"arn:aws:iam::{A}:role/Admin"}, action))
        assert len(warnings) == 1
        assert "all KMS permissions" in warnings[0]


def test_not_action_allow_to_a_user_counts_as_everything() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:user/alice"},
        "NotAction": "kms:ScheduleKeyDeletion",
        "Resource": "*",
    }
    assert any("all KMS permissions" in w for w in lint(statement))


def test_kms_star_to_a_service() -> None:
    assert any(
        "all KMS permissions" in w for w in lint(allow({"Service": "ec2.amazonaws.com"}, "kms:*"))
    )


def test_star_principal_with_kms_star_gets_both_warnings() -> None:
    warnings = lint(allow("*", "kms:*"))
    assert len(warnings) == 2


def test_not_principal_with_allow() -> None:
    statement = {
        "Effect": "Allow",
        "NotPrincipal": {"AWS": A},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    (warning,) = lint(statement)
    assert "NotPrincipal with Allow" in warning


def test_not_principal_with_deny_is_clean() -> None:
    statement = {"Effect": "Deny", "NotPrincipal": {"AWS": A}, "Action": "kms:*", "Resource": "*"}
    assert lint(statement) == []


def test_actions_that_match_nothing() -> None:
    (warning,) = lint(allow({"AWS": A}, ["kms:Encrpyt", "kms:Decrypt", "kms:Describe*"]))
    assert 'action "kms:Encrpyt" matches no KMS permission' in warning


def test_ignored_statements() -> None:
    (warning,) = lint({"Effect": "Allow", "Principal": {"AWS": A}, "Action": "kms:*"})
    assert "never applies" in warning


def test_identity_policies_get_action_checks() -> None:
    doc = parse_identity_policy(
        json.dumps({"Statement": [{"Effect": "Allow", "Action": "kms:Sing", "Resource": "*"}]})
    )
    (warning,) = lint_policy(doc)
    assert warning.startswith("Statement[0]: ")
