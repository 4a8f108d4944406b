"""The KMS API as one interface: every operation both backends offer, with its exact signature.

Owns `KmsApi`, which `kmscli.kms.service.KmsService` (the keyring) and
`kmscli.aws.service.AwsKmsService` (AWS KMS) both declare; mypy checks each against it, so a method
that drifts (a renamed keyword, a missing default, another return type) fails the type check.
Responses are the TypedDicts of `shapes` where one is declared, else `dict[str, Any]`. The CLI types
`env.service` as `KmsApi`; the key providers need only the few operations of
`kmscli.keyprovider.DataKeyService`. Imported only under `TYPE_CHECKING`: nothing here runs. Must
not hold behaviour (that is `kmscli.kmsapi` and `streams`). A backend may add keyword arguments with
defaults (the aws backend's `decrypt` takes the Region to call), never drop or rename one.

Grants are not here: the local backend offers them as functions of `kmscli.kms.grants`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from kmscli.kmsapi import SYMMETRIC_DEFAULT
from kmscli.kmsapi.streams import Readable

if TYPE_CHECKING:
    from kmscli.kmsapi.shapes import (
        DecryptResponse,
        DeriveSharedSecretResponse,
        EncryptResponse,
        GenerateDataKeyPairResponse,
        GenerateDataKeyResponse,
        GenerateMacResponse,
        GenerateRandomResponse,
        GetPublicKeyResponse,
        KeyMetadataResponse,
        ListAliasesResponse,
        ListKeysResponse,
        ReEncryptResponse,
        SignResponse,
        VerifyMacResponse,
        VerifyResponse,
    )


class KmsApi(Protocol):
    """One method per KMS operation; responses in AWS's shapes (binary members as bytes)."""

    def create_key(
        self,
        *,
        description: str = "",
        key_spec: str = SYMMETRIC_DEFAULT,
        key_usage: str | None = None,
        origin: str = "AWS_KMS",
        multi_region: bool = False,
        policy: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        alias: str | None = None,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> KeyMetadataResponse: ...

    def describe_key(
        self, key: str, *, grant_tokens: Sequence[str] = ()
    ) -> KeyMetadataResponse: ...

    def list_keys(self) -> ListKeysResponse: ...

    def enable_key(self, key: str) -> dict[str, Any]: ...

    def disable_key(self, key: str) -> dict[str, Any]: ...

    def update_key_description(self, key: str, description: str) -> dict[str, Any]: ...

    def get_key_policy(self, key: str, policy_name: str = "default") -> dict[str, Any]: ...

    def put_key_policy(
        self,
        key: str,
        policy: str,
        policy_name: str = "default",
        *,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> dict[str, Any]: ...

    def list_key_policies(self, key: str) -> dict[str, Any]: ...

    def create_alias(self, alias: str, target_key: str) -> dict[str, Any]: ...

    def update_alias(self, alias: str, target_key: str) -> dict[str, Any]: ...

    def delete_alias(self, alias: str) -> dict[str, Any]: ...

    def list_aliases(self, key: str | None = None) -> ListAliasesResponse: ...

    def encrypt(
        self,
        key: str,
        plaintext: bytes,
        encryption_context: Mapping[str, str] | None = None,
        *,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
        encryption_algorithm: str | None = None,
    ) -> EncryptResponse: ...

    def generate_data_key(
        self,
        key: str,
        *,
        key_spec: str | None = None,
        number_of_bytes: int | None = None,
        encryption_context: Mapping[str, str] | None = None,
        with_plaintext: bool = True,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateDataKeyResponse: ...

    def decrypt(
        self,
        ciphertext_blob: bytes,
        *,
        key: str | None = None,
        encryption_context: Mapping[str, str] | None = None,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
        encryption_algorithm: str | None = None,
    ) -> DecryptResponse: ...

    def get_public_key(
        self, key: str, *, grant_tokens: Sequence[str] = ()
    ) -> GetPublicKeyResponse: ...

    def sign(
        self,
        key: str,
        message: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str = "RAW",
        grant_tokens: Sequence[str] = (),
    ) -> SignResponse: ...

    def verify(
        self,
        key: str,
        message: bytes,
        signature: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str = "RAW",
        grant_tokens: Sequence[str] = (),
    ) -> VerifyResponse: ...

    def sign_stream(
        self,
        key: str,
        stream: Readable,
        *,
        signing_algorithm: str | None = None,
        message_type: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> SignResponse: ...

    def verify_stream(
        self,
        key: str,
        stream: Readable,
        signature: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> VerifyResponse: ...

    def generate_mac(
        self,
        key: str,
        message: bytes,
        *,
        mac_algorithm: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateMacResponse: ...

    def verify_mac(
        self,
        key: str,
        message: bytes,
        mac: bytes,
        *,
        mac_algorithm: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> VerifyMacResponse: ...

    def derive_shared_secret(
        self,
        key: str,
        public_key: bytes,
        *,
        key_agreement_algorithm: str = "ECDH",
        grant_tokens: Sequence[str] = (),
    ) -> DeriveSharedSecretResponse: ...

    def generate_data_key_pair(
        self,
        key: str,
        key_pair_spec: str,
        *,
        encryption_context: Mapping[str, str] | None = None,
        with_plaintext: bool = True,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateDataKeyPairResponse: ...

    def generate_random(self, number_of_bytes: int | None) -> GenerateRandomResponse: ...

    def enable_key_rotation(
        self, key: str, rotation_period_in_days: int | None = None
    ) -> dict[str, Any]: ...

    def disable_key_rotation(self, key: str) -> dict[str, Any]: ...

    def get_key_rotation_status(self, key: str) -> dict[str, Any]: ...

    def list_key_rotations(
        self,
        key: str,
        *,
        include_key_material: str = "ROTATIONS_ONLY",
        limit: int | None = None,
        marker: str | None = None,
    ) -> dict[str, Any]: ...

    def rotate_key_on_demand(self, key: str) -> dict[str, Any]: ...

    def schedule_key_deletion(
        self, key: str, pending_window_in_days: int | None = None
    ) -> dict[str, Any]: ...

    def cancel_key_deletion(self, key: str) -> dict[str, Any]: ...

    def tag_resource(self, key: str, tags: Sequence[tuple[str, str]]) -> dict[str, Any]: ...

    def untag_resource(self, key: str, tag_keys: Sequence[str]) -> dict[str, Any]: ...

    def list_resource_tags(
        self, key: str, *, limit: int | None = None, marker: str | None = None
    ) -> dict[str, Any]: ...

    def replicate_key(
        self,
        key: str,
        replica_region: str,
        *,
        policy: str | None = None,
        bypass_policy_lockout_safety_check: bool = False,
        description: str = "",
        tags: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]: ...

    def update_primary_region(self, key: str, primary_region: str) -> dict[str, Any]: ...

    def get_parameters_for_import(
        self, key: str, wrapping_algorithm: str, wrapping_key_spec: str
    ) -> dict[str, Any]: ...

    def import_key_material(
        self,
        key: str,
        import_token: bytes,
        encrypted_key_material: bytes,
        *,
        expiration_model: str | None = None,
        valid_to: datetime | None = None,
    ) -> dict[str, Any]: ...

    def delete_imported_key_material(
        self, key: str, key_material_id: str | None = None
    ) -> dict[str, Any]: ...

    def re_encrypt(
        self,
        ciphertext_blob: bytes,
        destination_key: str,
        *,
        source_encryption_context: Mapping[str, str] | None = None,
        destination_encryption_context: Mapping[str, str] | None = None,
        source_key: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> ReEncryptResponse: ...
