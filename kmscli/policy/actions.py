"""The KMS permission names and which of them AWS lets work across accounts.

Owns constant data only: every `kms:` permission (the API operations, with ReEncrypt split
into ReEncryptFrom/ReEncryptTo as AWS authorizes it, plus SynchronizeMultiRegionKey), the
operations that work for a principal of another account (§4.3 step 5) and the grant
operations. No logic, no I/O.
"""

from __future__ import annotations

KMS_ACTIONS: frozenset[str] = frozenset(
    f"kms:{name}"
    for name in (
        "CancelKeyDeletion",
        "ConnectCustomKeyStore",
        "CreateAlias",
        "CreateCustomKeyStore",
        "CreateGrant",
        "CreateKey",
        "Decapsulate",
        "Decrypt",
        "DeleteAlias",
        "DeleteCustomKeyStore",
        "DeleteImportedKeyMaterial",
        "DeriveSharedSecret",
        "DescribeCustomKeyStores",
        "DescribeKey",
        "DisableKey",
        "DisableKeyRotation",
        "DisconnectCustomKeyStore",
        "EnableKey",
        "EnableKeyRotation",
        "Encapsulate",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GenerateRandom",
        "GetKeyLastUsage",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "GetParametersForImport",
        "GetPublicKey",
        "ImportKeyMaterial",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListKeys",
        "ListResourceTags",
        "ListRetirableGrants",
        "PutKeyPolicy",
        "ReEncryptFrom",
        "ReEncryptTo",
        "ReplicateKey",
        "RetireGrant",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "Sign",
        "SynchronizeMultiRegionKey",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateCustomKeyStore",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
        "Verify",
        "VerifyMac",
    )
)

CRYPTOGRAPHIC_ACTIONS: frozenset[str] = frozenset(
    f"kms:{name}"
    for name in (
        "Decapsulate",
        "Decrypt",
        "DeriveSharedSecret",
        "Encapsulate",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "ReEncryptFrom",
        "ReEncryptTo",
        "Sign",
        "Verify",
        "VerifyMac",
    )
)

CROSS_ACCOUNT_ACTIONS: frozenset[str] = CRYPTOGRAPHIC_ACTIONS | frozenset(
    f"kms:{name}"
    for name in (
        "CreateGrant",
        "DescribeKey",
        "GetKeyRotationStatus",
        "GetPublicKey",
        "ListGrants",
        "RetireGrant",
        "RevokeGrant",
    )
)
"""Permissions that a principal of another account can use (§4.3 step 5); others have no
effect across accounts whatever the policies say."""

GRANT_OPERATIONS: frozenset[str] = frozenset(
    (
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
        "Sign",
        "Verify",
        "GetPublicKey",
        "CreateGrant",
        "RetireGrant",
        "DescribeKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateMac",
        "VerifyMac",
        "DeriveSharedSecret",
        "Encapsulate",
        "Decapsulate",
    )
)
"""The GrantOperation enum of the KMS API."""
