"""Condition operators and their evaluation against a request context.

Owns the IAM condition grammar (every operator family, the `IfExists` suffix, the
`ForAllValues:`/`ForAnyValue:` set qualifiers, `Null`) and its semantics:
- a key absent from the request makes a positive operator false and a negated one true,
  except `...IfExists` (absent ⇒ true), `Null` (tests presence), `ForAllValues` (absent or
  empty ⇒ true) and `ForAnyValue` (absent or empty ⇒ false);
- several policy values for one key are ORed; a negated operator requires that none match;
- condition key names are case-insensitive, including the `<k>` part of
  `kms:EncryptionContext:<k>` and of tag keys.

Pure: no I/O, no clock (`aws:CurrentTime` comes from the request).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Literal, TypeVar

# decimal and ipaddress cost milliseconds to import and only numeric and IP operators need
# them; every kmscli command evaluates a policy, so they are imported where used.
if TYPE_CHECKING:
    import ipaddress
    from decimal import Decimal

from kmscli.policy.matching import (
    Resolver,
    arn_match,
    glob_match,
    substitute,
)

ConditionValue = str | bool | int | float | bytes | datetime | Sequence[str]
"""A request condition value: a scalar, or a sequence of strings for a multi-valued key."""

Scalar = str | bool | int | float | bytes | datetime
Qualifier = Literal["ForAllValues", "ForAnyValue"]
Family = Literal["string", "numeric", "date", "bool", "binary", "ip", "arn", "null"]


class _Operator:
    """An operator's family, whether it is negated, and what a request value is compared with:
    eq, eq-ic, like, lt, le, gt, ge. (Plain classes here and below: far cheaper to create at
    import than a NamedTuple or a dataclass.)"""

    __slots__ = ("family", "negated", "test")

    def __init__(self, family: Family, negated: bool, test: str) -> None:
        self.family: Final = family
        self.negated: Final = negated
        self.test: Final = test


_OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator("string", False, "eq"),
    "StringNotEquals": _Operator("string", True, "eq"),
    "StringEqualsIgnoreCase": _Operator("string", False, "eq-ic"),
    "StringNotEqualsIgnoreCase": _Operator("string", True, "eq-ic"),
    "StringLike": _Operator("string", False, "like"),
    "StringNotLike": _Operator("string", True, "like"),
    "NumericEquals": _Operator("numeric", False, "eq"),
    "NumericNotEquals": _Operator("numeric", True, "eq"),
    "NumericLessThan": _Operator("numeric", False, "lt"),
    "NumericLessThanEquals": _Operator("numeric", False, "le"),
    "NumericGreaterThan": _Operator("numeric", False, "gt"),
    "NumericGreaterThanEquals": _Operator("numeric", False, "ge"),
    "DateEquals": _Operator("date", False, "eq"),
    "DateNotEquals": _Operator("date", True, "eq"),
    "DateLessThan": _Operator("date", False, "lt"),
    "DateLessThanEquals": _Operator("date", False, "le"),
    "DateGreaterThan": _Operator("date", False, "gt"),
    "DateGreaterThanEquals": _Operator("date", False, "ge"),
    "Bool": _Operator("bool", False, "eq"),
    "BinaryEquals": _Operator("binary", False, "eq"),
    "IpAddress": _Operator("ip", False, "eq"),
    "NotIpAddress": _Operator("ip", True, "eq"),
    "ArnEquals": _Operator("arn", False, "like"),
    "ArnLike": _Operator("arn", False, "like"),
    "ArnNotEquals": _Operator("arn", True, "like"),
    "ArnNotLike": _Operator("arn", True, "like"),
    "Null": _Operator("null", False, "eq"),
}
_BY_LOWER = {name.lower(): name for name in _OPERATORS}
OPERATOR_NAMES = frozenset(_OPERATORS)


class ConditionClause:
    """One condition key under one operator, e.g. `ForAnyValue:StringLike {k: [v1, v2]}`.

    `operator` is the operator in canonical spelling, with qualifier and suffix; `values` are
    the policy values as strings (JSON true ⇒ "true", numbers in their JSON spelling).
    """

    __slots__ = ("base", "if_exists", "key", "operator", "qualifier", "values")

    def __init__(
        self,
        operator: str,
        base: str,
        qualifier: Qualifier | None,
        if_exists: bool,
        key: str,
        values: tuple[str, ...],
    ) -> None:
        self.operator: Final = operator
        self.base: Final = base
        self.qualifier: Final = qualifier
        self.if_exists: Final = if_exists
        self.key: Final = key
        self.values: Final = values

    @property
    def family(self) -> Family:
        return _OPERATORS[self.base].family

    @property
    def negated(self) -> bool:
        return _OPERATORS[self.base].negated


def parse_operator(name: str) -> tuple[str, Qualifier | None, bool, str]:
    """(base, qualifier, if_exists, canonical name); ValueError for an unknown operator."""
    rest = name
    qualifier: Qualifier | None = None
    lowered = rest.lower()
    if lowered.startswith("forallvalues:"):
        qualifier, rest = "ForAllValues", rest[len("ForAllValues:") :]
    elif lowered.startswith("foranyvalue:"):
        qualifier, rest = "ForAnyValue", rest[len("ForAnyValue:") :]
    if_exists = False
    if rest.lower().endswith("ifexists") and rest.lower() != "ifexists":
        if_exists, rest = True, rest[: -len("IfExists")]
    base = _BY_LOWER.get(rest.lower())
    if base is None or (base == "Null" and (if_exists or qualifier is not None)):
        raise ValueError(name)
    canonical = (f"{qualifier}:" if qualifier else "") + base + ("IfExists" if if_exists else "")
    return base, qualifier, if_exists, canonical


def validate_value(base: str, value: str) -> bool:
    """Whether a policy value is well-formed for the operator (values with variables pass)."""
    if "${" in value:
        return True
    family = _OPERATORS[base].family
    if family == "numeric":
        return _number(value) is not None
    if family == "date":
        return _date(value) is not None
    if family in ("bool", "null"):
        return value.lower() in ("true", "false")
    if family == "binary":
        return _b64(value) is not None
    if family == "ip":
        return _network(value) is not None
    return True


# -- request context ------------------------------------------------------------------------------


class _Entry:
    """A request condition key's values, and whether the key is multi-valued."""

    __slots__ = ("multi", "values")

    def __init__(self, values: tuple[Scalar, ...], multi: bool) -> None:
        self.values: Final = values
        self.multi: Final = multi


