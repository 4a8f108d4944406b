"""The authorization decision for one KMS request (§4.3 to §4.6 of the behaviour reference).

Owns `evaluate` and its types (`Request`, `GrantView`, `Decision`), the AccessDenied message
shapes, and the policy lockout safety check. The order is AWS's:
1. an explicit Deny in the key policy or an identity policy that matches ⇒ deny
   (grants never deny);
2. same account: a key-policy Allow naming the caller directly, or one naming its account
   principal together with an identity-policy Allow (the account root user needs no IAM
   policy), or a grant;
3. other account: only CROSS_ACCOUNT_ACTIONS; a key-policy Allow naming the caller or its
   account *and* an identity-policy Allow of the caller's account, or a grant;
4. otherwise implicit deny.
Actions that KMS authorizes with IAM alone (`key_policy_applies=False`: CreateKey, ListKeys,
ListAliases, GenerateRandom, ListRetirableGrants, the alias half of alias operations) need an
identity-policy Allow (or the account root user) and no Deny.

Pure: no I/O, no clock (time arrives as `aws:CurrentTime` in the request), no printing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Final, Literal

from kmscli.errors import KMSInternalException, MalformedPolicyDocumentException
from kmscli.policy.actions import CROSS_ACCOUNT_ACTIONS
from kmscli.policy.conditions import ConditionContext, ConditionValue, evaluate_conditions
from kmscli.policy.document import LOCKOUT, PolicyDocument, Statement
from kmscli.policy.matching import (
    Resolver,
    UnresolvedVariableError,
    action_match,
    glob_match,
)
from kmscli.policy.principals import Principal, PrincipalMatch, excluded_by, match_principal

__all__ = [
    "CROSS_ACCOUNT_ACTIONS",
    "Decision",
    "GrantView",
    "Principal",
    "Reason",
    "Request",
    "access_denied_message",
    "evaluate",
    "lockout_check",
]

Reason = Literal[
    "explicit-deny-resource",
    "explicit-deny-identity",
    "no-resource-policy",
    "no-identity-policy",
    "not-cross-account-action",
    "allowed-by-key-policy",
    "allowed-by-iam",
    "allowed-cross-account",
    "allowed-by-grant",
]

_UNCONSTRAINED_GRANT_OPERATIONS = frozenset({"describekey", "retiregrant"})

_IamCheck = Callable[[], "tuple[str, ...] | None"]
"""Lazily answers whether the caller's identity policies allow the request (labels) or not."""


# GrantView, Request and Decision are plain classes: every command imports this module, and a
# class with __slots__ costs far less to create at import than a NamedTuple or a dataclass.


class GrantView:
    """What the evaluator needs of a grant on the key being used.

    `operations` are grant operation names, e.g. {"Encrypt", "ReEncryptFrom"}.
    """

    __slots__ = (
        "constraints_equals",
        "constraints_subset",
        "grant_id",
        "grantee_principal",
        "operations",
    )

    def __init__(
        self,
        grantee_principal: str,
        operations: frozenset[str],
        constraints_equals: Mapping[str, str] | None = None,
        constraints_subset: Mapping[str, str] | None = None,
        grant_id: str = "",
    ) -> None:
        self.grantee_principal: Final = grantee_principal
        self.operations: Final = operations
        self.constraints_equals: Final = constraints_equals
        self.constraints_subset: Final = constraints_subset
        self.grant_id: Final = grant_id


class Request:
    """One authorization question: may `principal` perform `action` on `resource_arn`?

    `action` is `kms:<Permission>`, e.g. "kms:Encrypt", "kms:ReEncryptFrom".
    `condition_values` holds the request's condition keys (§4.5); keys that follow from the
    principal (`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`,
    `aws:username`, `aws:userid`, `aws:PrincipalIsAWSService`, `kms:CallerAccount`) and from
    `encryption_context` (`kms:EncryptionContext:<k>`, `kms:EncryptionContextKeys`) are
    derived here and may be overridden by an entry of the same name. `encryption_context` is
    the request's encryption context; for CreateGrant, the new grant's constraint pairs.
    """

    __slots__ = (
        "action",
        "condition_values",
        "encryption_context",
        "key_policy_applies",
        "principal",
        "resource_account",
        "resource_arn",
    )

    def __init__(
        self,
        principal: Principal,
        action: str,
        resource_arn: str,
        resource_account: str,
        condition_values: Mapping[str, ConditionValue] = MappingProxyType({}),
        encryption_context: Mapping[str, str] | None = None,
        key_policy_applies: bool = True,
    ) -> None:
        self.principal: Final = principal
        self.action: Final = action
        self.resource_arn: Final = resource_arn
        self.resource_account: Final = resource_account
        self.condition_values: Final = condition_values
        self.encryption_context: Final = encryption_context
        self.key_policy_applies: Final = key_policy_applies


class Decision:
    """Allowed or not, why, and the labels of the statements and grants that decided:
    `key-policy:<Sid>`, `<policy name or identity-policy[<i>]>:<Sid>`, `grant:<GrantId>`; a
    statement without Sid is `Statement[<index>]`."""

    __slots__ = ("allowed", "matched", "reason")

    def __init__(self, allowed: bool, reason: Reason, matched: tuple[str, ...] = ()) -> None:
        self.allowed: Final = allowed
        self.reason: Final = reason
        self.matched: Final = matched


