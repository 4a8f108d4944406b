"""Every condition operator, IfExists, Null, set qualifiers, missing keys and variables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone

import pytest

from kmscli.policy.conditions import (
    ConditionClause,
    ConditionContext,
    ConditionValue,
    evaluate_clause,
    parse_operator,
)
from kmscli.policy.matching import UnresolvedVariableError


def clause(operator: str, key: str, *values: str) -> ConditionClause:
    base, qualifier, if_exists, canonical = parse_operator(operator)
    return ConditionClause(canonical, base, qualifier, if_exists, key, values)


def holds(
    operator: str,
    values: str | tuple[str, ...],
    request: ConditionValue | None,
    *,
    key: str = "k:x",
    variables: bool = True,
) -> bool:
    context_values: Mapping[str, ConditionValue] = {} if request is None else {key: request}
    context = ConditionContext(context_values)
    policy_values = (values,) if isinstance(values, str) else values
    return evaluate_clause(
        clause(operator, key, *policy_values), context, context.variable if variables else None
    )


# -- operator parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("StringEquals", ("StringEquals", None, False, "StringEquals")),
        ("StringLikeIfExists", ("StringLike", None, True, "StringLikeIfExists")),
        (
            "ForAllValues:StringLike",
            ("StringLike", "ForAllValues", False, "ForAllValues:StringLike"),
        ),
        (
            "ForAnyValue:ArnNotLikeIfExists",
            ("ArnNotLike", "ForAnyValue", True, "ForAnyValue:ArnNotLikeIfExists"),
        ),
        (
            "stringequalsignorecase",
            ("StringEqualsIgnoreCase", None, False, "StringEqualsIgnoreCase"),
        ),
        ("Null", ("Null", None, False, "Null")),
    ],
)
def test_parse_operator(name: str, parsed: tuple[object, ...]) -> None:
    assert parse_operator(name) == parsed


@pytest.mark.parametrize(
    "name", ["IfExists", "StringEqual", "NullIfExists", "ForAnyValue:Null", "X:Y"]
)
def test_parse_operator_rejects(name: str) -> None:
    with pytest.raises(ValueError):
        parse_operator(name)


# -- string ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "policy", "request_value", "expected"),
    [
        ("StringEquals", "ExampleApp", "ExampleApp", True),
        ("StringEquals", "ExampleApp", "exampleapp", False),
        ("StringEquals", "Example*", "ExampleApp", False),
        ("StringNotEquals", "ExampleApp", "exampleapp", True),
        ("StringNotEquals", "ExampleApp", "ExampleApp", False),
        ("StringEqualsIgnoreCase", "ExampleApp", "EXAMPLEAPP", True),
        ("StringEqualsIgnoreCase", "ExampleApp", "Other", False),
        ("StringNotEqualsIgnoreCase", "ExampleApp", "EXAMPLEAPP", False),
        ("StringNotEqualsIgnoreCase", "ExampleApp", "Other", True),
        ("StringLike", "Example*", "ExampleApp", True),
        ("StringLike", "Example*", "Example", True),
        ("StringLike", "Ex?mple", "Example", True),
        ("StringLike", "Ex?mple", "Exmple", False),
        ("StringLike", "example*", "ExampleApp", False),
        ("StringLike", "*", "", True),
        ("StringNotLike", "Example*", "ExampleApp", False),
        ("StringNotLike", "Example*", "Other", True),
        ("StringEquals", "true", True, True),
        ("StringEquals", "42", 42, True),
    ],
)
def test_string_operators(
    operator: str, policy: str, request_value: ConditionValue, expected: bool
) -> None:
    assert holds(operator, policy, request_value) is expected


def test_several_policy_values_are_ored() -> None:
    assert holds("StringEquals", ("a", "b", "c"), "b")
    assert not holds("StringEquals", ("a", "b", "c"), "d")


def test_negated_operator_requires_that_no_value_matches() -> None:
    assert not holds("StringNotEquals", ("a", "b"), "b")
    assert holds("StringNotEquals", ("a", "b"), "c")
    assert not holds("StringNotLike", ("x*", "b*"), "bee")


# -- numeric ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operator", "below", "equal", "above"),
    [
        ("NumericEquals", False, True, False),
        ("NumericNotEquals", True, False, True),
        ("NumericLessThan", True, False, False),
        ("NumericLessThanEquals", True, True, False),
        ("NumericGreaterThan", False, False, True),
        ("NumericGreaterThanEquals", False, True, True),
    ],
)
def test_numeric_operators(operator: str, below: bool, equal: bool, above: bool) -> None:
    assert [holds(operator, "30", v) for v in (29, 30, 31)] == [below, equal, above]
    assert holds(operator, "30", "30.0") is equal
    assert holds(operator, "30.5", 30.5) is equal


def test_numeric_with_a_non_number_request_value_does_not_match() -> None:
    assert not holds("NumericEquals", "30", "thirty")
    assert not holds("NumericLessThan", "30", True)


# -- dates -----------------------------------------------------------------------------------------


NOON = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("operator", "before", "equal", "after"),
    [
        ("DateEquals", False, True, False),
        ("DateNotEquals", True, False, True),
        ("DateLessThan", True, False, False),
        ("DateLessThanEquals", True, True, False),
        ("DateGreaterThan", False, False, True),
        ("DateGreaterThanEquals", False, True, True),
    ],
)
def test_date_operators(operator: str, before: bool, equal: bool, after: bool) -> None:
    second = timedelta(seconds=1)
    results = [
        holds(operator, "2024-06-01T12:00:00Z", t) for t in (NOON - second, NOON, NOON + second)
    ]
    assert results == [before, equal, after]


@pytest.mark.parametrize(
    "policy",
    ["2024-06-01T12:00:00Z", "2024-06-01T12:00:00.000Z", "2024-06-01T14:00:00+02:00", "1717243200"],
)
def test_date_policy_value_forms(policy: str) -> None:
    assert holds("DateEquals", policy, NOON)


def test_date_request_value_forms() -> None:
    assert holds("DateEquals", "2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z")
    assert holds("DateEquals", "2024-06-01T12:00:00Z", 1717243200)
    assert holds("DateEquals", "2024-06-01T12:00:00Z", datetime(2024, 6, 1, 12))  # naive is UTC
    assert holds(
        "DateEquals",
        "2024-06-01T12:00:00Z",
        datetime(2024, 6, 1, 7, tzinfo=timezone(-timedelta(hours=5))),
    )
    assert holds("DateLessThan", "2024-06-02", NOON)
    assert not holds("DateEquals", "2024-06-01T12:00:00Z", "not a date")


# -- bool, binary, ip ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "request_value", "expected"),
    [
        ("true", True, True),
        ("true", False, False),
        ("false", False, True),
        ("TRUE", "true", True),
        ("true", "false", False),
    ],
)
def test_bool(policy: str, request_value: ConditionValue, expected: bool) -> None:
    assert holds("Bool", policy, request_value) is expected


def test_binary_equals() -> None:
    assert holds("BinaryEquals", "QUJD", b"ABC")
    assert holds("BinaryEquals", "QUJD", "QUJD")
    assert not holds("BinaryEquals", "QUJD", b"ABD")
    assert not holds("BinaryEquals", "QUJD", "not base64!")


@pytest.mark.parametrize(
    ("policy", "address", "expected"),
    [
        ("203.0.113.0/24", "203.0.113.9", True),
        ("203.0.113.0/24", "203.0.114.9", False),
        ("203.0.113.9", "203.0.113.9", True),
        ("203.0.113.9/32", "203.0.113.10", False),
        ("2001:db8::/32", "2001:db8::1", True),
        ("2001:db8::/32", "203.0.113.9", False),
        ("203.0.113.0/24", "not an address", False),
    ],
)
def test_ip_address(policy: str, address: str, expected: bool) -> None:
    assert holds("IpAddress", policy, address) is expected
    assert holds("NotIpAddress", policy, address) is (not expected)


# -- arn -------------------------------------------------------------------------------------------

KEY = "arn:aws:kms:us-west-2:111122223333:key/1234abcd"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (KEY, True),
        ("arn:aws:kms:*:111122223333:key/*", True),
        ("arn:aws:kms:us-west-?:111122223333:key/*", True),
        ("arn:aws:kms:*:444455556666:key/*", False),
        ("arn:aws:kms:us-west-2:111122223333:alias/*", False),
        ("arn:aws:kms:us-west-2:*:*", True),
        # A wildcard does not cross the colons between ARN parts.
        ("arn:aws:kms:*:key/1234abcd", False),
        # Fewer than six parts never matches, even with a trailing wildcard.
        ("arn:aws:kms:us-west-2:*", False),
        ("ARN:aws:kms:us-west-2:111122223333:key/1234abcd", False),
        ("*", True),
    ],
)
def test_arn_like_and_equals(policy: str, expected: bool) -> None:
    for operator in ("ArnLike", "ArnEquals"):
        assert holds(operator, policy, KEY) is expected
    for operator in ("ArnNotLike", "ArnNotEquals"):
        assert holds(operator, policy, KEY) is (not expected)


def test_arn_operators_on_a_value_that_is_not_an_arn() -> None:
    assert not holds("ArnLike", "arn:*:*:*:*:*", "alice")
    assert holds("ArnNotLike", "arn:*:*:*:*:*", "alice")


# -- absent keys, IfExists, Null -------------------------------------------------------------------


POSITIVE = [
    "StringEquals",
    "StringLike",
    "NumericLessThan",
    "DateGreaterThan",
    "Bool",
    "ArnLike",
    "IpAddress",
    "BinaryEquals",
    "StringEqualsIgnoreCase",
    "NumericEquals",
    "DateEquals",
]
NEGATED = [
    "StringNotEquals",
    "StringNotLike",
    "StringNotEqualsIgnoreCase",
    "NumericNotEquals",
    "DateNotEquals",
    "ArnNotLike",
    "ArnNotEquals",
    "NotIpAddress",
]
SAMPLE = {
    "Numeric": "1",
    "Date": "2024-01-01T00:00:00Z",
    "Bool": "true",
    "IpAddress": "10.0.0.0/8",
    "NotIp": "10.0.0.0/8",
    "Binary": "QUJD",
}


def _sample(operator: str) -> str:
    return next((v for p, v in SAMPLE.items() if operator.startswith(p)), "x")


@pytest.mark.parametrize("operator", POSITIVE)
def test_absent_key_makes_positive_operators_false(operator: str) -> None:
    assert not holds(operator, _sample(operator), None)


@pytest.mark.parametrize("operator", NEGATED)
def test_absent_key_makes_negated_operators_true(operator: str) -> None:
    assert holds(operator, _sample(operator), None)


@pytest.mark.parametrize("operator", POSITIVE + NEGATED)
def test_if_exists_is_true_when_absent_and_evaluated_when_present(operator: str) -> None:
    assert holds(f"{operator}IfExists", _sample(operator), None)
    assert holds(f"{operator}IfExists", "x", "x") is holds(operator, "x", "x")


def test_string_equals_if_exists_with_a_present_mismatch_is_false() -> None:
    assert not holds("StringEqualsIfExists", "a", "b")
    assert holds("StringEqualsIfExists", "a", "a")


@pytest.mark.parametrize(
    ("policy", "present", "expected"),
    [("true", False, True), ("true", True, False), ("false", True, True), ("false", False, False)],
)
def test_null(policy: str, present: bool, expected: bool) -> None:
    assert holds("Null", policy, "v" if present else None) is expected


def test_null_treats_an_empty_list_as_absent() -> None:
    assert holds("Null", "true", [])
    assert not holds("Null", "false", [])


# -- multi-valued keys and set qualifiers ----------------------------------------------------------


def test_for_all_values() -> None:
    allowed = ("AppName", "Team")
    assert holds("ForAllValues:StringEquals", allowed, ["AppName"])
    assert holds("ForAllValues:StringEquals", allowed, ["AppName", "Team"])
    assert not holds("ForAllValues:StringEquals", allowed, ["AppName", "Project"])
    assert holds("ForAllValues:StringEquals", allowed, [])
    assert holds("ForAllValues:StringEquals", allowed, None)


def test_for_any_value() -> None:
    assert holds("ForAnyValue:StringEquals", "AppName", ["AppName", "Project"])
    assert not holds("ForAnyValue:StringEquals", "AppName", ["Project"])
    assert not holds("ForAnyValue:StringEquals", "AppName", [])
    assert not holds("ForAnyValue:StringEquals", "AppName", None)


def test_for_any_value_if_exists_is_true_when_absent() -> None:
    assert holds("ForAnyValue:StringEqualsIfExists", "AppName", None)


def test_set_qualifiers_with_negated_operators() -> None:
    # Every request value must match none of the policy values.
    assert holds("ForAllValues:StringNotEquals", ("a", "b"), ["c", "d"])
    assert not holds("ForAllValues:StringNotEquals", ("a", "b"), ["c", "a"])
    # At least one request value must match none of them.
    assert holds("ForAnyValue:StringNotLike", ("a*",), ["apple", "banana"])
    assert not holds("ForAnyValue:StringNotLike", ("a*",), ["apple", "avocado"])


def test_set_qualifiers_on_a_single_value_treat_it_as_a_set_of_one() -> None:
    assert holds("ForAnyValue:StringLike", "App*", "AppName")
    assert not holds("ForAllValues:StringLike", "App*", "Team")


def test_unqualified_operator_on_a_multi_valued_key() -> None:
    assert holds("StringEquals", "a", ["b", "a"])
    assert not holds("StringEquals", "a", ["b", "c"])
    assert not holds("StringNotEquals", "a", ["b", "a"])
    assert holds("StringNotEquals", "a", ["b", "c"])


# -- key names -------------------------------------------------------------------------------------


def test_condition_key_names_are_case_insensitive() -> None:
    context = ConditionContext({"kms:EncryptionContext:AppName": "ExampleApp"})
    c = clause("StringEquals", "KMS:encryptioncontext:APPNAME", "ExampleApp")
    assert evaluate_clause(c, context, None)
    assert not evaluate_clause(
        clause("StringEquals", "kms:EncryptionContext:Team", "x"), context, None
    )


def test_a_later_spelling_of_the_same_key_replaces_the_earlier() -> None:
    context = ConditionContext({"k:x": "old", "K:X": "new"})
    assert evaluate_clause(clause("StringEquals", "k:x", "new"), context, None)


# -- policy variables ------------------------------------------------------------------------------


def _with_user(operator: str, policy: str, value: str, *, variables: bool = True) -> bool:
    context = ConditionContext({"aws:username": "alice", "k:x": value, "aws:TagKeys": ["a", "b"]})
    return evaluate_clause(
        clause(operator, "k:x", policy), context, context.variable if variables else None
    )


def test_variables_are_substituted_in_condition_values() -> None:
    assert _with_user("StringEquals", "${aws:username}", "alice")
    assert _with_user("StringLike", "home/${aws:username}/*", "home/alice/docs")
    assert not _with_user("StringLike", "home/${aws:username}/*", "home/bob/docs")
    assert _with_user("ArnLike", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::1:user/alice")


def test_variable_names_are_case_insensitive() -> None:
    assert _with_user("StringEquals", "${AWS:UserName}", "alice")


def test_a_substituted_value_is_literal_not_a_wildcard() -> None:
    context = ConditionContext({"k:pattern": "a*", "k:x": "abc"})
    assert not evaluate_clause(
        clause("StringLike", "k:x", "${k:pattern}"), context, context.variable
    )


@pytest.mark.parametrize(
    ("policy", "value", "expected"),
    [
        ("${*}", "*", True),
        ("${*}", "anything", False),
        ("a${?}", "a?", True),
        ("a${?}", "ab", False),
        ("${$}{x}", "${x}", True),
    ],
)
def test_escapes_are_literal_characters(policy: str, value: str, expected: bool) -> None:
    assert _with_user("StringLike", policy, value) is expected


def test_default_value_of_an_absent_variable() -> None:
    assert _with_user("StringEquals", "${aws:PrincipalTag/team, 'none'}", "none")
    assert _with_user("StringEquals", "${aws:username, 'none'}", "alice")


def test_unresolvable_variables_raise_for_the_statement_to_drop() -> None:
    with pytest.raises(UnresolvedVariableError):
        _with_user("StringEquals", "${aws:PrincipalTag/team}", "x")
    with pytest.raises(UnresolvedVariableError):
        _with_user("StringEquals", "${aws:TagKeys}", "a")  # multi-valued keys are not variables


def test_variables_are_plain_text_under_version_2008() -> None:
    assert _with_user("StringEquals", "${aws:username}", "${aws:username}", variables=False)
    assert not _with_user("StringEquals", "${aws:username}", "alice", variables=False)
