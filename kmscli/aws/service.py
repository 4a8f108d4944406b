"""The KMS operations of the aws backend: each kmscli call is one AWS KMS API call.

Owns implementing `kmscli.kmsapi.protocol.KmsApi` (declared, and checked by mypy, at the end of this
module), as the local `KmsService` does, plus the grant functions of `kmscli.kms.grants` with the
same arguments, so that every CLI command runs unchanged against AWS: requests are built with AWS's
member names, absent members are left out, responses come back in the shape the local service gives
(no ResponseMetadata, timestamps as ISO 8601 strings), list operations the CLI shows whole are
paginated through, and every failure is a kmscli error.
Signing or verifying a long stream hashes it here and sends the digest, by the same rule as the
local service (`kmscli.kmsapi.streams`). Must not know files, print, or read the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from kmscli.aws.client import ClientFactory
from kmscli.aws.errors import translate
from kmscli.errors import KmsError, ValidationException
from kmscli.kmsapi import MAX_MESSAGE, SYMMETRIC_DEFAULT
from kmscli.kmsapi.streams import Readable, long_message

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
        KeyMetadata,
        KeyMetadataResponse,
        ListAliasesResponse,
        ListKeysResponse,
        ReEncryptResponse,
        SignResponse,
        VerifyMacResponse,
        VerifyResponse,
    )


def normalise(value: Any) -> Any:
    """A botocore response value in the local service's shape (datetimes as ISO strings)."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def _members(**members: Any) -> dict[str, Any]:
    """Request members, without those not given (None, or an empty optional list or map)."""
    return {k: v for k, v in members.items() if v not in (None, (), [], {})}


def _tags(tags: Sequence[tuple[str, str]]) -> list[dict[str, str]] | None:
    return [{"TagKey": k, "TagValue": v} for k, v in tags] or None