# -- the decision ----------------------------------------------------------------------------------


class _Evaluation:
    def __init__(self, request: Request) -> None:
        self.request = request
        self.context = _build_context(request)
        self.action = request.action

    def resolver(self, doc: PolicyDocument) -> Resolver | None:
        return self.context.variable if doc.variables_enabled else None

    def statement_applies(self, st: Statement, doc: PolicyDocument) -> bool:
        """Action, resource and conditions match (principal is checked by the caller)."""
        if st.ignored:
            return False
        resolver = self.resolver(doc)
        try:
            if st.actions is not None:
                if not any(action_match(p, self.action) for p in st.actions):
                    return False
            elif st.not_actions is not None and any(
                action_match(p, self.action) for p in st.not_actions
            ):
                return False
            arn = self.request.resource_arn
            if st.resources is not None:
                if not any(glob_match(p, arn, resolver=resolver) for p in st.resources):
                    return False
            elif st.not_resources is not None and any(
                glob_match(p, arn, resolver=resolver) for p in st.not_resources
            ):
                return False
            return evaluate_conditions(st.conditions, self.context, resolver)
        except UnresolvedVariableError:
            return False

    def principal_match(self, st: Statement) -> PrincipalMatch:
        caller = self.request.principal
        if st.principal is not None:
            return match_principal(st.principal, caller)
        if st.not_principal is not None:
            excluded = excluded_by(st.not_principal, caller)
            return PrincipalMatch.NONE if excluded else PrincipalMatch.DIRECT
        return PrincipalMatch.NONE

    def key_statements(
        self, doc: PolicyDocument | None, effect: str
    ) -> Iterator[tuple[Statement, PrincipalMatch]]:
        if doc is None:
            return
        for st in doc.statements:
            if st.effect != effect:
                continue
            kind = self.principal_match(st)
            if kind is not PrincipalMatch.NONE and self.statement_applies(st, doc):
                yield st, kind

    def identity_statements(self, docs: Sequence[PolicyDocument], effect: str) -> Iterator[str]:
        for i, doc in enumerate(docs):
            for st in doc.statements:
                if st.effect == effect and self.statement_applies(st, doc):
                    yield f"{doc.name or f'identity-policy[{i}]'}:{st.label}"


def evaluate(
    request: Request,
    *,
    key_policy: PolicyDocument | None,
    identity_policies: Sequence[PolicyDocument],
    grants: Sequence[GrantView] = (),
) -> Decision:
    """Decide `request` under the key policy, the caller's identity policies and the grants.

    `identity_policies` are the caller's own (its user's or role's); `grants` are the grants
    on the key (the evaluator picks those whose grantee is the caller). `key_policy` is read
    only when `request.key_policy_applies`.
    """
    ev = _Evaluation(request)
    caller = request.principal
    key_doc = key_policy if request.key_policy_applies else None

    for st, _ in ev.key_statements(key_doc, "Deny"):
        return Decision(False, "explicit-deny-resource", (f"key-policy:{st.label}",))
    for label in ev.identity_statements(identity_policies, "Deny"):
        return Decision(False, "explicit-deny-identity", (label,))

    same_account = caller.is_service or caller.account == request.resource_account

    def iam_allows() -> tuple[str, ...] | None:
        """The identity-policy Allows, or None; the root user is implicitly allowed."""
        if caller.is_root:
            return ()
        labels = tuple(ev.identity_statements(identity_policies, "Allow"))
        return labels or None

    if not request.key_policy_applies:
        if not same_account:
            return Decision(False, "no-resource-policy")
        iam = iam_allows()
        if iam is None:
            return Decision(False, "no-identity-policy")
        return Decision(True, "allowed-by-iam", iam)

    if not same_account and request.action.lower() not in _CROSS_ACCOUNT_LOWER:
        return Decision(False, "not-cross-account-action")

    direct: list[str] = []
    via_account: list[str] = []
    for st, kind in ev.key_statements(key_doc, "Allow"):
        target = direct if kind is PrincipalMatch.DIRECT else via_account
        target.append(f"key-policy:{st.label}")

    if same_account:
        if direct:
            return Decision(True, "allowed-by-key-policy", tuple(direct))
        if via_account:
            if caller.is_root:
                return Decision(True, "allowed-by-key-policy", tuple(via_account))
            iam = iam_allows()
            if iam is not None:
                return Decision(True, "allowed-by-iam", (*via_account, *iam))
    elif direct or via_account:
        iam = iam_allows()
        if iam is not None:
            return Decision(True, "allowed-cross-account", (*direct, *via_account, *iam))

    for grant in grants:
        if _grant_allows(grant, request, iam_allows):
            return Decision(True, "allowed-by-grant", (f"grant:{grant.grant_id}",))

    if via_account or (not same_account and direct):
        return Decision(False, "no-identity-policy")
    return Decision(False, "no-resource-policy")


