"""AWS KMS as the envelope layer's `KeyProvider`: data keys from the real GenerateDataKey.

Owns, on top of `ServiceKeyProvider` (GenerateDataKey, Encrypt and Decrypt of AWS KMS), which
encrypted data keys it can try and where their Decrypt goes, as the ESDK's MRK-aware discovery
keyring does: a key ARN of this region is decrypted here, a multi-Region key's ARN of another
region by its related key in this region, and any other key ARN in its own region (a client for
that region). Thread-safe, so that many files can be worked on at once. Must not know files or
messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kmscli.aws.service import AwsKmsService
from kmscli.keyprovider import KeyOwner, ServiceKeyProvider


def _arn_parts(arn: str) -> tuple[str, str, str, str] | None:
    """(partition, region, account, key ID) of a key ARN, or None if `arn` is not one."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "kms":
        return None
    resource = parts[5]
    if not resource.startswith("key/") or not parts[3] or not parts[4]:
        return None
    return parts[1], parts[3], parts[4], resource[len("key/") :]


class AwsKeyProvider(ServiceKeyProvider):
    service: AwsKmsService

    def __init__(self, service: AwsKmsService, *, grant_tokens: Sequence[str] = ()) -> None:
        super().__init__(service, grant_tokens=grant_tokens)

    def _decrypt(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> Mapping[str, Any]:
        key, region = self._decrypting_key(key_arn)
        return self.service.decrypt(
            ciphertext,
            key=key,
            encryption_context=encryption_context,
            grant_tokens=self.grant_tokens,
            region=region,
        )

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

    def owner(self) -> KeyOwner:
        return KeyOwner("AWS KMS", None, self.service.region)
