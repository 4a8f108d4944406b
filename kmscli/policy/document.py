"""Policy documents: the JSON grammar, its validation, and the parsed form the evaluator reads.

Owns `parse_key_policy`, `parse_identity_policy`, `default_key_policy` and the `PolicyDocument`
/ `Statement` types. Validation follows AWS:
- key policy text: 1 to 131,072 characters, only TAB, LF, CR and U+0020 to U+00FF
  (ValidationException); at most 32,768 bytes of UTF-8 (LimitExceededException, the KMS quota);
- identity policy text: the same characters; at most 6,144 characters not counting
  whitespace, like an IAM managed policy (LimitExceededException);
- top level only `Version`, `Id`, `Statement`; `Version` "2012-10-17" or "2008-10-17"
  (absent means "2008-10-17", in which policy variables are plain text, as in IAM);
- each statement: `Effect` Allow|Deny; `Principal`/`NotPrincipal` required in key policies
  and forbidden in identity policies; `Action`/`NotAction`, `Resource`/`NotResource`,
  `Condition`, `Sid`. A key-policy statement without Action or Resource is accepted and
  ignored, as AWS does; identity policies require both.
- duplicate JSON member names are rejected (the last one would otherwise win silently), and so
  is an integer of more than 1,000 digits;
- a condition key has at most 256 characters (the longest context key name IAM accepts) and a
  condition value at most 2,048 (the longest ARN; IAM documents no limit of its own, the policy
  size bounds it). A policy already stored (`stored=True`) is read without these two caps,
  which came later, so that no key or principal becomes unusable.
Every content error is a MalformedPolicyDocumentException naming the statement (index in the
Statement array, from 0, and Sid) and the element.

Pure: no I/O; never evaluates a policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Final, Literal, NoReturn

from kmscli.errors import (
    LimitExceededException,
    MalformedPolicyDocumentException,
    ValidationException,
)
from kmscli.policy.conditions import ConditionClause, parse_operator, validate_value
from kmscli.policy.principals import ACCOUNT_ID, PrincipalSpec, parse_principal_element

PolicyKind = Literal["key", "identity"]
Effect = Literal["Allow", "Deny"]

KEY_POLICY_MAX_BYTES = 32768
KEY_POLICY_MAX_CHARS = 131072
IDENTITY_POLICY_MAX_CHARS = 6144
"""Non-whitespace characters, the IAM managed-policy quota."""
CONDITION_KEY_MAX_CHARS = 256
"""IAM's limit on a condition context key name (ContextEntry.ContextKeyName)."""
CONDITION_VALUE_MAX_CHARS = 2048
"""kmscli's limit on one condition value: the longest ARN AWS accepts."""

MAX_INTEGER_DIGITS = 1000
VERSIONS = ("2012-10-17", "2008-10-17")
INVALID_PRINCIPALS = "Policy contains a statement with one or more invalid principals."
LOCKOUT = "The new key policy will not allow you to update the key policy in the future."

# Patterns are compiled on first use (the re module caches them): a command needs few of them.
_ALLOWED_CHARS = r"[\t\n\r\u0020-\u00ff]+"
_TOP_LEVEL = ("Version", "Id", "Statement")
_STATEMENT_MEMBERS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_ACTION = r"^(?:\*|(?P<service>[A-Za-z0-9-]+):[A-Za-z0-9*?]+)$"
_IDENTITY_SID = r"^[A-Za-z0-9]*$"
_CONDITION_KEY = r"^[A-Za-z0-9-]+:\S+$"
_KEY_POLICY_FORBIDDEN_KEYS = ("aws:resourcetag/", "kms:resourcealiases")
_SINGLE_VALUED_PREFIXES = ("kms:encryptioncontext:", "aws:requesttag/")
_PATTERN_MESSAGE = (
    "1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must "
    "satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
)


# Statement and PolicyDocument are plain classes: every command parses a key policy, and a class
# with __slots__ costs far less to create at import than a NamedTuple or a dataclass.


