"""The response shapes of the KMS API, in AWS's member names, as both backends return them.

Owns one TypedDict per response the CLI and the envelope layer read, so that mypy checks the
members they use. Binary members are `bytes` and timestamps ISO 8601 strings (the aws backend
normalises botocore's datetimes). Members AWS may leave out are `NotRequired`; a backend may
return more members than listed (AWS adds members over time). Imported under `TYPE_CHECKING`
only: TypedDict classes cost start-up, and nothing needs them at run time. Operations not
listed here still answer `dict[str, Any]`.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class MultiRegionKey(TypedDict):
    Arn: str
    Region: str


class MultiRegionConfiguration(TypedDict, total=False):
    MultiRegionKeyType: str
    PrimaryKey: MultiRegionKey
    ReplicaKeys: list[MultiRegionKey]


class KeyMetadata(TypedDict):
    """DescribeKey's and CreateKey's `KeyMetadata` (only KeyId is always there in AWS's model)."""

    KeyId: str
    Arn: NotRequired[str]
    AWSAccountId: NotRequired[str]
    CreationDate: NotRequired[str]
    Enabled: NotRequired[bool]
    Description: NotRequired[str]
    KeyUsage: NotRequired[str]
    KeyState: NotRequired[str]
    DeletionDate: NotRequired[str]
    ValidTo: NotRequired[str]
    Origin: NotRequired[str]
    ExpirationModel: NotRequired[str]
    KeyManager: NotRequired[str]
    CustomerMasterKeySpec: NotRequired[str]
    KeySpec: NotRequired[str]
    EncryptionAlgorithms: NotRequired[list[str]]
    SigningAlgorithms: NotRequired[list[str]]
    MacAlgorithms: NotRequired[list[str]]
    KeyAgreementAlgorithms: NotRequired[list[str]]
    MultiRegion: NotRequired[bool]
    MultiRegionConfiguration: NotRequired[MultiRegionConfiguration]
    PendingDeletionWindowInDays: NotRequired[int]
    CurrentKeyMaterialId: NotRequired[str]


class KeyMetadataResponse(TypedDict):
    """CreateKey and DescribeKey."""

    KeyMetadata: KeyMetadata


class KeyListEntry(TypedDict):
    KeyId: str
    KeyArn: str


class ListKeysResponse(TypedDict):
    Keys: list[KeyListEntry]
    Truncated: bool
    NextMarker: NotRequired[str]


class AliasListEntry(TypedDict):
    AliasName: str
    AliasArn: str
    TargetKeyId: NotRequired[str]
    CreationDate: NotRequired[str]
    LastUpdatedDate: NotRequired[str]


class ListAliasesResponse(TypedDict):
    Aliases: list[AliasListEntry]
    Truncated: bool
    NextMarker: NotRequired[str]


class EncryptResponse(TypedDict):
    CiphertextBlob: bytes
    KeyId: str
    EncryptionAlgorithm: str
    KeyMaterialId: NotRequired[str]


class DecryptResponse(TypedDict):
    KeyId: str
    Plaintext: NotRequired[bytes]  # AWS leaves it out when it encrypts it for a Recipient
    EncryptionAlgorithm: str
    KeyMaterialId: NotRequired[str]


class GenerateDataKeyResponse(TypedDict):
    """GenerateDataKey (with Plaintext) and GenerateDataKeyWithoutPlaintext (without)."""

    CiphertextBlob: NotRequired[bytes]  # optional in AWS's model; the CLI takes it out for -o
    KeyId: str
    Plaintext: NotRequired[bytes]
    KeyMaterialId: NotRequired[str]


class ReEncryptResponse(TypedDict):
    CiphertextBlob: bytes
    SourceKeyId: str
    KeyId: str
    SourceEncryptionAlgorithm: str
    DestinationEncryptionAlgorithm: str
    SourceKeyMaterialId: NotRequired[str]
    DestinationKeyMaterialId: NotRequired[str]


class SignResponse(TypedDict):
    KeyId: str
    Signature: bytes
    SigningAlgorithm: str


class VerifyResponse(TypedDict):
    KeyId: str
    SignatureValid: bool
    SigningAlgorithm: str


class GenerateMacResponse(TypedDict):
    Mac: bytes
    MacAlgorithm: str
    KeyId: str


class VerifyMacResponse(TypedDict):
    KeyId: str
    MacValid: bool
    MacAlgorithm: str


class GetPublicKeyResponse(TypedDict):
    KeyId: str
    PublicKey: bytes
    CustomerMasterKeySpec: NotRequired[str]
    KeySpec: NotRequired[str]
    KeyUsage: NotRequired[str]
    EncryptionAlgorithms: NotRequired[list[str]]
    SigningAlgorithms: NotRequired[list[str]]
    KeyAgreementAlgorithms: NotRequired[list[str]]


class GenerateDataKeyPairResponse(TypedDict):
    """GenerateDataKeyPair (with PrivateKeyPlaintext) and ...WithoutPlaintext (without)."""

    KeyId: str
    PrivateKeyCiphertextBlob: NotRequired[bytes]
    PrivateKeyPlaintext: NotRequired[bytes]
    PublicKey: NotRequired[bytes]
    KeyPairSpec: NotRequired[str]
    KeyMaterialId: NotRequired[str]


class DeriveSharedSecretResponse(TypedDict):
    KeyId: str
    SharedSecret: bytes
    KeyAgreementAlgorithm: str
    KeyOrigin: NotRequired[str]


class GenerateRandomResponse(TypedDict):
    Plaintext: bytes
