"""Properties of the evaluator and matchers that must hold for any input."""

from __future__ import annotations

import fnmatch
import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.policy import (
    KMS_ACTIONS,
    GrantView,
    Principal,
    Request,
    default_key_policy,
    evaluate,
    parse_identity_policy,
    parse_key_policy,
)
from kmscli.policy.conditions import ConditionClause as Clause
from kmscli.policy.conditions import ConditionContext, evaluate_clause, parse_operator
from kmscli.policy.matching import glob_match

A = "111122223333"
B = "444455556666"
K = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

accounts = st.sampled_from([A, B])
names = st.text(alphabet=string.ascii_letters + string.digits + "+=,.@-_", min_size=1, max_size=12)


@st.composite
def callers(draw: st.DrawFn) -> Principal:
    account = draw(accounts)
    kind = draw(st.sampled_from(["root", "user", "role", "session"]))
    if kind == "root":
        return Principal.parse(f"arn:aws:iam::{account}:root")
    name = draw(names)
    if kind == "session":
        return Principal.parse(f"arn:aws:sts::{account}:assumed-role/{name}/{draw(names)}")
    return Principal.parse(f"arn:aws:iam::{account}:{kind}/{name}")


actions = st.sampled_from(sorted(KMS_ACTIONS))
principal_elements = st.one_of(
    st.just("*"),
    accounts.map(lambda a: {"AWS": a}),
    st.builds(lambda a, n: {"AWS": f"arn:aws:iam::{a}:user/{n}"}, accounts, names),
    st.builds(lambda a, n: {"AWS": f"arn:aws:iam::{a}:role/{n}"}, accounts, names),
)
action_elements = st.one_of(
    actions, st.lists(actions, min_size=1, max_size=4), st.sampled_from(["kms:*", "*", "kms:Gen*"])
)


@st.composite
def key_statements(draw: st.DrawFn) -> dict[str, object]:
    return {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Principal": draw(principal_elements),
        "Action": draw(action_elements),
        "Resource": "*",
    }


@st.composite
def identity_statements(draw: st.DrawFn) -> dict[str, object]:
    return {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Action": draw(action_elements),
        "Resource": draw(st.sampled_from(["*", K, f"arn:aws:kms:*:{A}:key/*"])),
    }


def _key_policy(statements: list[dict[str, object]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@settings(max_examples=200)
@given(
    caller=callers(),
    action=actions,
    others=st.lists(key_statements(), max_size=5),
    iam=st.lists(identity_statements(), max_size=4),
    position=st.integers(min_value=0, max_value=5),
    in_identity=st.booleans(),
)
def test_a_deny_that_matches_everything_always_denies(
    caller: Principal,
    action: str,
    others: list[dict[str, object]],
    iam: list[dict[str, object]],
    position: int,
    in_identity: bool,
) -> None:
    deny_all: dict[str, object] = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    key_statements_ = list(others) or [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
    ]
    identity = list(iam)
    if in_identity:
        identity.insert(position % (len(identity) + 1), deny_all)
    else:
        key_statements_.insert(
            position % (len(key_statements_) + 1), {**deny_all, "Principal": "*"}
        )
    grant = GrantView(caller.arn, frozenset({action.removeprefix("kms:")}), grant_id="g")
    decision = evaluate(
        Request(caller, action, K, A),
        key_policy=parse_key_policy(_key_policy(key_statements_)),
        identity_policies=[parse_identity_policy(_key_policy(identity))] if identity else [],
        grants=[grant],
    )
    assert not decision.allowed
    # Another generated Deny in the key policy may be the one reported.
    assert decision.reason in {"explicit-deny-identity", "explicit-deny-resource"}
    if not in_identity:
        assert decision.reason == "explicit-deny-resource"


@settings(max_examples=200)
@given(
    caller=callers(),
    action=actions,
    statements=st.lists(key_statements(), min_size=1, max_size=5),
    iam=st.lists(identity_statements(), max_size=4),
)
def test_adding_an_allow_never_turns_an_allow_into_a_deny(
    caller: Principal,
    action: str,
    statements: list[dict[str, object]],
    iam: list[dict[str, object]],
) -> None:
    identity = [parse_identity_policy(_key_policy(iam))] if iam else []
    request = Request(caller, action, K, A)
    before = evaluate(
        request, key_policy=parse_key_policy(_key_policy(statements)), identity_policies=identity
    )
    extra: dict[str, object] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": action,
        "Resource": "*",
    }
    after = evaluate(
        request,
        key_policy=parse_key_policy(_key_policy([*statements, extra])),
        identity_policies=identity,
    )
    if before.allowed:
        assert after.allowed


@settings(max_examples=200)
@given(caller=callers(), action=actions, iam=st.lists(identity_statements(), max_size=4))
def test_foreign_callers_never_get_non_cross_account_actions(
    caller: Principal, action: str, iam: list[dict[str, object]]
) -> None:
    from kmscli.policy import CROSS_ACCOUNT_ACTIONS

    policy = parse_key_policy(
        _key_policy([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}])
    )
    identity = [parse_identity_policy(_key_policy(iam))] if iam else []
    decision = evaluate(
        Request(caller, action, K, A), key_policy=policy, identity_policies=identity
    )
    if caller.account != A and action not in CROSS_ACCOUNT_ACTIONS:
        assert not decision.allowed
    if caller.account == A:
        assert decision.allowed or decision.reason == "explicit-deny-identity"