class Statement:
    """One statement; `index` is its place in the document's Statement array, from 0."""

    __slots__ = (
        "actions",
        "conditions",
        "effect",
        "index",
        "not_actions",
        "not_principal",
        "not_resources",
        "principal",
        "resources",
        "sid",
    )

    def __init__(
        self,
        *,
        index: int,
        sid: str | None,
        effect: Effect,
        principal: PrincipalSpec | None = None,
        not_principal: PrincipalSpec | None = None,
        actions: tuple[str, ...] | None = None,
        not_actions: tuple[str, ...] | None = None,
        resources: tuple[str, ...] | None = None,
        not_resources: tuple[str, ...] | None = None,
        conditions: tuple[ConditionClause, ...] = (),
    ) -> None:
        self.index: Final = index
        self.sid: Final = sid
        self.effect: Final = effect
        self.principal: Final = principal
        self.not_principal: Final = not_principal
        self.actions: Final = actions
        self.not_actions: Final = not_actions
        self.resources: Final = resources
        self.not_resources: Final = not_resources
        self.conditions: Final = conditions

    @property
    def label(self) -> str:
        """The Sid, or `Statement[<index>]` when it has none (for audit trails)."""
        return self.sid if self.sid else f"Statement[{self.index}]"

    @property
    def location(self) -> str:
        """`Statement[<index>] (Sid "<sid>")`, as messages about the statement name it."""
        return _location(self.index, self.sid)

    @property
    def ignored(self) -> bool:
        """A key-policy statement without Action or Resource, which AWS accepts and ignores."""
        no_action = self.actions is None and self.not_actions is None
        no_resource = self.resources is None and self.not_resources is None
        return no_action or no_resource


class PolicyDocument:
    """A parsed policy. `text` is the document as given (what GetKeyPolicy returns); `name`,
    for identity policies, a name the caller chose (used in audit labels)."""

    __slots__ = ("id", "kind", "name", "statements", "text", "version")

    def __init__(
        self,
        kind: PolicyKind,
        version: str,
        id: str | None,
        statements: tuple[Statement, ...],
        text: str,
        name: str | None = None,
    ) -> None:
        self.kind: Final = kind
        self.version: Final = version
        self.id: Final = id
        self.statements: Final = statements
        self.text: Final = text
        self.name: Final = name

    @property
    def variables_enabled(self) -> bool:
        """Policy variables are substituted only under Version 2012-10-17."""
        return self.version == "2012-10-17"


# -- entry points ----------------------------------------------------------------------------------


