"""Grammar, validation messages and limits of key and identity policies."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest

from kmscli.errors import (
    LimitExceededException,
    MalformedPolicyDocumentException,
    ValidationException,
)
from kmscli.policy import default_key_policy, parse_identity_policy, parse_key_policy
from kmscli.policy.conditions import OPERATOR_NAMES
from kmscli.policy.document import (
    IDENTITY_POLICY_MAX_CHARS,
    INVALID_PRINCIPALS,
    KEY_POLICY_MAX_BYTES,
)

A = "111122223333"


def statement(**members: object) -> dict[str, object]:
    base: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    base.update(members)
    return {k: v for k, v in base.items() if v is not None}


def policy(*statements: dict[str, object], **top: object) -> str:
    doc: dict[str, object] = {"Version": "2012-10-17", "Statement": list(statements)}
    doc.update(top)
    return json.dumps(doc, ensure_ascii=False)


def identity(*statements: Mapping[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def malformed(text: str, *, key: bool = True) -> str:
    with pytest.raises(MalformedPolicyDocumentException) as info:
        (parse_key_policy if key else parse_identity_policy)(text)
    return info.value.message


# -- default policy --------------------------------------------------------------------------------


def test_default_key_policy_is_the_aws_document() -> None:
    assert json.loads(default_key_policy(A)) == {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def test_default_key_policy_uses_the_partition() -> None:
    doc = parse_key_policy(default_key_policy(A, partition="aws-cn"))
    assert json.loads(doc.text)["Statement"][0]["Principal"] == {"AWS": f"arn:aws-cn:iam::{A}:root"}
    assert doc.statements[0].principal is not None
    assert doc.statements[0].principal.accounts == frozenset({A})


@pytest.mark.parametrize("bad", ["12345", "11112222333a", "", "1111222233334"])
def test_default_key_policy_rejects_bad_accounts(bad: str) -> None:
    with pytest.raises(ValidationException):
        default_key_policy(bad)


def test_parsed_default_policy() -> None:
    doc = parse_key_policy(default_key_policy(A))
    assert doc.kind == "key"
    assert doc.version == "2012-10-17"
    assert doc.id == "key-default-1"
    (st,) = doc.statements
    assert (st.sid, st.effect, st.actions, st.resources) == (
        "Enable IAM User Permissions",
        "Allow",
        ("kms:*",),
        ("*",),
    )


# -- text limits -----------------------------------------------------------------------------------


def test_empty_policy_is_a_validation_error() -> None:
    with pytest.raises(ValidationException):
        parse_key_policy("")


@pytest.mark.parametrize("char", ["\u0000", "\u0007", "\u0100", "\u2028", "😀"])
def test_characters_outside_the_pattern_are_rejected(char: str) -> None:
    # Raw, between tokens: json.dumps would escape control characters inside strings.
    text = policy(statement()).replace("{", "{" + char, 1)
    with pytest.raises(ValidationException, match="regular expression pattern"):
        parse_key_policy(text)
    with pytest.raises(ValidationException):
        parse_identity_policy(
            identity({"Effect": "Allow", "Action": "kms:*", "Resource": "*"}) + char
        )


@pytest.mark.parametrize("char", ["\t", "\n", "\r", " ", "é", "\u00ff"])
def test_allowed_characters_are_accepted(char: str) -> None:
    parse_key_policy(policy(statement(Sid=f"x{char}y")))


def _padded(size: int) -> str:
    """A valid key policy of exactly `size` UTF-8 bytes."""
    base = policy(statement(Sid=""))
    pad = size - len(base.encode())
    return policy(statement(Sid="a" * pad))


def test_key_policy_at_the_quota_is_accepted() -> None:
    text = _padded(KEY_POLICY_MAX_BYTES)
    assert len(text.encode()) == KEY_POLICY_MAX_BYTES
    parse_key_policy(text)


def test_key_policy_over_the_quota_is_limit_exceeded() -> None:
    text = _padded(KEY_POLICY_MAX_BYTES + 1)
    with pytest.raises(LimitExceededException):
        parse_key_policy(text)


def test_key_policy_quota_counts_utf8_bytes() -> None:
    base = policy(statement(Sid=""))
    # é is one character but two bytes: this many fit in characters but not in bytes.
    count = (KEY_POLICY_MAX_BYTES - len(base)) // 2 + 1
    text = policy(statement(Sid="é" * count))
    assert len(text) <= KEY_POLICY_MAX_BYTES < len(text.encode())
    with pytest.raises(LimitExceededException):
        parse_key_policy(text)


def test_identity_policy_limit_ignores_whitespace() -> None:
    body = {"Effect": "Allow", "Action": "kms:Encrypt", "Resource": "*"}
    compact = json.dumps({"Version": "2012-10-17", "Statement": [body]}, separators=(",", ":"))
    pad = IDENTITY_POLICY_MAX_CHARS - len(compact)
    body["Sid"] = "a" * (pad - len(',"Sid":""'))
    exact = json.dumps({"Version": "2012-10-17", "Statement": [body]}, separators=(",", ":"))
    assert len(exact) == IDENTITY_POLICY_MAX_CHARS
    spaced = json.dumps({"Version": "2012-10-17", "Statement": [body]}, indent=8)
    parse_identity_policy(spaced)
    body["Sid"] += "a"
    with pytest.raises(LimitExceededException, match="6144"):
        parse_identity_policy(json.dumps({"Version": "2012-10-17", "Statement": [body]}))


# -- JSON and top level ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{", "not valid JSON"),
        ('{"Version": "2012-10-17", "Statement": [}', "not valid JSON"),
        ("[]", "JSON object"),
        ('"x"', "JSON object"),
        ('{"Version":"2012-10-17","Statement":[],"Statement":[]}', 'duplicate member "Statement"'),
        ('{"Version": NaN, "Statement": []}', "not valid JSON"),
    ],
)
def test_json_errors(text: str, fragment: str) -> None:
    assert fragment in malformed(text)


def test_json_error_gives_the_position() -> None:
    assert "line 2 column" in malformed('{\n "Version" "2012-10-17"}')


def test_unknown_top_level_member_is_named() -> None:
    assert '"Statements"' in malformed(policy(statement(), Statements=[]))


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17"])
def test_both_versions_are_accepted(version: str) -> None:
    assert parse_key_policy(policy(statement(), Version=version)).version == version


def test_version_absent_means_2008() -> None:
    doc = parse_key_policy(json.dumps({"Statement": statement()}))
    assert doc.version == "2008-10-17"
    assert not doc.variables_enabled


@pytest.mark.parametrize("version", ["2012-10-18", "", 2012, None])
def test_other_versions_are_rejected(version: object) -> None:
    assert "Version" in malformed(policy(statement(), Version=version))


def test_statement_may_be_a_single_object() -> None:
    doc = parse_key_policy(json.dumps({"Version": "2012-10-17", "Statement": statement()}))
    assert len(doc.statements) == 1


@pytest.mark.parametrize("value", [[], {}, "x", None])
def test_statement_must_hold_statements(value: object) -> None:
    malformed(json.dumps({"Version": "2012-10-17", "Statement": value}))


def test_statement_is_required() -> None:
    assert "Statement" in malformed(json.dumps({"Version": "2012-10-17"}))


def test_id_must_be_a_string() -> None:
    assert "Id" in malformed(policy(statement(), Id=5))


# -- statement elements ----------------------------------------------------------------------------


def test_errors_name_the_statement_index_sid_and_element() -> None:
    text = policy(statement(Sid="Fine"), statement(Sid="Allow use", Effect="allow"))
    message = malformed(text)
    assert message.startswith('Statement[1] (Sid "Allow use") Effect:')
    assert '"allow"' in message


def test_errors_without_sid_name_the_index() -> None:
    assert malformed(policy(statement(), statement(Effect=None))).startswith(
        "Statement[1] Effect: is required"
    )


def test_unknown_statement_member_is_named() -> None:
    assert malformed(policy(statement(Sid="s", Actions="kms:*"))).startswith(
        'Statement[0] (Sid "s") Actions:'
    )


def test_sid_must_be_a_string() -> None:
    assert "Sid" in malformed(policy(statement(Sid=3)))


def test_key_policy_sid_may_contain_spaces_but_identity_sid_may_not() -> None:
    parse_key_policy(policy(statement(Sid="Allow use of the key")))
    body = {"Sid": "Allow use", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    assert "Sid" in malformed(identity(body), key=False)


def test_identity_sids_must_be_unique() -> None:
    body = {"Sid": "A1", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    assert "used twice" in malformed(identity(body, body), key=False)


def test_key_policy_requires_a_principal() -> None:
    message = malformed(policy(statement(Sid="NoOne", Principal=None)))
    assert message.startswith('Statement[0] (Sid "NoOne") Principal:')


def test_principal_and_not_principal_together_are_rejected() -> None:
    assert "NotPrincipal" in malformed(policy(statement(NotPrincipal="*")))


def test_identity_policy_forbids_principals() -> None:
    body = {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
    assert "Principal" in malformed(identity(body), key=False)
    body = {"Effect": "Allow", "NotPrincipal": "*", "Action": "kms:*", "Resource": "*"}
    assert "NotPrincipal" in malformed(identity(body), key=False)


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": A},
        {"AWS": f"arn:aws:iam::{A}:root"},
        {"AWS": f"arn:aws:iam::{A}:user/alice"},
        {"AWS": f"arn:aws:iam::{A}:user/division/team/alice"},
        {"AWS": f"arn:aws:iam::{A}:role/App"},
        {"AWS": f"arn:aws:iam::{A}:role/aws-service-role/ec2.amazonaws.com/AWSServiceRole"},
        {"AWS": f"arn:aws:sts::{A}:assumed-role/App/session-1"},
        {"AWS": f"arn:aws-us-gov:iam::{A}:root"},
        {"AWS": [A, "444455556666", f"arn:aws:iam::{A}:user/bob"]},
        {"Service": "ec2.amazonaws.com"},
        {"Service": ["logs.us-west-2.amazonaws.com", "delivery.logs.amazonaws.com"]},
        {"AWS": A, "Service": "ec2.amazonaws.com"},
    ],
)
def test_valid_principals(principal: object) -> None:
    parse_key_policy(policy(statement(Principal=principal)))
    parse_key_policy(policy(statement(Principal=None, NotPrincipal=principal, Effect="Deny")))


@pytest.mark.parametrize(
    "principal",
    [
        "alice",
        "**",
        {},
        {"AWS": []},
        {"AWS": "12345"},
        {"AWS": "arn:aws:iam::12345:root"},
        {"AWS": f"arn:aws:iam::{A}:group/admins"},
        {"AWS": f"arn:aws:iam::{A}:user/*"},
        {"AWS": "arn:aws:iam::*:root"},
        {"AWS": f"arn:aws:s3:::{A}"},
        {"AWS": f"arn:aws:sts::{A}:assumed-role/App"},
        {"AWS": 111122223333},
        {"AWS": [A, None]},
        {"Service": "ec2"},
        {"Service": "*"},
        {"Federated": "cognito-identity.amazonaws.com"},
        {"aws": A},
        ["*"],
    ],
)
def test_invalid_principals_use_the_aws_message(principal: object) -> None:
    message = malformed(policy(statement(Sid="S", Principal=principal)))
    assert message.startswith(INVALID_PRINCIPALS)
    assert 'Statement[0] (Sid "S") Principal' in message


@pytest.mark.parametrize(
    "action",
    [
        "*",
        "kms:*",
        "kms:Encrypt",
        "kms:Describe*",
        "kms:GenerateDataKey*",
        "KMS:encrypt",
        "kms:?ign",
    ],
)
def test_valid_actions(action: str) -> None:
    parse_key_policy(policy(statement(Action=action)))
    parse_key_policy(policy(statement(Action=None, NotAction=[action])))


@pytest.mark.parametrize("action", ["", "Encrypt", "kms:", "kms:Encrypt Now", "kms::x", 5])
def test_invalid_actions(action: object) -> None:
    assert "Action" in malformed(policy(statement(Sid="S", Action=action)))


def test_key_policy_actions_must_be_kms_but_identity_actions_may_be_any_service() -> None:
    assert "KMS action" in malformed(policy(statement(Action="s3:GetObject")))
    parse_identity_policy(identity({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))


def test_action_and_not_action_together_are_rejected() -> None:
    assert "NotAction" in malformed(policy(statement(NotAction="kms:Decrypt")))


@pytest.mark.parametrize("value", [[], {}, None, ["kms:Encrypt", 3]])
def test_action_list_shape(value: object) -> None:
    text = policy({**statement(), "Action": value})
    malformed(text)


@pytest.mark.parametrize(
    "resource",
    ["*", f"arn:aws:kms:us-west-2:{A}:key/1234", f"arn:aws:kms:*:{A}:key/*", "arn:aws:s3:::bucket"],
)
def test_valid_resources(resource: str) -> None:
    parse_key_policy(policy(statement(Resource=resource)))
    parse_key_policy(policy(statement(Resource=None, NotResource=resource)))


@pytest.mark.parametrize("resource", ["", "key/1234", "arn:aws:kms", 7, ["*", 7]])
def test_invalid_resources(resource: object) -> None:
    assert "Resource" in malformed(policy(statement(Resource=resource)))


def test_resource_and_not_resource_together_are_rejected() -> None:
    assert "NotResource" in malformed(policy(statement(NotResource="*")))


def test_key_policy_statement_without_action_or_resource_is_accepted_and_ignored() -> None:
    doc = parse_key_policy(policy(statement(Action=None), statement(Resource=None), statement()))
    assert [st.ignored for st in doc.statements] == [True, True, False]


def test_identity_policy_requires_action_and_resource() -> None:
    assert "Action" in malformed(identity({"Effect": "Allow", "Resource": "*"}), key=False)
    assert "Resource" in malformed(identity({"Effect": "Allow", "Action": "kms:*"}), key=False)


# -- conditions ------------------------------------------------------------------------------------


def _with_condition(condition: object) -> str:
    return policy(statement(Sid="C", Condition=condition))


@pytest.mark.parametrize("operator", sorted(OPERATOR_NAMES - {"Null"}))
def test_every_operator_with_if_exists_and_qualifiers_is_accepted(operator: str) -> None:
    value = {
        "Numeric": "10",
        "Date": "2024-01-01T00:00:00Z",
        "Bool": "true",
        "Binary": "QUJD",
        "IpAdd": "10.0.0.0/8",
        "NotIpA": "10.0.0.0/8",
    }
    sample = next((v for prefix, v in value.items() if operator.startswith(prefix)), "x")
    for name in (operator, f"{operator}IfExists", f"ForAnyValue:{operator}"):
        doc = parse_key_policy(_with_condition({name: {"kms:CallerAccount": sample}}))
        (clause,) = doc.statements[0].conditions
        assert clause.operator == name
        assert clause.base == operator


def test_null_operator_is_accepted() -> None:
    doc = parse_key_policy(_with_condition({"Null": {"kms:EncryptionContextKeys": "true"}}))
    (clause,) = doc.statements[0].conditions
    assert (clause.base, clause.values) == ("Null", ("true",))


@pytest.mark.parametrize("name", ["StringEqual", "NullIfExists", "ForAllValues:Null", "Foo:Bar"])
def test_unknown_operators_are_named(name: str) -> None:
    message = malformed(_with_condition({name: {"kms:CallerAccount": "x"}}))
    assert message.startswith('Statement[0] (Sid "C") Condition:')
    assert f'"{name}"' in message


@pytest.mark.parametrize(
    ("operator", "value"),
    [
        ("NumericEquals", "ten"),
        ("DateLessThan", "yesterday"),
        ("Bool", "yes"),
        ("IpAddress", "10.0.0.300"),
        ("BinaryEquals", "not base64!"),
        ("Null", "maybe"),
        ("StringEquals", None),
        ("StringEquals", {"a": 1}),
        ("StringEquals", []),
    ],
)
def test_invalid_condition_values(operator: str, value: object) -> None:
    message = malformed(_with_condition({operator: {"kms:CallerAccount": value}}))
    assert "Condition" in message
    assert "kms:CallerAccount" in message


def test_condition_values_are_normalised_to_strings() -> None:
    doc = parse_key_policy(
        _with_condition(
            {"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"kms:X": [1, 2.5]}}
        )
    )
    assert [c.values for c in doc.statements[0].conditions] == [("true",), ("1", "2.5")]


def test_variables_in_typed_values_are_not_validated_early() -> None:
    parse_key_policy(_with_condition({"NumericEquals": {"kms:X": "${kms:Y}"}}))


@pytest.mark.parametrize("key", ["CallerAccount", "", "kms:", "${aws:username}:x", "kms:a b"])
def test_invalid_condition_keys(key: str) -> None:
    assert "condition key" in malformed(_with_condition({"StringEquals": {key: "x"}}))


@pytest.mark.parametrize("value", ["x", [], None])
def test_condition_must_be_objects(value: object) -> None:
    assert "Condition" in malformed(policy({**statement(), "Condition": value}))
    assert "Condition" in malformed(_with_condition({"StringEquals": value}))


@pytest.mark.parametrize(
    ("key", "what"),
    [("kms:EncryptionContext:AppName", "encryption context"), ("aws:RequestTag/Team", "tag")],
)
def test_for_all_values_on_single_valued_keys_is_overly_permissive(key: str, what: str) -> None:
    message = malformed(_with_condition({"ForAllValues:StringEquals": {key: "x"}}))
    assert message.startswith(
        "OverlyPermissiveCondition: Using the ForAllValues set operator with a single-valued "
        f"condition key matches requests without the specified {what}"
    )
    parse_key_policy(_with_condition({"ForAnyValue:StringEquals": {key: "x"}}))
    parse_key_policy(
        _with_condition({"ForAllValues:StringEquals": {"kms:EncryptionContextKeys": "x"}})
    )


@pytest.mark.parametrize("key", ["aws:ResourceTag/Team", "kms:ResourceAliases"])
def test_iam_only_condition_keys_are_not_permitted_in_key_policies(key: str) -> None:
    message = malformed(_with_condition({"StringEquals": {key: "x"}}))
    assert "not permitted in a key policy" in message
    parse_identity_policy(
        identity(
            {
                "Effect": "Allow",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringEquals": {key: "x"}},
            }
        )
    )


def test_identity_policy_keeps_its_name() -> None:
    body = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    doc = parse_identity_policy(identity(body), name="AliceKms")
    assert (doc.kind, doc.name) == ("identity", "AliceKms")


# -- condition caps --------------------------------------------------------------------------------


def _condition_key(length: int) -> str:
    return "kms:EncryptionContext:" + "k" * (length - len("kms:EncryptionContext:"))


def test_condition_keys_are_capped_at_256_characters() -> None:
    parse_key_policy(_with_condition({"StringLike": {_condition_key(256): "x"}}))
    text = _with_condition({"StringLike": {_condition_key(257): "x"}})
    message = malformed(text)
    assert "has 257 characters; the limit is 256" in message
    assert message.startswith('Statement[0] (Sid "C") Condition: "StringLike": the condition key')
    body = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    too_long = identity({**body, "Condition": {"StringEquals": {_condition_key(257): "x"}}})
    assert "the limit is 256" in malformed(too_long, key=False)


def test_condition_values_are_capped_at_2048_characters() -> None:
    parse_key_policy(_with_condition({"StringLike": {"kms:EncryptionContext:k": "*" * 2048}}))
    values = ["ok", "-" * 2049]
    message = malformed(_with_condition({"StringLike": {"kms:EncryptionContext:k": values}}))
    assert "has 2049 characters; the limit is 2048" in message
    # A number never reaches the value cap: more than 1,000 digits is malformed JSON already.
    number = malformed(_with_condition({"NumericLessThan": {"kms:x": 10**1000}}))
    assert "more than 1000 digits" in number


def test_a_stored_policy_over_the_caps_still_loads() -> None:
    # Keys whose policy was stored before the caps existed must stay usable.
    text = _with_condition({"StringLike": {_condition_key(300): "-" * 5000}})
    assert parse_key_policy(text, stored=True).statements[0].conditions[0].values == ("-" * 5000,)
    body = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    text = identity({**body, "Condition": {"StringEquals": {_condition_key(300): "x"}}})
    parse_identity_policy(text, stored=True)


def test_a_number_of_5000_digits_is_malformed_not_a_crash() -> None:
    text = policy(statement()).replace('"Resource": "*"', '"Resource": "*", "X": ' + "9" * 5000)
    assert "more than 1000 digits" in malformed(text)
