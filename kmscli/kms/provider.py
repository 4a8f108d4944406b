"""The local KMS as the envelope layer's `KeyProvider`.

Owns, on top of `ServiceKeyProvider` (GenerateDataKey, Encrypt and Decrypt of KmsService), which
encrypted data keys this keyring can try, and the ESDK's multi-Region rule that a data key
wrapped by a multi-Region key in one region decrypts with its related key in this one. It adds
nothing else: authorization, states and auditing stay in the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kmscli.keyprovider import KeyOwner, ServiceKeyProvider
from kmscli.kms.service import KmsService


class LocalKeyProvider(ServiceKeyProvider):
    service: KmsService

    def __init__(self, service: KmsService, *, grant_tokens: Sequence[str] = ()) -> None:
        super().__init__(service, grant_tokens=grant_tokens)

    def _decrypt(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> Mapping[str, Any]:
        # A multi-Region key's data key decrypts with its related key in this region.
        local = self.service.local_key_arn(key_arn) or key_arn
        return self.service.decrypt(
            ciphertext,
            key=local,
            encryption_context=encryption_context,
            via_service=True,
            grant_tokens=self.grant_tokens,
        )

    def can_decrypt(self, key_arn: str) -> bool:
        return self.service.has_key(key_arn)

    def owner(self) -> KeyOwner:
        service = self.service
        where = f"the keyring at '{service.keyring.info.home}'"
        return KeyOwner(where, service.account, service.region)
