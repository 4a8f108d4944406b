"""`kmscli policy simulate`: the authorization decision for a request, without performing it.

Owns turning (caller, key, action, encryption context, via-service, extra condition keys) into
the same evaluation an operation would run (`Authorizer.decide_key` / `decide_iam`, the key
policy, the caller's identity policies and the key's grants) and reporting the decision with
the statements or grants that made it. It performs nothing, changes nothing and is not an
audited operation. No printing, no environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kmscli.errors import ValidationException
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.ids import parse_key_reference
from kmscli.kms.model import SYMMETRIC_DEFAULT
from kmscli.policy import KMS_ACTIONS, access_denied_message
from kmscli.policy.conditions import ConditionValue

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

# Actions that IAM alone authorizes (no key policy): they take no key.
IAM_ONLY_ACTIONS = frozenset(
    {
        "CreateKey",
        "ListKeys",
        "ListAliases",
        "GenerateRandom",
        "ListRetirableGrants",
        "CreateCustomKeyStore",
        "ConnectCustomKeyStore",
        "DeleteCustomKeyStore",
        "DescribeCustomKeyStores",
        "DisconnectCustomKeyStore",
        "UpdateCustomKeyStore",
    }
)
_CONTEXT_ACTIONS = frozenset(
    {
        "Encrypt",
        "Decrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)
_ALGORITHM_ACTIONS = frozenset({"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo"})
_DECISIONS = {
    "explicit-deny-resource": "explicitDeny",
    "explicit-deny-identity": "explicitDeny",
}


def _action_name(action: str) -> str:
    """The permission name of `kms:<Name>` as KMS spells it (names are case-insensitive)."""
    by_lower = {a.lower(): a for a in KMS_ACTIONS}
    found = by_lower.get(action.lower())
    if found is None:
        raise ValidationException(
            f"'{action}' is not a KMS permission; give one like kms:Encrypt or kms:CreateGrant"
        )
    return found.removeprefix("kms:")


def _request_defaults(name: str, key_spec: str) -> dict[str, ConditionValue]:
    """The condition keys the operation would have from a request that names no more than
    kmscli's commands require: the key spec's first algorithm (the commands' default), RAW
    messages, ECDH. `--condition` values win over these."""
    from kmscli.kms.asymmetric_ops import default_mac_algorithm, default_signing_algorithm

    defaults: dict[str, ConditionValue] = {}
    if name in ("Sign", "Verify"):
        defaults["kms:MessageType"] = "RAW"
        signing = default_signing_algorithm(key_spec)
        if signing is not None:
            defaults["kms:SigningAlgorithm"] = signing
    elif name in ("GenerateMac", "VerifyMac"):
        mac = default_mac_algorithm(key_spec)
        if mac is not None:
            defaults["kms:MacAlgorithm"] = mac
    elif name == "DeriveSharedSecret":
        defaults["kms:KeyAgreementAlgorithm"] = "ECDH"
    return defaults


def _encryption_algorithm(
    name: str, key_spec: str, extra: Mapping[str, ConditionValue]
) -> str | None:
    """kms:EncryptionAlgorithm: given with --condition, else SYMMETRIC_DEFAULT for a symmetric
    key, else the RSA key spec's first algorithm."""
    if name not in _ALGORITHM_ACTIONS:
        return None
    given = extra.get("kms:EncryptionAlgorithm")
    if isinstance(given, str):
        return given
    if key_spec == SYMMETRIC_DEFAULT:
        return SYMMETRIC_DEFAULT
    from kmscli.crypto.keyspecs import KEY_SPECS

    spec = KEY_SPECS.get(key_spec)
    algorithms = [a for a in spec.encryption_algorithms if a != SYMMETRIC_DEFAULT] if spec else []
    return algorithms[0] if algorithms else None


def simulate(
    service: KmsService,
    *,
    action: str,
    key: str | None = None,
    encryption_context: Mapping[str, str] | None = None,
    via_service: str | None = None,
    condition_values: Mapping[str, ConditionValue] | None = None,
) -> dict[str, Any]:
    """The decision for the service's caller performing `action` (on `key`)."""
    name = _action_name(action)
    extra = dict(condition_values or {})
    authorizer = service._authorizer()
    with service.keyring.read() as view:
        if name in IAM_ONLY_ACTIONS:
            if via_service is not None:
                extra["kms:ViaService"] = via_service
            resource = "*"
            request, decision = authorizer.decide_iam(view, name, resource, service.account, extra)
        else:
            if key is None:
                raise ValidationException(f"kms:{name} is authorized on a key: give --key")
            record = service._resolve(view, key)
            ref = parse_key_reference(key)
            context = dict(encryption_context or {})
            extra = {**_request_defaults(name, record.key_spec), **extra}
            facts = RequestFacts(
                encryption_context=context if name in _CONTEXT_ACTIONS or context else None,
                encryption_algorithm=_encryption_algorithm(name, record.key_spec, extra),
                request_alias=ref.alias_name if ref.is_alias else None,
                via_service=via_service,
                extra=extra,
            )
            request, decision = authorizer.decide_key(
                view,
                name,
                record,
                aliases=lambda: service._alias_names(view, record.key_id),
                facts=facts,
            )
            resource = record.arn
    result: dict[str, Any] = {
        "Principal": service.principal.arn,
        "EvalActionName": f"kms:{name}",
        "EvalResourceName": resource,
        "EvalDecision": "allowed"
        if decision.allowed
        else _DECISIONS.get(decision.reason, "implicitDeny"),
        "Reason": decision.reason,
        "MatchedStatements": list(decision.matched),
    }
    if not decision.allowed:
        result["Message"] = access_denied_message(request, decision)
    return result