class ConditionContext:
    """The request's condition keys, looked up case-insensitively.

    A sequence value makes a multi-valued key; an empty sequence counts as absent.
    """

    def __init__(self, values: Mapping[str, ConditionValue]) -> None:
        self._entries: dict[str, _Entry] = {}
        for key, value in values.items():
            entry = _normalize(value)
            if entry is None:
                self._entries.pop(key.lower(), None)
            else:
                self._entries[key.lower()] = entry

    def get(self, key: str) -> _Entry | None:
        return self._entries.get(key.lower())

    def variable(self, name: str) -> str | None:
        """The single string value of `name` for policy-variable substitution."""
        entry = self._entries.get(name.lower())
        if entry is None or entry.multi:
            return None
        return _as_string(entry.values[0])


def _normalize(value: ConditionValue) -> _Entry | None:
    if isinstance(value, str | bytes | bool | int | float | datetime):
        return _Entry((value,), False)
    items = tuple(value)
    return _Entry(items, True) if items else None


def _as_string(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)


# -- value parsing ---------------------------------------------------------------------------------


def _number(value: Scalar) -> Decimal | None:
    from decimal import Decimal, InvalidOperation

    if isinstance(value, bool | bytes | datetime):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _date(value: Scalar) -> datetime | None:
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, bool | bytes):
        return None
    if isinstance(value, int | float):
        return _epoch(float(value))
    text = value.strip()
    epoch = _number(text)
    if epoch is not None:
        return _epoch(float(epoch))
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        return None