class AwsKmsService:
    """AWS KMS in one region, through the standard credential chain. Declares `KmsApi`."""

    def __init__(self, clients: ClientFactory, *, region: str, concurrency: int = 10) -> None:
        self.clients = clients
        self.region = region
        self.concurrency = concurrency

    # -- plumbing -------------------------------------------------------------------------------

    def call(self, operation: str, *, region: str | None = None, **members: Any) -> dict[str, Any]:
        """One API call (`operation` in AWS's spelling), its response in the local shape."""
        client = self.clients.client(region or self.region)  # first: it checks botocore is there
        from botocore import xform_name

        method: Callable[..., dict[str, Any]] = getattr(client, xform_name(operation))
        try:
            response = method(**_members(**members))
        except Exception as failure:
            error = translate(failure)
            if error is None:
                raise
            raise error from None
        result: dict[str, Any] = normalise(response)
        return result

    def _pages(self, operation: str, member: str, **members: Any) -> list[Any]:
        items: list[Any] = []
        marker: str | None = None
        while True:
            page = self.call(operation, Marker=marker, **members)
            items.extend(page.get(member, []))
            marker = page.get("NextMarker")
            if not page.get("Truncated") or not marker:
                return items

    def _spec(self, key: str, grant_tokens: Sequence[str]) -> str:
        metadata = self.describe_key(key, grant_tokens=grant_tokens)["KeyMetadata"]
        return str(metadata.get("KeySpec", SYMMETRIC_DEFAULT))

    # -- keys -----------------------------------------------------------------------------------

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
    ) -> KeyMetadataResponse:
        """CreateKey, then CreateAlias when `alias` is given (two calls: AWS has no one call)."""
        response = cast(
            "KeyMetadataResponse",
            self.call(
                "CreateKey",
                Description=description or None,
                KeySpec=key_spec,
                KeyUsage=key_usage,
                Origin=origin,
                MultiRegion=multi_region or None,
                Policy=policy,
                Tags=_tags(tags),
                BypassPolicyLockoutSafetyCheck=bypass_policy_lockout_safety_check or None,
            ),
        )
        if alias is not None:
            key_id = response["KeyMetadata"]["KeyId"]
            try:
                self.create_alias(alias, key_id)
            except KmsError as error:
                error.hints = (
                    *error.hints,
                    f"the key {key_id} was created without the alias: name it with "
                    f"'kmscli alias create {alias} {key_id}' or schedule its deletion",
                )
                raise
        return response

    def describe_key(self, key: str, *, grant_tokens: Sequence[str] = ()) -> KeyMetadataResponse:
        return cast(
            "KeyMetadataResponse",
            self.call("DescribeKey", KeyId=key, GrantTokens=list(grant_tokens)),
        )

    def list_keys(self) -> ListKeysResponse:
        return {"Keys": self._pages("ListKeys", "Keys"), "Truncated": False}

    def list_key_metadata(self) -> list[KeyMetadata]:
        """DescribeKey of every key of the region, `concurrency` calls at a time."""
        ids = [entry["KeyId"] for entry in self.list_keys()["Keys"]]
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(ids) or 1))) as pool:
            return [r["KeyMetadata"] for r in pool.map(self.describe_key, ids)]

    def enable_key(self, key: str) -> dict[str, Any]:
        return self.call("EnableKey", KeyId=key)

    def disable_key(self, key: str) -> dict[str, Any]:
        return self.call("DisableKey", KeyId=key)

    def update_key_description(self, key: str, description: str) -> dict[str, Any]:
        return self.call("UpdateKeyDescription", KeyId=key, Description=description)

    # -- key policies ---------------------------------------------------------------------------

    def get_key_policy(self, key: str, policy_name: str = "default") -> dict[str, Any]:
        return self.call("GetKeyPolicy", KeyId=key, PolicyName=policy_name)

    def put_key_policy(
        self,
        key: str,
        policy: str,
        policy_name: str = "default",
        *,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> dict[str, Any]:
        return self.call(
            "PutKeyPolicy",
            KeyId=key,
            Policy=policy,
            PolicyName=policy_name,
            BypassPolicyLockoutSafetyCheck=bypass_policy_lockout_safety_check or None,
        )

    def list_key_policies(self, key: str) -> dict[str, Any]:
        names = self._pages("ListKeyPolicies", "PolicyNames", KeyId=key)
        return {"PolicyNames": names, "Truncated": False}

    # -- aliases --------------------------------------------------------------------------------

    def create_alias(self, alias: str, target_key: str) -> dict[str, Any]:
        return self.call("CreateAlias", AliasName=alias, TargetKeyId=target_key)

    def update_alias(self, alias: str, target_key: str) -> dict[str, Any]:
        return self.call("UpdateAlias", AliasName=alias, TargetKeyId=target_key)

    def delete_alias(self, alias: str) -> dict[str, Any]:
        return self.call("DeleteAlias", AliasName=alias)

    def list_aliases(self, key: str | None = None) -> ListAliasesResponse:
        return {"Aliases": self._pages("ListAliases", "Aliases", KeyId=key), "Truncated": False}

    # -- cryptographic operations ---------------------------------------------------------------

    def encrypt(
        self,
        key: str,
        plaintext: bytes,
        encryption_context: Mapping[str, str] | None = None,
        *,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
        encryption_algorithm: str | None = None,
    ) -> EncryptResponse:
        """Encrypt. `via_service` is the local KMS's kms:ViaService; AWS sets that itself."""
        return cast(
            "EncryptResponse",
            self.call(
                "Encrypt",
                KeyId=key,
                Plaintext=plaintext,
                EncryptionContext=dict(encryption_context or {}),
                GrantTokens=list(grant_tokens),
                EncryptionAlgorithm=encryption_algorithm,
            ),
        )

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
    ) -> GenerateDataKeyResponse:
        if key_spec is None and number_of_bytes is None:
            key_spec = "AES_256"
        return cast(
            "GenerateDataKeyResponse",
            self.call(
                "GenerateDataKey" if with_plaintext else "GenerateDataKeyWithoutPlaintext",
                KeyId=key,
                KeySpec=key_spec,
                NumberOfBytes=number_of_bytes,
                EncryptionContext=dict(encryption_context or {}),
                GrantTokens=list(grant_tokens),
            ),
        )

    def decrypt(
        self,
        ciphertext_blob: bytes,
        *,
        key: str | None = None,
        encryption_context: Mapping[str, str] | None = None,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
        encryption_algorithm: str | None = None,
        region: str | None = None,
    ) -> DecryptResponse:
        return cast(
            "DecryptResponse",
            self.call(
                "Decrypt",
                region=region,
                CiphertextBlob=ciphertext_blob,
                KeyId=key,
                EncryptionContext=dict(encryption_context or {}),
                GrantTokens=list(grant_tokens),
                EncryptionAlgorithm=encryption_algorithm,
            ),
        )

    def re_encrypt(
        self,
        ciphertext_blob: bytes,
        destination_key: str,
        *,
        source_encryption_context: Mapping[str, str] | None = None,
        destination_encryption_context: Mapping[str, str] | None = None,
        source_key: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> ReEncryptResponse:
        return cast(
            "ReEncryptResponse",
            self.call(
                "ReEncrypt",
                CiphertextBlob=ciphertext_blob,
                DestinationKeyId=destination_key,
                SourceEncryptionContext=dict(source_encryption_context or {}),
                DestinationEncryptionContext=dict(destination_encryption_context or {}),
                SourceKeyId=source_key,
                GrantTokens=list(grant_tokens),
            ),
        )

    def generate_random(self, number_of_bytes: int | None) -> GenerateRandomResponse:
        return cast(
            "GenerateRandomResponse", self.call("GenerateRandom", NumberOfBytes=number_of_bytes)
        )

    # -- asymmetric and HMAC keys ---------------------------------------------------------------

    def get_public_key(self, key: str, *, grant_tokens: Sequence[str] = ()) -> GetPublicKeyResponse:
        return cast(
            "GetPublicKeyResponse",
            self.call("GetPublicKey", KeyId=key, GrantTokens=list(grant_tokens)),
        )

    def _signing_algorithm(self, key: str, given: str | None, grant_tokens: Sequence[str]) -> str:
        """The request's algorithm, or the key spec's first (a kmscli default: AWS needs one)."""
        if given is not None:
            return given
        from kmscli.crypto.keyspecs import KEY_SPECS

        spec = KEY_SPECS.get(self._spec(key, grant_tokens))
        if spec is None or not spec.signing_algorithms:
            raise ValidationException("give --algorithm: this key has no signing algorithm")
        return spec.signing_algorithms[0]

    def sign(
        self,
        key: str,
        message: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str = "RAW",
        grant_tokens: Sequence[str] = (),
    ) -> SignResponse:
        return cast(
            "SignResponse",
            self.call(
                "Sign",
                KeyId=key,
                Message=message,
                MessageType=message_type,
                GrantTokens=list(grant_tokens),
                SigningAlgorithm=self._signing_algorithm(key, signing_algorithm, grant_tokens),
            ),
        )

    def verify(
        self,
        key: str,
        message: bytes,
        signature: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str = "RAW",
        grant_tokens: Sequence[str] = (),
    ) -> VerifyResponse:
        return cast(
            "VerifyResponse",
            self.call(
                "Verify",
                KeyId=key,
                Message=message,
                Signature=signature,
                MessageType=message_type,
                GrantTokens=list(grant_tokens),
                SigningAlgorithm=self._signing_algorithm(key, signing_algorithm, grant_tokens),
            ),
        )

    def _stream_message(
        self,
        key: str,
        stream: Readable,
        signing_algorithm: str | None,
        message_type: str | None,
        grant_tokens: Sequence[str],
    ) -> tuple[bytes, str, str]:
        """(message, algorithm, MessageType) for a stream: as it is up to 4096 bytes, else its
        digest (ML-DSA: its external μ), computed here as the local service does."""
        head = stream.read(MAX_MESSAGE + 1)
        algorithm = self._signing_algorithm(key, signing_algorithm, grant_tokens)
        if message_type is not None or len(head) <= MAX_MESSAGE:
            return head, algorithm, message_type or "RAW"
        message, kind = long_message(
            self._spec(key, grant_tokens),
            algorithm,
            head,
            stream,
            lambda: bytes(self.get_public_key(key, grant_tokens=grant_tokens)["PublicKey"]),
        )
        return message, algorithm, kind

    def sign_stream(
        self,
        key: str,
        stream: Any,
        *,
        signing_algorithm: str | None = None,
        message_type: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> SignResponse:
        message, algorithm, kind = self._stream_message(
            key, stream, signing_algorithm, message_type, grant_tokens
        )
        return self.sign(
            key, message, signing_algorithm=algorithm, message_type=kind, grant_tokens=grant_tokens
        )

    def verify_stream(
        self,
        key: str,
        stream: Any,
        signature: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> VerifyResponse:
        message, algorithm, kind = self._stream_message(
            key, stream, signing_algorithm, message_type, grant_tokens
        )
        return self.verify(
            key,
            message,
            signature,
            signing_algorithm=algorithm,
            message_type=kind,
            grant_tokens=grant_tokens,
        )

    def _mac_algorithm(self, key: str, given: str | None, grant_tokens: Sequence[str]) -> str:
        if given is not None:
            return given
        from kmscli.crypto.keyspecs import KEY_SPECS

        spec = KEY_SPECS.get(self._spec(key, grant_tokens))
        if spec is None or not spec.mac_algorithms:
            raise ValidationException("give --algorithm: this key has no MAC algorithm")
        return spec.mac_algorithms[0]

    def generate_mac(
        self,
        key: str,
        message: bytes,
        *,
        mac_algorithm: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateMacResponse:
        return cast(
            "GenerateMacResponse",
            self.call(
                "GenerateMac",
                KeyId=key,
                Message=message,
                MacAlgorithm=self._mac_algorithm(key, mac_algorithm, grant_tokens),
                GrantTokens=list(grant_tokens),
            ),
        )

    def verify_mac(
        self,
        key: str,
        message: bytes,
        mac: bytes,
        *,
        mac_algorithm: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> VerifyMacResponse:
        return cast(
            "VerifyMacResponse",
            self.call(
                "VerifyMac",
                KeyId=key,
                Message=message,
                Mac=mac,
                MacAlgorithm=self._mac_algorithm(key, mac_algorithm, grant_tokens),
                GrantTokens=list(grant_tokens),
            ),
        )

    def derive_shared_secret(
        self,
        key: str,
        public_key: bytes,
        *,
        key_agreement_algorithm: str = "ECDH",
        grant_tokens: Sequence[str] = (),
    ) -> DeriveSharedSecretResponse:
        return cast(
            "DeriveSharedSecretResponse",
            self.call(
                "DeriveSharedSecret",
                KeyId=key,
                KeyAgreementAlgorithm=key_agreement_algorithm,
                PublicKey=public_key,
                GrantTokens=list(grant_tokens),
            ),
        )

    def generate_data_key_pair(
        self,
        key: str,
        key_pair_spec: str,
        *,
        encryption_context: Mapping[str, str] | None = None,
        with_plaintext: bool = True,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateDataKeyPairResponse:
        return cast(
            "GenerateDataKeyPairResponse",
            self.call(
                "GenerateDataKeyPair" if with_plaintext else "GenerateDataKeyPairWithoutPlaintext",
                KeyId=key,
                KeyPairSpec=key_pair_spec,
                EncryptionContext=dict(encryption_context or {}),
                GrantTokens=list(grant_tokens),
            ),
        )

    # -- rotation -------------------------------------------------------------------------------

    def enable_key_rotation(
        self, key: str, rotation_period_in_days: int | None = None
    ) -> dict[str, Any]:
        return self.call(
            "EnableKeyRotation", KeyId=key, RotationPeriodInDays=rotation_period_in_days
        )

    def disable_key_rotation(self, key: str) -> dict[str, Any]:
        return self.call("DisableKeyRotation", KeyId=key)

    def get_key_rotation_status(self, key: str) -> dict[str, Any]:
        return self.call("GetKeyRotationStatus", KeyId=key)

    def list_key_rotations(
        self,
        key: str,
        *,
        include_key_material: str = "ROTATIONS_ONLY",
        limit: int | None = None,
        marker: str | None = None,
    ) -> dict[str, Any]:
        return self.call(
            "ListKeyRotations",
            KeyId=key,
            IncludeKeyMaterial=include_key_material,
            Limit=limit,
            Marker=marker,
        )

    def rotate_key_on_demand(self, key: str) -> dict[str, Any]:
        return self.call("RotateKeyOnDemand", KeyId=key)

    # -- deletion, tags, multi-Region -----------------------------------------------------------

    def schedule_key_deletion(
        self, key: str, pending_window_in_days: int | None = None
    ) -> dict[str, Any]:
        return self.call(
            "ScheduleKeyDeletion", KeyId=key, PendingWindowInDays=pending_window_in_days
        )

    def cancel_key_deletion(self, key: str) -> dict[str, Any]:
        return self.call("CancelKeyDeletion", KeyId=key)

    def tag_resource(self, key: str, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
        return self.call("TagResource", KeyId=key, Tags=_tags(tags) or [])

    def untag_resource(self, key: str, tag_keys: Sequence[str]) -> dict[str, Any]:
        return self.call("UntagResource", KeyId=key, TagKeys=list(tag_keys))

    def list_resource_tags(
        self, key: str, *, limit: int | None = None, marker: str | None = None
    ) -> dict[str, Any]:
        return self.call("ListResourceTags", KeyId=key, Limit=limit, Marker=marker)

    def replicate_key(
        self,
        key: str,
        replica_region: str,
        *,
        policy: str | None = None,
        bypass_policy_lockout_safety_check: bool = False,
        description: str = "",
        tags: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        return self.call(
            "ReplicateKey",
            KeyId=key,
            ReplicaRegion=replica_region,
            Policy=policy,
            BypassPolicyLockoutSafetyCheck=bypass_policy_lockout_safety_check or None,
            Description=description or None,
            Tags=_tags(tags),
        )

    def update_primary_region(self, key: str, primary_region: str) -> dict[str, Any]:
        return self.call("UpdatePrimaryRegion", KeyId=key, PrimaryRegion=primary_region)

    # -- imported key material ------------------------------------------------------------------

    def get_parameters_for_import(
        self, key: str, wrapping_algorithm: str, wrapping_key_spec: str
    ) -> dict[str, Any]:
        return self.call(
            "GetParametersForImport",
            KeyId=key,
            WrappingAlgorithm=wrapping_algorithm,
            WrappingKeySpec=wrapping_key_spec,
        )

    def import_key_material(
        self,
        key: str,
        import_token: bytes,
        encrypted_key_material: bytes,
        *,
        expiration_model: str | None = None,
        valid_to: datetime | None = None,
    ) -> dict[str, Any]:
        return self.call(
            "ImportKeyMaterial",
            KeyId=key,
            ImportToken=import_token,
            EncryptedKeyMaterial=encrypted_key_material,
            ExpirationModel=expiration_model,
            ValidTo=valid_to,
        )

    def delete_imported_key_material(
        self, key: str, key_material_id: str | None = None
    ) -> dict[str, Any]:
        return self.call("DeleteImportedKeyMaterial", KeyId=key, KeyMaterialId=key_material_id)

    # -- grants (the local KMS has these as kmscli.kms.grants functions) ------------------------

    def create_grant(
        self,
        key: str,
        grantee_principal: str,
        operations: Sequence[str],
        *,
        retiring_principal: str | None = None,
        constraints_equals: Mapping[str, str] | None = None,
        constraints_subset: Mapping[str, str] | None = None,
        name: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> dict[str, Any]:
        constraints = _members(
            EncryptionContextEquals=dict(constraints_equals or {}),
            EncryptionContextSubset=dict(constraints_subset or {}),
        )
        return self.call(
            "CreateGrant",
            KeyId=key,
            GranteePrincipal=grantee_principal,
            Operations=list(operations),
            RetiringPrincipal=retiring_principal,
            Constraints=constraints,
            Name=name,
            GrantTokens=list(grant_tokens),
        )

    def list_grants(
        self,
        key: str,
        *,
        grant_id: str | None = None,
        grantee_principal: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> dict[str, Any]:
        return self.call(
            "ListGrants",
            KeyId=key,
            GrantId=grant_id,
            GranteePrincipal=grantee_principal,
            Limit=limit,
            Marker=marker,
        )

    def list_retirable_grants(
        self, retiring_principal: str, *, limit: int | None = None, marker: str | None = None
    ) -> dict[str, Any]:
        return self.call(
            "ListRetirableGrants",
            RetiringPrincipal=retiring_principal,
            Limit=limit,
            Marker=marker,
        )

    def retire_grant(
        self, *, grant_token: str | None = None, key: str | None = None, grant_id: str | None = None
    ) -> dict[str, Any]:
        return self.call("RetireGrant", GrantToken=grant_token, KeyId=key, GrantId=grant_id)

    def revoke_grant(self, key: str, grant_id: str) -> dict[str, Any]:
        return self.call("RevokeGrant", KeyId=key, GrantId=grant_id)


if TYPE_CHECKING:
    from kmscli.kmsapi.protocol import KmsApi

    def _speaks_the_kms_api(service: AwsKmsService) -> KmsApi:
        """AwsKmsService declares the KMS API: mypy names any method that drifts from it. Costs
        nothing at run time (the protocol is never imported)."""
        return service
