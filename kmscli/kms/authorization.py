"""Authorization of every KMS operation: build the request, evaluate it, refuse with AWS's words.

Owns turning (caller, operation, key, request facts) into a `kmscli.policy.Request` with the
condition keys of kms-behaviour.md §4.5 that apply locally, collecting the key policy and the
caller's identity policies from the keyring, and raising AccessDeniedException with AWS's message
shapes. The decision itself is `kmscli.policy.evaluate`'s; this module decides nothing alone.

Every key operation's evaluation weighs the key's grants (`kmscli.kms.grants`) and checks the
request's grant tokens; every evaluation, allowed or not, is noted for the operation's audit
event (`kmscli.kms.audit`). `decide_key`/`decide_iam` answer without raising, for
`kmscli policy simulate`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from kmscli.errors import AccessDeniedException
from kmscli.kms import audit
from kmscli.kms.model import KeyRecord
from kmscli.policy import (
    Decision,
    GrantView,
    PolicyDocument,
    Principal,
    Request,
    access_denied_message,
    evaluate,
    lockout_check,
    parse_identity_policy,
    parse_key_policy,
)
from kmscli.policy.conditions import ConditionValue
from kmscli.store import RecordView

IDENTITY_POLICIES = "identity-policies"
GRANTS = "grants"


def _grant_views(view: RecordView, key: KeyRecord) -> list[GrantView]:
    """The key's grants; kmscli.kms.grants is imported only for a key that has some, so the
    common case costs one directory listing."""
    if not view.list(GRANTS, prefix=f"{key.region}/{key.key_id}/"):
        return []
    from kmscli.kms import grants

    return grants.grant_views(view, key)


def identity_policy_record(principal_arn: str, policy_name: str) -> str:
    """The record name of one identity policy: `<principal ARN>|<policy name>`."""
    return f"{principal_arn}|{policy_name}"


def policy_owner(principal: Principal) -> str:
    """The ARN a principal's identity policies are kept under: a session's role, and a role
    without its path (role names are unique in an account, and a session ARN has no path)."""
    if principal.role_arn is not None:
        return principal.role_arn
    if principal.type == "role":
        return f"arn:{principal.partition}:iam::{principal.account}:role/{principal.name}"
    return principal.arn


class RequestFacts(NamedTuple):
    """What an operation knows about its request beyond the key: the condition-key inputs."""

    encryption_context: Mapping[str, str] | None = None
    encryption_algorithm: str | None = None
    request_alias: str | None = None
    via_service: str | None = None
    extra: Mapping[str, ConditionValue] = MappingProxyType({})
    grant_tokens: Sequence[str] = ()
    """The request's GrantTokens: each must be one kmscli issued for a grant that exists."""
    extra_grants: Sequence[GrantView] = ()
    """Grant-like allowances of the operation itself (who may retire a grant)."""


NO_FACTS = RequestFacts()
"""A request that brings no condition-key inputs of its own."""


