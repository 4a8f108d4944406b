"""The key-provider interface between the envelope layer and a KMS backend.

Owns the data-key types and the `KeyProvider` protocol: the local KMS implements it today, an
AWS KMS backend can implement it later without the envelope or message code changing. Nothing
here imports a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WrappedDataKey:
    key_arn: str
    ciphertext: bytes
    material_id: str | None


@dataclass(frozen=True)
class GeneratedDataKey(WrappedDataKey):
    plaintext: bytes


@dataclass(frozen=True)
class UnwrappedDataKey:
    key_arn: str
    plaintext: bytes
    material_id: str | None


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
