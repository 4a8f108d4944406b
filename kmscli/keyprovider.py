"""The key-provider interface between the envelope layer and a KMS backend.

Owns the data-key types, the `KeyProvider` protocol and `ServiceKeyProvider`, its
implementation over a KMS service: the local KMS (kmscli.kms.provider) and AWS KMS
(kmscli.aws.provider) build on it, so the envelope and message code never know which answers.
Nothing here imports a backend. The types are plain slotted classes (a dataclass costs about
1 ms of start-up each) whose repr never shows a plaintext data key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

from kmscli.errors import IncorrectKeyException, InvalidCiphertextException


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


class KeyOwner:
    """Where a provider's keys are, for an error naming what a message needs: `where` for
    people ("the keyring at '/x'"), its account (None: not known) and the region it uses."""

    __slots__ = ("account", "region", "where")

    def __init__(self, where: str, account: str | None, region: str) -> None:
        self.where: Final = where
        self.account: Final = account
        self.region: Final = region


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

    def owner(self) -> KeyOwner:
        """Whose keys `can_decrypt` answers for."""
        ...


class DataKeyService(Protocol):
    """The KMS operations a provider calls, as both backends' services take them."""

    def generate_data_key(
        self,
        key: str,
        *,
        number_of_bytes: int | None = None,
        encryption_context: Mapping[str, str] | None = None,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
    ) -> Mapping[str, Any]: ...

    def encrypt(
        self,
        key: str,
        plaintext: bytes,
        encryption_context: Mapping[str, str] | None = None,
        *,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
    ) -> Mapping[str, Any]: ...

    def describe_key(self, key: str, *, grant_tokens: Sequence[str] = ()) -> Mapping[str, Any]: ...


class ServiceKeyProvider:
    """A `KeyProvider` over a KMS service (local or AWS): GenerateDataKey, Encrypt and Decrypt
    on the caller's behalf (`via_service`, as an integrated AWS service calls KMS). Subclasses
    say which encrypted data keys they can try and where their Decrypt goes (`_decrypt`)."""

    def __init__(self, service: DataKeyService, *, grant_tokens: Sequence[str] = ()) -> None:
        self.service = service
        self.grant_tokens = tuple(grant_tokens)

    def generate_data_key(
        self, key: str, number_of_bytes: int, encryption_context: Mapping[str, str]
    ) -> GeneratedDataKey:
        response = self.service.generate_data_key(
            key,
            number_of_bytes=number_of_bytes,
            encryption_context=encryption_context,
            via_service=True,
            grant_tokens=self.grant_tokens,
        )
        return GeneratedDataKey(
            response["KeyId"],
            response["CiphertextBlob"],
            response.get("KeyMaterialId"),
            response["Plaintext"],
        )

    def encrypt_data_key(
        self, key: str, plaintext: bytes, encryption_context: Mapping[str, str]
    ) -> WrappedDataKey:
        response = self.service.encrypt(
            key, plaintext, encryption_context, via_service=True, grant_tokens=self.grant_tokens
        )
        return WrappedDataKey(response["KeyId"], response["CiphertextBlob"], None)

    def decrypt_data_key(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> UnwrappedDataKey:
        try:
            response = self._decrypt(key_arn, ciphertext, encryption_context)
        except IncorrectKeyException:
            # The header names one key but the blob another: the message was tampered with.
            raise InvalidCiphertextException(
                "the message's data key for this key was made under another key"
            ) from None
        return UnwrappedDataKey(
            response["KeyId"], response["Plaintext"], response.get("KeyMaterialId")
        )

    def _decrypt(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> Mapping[str, Any]:
        """The Decrypt response for the data key `key_arn` wrapped."""
        raise NotImplementedError

    def key_arn(self, key: str) -> str:
        metadata = self.service.describe_key(key, grant_tokens=self.grant_tokens)["KeyMetadata"]
        return str(metadata["Arn"])