def parse_key_policy(text: str, *, stored: bool = False) -> PolicyDocument:
    """Validate and parse a key policy (CreateKey/PutKeyPolicy/ReplicateKey `Policy`).

    `stored`: the policy of a key in the keyring, which was accepted when it was put; the
    condition caps are not applied to it.
    """
    if not isinstance(text, str) or not text:
        raise ValidationException(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if len(text) > KEY_POLICY_MAX_CHARS:
        raise ValidationException(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must have length less than or equal to {KEY_POLICY_MAX_CHARS}"
        )
    _check_characters(text)
    size = len(text.encode("utf-8"))
    if size > KEY_POLICY_MAX_BYTES:
        raise LimitExceededException(
            f"The key policy is {size} bytes; the quota is {KEY_POLICY_MAX_BYTES} bytes."
        )
    return _Parser("key", caps=not stored).document(text, None)


def parse_identity_policy(
    text: str, *, name: str | None = None, stored: bool = False
) -> PolicyDocument:
    """Validate and parse an identity-based (IAM) policy attached to a principal.

    `stored`: as for `parse_key_policy`.
    """
    if not isinstance(text, str) or not text:
        raise ValidationException("The identity policy document is empty.")
    _check_characters(text)
    counted = sum(1 for ch in text if ch not in " \t\n\r")
    if counted > IDENTITY_POLICY_MAX_CHARS:
        raise LimitExceededException(
            f"Cannot exceed quota for PolicySize: {IDENTITY_POLICY_MAX_CHARS} "
            f"(the policy has {counted} non-whitespace characters)."
        )
    return _Parser("identity", caps=not stored).document(text, name)


def default_key_policy(account_id: str, partition: str = "aws") -> str:
    """AWS's default key policy (§4.1) for a key owned by `account_id`, as AWS prints it."""
    if not isinstance(account_id, str) or not ACCOUNT_ID.match(account_id):
        raise ValidationException(f"Invalid account ID '{account_id}': must be 12 digits")
    if not re.fullmatch(r"aws(?:-[a-z]+)*", partition):
        raise ValidationException(f"Invalid partition '{partition}'")
    return (
        "{\n"
        '  "Version" : "2012-10-17",\n'
        '  "Id" : "key-default-1",\n'
        '  "Statement" : [ {\n'
        '    "Sid" : "Enable IAM User Permissions",\n'
        '    "Effect" : "Allow",\n'
        '    "Principal" : {\n'
        f'      "AWS" : "arn:{partition}:iam::{account_id}:root"\n'
        "    },\n"
        '    "Action" : "kms:*",\n'
        '    "Resource" : "*"\n'
        "  } ]\n"
        "}"
    )


def _check_characters(text: str) -> None:
    if not re.fullmatch(_ALLOWED_CHARS, text):
        raise ValidationException(_PATTERN_MESSAGE)


# -- parsing ---------------------------------------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedPolicyDocumentException(
                f'Policy contains a duplicate member "{key}" in one JSON object.'
            )
        result[key] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    raise MalformedPolicyDocumentException(f"Policy is not valid JSON: {name} is not a number.")


def _parse_int(literal: str) -> int:
    # Python refuses to convert an integer of more than 4,300 digits (a ValueError, not a JSON
    # error); no policy needs a fraction of that.
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise MalformedPolicyDocumentException(
            f"Policy is not valid JSON: a number has more than {MAX_INTEGER_DIGITS} digits."
        )
    return int(literal)


def _location(index: int, sid: str | None) -> str:
    """Where in the document a problem is: statement index and Sid."""
    if sid:
        return f'Statement[{index}] (Sid "{sid}")'
    return f"Statement[{index}]"


def _fail(loc: str, element: str, problem: str) -> NoReturn:
    raise MalformedPolicyDocumentException(f"{loc} {element}: {problem}")


