"""AWS KMS as the envelope layer's `KeyProvider`: data keys from the real GenerateDataKey.

Owns mapping the data-key calls onto GenerateDataKey, Encrypt and Decrypt of AWS KMS, and which
encrypted data keys it can try, as the ESDK's MRK-aware discovery keyring does: a key ARN of this
region is decrypted here, a multi-Region key's ARN of another region by its related key in this
region, and any other key ARN in its own region (a client for that region). Thread-safe, so that
many files can be worked on at once. Must not know files or messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kmscli.aws.service import AwsKmsService
from kmscli.errors import IncorrectKeyException, InvalidCiphertextException
from kmscli.keyprovider import (
    GeneratedDataKey,
    UnwrappedDataKey,
    WrappedDataKey,
    generated_from,
    unwrapped_from,
    wrapped_from,
)


def _arn_parts(arn: str) -> tuple[str, str, str, str] | None:
    """(partition, region, account, key ID) of a key ARN, or None if `arn` is not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kms":
        return None
    resource = parts[5]
    if not resource.startswith("key/") or not parts[3] or not parts[4]:
        return None
    return parts[1], parts[3], parts[4], resource[len("key/") :]


class AwsKeyProvider:
    def __init__(self, service: AwsKmsService, *, grant_tokens: Sequence[str] = ()) -> None:
        self.service = service
        self.grant_tokens = tuple(grant_tokens)

    def generate_data_key(
        self, key: str, number_of_bytes: int, encryption_context: Mapping[str, str]
    ) -> GeneratedDataKey:
        response = self.service.generate_data_key(
            key,
            number_of_bytes=number_of_bytes,
            encryption_context=encryption_context,
            grant_tokens=self.grant_tokens,
        )
        return generated_from(response)

    def encrypt_data_key(
        self, key: str, plaintext: bytes, encryption_context: Mapping[str, str]
    ) -> WrappedDataKey:
        response = self.service.encrypt(
            key, plaintext, encryption_context, grant_tokens=self.grant_tokens
        )
        return wrapped_from(response)

    def decrypt_data_key(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> UnwrappedDataKey:
        key, region = self._decrypting_key(key_arn)
        try:
            response = self.service.decrypt(
                ciphertext,
                key=key,
                encryption_context=encryption_context,
                grant_tokens=self.grant_tokens,
                region=region,
            )
        except IncorrectKeyException:
            raise InvalidCiphertextException(
                "the message's data key for this key was made under another key"
            ) from None
        return unwrapped_from(response)

    def _decrypting_key(self, key_arn: str) -> tuple[str, str]:
        """The key ARN to call Decrypt with, and the region to call it in."""
        parts = _arn_parts(key_arn)
        assert parts is not None, "only key ARNs reach decrypt_data_key (see can_decrypt)"
        partition, region, account, key_id = parts
        if region != self.service.region and key_id.startswith("mrk-"):
            region = self.service.region
            return f"arn:{partition}:kms:{region}:{account}:key/{key_id}", region
        return key_arn, region

    def can_decrypt(self, key_arn: str) -> bool:
        """Any key ARN: AWS KMS answers, or says why not (AccessDenied, NotFound, ...)."""
        return _arn_parts(key_arn) is not None

    def key_arn(self, key: str) -> str:
        metadata = self.service.describe_key(key, grant_tokens=self.grant_tokens)["KeyMetadata"]
        return str(metadata["Arn"])
