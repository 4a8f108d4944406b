"""Which key states allow which operation: the operation × state table of kms-behaviour.md §2.

Owns the table and the exact AWS exception for each refusal. Every operation of the service calls
`check_state` after authorization and before acting; later operations add their row here.
"""

from __future__ import annotations

from typing import Literal

from kmscli.errors import DisabledException, KmsError, KMSInvalidStateException
from kmscli.kms.model import DISABLED, PENDING_DELETION, PENDING_IMPORT, KeyRecord

Refusal = Literal["D", "PD", "PI"]

_CRYPTO: dict[str, Refusal] = {DISABLED: "D", PENDING_DELETION: "PD", PENDING_IMPORT: "PI"}
_ENABLE_DISABLE: dict[str, Refusal] = {PENDING_DELETION: "PD", PENDING_IMPORT: "PI"}
_MANAGEMENT: dict[str, Refusal] = {PENDING_DELETION: "PD"}
_ANY: dict[str, Refusal] = {}

_TABLE: dict[str, dict[str, Refusal]] = {
    "Encrypt": _CRYPTO,
    "Decrypt": _CRYPTO,
    "ReEncrypt": _CRYPTO,
    "GenerateDataKey": _CRYPTO,
    "GenerateDataKeyWithoutPlaintext": _CRYPTO,
    "EnableKey": _ENABLE_DISABLE,
    "DisableKey": _ENABLE_DISABLE,
    "CreateAlias": _MANAGEMENT,
    "UpdateAlias": _MANAGEMENT,
    "UpdateKeyDescription": _MANAGEMENT,
    "TagResource": _MANAGEMENT,
    "UntagResource": _MANAGEMENT,
    "DescribeKey": _ANY,
    "GetKeyPolicy": _ANY,
    "PutKeyPolicy": _ANY,
    "ListKeyPolicies": _ANY,
    "ListAliases": _ANY,
    "DeleteAlias": _ANY,
}


def check_state(operation: str, key: KeyRecord) -> None:
    """Raise the AWS exception for `operation` on a key in its current state, if any."""
    refusal = _TABLE[operation].get(key.state)
    if refusal is None:
        return
    raise _refusal_error(refusal, key.arn)


def _refusal_error(refusal: Refusal, arn: str) -> KmsError:
    if refusal == "D":
        return DisabledException(f"{arn} is disabled.")
    if refusal == "PD":
        return KMSInvalidStateException(f"{arn} is pending deletion.")
    return KMSInvalidStateException(f"{arn} is pending import.")
