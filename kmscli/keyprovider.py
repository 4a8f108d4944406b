"""The key-provider interface between the envelope layer and a KMS backend.

Owns the data-key types and the `KeyProvider` protocol: the local KMS (kmscli.kms.provider) and
AWS KMS (kmscli.aws.provider) implement it, so the envelope and message code never know which
answers. Nothing here imports a backend. The types are plain slotted classes (a dataclass costs
about 1 ms of start-up each) whose repr never shows a plaintext data key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol


class WrappedDataKey:
    """A data key wrapped by one KMS key: what a message stores as an encrypted data key."""

    __slots__ = ("ciphertext", "key_arn", "material_id")

    def __init__(self, key_arn: str, ciphertext: bytes, material_id: str | None) -> None:
        self.key_arn: Final = key_arn
        self.ciphertext: Final = ciphertext
        self.material_id: Final = material_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_arn={self.key_arn!r}, material_id={self.material_id!r})"


class GeneratedDataKey(WrappedDataKey):
    """GenerateDataKey's answer: the wrapped data key and its plaintext (never in the repr)."""

    __slots__ = ("plaintext",)

    def __init__(
        self, key_arn: str, ciphertext: bytes, material_id: str | None, plaintext: bytes
    ) -> None:
        super().__init__(key_arn, ciphertext, material_id)
        self.plaintext: Final = plaintext


class UnwrappedDataKey:
    """Decrypt's answer: the plaintext data key (never in the repr) and what unwrapped it."""

    __slots__ = ("key_arn", "material_id", "plaintext")

    def __init__(self, key_arn: str, plaintext: bytes, material_id: str | None) -> None:
        self.key_arn: Final = key_arn
        self.plaintext: Final = plaintext
        self.material_id: Final = material_id

    def __repr__(self) -> str:
        return f"UnwrappedDataKey(key_arn={self.key_arn!r}, material_id={self.material_id!r})"


def generated_from(response: Mapping[str, Any]) -> GeneratedDataKey:
    """A GenerateDataKey response (AWS's member names, from either backend) as a data key."""
    return GeneratedDataKey(
        response["KeyId"],
        response["CiphertextBlob"],
        response.get("KeyMaterialId"),
        response["Plaintext"],
    )


def wrapped_from(response: Mapping[str, Any]) -> WrappedDataKey:
    """An Encrypt response (of a data key) as a wrapped data key."""
    return WrappedDataKey(response["KeyId"], response["CiphertextBlob"], None)


def unwrapped_from(response: Mapping[str, Any]) -> UnwrappedDataKey:
    """A Decrypt response (of a data key) as the data key and what unwrapped it."""
    return UnwrappedDataKey(response["KeyId"], response["Plaintext"], response.get("KeyMaterialId"))


class KeyProvider(Protocol):
    """What the envelope layer needs from a KMS: the data-key half of its API."""

    def generate_data_key(
        self, key: str, number_of_bytes: int, encryption_context: Mapping[str, str]
    ) -> GeneratedDataKey: ...

    def encrypt_data_key(
        self, key: str, plaintext: bytes, encryption_context: Mapping[str, str]
    ) -> WrappedDataKey: ...

    def decrypt_data_key(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> UnwrappedDataKey: ...

    def can_decrypt(self, key_arn: str) -> bool:
        """Whether `key_arn` names a key this provider holds (in its current region)."""
        ...

    def key_arn(self, key: str) -> str:
        """The key ARN a KEY argument (ID, ARN, alias, alias ARN) resolves to."""
        ...
