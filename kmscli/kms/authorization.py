"""Authorization of every KMS operation: build the request, evaluate it, refuse with AWS's words.

Owns turning (caller, operation, key, request facts) into a `kmscli.policy.Request` with the
condition keys of kms-behaviour.md §4.5 that apply locally, collecting the key policy and the
caller's identity policies from the keyring, and raising AccessDeniedException with AWS's message
shapes. The decision itself is `kmscli.policy.evaluate`'s; this module decides nothing alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kmscli.errors import AccessDeniedException
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


def identity_policy_record(principal_arn: str, policy_name: str) -> str:
    """The record name of one identity policy: `<principal ARN>|<policy name>`."""
    return f"{principal_arn}|{policy_name}"


@dataclass(frozen=True)
class RequestFacts:
    """What an operation knows about its request beyond the key: the condition-key inputs."""

    encryption_context: Mapping[str, str] | None = None
    encryption_algorithm: str | None = None
    request_alias: str | None = None
    via_service: str | None = None
    extra: Mapping[str, ConditionValue] = field(default_factory=dict)


class Authorizer:
    """Evaluates requests for one caller at one instant."""

    def __init__(self, caller: Principal, now: datetime) -> None:
        self.caller = caller
        self.now = now

    def identity_policies(self, view: RecordView) -> list[PolicyDocument]:
        """The caller's identity policies; a session carries its role's."""
        owner = self.caller.role_arn or self.caller.arn
        documents = []
        for name in view.list(IDENTITY_POLICIES, prefix=identity_policy_record(owner, "")):
            raw = view.get(IDENTITY_POLICIES, name)
            if raw is not None:
                policy_name = name.rsplit("|", 1)[1]
                documents.append(parse_identity_policy(raw.decode(), name=policy_name))
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
            values["kms:MultiRegionKeyType"] = "PRIMARY"
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

    def authorize_key(
        self,
        view: RecordView,
        action: str,
        key: KeyRecord,
        *,
        aliases: Callable[[], Sequence[str]] = tuple,
        facts: RequestFacts = RequestFacts(),
        grants: Sequence[GrantView] = (),
    ) -> Decision:
        """Evaluate `kms:<action>` on `key` under its key policy, IAM policies and grants.

        `aliases` is called only when the caller has identity policies, the only place
        kms:ResourceAliases counts, so the common case reads no alias records.
        """
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
            key_policy=parse_key_policy(key.policy),
            identity_policies=identity,
            grants=grants,
        )
        if not decision.allowed:
            raise self._refuse(request, decision)
        return decision

    def authorize_iam(
        self,
        view: RecordView,
        action: str,
        resource_arn: str,
        resource_account: str,
        extra: Mapping[str, ConditionValue] | None = None,
    ) -> Decision:
        """Evaluate an IAM-only action (CreateKey, ListKeys, the alias half of alias calls...)."""
        values = self._base_conditions()
        values.update(extra or {})
        request = Request(
            principal=self.caller,
            action=f"kms:{action}",
            resource_arn=resource_arn,
            resource_account=resource_account,
            condition_values=values,
            key_policy_applies=False,
        )
        decision = evaluate(
            request, key_policy=None, identity_policies=self.identity_policies(view)
        )
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
        """The policy lockout safety check of CreateKey, PutKeyPolicy and ReplicateKey."""
        lockout_check(
            policy,
            caller=self.caller,
            key_arn=key_arn,
            key_account=key_account,
            identity_policies=self.identity_policies(view),
            condition_values=self._base_conditions(),
        )