class _Parser:
    def __init__(self, kind: PolicyKind, *, caps: bool) -> None:
        self.kind: PolicyKind = kind
        self.caps = caps

    def document(self, text: str, name: str | None) -> PolicyDocument:
        try:
            tree = json.loads(
                text,
                object_pairs_hook=_reject_duplicates,
                parse_constant=_reject_constant,
                parse_int=_parse_int,
            )
        except json.JSONDecodeError as exc:
            raise MalformedPolicyDocumentException(
                f"Policy is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
            ) from None
        except RecursionError:
            raise MalformedPolicyDocumentException(
                "Policy is not valid JSON: nested too deeply."
            ) from None
        if not isinstance(tree, dict):
            raise MalformedPolicyDocumentException("Policy must be a JSON object.")
        for member in tree:
            if member not in _TOP_LEVEL:
                raise MalformedPolicyDocumentException(
                    f'Policy contains an unsupported element "{member}"; the top level may '
                    "hold only Version, Id and Statement."
                )
        version = tree.get("Version", "2008-10-17")
        if version not in VERSIONS:
            raise MalformedPolicyDocumentException(
                f'Policy Version must be "2012-10-17" or "2008-10-17", not {_show(version)}.'
            )
        policy_id = tree.get("Id")
        if policy_id is not None and not isinstance(policy_id, str):
            raise MalformedPolicyDocumentException("Policy Id must be a string.")
        if "Statement" not in tree:
            raise MalformedPolicyDocumentException("Policy must contain a Statement element.")
        raw = tree["Statement"]
        items = [raw] if isinstance(raw, dict) else raw
        if not isinstance(items, list) or not items:
            raise MalformedPolicyDocumentException(
                "Policy Statement must be a statement object or a non-empty list of them."
            )
        statements = tuple(self.statement(i, item) for i, item in enumerate(items))
        if self.kind == "identity":
            seen: set[str] = set()
            for st in statements:
                if st.sid:
                    if st.sid in seen:
                        _fail(st.location, "Sid", f'"{st.sid}" is used twice.')
                    seen.add(st.sid)
        return PolicyDocument(self.kind, str(version), policy_id, statements, text, name)

    def statement(self, index: int, raw: object) -> Statement:
        if not isinstance(raw, dict):
            raise MalformedPolicyDocumentException(
                f"Statement[{index}]: each statement must be a JSON object."
            )
        sid_value = raw.get("Sid")
        sid = sid_value if isinstance(sid_value, str) else None
        loc = _location(index, sid)
        for member in raw:
            if member not in _STATEMENT_MEMBERS:
                _fail(loc, member, "is not a statement element.")
        if "Sid" in raw:
            if not isinstance(sid_value, str):
                _fail(loc, "Sid", "must be a string.")
            if self.kind == "identity" and not re.match(_IDENTITY_SID, sid_value):
                _fail(loc, "Sid", "may hold only ASCII letters and digits.")
        effect = raw.get("Effect")
        if effect not in ("Allow", "Deny"):
            if "Effect" not in raw:
                _fail(loc, "Effect", "is required.")
            _fail(loc, "Effect", f'must be "Allow" or "Deny", not {_show(effect)}.')

        principal, not_principal = self.principals(loc, raw)
        actions, not_actions = self.pair(loc, raw, ("Action", "NotAction"), self.action)
        resources, not_resources = self.pair(loc, raw, ("Resource", "NotResource"), _resource)
        if self.kind == "identity":
            if actions is None and not_actions is None:
                _fail(loc, "Action", "is required (Action or NotAction).")
            if resources is None and not_resources is None:
                _fail(loc, "Resource", "is required (Resource or NotResource).")
        conditions = self.conditions(loc, raw["Condition"]) if "Condition" in raw else ()
        return Statement(
            index=index,
            sid=sid,
            effect="Allow" if effect == "Allow" else "Deny",
            principal=principal,
            not_principal=not_principal,
            actions=actions,
            not_actions=not_actions,
            resources=resources,
            not_resources=not_resources,
            conditions=conditions,
        )

    def principals(
        self, loc: str, raw: Mapping[str, object]
    ) -> tuple[PrincipalSpec | None, PrincipalSpec | None]:
        has = [name for name in ("Principal", "NotPrincipal") if name in raw]
        if self.kind == "identity":
            if has:
                _fail(loc, has[0], "is not allowed in an identity-based policy.")
            return None, None
        if not has:
            _fail(loc, "Principal", "is required in a key policy (Principal or NotPrincipal).")
        if len(has) == 2:
            _fail(loc, "NotPrincipal", "cannot be combined with Principal.")
        element = has[0]
        try:
            spec = parse_principal_element(raw[element])
        except ValueError as exc:
            raise MalformedPolicyDocumentException(
                f"{INVALID_PRINCIPALS} {loc} {element}: {exc} is not a valid principal."
            ) from None
        return (spec, None) if element == "Principal" else (None, spec)

    def pair(
        self,
        loc: str,
        raw: Mapping[str, object],
        names: tuple[str, str],
        check: Callable[[str], str | None],
    ) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
        positive, negative = names
        if positive in raw and negative in raw:
            _fail(loc, negative, f"cannot be combined with {positive}.")
        element = positive if positive in raw else negative if negative in raw else None
        if element is None:
            return None, None
        value = raw[element]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            _fail(loc, element, "must be a string or a non-empty list of strings.")
        for item in items:
            if not isinstance(item, str):
                _fail(loc, element, f"{_show(item)} is not a string.")
            problem = check(item)
            if problem:
                _fail(loc, element, problem)
        values = tuple(items)
        return (values, None) if element == positive else (None, values)

    def action(self, item: str) -> str | None:
        m = re.match(_ACTION, item)
        if m is None:
            return (
                f"{_show(item)} is not an action "
                '("kms:<Name>" with wildcards * and ? allowed, or "*").'
            )
        service = m.group("service")
        if self.kind == "key" and service is not None and service.lower() != "kms":
            return f"{_show(item)} is not a KMS action; a key policy may only name kms: actions."
        return None

    def conditions(self, loc: str, raw: object) -> tuple[ConditionClause, ...]:
        if not isinstance(raw, dict):
            _fail(loc, "Condition", "must be an object of operators.")
        clauses: list[ConditionClause] = []
        for operator, block in raw.items():
            try:
                parsed = parse_operator(operator)
            except ValueError:
                _fail(loc, "Condition", f'"{operator}" is not a condition operator.')
            if not isinstance(block, dict):
                _fail(loc, "Condition", f'"{operator}" must map condition keys to values.')
            for key, value in block.items():
                clauses.append(self.clause(loc, parsed, key, value))
        return tuple(clauses)

    def clause(
        self,
        loc: str,
        operator: tuple[str, Literal["ForAllValues", "ForAnyValue"] | None, bool, str],
        key: str,
        value: object,
    ) -> ConditionClause:
        base, qualifier, if_exists, canonical = operator
        where = f'"{canonical}"'
        if self.caps and len(key) > CONDITION_KEY_MAX_CHARS:
            _fail(
                loc,
                "Condition",
                f'{where}: the condition key "{_clip(key)}" has {len(key)} characters; '
                f"the limit is {CONDITION_KEY_MAX_CHARS}.",
            )
        if not re.match(_CONDITION_KEY, key) or "${" in key:
            _fail(loc, "Condition", f'{where}: "{key}" is not a condition key.')
        lowered = key.lower()
        if self.kind == "key":
            if lowered.startswith(_KEY_POLICY_FORBIDDEN_KEYS):
                _fail(
                    loc,
                    "Condition",
                    f"These condition keys are not permitted in a key policy: {key}",
                )
            if qualifier == "ForAllValues" and lowered.startswith(_SINGLE_VALUED_PREFIXES):
                what = "encryption context" if lowered.startswith("kms:") else "tag"
                raise MalformedPolicyDocumentException(
                    "OverlyPermissiveCondition: Using the ForAllValues set operator with a "
                    f"single-valued condition key matches requests without the specified {what} "
                    f"or with an unspecified {what}. To fix, remove ForAllValues. "
                    f"({loc} Condition {where}: {key})"
                )
        items = value if isinstance(value, list) else [value]
        if not items:
            _fail(loc, "Condition", f'{where}: "{key}" has an empty list of values.')
        values: list[str] = []
        for item in items:
            text = _scalar(item)
            if self.caps and text is not None and len(text) > CONDITION_VALUE_MAX_CHARS:
                _fail(
                    loc,
                    "Condition",
                    f'{where}: the value "{_clip(text)}" of "{key}" has {len(text)} characters; '
                    f"the limit is {CONDITION_VALUE_MAX_CHARS}.",
                )
            if text is None or not validate_value(base, text):
                _fail(loc, "Condition", f'{where}: {_show(item)} is not a valid value for "{key}".')
            values.append(text)
        return ConditionClause(canonical, base, qualifier, if_exists, key, tuple(values))


def _resource(item: str) -> str | None:
    if item == "*" or (item.startswith("arn:") and len(item.split(":", 5)) == 6):
        return None
    return f'{_show(item)} must be "*" or an ARN.'


def _scalar(item: object) -> str | None:
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return json.dumps(item)
    if isinstance(item, str):
        return item
    return None


def _clip(text: str) -> str:
    """The start of an overlong string, enough to recognize it in a message."""
    return text if len(text) <= 40 else text[:40] + "..."


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else json.dumps(value)