class Authorizer:
    """Evaluates requests for one caller at one instant."""

    def __init__(self, caller: Principal, now: datetime) -> None:
        self.caller = caller
        self.now = now

    def identity_policies(self, view: RecordView) -> list[PolicyDocument]:
        """The caller's identity policies; a session carries its role's."""
        owner = policy_owner(self.caller)
        documents = []
        for name in view.list(IDENTITY_POLICIES, prefix=identity_policy_record(owner, "")):
            raw = view.get(IDENTITY_POLICIES, name)
            if raw is not None:
                policy_name = name.rsplit("|", 1)[1]
                documents.append(parse_identity_policy(raw.decode(), name=policy_name, stored=True))
        return documents

    def _base_conditions(self) -> dict[str, ConditionValue]:
        return {"aws:CurrentTime": self.now}

    def _key_conditions(
        self, key: KeyRecord, aliases: Sequence[str] | None, facts: RequestFacts
    ) -> dict[str, ConditionValue]:
        values = self._base_conditions()
        values.update(
            {
                "kms:KeySpec": key.key_spec,
                "kms:CustomerMasterKeySpec": key.key_spec,
                "kms:KeyUsage": key.key_usage,
                "kms:CustomerMasterKeyUsage": key.key_usage,
                "kms:KeyOrigin": key.origin,
                "kms:MultiRegion": key.multi_region,
            }
        )
        if aliases is not None:
            values["kms:ResourceAliases"] = list(aliases)
        if key.multi_region:
            values["kms:MultiRegionKeyType"] = "REPLICA" if key.is_replica else "PRIMARY"
        for tag in key.tags:
            values[f"aws:ResourceTag/{tag['TagKey']}"] = tag["TagValue"]
        if facts.encryption_algorithm is not None:
            values["kms:EncryptionAlgorithm"] = facts.encryption_algorithm
        if facts.request_alias is not None:
            values["kms:RequestAlias"] = facts.request_alias
        if facts.via_service is not None:
            values["kms:ViaService"] = facts.via_service
        values.update(facts.extra)
        return values

    def _refuse(self, request: Request, decision: Decision) -> AccessDeniedException:
        return AccessDeniedException(access_denied_message(request, decision))

    def decide_key(
        self,
        view: RecordView,
        action: str,
        key: KeyRecord,
        *,
        aliases: Callable[[], Sequence[str]] = tuple,
        facts: RequestFacts = NO_FACTS,
    ) -> tuple[Request, Decision]:
        """The request and decision for `kms:<action>` on `key`, without refusing.

        Weighs the key policy, the caller's IAM policies and the key's grants (plus
        `facts.extra_grants`). `aliases` is called only when the caller has identity policies,
        the only place kms:ResourceAliases counts, so the common case reads no alias records.
        """
        if facts.grant_tokens:
            from kmscli.kms import grants

            grants.check_grant_tokens(view, facts.grant_tokens)
        identity = self.identity_policies(view)
        request = Request(
            principal=self.caller,
            action=f"kms:{action}",
            resource_arn=key.arn,
            resource_account=key.account,
            condition_values=self._key_conditions(key, aliases() if identity else None, facts),
            encryption_context=facts.encryption_context,
        )
        decision = evaluate(
            request,
            key_policy=parse_key_policy(key.policy, stored=True),
            identity_policies=identity,
            grants=[*_grant_views(view, key), *facts.extra_grants],
        )
        return request, decision

    def authorize_key(
        self,
        view: RecordView,
        action: str,
        key: KeyRecord,
        *,
        aliases: Callable[[], Sequence[str]] = tuple,
        facts: RequestFacts = NO_FACTS,
    ) -> Decision:
        """Evaluate `kms:<action>` on `key`; AccessDeniedException unless allowed."""
        audit.note_key(action, key.arn, key.account)
        request, decision = self.decide_key(view, action, key, aliases=aliases, facts=facts)
        if not decision.allowed:
            raise self._refuse(request, decision)
        return decision

    def decide_iam(
        self,
        view: RecordView,
        action: str,
        resource_arn: str,
        resource_account: str,
        extra: Mapping[str, ConditionValue] | None = None,
    ) -> tuple[Request, Decision]:
        """The request and decision for an IAM-only action, without refusing.

        `action` is a KMS permission name ("CreateKey") or a full action ("iam:PutUserPolicy").
        """
        values = self._base_conditions()
        values.update(extra or {})
        request = Request(
            principal=self.caller,
            action=action if ":" in action else f"kms:{action}",
            resource_arn=resource_arn,
            resource_account=resource_account,
            condition_values=values,
            key_policy_applies=False,
        )
        decision = evaluate(
            request, key_policy=None, identity_policies=self.identity_policies(view)
        )
        return request, decision

    def authorize_iam(
        self,
        view: RecordView,
        action: str,
        resource_arn: str,
        resource_account: str,
        extra: Mapping[str, ConditionValue] | None = None,
    ) -> Decision:
        """Evaluate an IAM-only action (CreateKey, ListKeys, the alias half of alias calls,
        iam:PutUserPolicy...); AccessDeniedException unless allowed."""
        audit.note_action(action)
        request, decision = self.decide_iam(view, action, resource_arn, resource_account, extra)
        if not decision.allowed:
            raise self._refuse(request, decision)
        return decision

    def check_lockout(
        self,
        view: RecordView,
        policy: PolicyDocument,
        key_arn: str,
        key_account: str,
    ) -> None:
        """The policy lockout safety check of CreateKey, PutKeyPolicy and ReplicateKey.

        It runs only when the request does not bypass it, so the PutKeyPolicy it imagines has
        kms:BypassPolicyLockoutSafetyCheck false, as the request itself.
        """
        values = self._base_conditions()
        values["kms:BypassPolicyLockoutSafetyCheck"] = False
        lockout_check(
            policy,
            caller=self.caller,
            key_arn=key_arn,
            key_account=key_account,
            identity_policies=self.identity_policies(view),
            condition_values=values,
        )
