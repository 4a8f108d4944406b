"""The local KMS as the envelope layer's `KeyProvider`.

Owns the mapping of the data-key calls onto KmsService operations (GenerateDataKey, Encrypt,
Decrypt), including the ESDK's multi-Region rule that a data key wrapped by a multi-Region key
in one region decrypts with its related key in this one. It adds nothing else: authorization,
states and auditing stay in the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kmscli.errors import IncorrectKeyException, InvalidCiphertextException
from kmscli.keyprovider import (
    GeneratedDataKey,
    UnwrappedDataKey,
    WrappedDataKey,
    generated_from,
    unwrapped_from,
    wrapped_from,
)
from kmscli.kms.service import KmsService


class LocalKeyProvider:
    def __init__(self, service: KmsService, *, grant_tokens: Sequence[str] = ()) -> None:
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
        return generated_from(response)

    def encrypt_data_key(
        self, key: str, plaintext: bytes, encryption_context: Mapping[str, str]
    ) -> WrappedDataKey:
        response = self.service.encrypt(
            key, plaintext, encryption_context, via_service=True, grant_tokens=self.grant_tokens
        )
        return wrapped_from(response)

    def decrypt_data_key(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> UnwrappedDataKey:
        # A multi-Region key's data key decrypts with its related key in this region.
        local = self.service.local_key_arn(key_arn) or key_arn
        try:
            response = self.service.decrypt(
                ciphertext,
                key=local,
                encryption_context=encryption_context,
                via_service=True,
                grant_tokens=self.grant_tokens,
            )
        except IncorrectKeyException:
            # The header names one key but the blob another: the message was tampered with.
            raise InvalidCiphertextException(
                "the message's data key for this key was made under another key"
            ) from None
        return unwrapped_from(response)

    def can_decrypt(self, key_arn: str) -> bool:
        return self.service.has_key(key_arn)

    def key_arn(self, key: str) -> str:
        metadata = self.service.describe_key(key, grant_tokens=self.grant_tokens)["KeyMetadata"]
        return str(metadata["Arn"])