_CROSS_ACCOUNT_LOWER = frozenset(a.lower() for a in CROSS_ACCOUNT_ACTIONS)


# -- grants ----------------------------------------------------------------------------------------


def _grantee_matches(grant: GrantView, caller: Principal, iam_allows: _IamCheck) -> bool:
    grantee = grant.grantee_principal
    if grantee in (caller.arn, caller.role_arn):
        return True
    if not caller.is_service and grantee == caller.account_arn:
        # A grant to an account reaches its principals the way an account principal in a key
        # policy does: through their IAM policies (the root user needs none).
        return iam_allows() is not None
    return False


def _grant_allows(grant: GrantView, request: Request, iam_allows: _IamCheck) -> bool:
    action = request.action.lower()
    operation = action.removeprefix("kms:")
    if operation not in {op.lower() for op in grant.operations}:
        return False
    if not _grantee_matches(grant, request.principal, iam_allows):
        return False
    if operation in _UNCONSTRAINED_GRANT_OPERATIONS:
        return True
    context = dict(request.encryption_context or {})
    if operation == "creategrant":
        return _child_grant_allowed(grant, request, context)
    if grant.constraints_equals is not None and context != dict(grant.constraints_equals):
        return False
    return grant.constraints_subset is None or _contains(context, grant.constraints_subset)


def _child_grant_allowed(grant: GrantView, request: Request, child: dict[str, str]) -> bool:
    """A grant-derived CreateGrant may only narrow: ⊆ operations, equal or stricter context.

    The new grant is described by `kms:GrantOperations`, `kms:GrantConstraintType` and
    `encryption_context` (its constraint pairs).
    """
    values = {k.lower(): v for k, v in request.condition_values.items()}
    operations = values.get("kms:grantoperations")
    if operations is not None:
        requested = {operations} if isinstance(operations, str) else set(_strings(operations))
        allowed = {op.lower() for op in grant.operations}
        if not {op.lower() for op in requested} <= allowed:
            return False
    constraint_type = values.get("kms:grantconstrainttype")
    if grant.constraints_equals is not None and (
        constraint_type != "EncryptionContextEquals" or child != dict(grant.constraints_equals)
    ):
        return False
    if grant.constraints_subset is not None and grant.constraints_subset:
        return constraint_type is not None and _contains(child, grant.constraints_subset)
    return True


def _strings(value: ConditionValue) -> list[str]:
    if isinstance(value, str | bytes | bool | int | float | datetime):
        return [str(value)]
    return [str(v) for v in value]


def _contains(context: Mapping[str, str], required: Mapping[str, str]) -> bool:
    return all(context.get(k) == v for k, v in required.items())


# -- request context -------------------------------------------------------------------------------


def _build_context(request: Request) -> ConditionContext:
    derived: dict[str, ConditionValue] = dict(request.principal.global_condition_values())
    context = request.encryption_context
    if context:
        for ec_key, ec_value in context.items():
            derived[f"kms:EncryptionContext:{ec_key}"] = ec_value
        derived["kms:EncryptionContextKeys"] = list(context)
    given = {k.lower(): v for k, v in request.condition_values.items()}
    now = given.get("aws:currenttime")
    if isinstance(now, datetime):
        derived["aws:EpochTime"] = int(now.timestamp())
    # Lower-cased keys so that a request value replaces a derived one whatever its spelling.
    merged = {k.lower(): v for k, v in derived.items()}
    merged.update(given)
    return ConditionContext(merged)


# -- messages and the lockout check ----------------------------------------------------------------


def access_denied_message(request: Request, decision: Decision) -> str:
    """AWS's AccessDeniedException text for a denied `decision` (§4.3 step 6)."""
    if decision.allowed:
        raise KMSInternalException("access_denied_message called for an allowed request")
    head = (
        f"User: {request.principal.arn} is not authorized to perform: {request.action} "
        f"on resource: {request.resource_arn}"
    )
    if decision.reason == "explicit-deny-resource":
        return f"{head} with an explicit deny in a resource-based policy"
    if decision.reason == "explicit-deny-identity":
        return f"{head} with an explicit deny in an identity-based policy"
    if decision.reason == "no-identity-policy":
        return f"{head} because no identity-based policy allows the {request.action} action"
    return f"{head} because no resource-based policy allows the {request.action} action"


def lockout_check(
    policy: PolicyDocument,
    *,
    caller: Principal,
    key_arn: str,
    key_account: str,
    identity_policies: Sequence[PolicyDocument],
    condition_values: Mapping[str, ConditionValue] | None = None,
) -> None:
    """Raise unless `caller` could call kms:PutKeyPolicy on the key under `policy` (§4.2).

    `condition_values` are those of the request being checked (CreateKey, PutKeyPolicy,
    ReplicateKey); conditions on keys it lacks are evaluated as AWS would, as absent.
    """
    request = Request(
        principal=caller,
        action="kms:PutKeyPolicy",
        resource_arn=key_arn,
        resource_account=key_account,
        condition_values=dict(condition_values or {}),
    )
    decision = evaluate(request, key_policy=policy, identity_policies=identity_policies)
    if not decision.allowed:
        raise MalformedPolicyDocumentException(LOCKOUT)