def _epoch(seconds: float) -> datetime | None:
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def _network(value: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    import ipaddress

    try:
        return ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None


# -- comparison ------------------------------------------------------------------------------------


_T = TypeVar("_T", "Decimal", datetime)


def _ordered(test: str, left: _T, right: _T) -> bool:
    if test == "eq":
        return left == right
    if test == "lt":
        return left < right
    if test == "le":
        return left <= right
    if test == "gt":
        return left > right
    return left >= right


def _matches(op: _Operator, request: Scalar, policy: str, resolver: Resolver | None) -> bool:
    """Whether one request value satisfies one policy value under a positive operator."""
    family = op.family
    if family == "string":
        text = _as_string(request)
        if op.test == "like":
            return glob_match(policy, text, resolver=resolver)
        wanted = substitute(policy, resolver)
        if op.test == "eq-ic":
            return text.casefold() == wanted.casefold()
        return text == wanted
    if family == "arn":
        return isinstance(request, str) and arn_match(policy, request, resolver=resolver)
    wanted_text = substitute(policy, resolver)
    if family == "numeric":
        left, right = _number(request), _number(wanted_text)
        return left is not None and right is not None and _ordered(op.test, left, right)
    if family == "date":
        left_d, right_d = _date(request), _date(wanted_text)
        return left_d is not None and right_d is not None and _ordered(op.test, left_d, right_d)
    if family == "bool":
        return _as_string(request).lower() == wanted_text.lower()
    if family == "binary":
        wanted_bytes = _b64(wanted_text)
        got = (
            request
            if isinstance(request, bytes)
            else (_b64(request) if isinstance(request, str) else None)
        )
        return wanted_bytes is not None and got is not None and got == wanted_bytes
    if family == "ip":
        network = _network(wanted_text)
        if network is None or not isinstance(request, str):
            return False
        import ipaddress

        try:
            address = ipaddress.ip_address(request.strip())
        except ValueError:
            return False
        return address.version == network.version and address in network
    raise AssertionError(family)


def evaluate_clause(
    clause: ConditionClause, context: ConditionContext, resolver: Resolver | None
) -> bool:
    """Whether the request satisfies one clause.

    Raises matching.UnresolvedVariableError when a policy value needs a variable the request
    lacks (the caller then treats the whole statement as not matching).
    """
    op = _OPERATORS[clause.base]
    entry = context.get(clause.key)
    if op.family == "null":
        absent = entry is None
        return any((value.lower() == "true") == absent for value in clause.values)
    if entry is None:
        if clause.if_exists:
            return True
        if clause.qualifier == "ForAllValues":
            return True
        if clause.qualifier == "ForAnyValue":
            return False
        return op.negated

    def any_policy_value(request_value: Scalar) -> bool:
        return any(_matches(op, request_value, pv, resolver) for pv in clause.values)

    if clause.qualifier is None:
        # Unqualified on a multi-valued key: true if any request value matches; the negated
        # operator is its exact complement.
        hit = any(any_policy_value(v) for v in entry.values)
        return not hit if op.negated else hit

    def passes(request_value: Scalar) -> bool:
        matched = any_policy_value(request_value)
        return not matched if op.negated else matched

    if clause.qualifier == "ForAllValues":
        return all(passes(v) for v in entry.values)
    return any(passes(v) for v in entry.values)


def evaluate_conditions(
    clauses: Sequence[ConditionClause], context: ConditionContext, resolver: Resolver | None
) -> bool:
    """All clauses of a Condition block, ANDed."""
    return all(evaluate_clause(c, context, resolver) for c in clauses)