@given(account=st.from_regex(r"\A[0-9]{12}\Z"))
def test_default_policy_parses_and_trusts_only_its_account_via_iam(account: str) -> None:
    doc = parse_key_policy(default_key_policy(account))
    root = Principal.parse(f"arn:aws:iam::{account}:root")
    user = Principal.parse(f"arn:aws:iam::{account}:user/u")
    key = f"arn:aws:kms:us-west-2:{account}:key/k"
    assert evaluate(
        Request(root, "kms:PutKeyPolicy", key, account), key_policy=doc, identity_policies=[]
    ).allowed
    assert not evaluate(
        Request(user, "kms:Encrypt", key, account), key_policy=doc, identity_policies=[]
    ).allowed


glob_text = st.text(alphabet="ab*?:/", max_size=8)


@given(pattern=glob_text, value=st.text(alphabet="ab:/*?", max_size=8), ignore_case=st.booleans())
def test_glob_agrees_with_fnmatch(pattern: str, value: str, ignore_case: bool) -> None:
    # fnmatch also knows [...] classes, which these alphabets never contain.
    if ignore_case:
        expected = fnmatch.fnmatchcase(value.lower(), pattern.lower())
    else:
        expected = fnmatch.fnmatchcase(value, pattern)
    assert glob_match(pattern, value, ignore_case=ignore_case) is expected


NEGATIONS = [
    ("StringEquals", "StringNotEquals"),
    ("StringLike", "StringNotLike"),
    ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"),
    ("ArnLike", "ArnNotLike"),
    ("NumericEquals", "NumericNotEquals"),
]


def _clause(operator: str, values: list[str]) -> Clause:
    base, qualifier, if_exists, canonical = parse_operator(operator)
    return Clause(canonical, base, qualifier, if_exists, "k:x", tuple(values))


@given(
    pair=st.sampled_from(NEGATIONS),
    policy=st.lists(st.text(alphabet="aA1*:", max_size=6), min_size=1, max_size=3),
    request=st.one_of(
        st.none(),
        st.text(alphabet="aA1:", max_size=6),
        st.lists(st.text(alphabet="aA1", max_size=3), max_size=3),
    ),
)
def test_unqualified_negated_operator_is_the_complement(
    pair: tuple[str, str], policy: list[str], request: str | list[str] | None
) -> None:
    context = ConditionContext({} if request is None else {"k:x": request})
    positive = evaluate_clause(_clause(pair[0], policy), context, None)
    negative = evaluate_clause(_clause(pair[1], policy), context, None)
    assert positive is not negative


@given(
    policy=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3),
    request=st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4),
)
def test_set_qualifiers_are_subset_and_intersection(policy: list[str], request: list[str]) -> None:
    context = ConditionContext({"k:x": request})
    every = evaluate_clause(_clause("ForAllValues:StringEquals", policy), context, None)
    some = evaluate_clause(_clause("ForAnyValue:StringEquals", policy), context, None)
    assert every is set(request).issubset(policy)
    assert some is bool(set(request) & set(policy))
