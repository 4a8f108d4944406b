"""The operation × state table of kms-behaviour.md §2, cell by cell, with AWS's exceptions.

The expected table below is transcribed from the reference independently of kmscli/kms/states.py,
so a wrong cell in either shows up here.
"""

from __future__ import annotations

import pytest

from kmscli.errors import (
    DisabledException,
    KmsError,
    KMSInvalidStateException,
    UnsupportedOperationException,
)
from kmscli.kms.model import KeyRecord, KeyState
from kmscli.kms.states import OPERATIONS, check_state

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STATES = ["Enabled", "Disabled", "PendingDeletion", "PendingImport", "Creating", "Updating"]

# Columns: Enabled, Disabled, PendingDeletion (and PendingReplicaDeletion), PendingImport,
# Creating, Updating. "ok" = allowed.
CRYPTO = ("ok", "D", "PD", "PI", "CR", "ok")
ANY = ("ok",) * 6
EXPECTED: dict[str, tuple[str, ...]] = {
    "CancelKeyDeletion": ("NPD", "NPD", "ok", "NPD", "NPD", "NPD"),
    "CreateAlias": ("ok", "ok", "PD", "ok", "ok", "ok"),
    "UpdateAlias": ("ok", "ok", "PD", "ok", "ok", "ok"),
    "CreateGrant": CRYPTO,
    "Encrypt": CRYPTO,
    "Decrypt": CRYPTO,
    "ReEncrypt": CRYPTO,
    "ReEncryptFrom": CRYPTO,
    "ReEncryptTo": CRYPTO,
    "GenerateDataKey": CRYPTO,
    "GenerateDataKeyWithoutPlaintext": CRYPTO,
    "GenerateDataKeyPair": CRYPTO,
    "GenerateDataKeyPairWithoutPlaintext": CRYPTO,
    "Sign": CRYPTO,
    "Verify": CRYPTO,
    "GenerateMac": CRYPTO,
    "VerifyMac": CRYPTO,
    "DeriveSharedSecret": CRYPTO,
    "GetPublicKey": ("ok", "ok", "PD", "PI", "CR", "ok"),
    "DescribeKey": ANY,
    "GetKeyPolicy": ANY,
    "PutKeyPolicy": ANY,
    "ListKeyPolicies": ANY,
    "ListGrants": ANY,
    "ListResourceTags": ANY,
    "ListAliases": ANY,
    "DeleteAlias": ANY,
    "RetireGrant": ANY,
    "RevokeGrant": ANY,
    "ListKeyRotations": ANY,
    "GetKeyLastUsage": ANY,
    "EnableKey": ("ok", "ok", "PD", "PI", "CR", "UP"),
    "DisableKey": ("ok", "ok", "PD", "PI", "CR", "UP"),
    "EnableKeyRotation": ("ok", "D", "PD", "EXT", "CR", "ok"),
    "DisableKeyRotation": ("ok", "D", "PD", "EXT", "CR", "ok"),
    "GetKeyRotationStatus": ("ok", "ok", "ok", "EXT", "ok", "ok"),
    "RotateKeyOnDemand": ("ok", "D", "PD", "PI", "CR", "ok"),
    "GetParametersForImport": ("ok", "ok", "PD", "ok", "CR", "UP"),
    "ImportKeyMaterial": ("ok", "ok", "PD", "ok", "CR", "ok"),
    "DeleteImportedKeyMaterial": ("ok", "ok", "ok", "ok", "CR", "UP"),
    "ReplicateKey": ("ok", "D", "PD", "PI", "CR", "UP"),
    "UpdatePrimaryRegion": ("ok", "D", "PD", "PI", "CR", "ok"),
    "ScheduleKeyDeletion": ("ok", "ok", "PD", "ok", "ok", "UP"),
    "TagResource": ("ok", "ok", "PD", "ok", "ok", "ok"),
    "UntagResource": ("ok", "ok", "PD", "ok", "ok", "ok"),
    "UpdateKeyDescription": ("ok", "ok", "PD", "ok", "ok", "ok"),
}

MESSAGES: dict[str, tuple[type[KmsError], str]] = {
    "D": (DisabledException, f"{ARN} is disabled."),
    "PD": (KMSInvalidStateException, f"{ARN} is pending deletion."),
    "NPD": (KMSInvalidStateException, f"{ARN} is not pending deletion."),
    "PI": (KMSInvalidStateException, f"{ARN} is pending import."),
    "EXT": (
        UnsupportedOperationException,
        f"{ARN} origin is EXTERNAL which is not valid for this operation.",
    ),
    "CR": (KMSInvalidStateException, f"{ARN} is creating."),
    "UP": (KMSInvalidStateException, f"{ARN} is updating."),
}


def _key(state: str) -> KeyRecord:
    origin = "EXTERNAL" if state == "PendingImport" else "AWS_KMS"
    return KeyRecord(
        key_id=ARN.rsplit("/", 1)[1],
        region="us-east-1",
        account="111122223333",
        creation_date="2030-01-01T00:00:00+00:00",
        state=state,
        origin=origin,
    )


def test_every_operation_has_a_row() -> None:
    assert set(EXPECTED) == OPERATIONS


CELLS = [
    (operation, state, refusal)
    for operation, row in EXPECTED.items()
    for state, refusal in zip(STATES, row, strict=True)
]


@pytest.mark.parametrize(("operation", "state", "refusal"), CELLS)
def test_cell(operation: str, state: str, refusal: str) -> None:
    states = [state, "PendingReplicaDeletion"] if state == "PendingDeletion" else [state]
    for each in states:
        if refusal == "ok":
            check_state(operation, _key(each))
            continue
        error_type, message = MESSAGES[refusal]
        with pytest.raises(error_type) as raised:
            check_state(operation, _key(each))
        assert raised.value.message == message


def test_the_model_knows_every_aws_key_state() -> None:
    assert {state.value for state in KeyState} == {
        "Creating",
        "Enabled",
        "Disabled",
        "PendingDeletion",
        "PendingImport",
        "PendingReplicaDeletion",
        "Unavailable",
        "Updating",
    }


def test_unknown_operations_are_a_bug_not_a_pass() -> None:
    with pytest.raises(KeyError):
        check_state("MakeCoffee", _key("Enabled"))
