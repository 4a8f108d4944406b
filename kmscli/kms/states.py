"""Which key states allow which operation: the operation × state table of kms-behaviour.md §2.

Owns the table and the exact AWS exception for each refusal. Every operation of the service calls
`check_state` after authorization and before acting; an operation missing from the table is a
bug (KeyError), so each new operation adds its row here. Eligibility rules that are not about the
state (key spec, origin, multi-Region role) belong to the operation's own module.

Creating and Updating are transient in AWS and so they are here: ReplicateKey and
UpdatePrimaryRegion finish within the call, so no stored key stays in either state, but the table
still answers for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from kmscli.errors import (
    DisabledException,
    KmsError,
    KMSInvalidStateException,
    UnsupportedOperationException,
)
from kmscli.kms.model import KeyRecord, KeyState

Refusal = Literal["D", "PD", "NPD", "PI", "EXT", "CR", "UP", "UN"]

_PD: dict[str, Refusal] = {KeyState.PENDING_DELETION: "PD", KeyState.PENDING_REPLICA_DELETION: "PD"}


def _row(**refusals: Refusal) -> dict[str, Refusal]:
    """A row from refusals keyed by short state names (pd covers both pending deletions)."""
    states = {
        "disabled": KeyState.DISABLED,
        "pi": KeyState.PENDING_IMPORT,
        "creating": KeyState.CREATING,
        "updating": KeyState.UPDATING,
        "unavailable": KeyState.UNAVAILABLE,
    }
    row: dict[str, Refusal] = {}
    for name, refusal in refusals.items():
        if name == "pd":
            row.update(dict.fromkeys(_PD, refusal))
        else:
            row[states[name]] = refusal
    return row


_CRYPTO = _row(disabled="D", pd="PD", pi="PI", creating="CR", unavailable="UN")
_ANY: dict[str, Refusal] = {}
_MANAGEMENT = _row(pd="PD")
_NOT_PENDING: dict[str, Refusal] = {
    state: "NPD"
    for state in (
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_IMPORT,
        KeyState.CREATING,
        KeyState.UPDATING,
        KeyState.UNAVAILABLE,
    )
}

_TABLE: Mapping[str, Mapping[str, Refusal]] = {
    "CancelKeyDeletion": _NOT_PENDING,
    "CreateAlias": _MANAGEMENT,
    "UpdateAlias": _MANAGEMENT,  # checked on the new target only
    "CreateGrant": _CRYPTO,
    "Encrypt": _CRYPTO,
    "Decrypt": _CRYPTO,
    "ReEncrypt": _CRYPTO,
    "ReEncryptFrom": _CRYPTO,
    "ReEncryptTo": _CRYPTO,
    "GenerateDataKey": _CRYPTO,
    "GenerateDataKeyWithoutPlaintext": _CRYPTO,
    "GenerateDataKeyPair": _CRYPTO,
    "GenerateDataKeyPairWithoutPlaintext": _CRYPTO,
    "Sign": _CRYPTO,
    "Verify": _CRYPTO,
    "GenerateMac": _CRYPTO,
    "VerifyMac": _CRYPTO,
    "DeriveSharedSecret": _CRYPTO,
    # AWS answers GetPublicKey on a disabled key, whatever its documentation says.
    "GetPublicKey": _row(pd="PD", pi="PI", creating="CR", unavailable="UN"),
    "DescribeKey": _ANY,
    "GetKeyPolicy": _ANY,
    "PutKeyPolicy": _ANY,
    "ListKeyPolicies": _ANY,
    "ListGrants": _ANY,
    "ListResourceTags": _ANY,
    "ListAliases": _ANY,
    "DeleteAlias": _ANY,
    "RetireGrant": _ANY,
    "RevokeGrant": _ANY,
    "ListKeyRotations": _ANY,
    "GetKeyLastUsage": _ANY,
    "EnableKey": _row(pd="PD", pi="PI", creating="CR", updating="UP"),
    "DisableKey": _row(pd="PD", pi="PI", creating="CR", updating="UP"),
    "EnableKeyRotation": _row(disabled="D", pd="PD", pi="EXT", creating="CR"),
    "DisableKeyRotation": _row(disabled="D", pd="PD", pi="EXT", creating="CR"),
    "GetKeyRotationStatus": _row(pi="EXT"),
    "RotateKeyOnDemand": _row(disabled="D", pd="PD", pi="PI", creating="CR"),
    "GetParametersForImport": _row(pd="PD", creating="CR", updating="UP"),
    "ImportKeyMaterial": _row(pd="PD", creating="CR"),
    "DeleteImportedKeyMaterial": _row(creating="CR", updating="UP"),
    "ReplicateKey": _row(disabled="D", pd="PD", pi="PI", creating="CR", updating="UP"),
    "UpdatePrimaryRegion": _row(disabled="D", pd="PD", pi="PI", creating="CR"),
    "ScheduleKeyDeletion": _row(pd="PD", updating="UP"),
    "TagResource": _MANAGEMENT,
    "UntagResource": _MANAGEMENT,
    "UpdateKeyDescription": _MANAGEMENT,
}

OPERATIONS = frozenset(_TABLE)


def refusal_for(operation: str, state: str) -> Refusal | None:
    """The refusal code of the table for `operation` on a key in `state` (None: allowed)."""
    return _TABLE[operation].get(state)


def check_state(operation: str, key: KeyRecord) -> None:
    """Raise the AWS exception for `operation` on a key in its current state, if any."""
    refusal = _TABLE[operation].get(key.state)
    if refusal is None:
        return
    raise refusal_error(refusal, key.arn, origin=key.origin)


def refusal_error(refusal: Refusal, arn: str, *, origin: str = "EXTERNAL") -> KmsError:
    if refusal == "D":
        return DisabledException(f"{arn} is disabled.")
    if refusal == "PD":
        return KMSInvalidStateException(f"{arn} is pending deletion.")
    if refusal == "NPD":
        return KMSInvalidStateException(f"{arn} is not pending deletion.")
    if refusal == "PI":
        return KMSInvalidStateException(f"{arn} is pending import.")
    if refusal == "EXT":
        return UnsupportedOperationException(
            f"{arn} origin is {origin} which is not valid for this operation."
        )
    if refusal == "CR":
        return KMSInvalidStateException(f"{arn} is creating.")
    if refusal == "UP":
        return KMSInvalidStateException(f"{arn} is updating.")
    return KMSInvalidStateException(f"{arn} is unavailable.")
