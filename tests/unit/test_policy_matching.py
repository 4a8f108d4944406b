"""Wildcard matching is exact and costs little on hostile input.

Exact: on random patterns and texts (wildcards, policy variables and their escapes, ARN
colons) the matcher agrees with the regex translation it replaced, kept below as the reference,
and with `fnmatch`. Cheap: `*-*-*-prod` against a long run of dashes took cubic time with that
regex (15 s at 2,000 characters); now time grows at most linearly with the text.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.policy import Principal, Request, evaluate, parse_key_policy
from kmscli.policy.matching import UnresolvedVariableError, arn_match, glob_match

A = "111122223333"
KEY_ARN = f"arn:aws:kms:us-west-2:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALICE = Principal.parse(f"arn:aws:iam::{A}:user/alice")

# -- the reference: kmscli's regex translation before this change (exact, but backtracking) ----


def _reference_tokens(text: str, *, resolver: Callable[[str], str | None] | None) -> list[object]:
    tokens: list[object] = []

    def raw(part: str) -> None:
        for ch in part:
            tokens.append({"*": ".*", "?": "."}.get(ch, re.escape(ch)))

    if resolver is None:
        raw(text)
        return tokens
    pos = 0
    for match in re.finditer(r"\$\{([^}]*)\}", text):
        raw(text[pos : match.start()])
        body = match.group(1)
        if body in ("*", "?", "$"):
            tokens.append(re.escape(body))
        else:
            default = re.match(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$", body)
            name = default.group(1) if default else body.strip()
            value = resolver(name)
            if value is None and default:
                value = default.group(2)
            if value is None:
                raise UnresolvedVariableError(name)
            tokens.append(re.escape(value))
        pos = match.end()
    raw(text[pos:])
    return tokens


def reference_glob(
    pattern: str,
    value: str,
    *,
    ignore_case: bool = False,
    resolver: Callable[[str], str | None] | None = None,
) -> bool:
    tokens = _reference_tokens(pattern, resolver=resolver)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch("".join(map(str, tokens)), value, flags) is not None


def reference_arn(pattern: str, value: str) -> bool:
    value_parts = value.split(":", 5)
    if len(value_parts) != 6:
        return False
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    if len(pattern_parts) != 6:
        return False
    return all(reference_glob(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


# -- exactness -----------------------------------------------------------------------------------

VARIABLES = {"x": "a*", "y": "-?", "empty": "", "dollar": "${x}"}


def resolve(name: str) -> str | None:
    return VARIABLES.get(name.lower())


pieces = st.sampled_from(list("ab-*?${}[:A"))
variable_uses = st.sampled_from(
    ["${x}", "${Y}", "${*}", "${?}", "${$}", "${empty}", "${dollar}", "${nope, 'a-'}", "${nope}"]
)
patterns = st.lists(st.one_of(pieces, pieces, variable_uses), max_size=12).map("".join)
texts = st.lists(st.sampled_from(list("ab-*?${}[:A")), max_size=14).map("".join)


def outcome(match: Callable[[], bool]) -> bool | str:
    try:
        return match()
    except UnresolvedVariableError:
        return "unresolved"


@settings(max_examples=800)
@given(pattern=patterns, text=texts, ignore_case=st.booleans(), variables=st.booleans())
def test_agrees_with_the_regex_translation(
    pattern: str, text: str, ignore_case: bool, variables: bool
) -> None:
    resolver = resolve if variables else None
    expected = outcome(
        lambda: reference_glob(pattern, text, ignore_case=ignore_case, resolver=resolver)
    )
    got = outcome(lambda: glob_match(pattern, text, ignore_case=ignore_case, resolver=resolver))
    assert got == expected


@settings(max_examples=800)
@given(pattern=st.text(alphabet="ab-*?${}[", max_size=12), text=texts)
def test_agrees_with_fnmatch(pattern: str, text: str) -> None:
    # fnmatch knows [...] classes too: "[[]" is its literal "[".
    assert glob_match(pattern, text) is fnmatch.fnmatchcase(text, pattern.replace("[", "[[]"))


arn_pieces = st.lists(st.sampled_from(list("ab-*?:")), max_size=14).map("".join)


@settings(max_examples=500)
@given(pattern=arn_pieces, text=st.lists(st.sampled_from(list("ab-:")), max_size=14).map("".join))
def test_arn_like_agrees_with_the_regex_translation(pattern: str, text: str) -> None:
    assert arn_match(pattern, text) is reference_arn(pattern, text)


def test_examples() -> None:
    assert glob_match("*-*-*-prod", "eu-west-1-prod")
    assert not glob_match("*-*-*-prod", "eu-west-prod")
    assert glob_match("a?c*", "abc")
    assert not glob_match("a?c", "ac")
    assert glob_match("${*}${?}", "*?", resolver=resolve)
    assert not glob_match("${*}", "x", resolver=resolve)
    assert glob_match("kms:Gen*", "KMS:GENERATEDATAKEY", ignore_case=True)
    assert not glob_match("kms:Gen*", "KMS:GENERATEDATAKEY")
    assert arn_match("arn:aws:iam::*:role/*", f"arn:aws:iam::{A}:role/R")
    assert not arn_match("arn:aws:iam::*", f"arn:aws:iam::{A}:role/R")


# -- cost ----------------------------------------------------------------------------------------

STRING_LIKE_POLICY = parse_key_policy(
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    f'"Principal": {{"AWS": "{ALICE.arn}"}}, "Action": "kms:Encrypt", "Resource": "*", '
    '"Condition": {"StringLike": {"kms:EncryptionContext:env": "*-*-*-prod"}}}]}'
)


def _decide(value: str) -> tuple[bool, float]:
    """Whether alice may encrypt with context env=value, and the best time of three."""
    best = float("inf")
    allowed = False
    for _ in range(3):
        request = Request(ALICE, "kms:Encrypt", KEY_ARN, A, encryption_context={"env": value})
        start = time.perf_counter()
        allowed = evaluate(request, key_policy=STRING_LIKE_POLICY, identity_policies=[]).allowed
        best = min(best, time.perf_counter() - start)
    return allowed, best


def test_a_long_run_of_dashes_costs_little_in_the_evaluator() -> None:
    # The regex took 15 s at 2,000 dashes and about 1000 times that at 20,000; the 2,000 case
    # runs first so that the old code fails in seconds rather than hours.
    allowed, short = _decide("-" * 2000)
    assert not allowed
    assert short < 0.5
    allowed, long = _decide("-" * 20000)
    assert not allowed
    assert long < 0.5
    # Linear time gives 10x at most (less: fixed costs dominate); cubic gave 1000x.
    assert long < 30 * short + 0.002
    assert _decide("-" * 20000 + "-prod")[0]
    assert _decide("eu-west-1-prod")[0]


def test_many_open_variables_cost_little() -> None:
    # `${` without `}`: a regex scan for variables retried from every `${` (quadratic).
    pattern = "${" * 16000
    start = time.perf_counter()
    assert glob_match(pattern, pattern, resolver=resolve)
    assert time.perf_counter() - start < 0.3


def test_a_question_mark_segment_in_a_long_text_costs_little() -> None:
    text = "ab" * 50000
    start = time.perf_counter()
    assert not glob_match("*a?a?x*", text)
    assert glob_match("*b?b?b*", text)
    assert time.perf_counter() - start < 0.5
