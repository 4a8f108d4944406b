"""The one table from `TrentService.<Operation>` to the local KMS call that performs it.

Owns: for every KMS operation kmscli implements, reading its request members (by AWS's names)
and calling the KmsService method (or the operation module function, for grants) with them;
refusing, as UnsupportedOperationException, request members that would change the meaning of
a call kmscli cannot honour (custom key stores, Nitro enclave recipients, dry runs).

Must not: authorize (the service does), encode responses (`protocol` does), or know HTTP.
A test enumerates KmsService's public methods: a new operation must be added here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kmscli.errors import UnsupportedOperationException
from kmscli.kmsapi import SYMMETRIC_DEFAULT
from kmscli.server.protocol import Members, serialization_error

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

Call = Callable[["KmsService", Members], Mapping[str, Any]]


@dataclass(frozen=True)
class Operation:
    name: str
    """The AWS operation name (`X` of `TrentService.X`)."""
    implementation: str
    """What performs it: a KmsService method name, or `module.function` of kmscli.kms."""
    call: Call


def _unsupported(m: Members, *names: str) -> None:
    for name in names:
        if m.has(name) and m.document.get(name) not in (False, []):
            raise UnsupportedOperationException(f"kmscli does not support the {name} member")


def _symmetric_only(m: Members, name: str = "EncryptionAlgorithm") -> None:
    algorithm = m.string(name)
    if algorithm not in (None, SYMMETRIC_DEFAULT):
        raise UnsupportedOperationException(
            f"kmscli keys are symmetric: {name} {algorithm} is not supported"
        )


def _key(m: Members) -> str:
    return m.required_string("KeyId")


# -- keys ---------------------------------------------------------------------------------------


def create_key(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "CustomKeyStoreId", "XksKeyId")
    return s.create_key(
        description=m.string("Description") or "",
        key_spec=m.string("KeySpec") or m.string("CustomerMasterKeySpec") or SYMMETRIC_DEFAULT,
        key_usage=m.string("KeyUsage"),
        origin=m.string("Origin") or "AWS_KMS",
        multi_region=m.boolean("MultiRegion"),
        policy=m.string("Policy"),
        tags=m.tags(),
        bypass_policy_lockout_safety_check=m.boolean("BypassPolicyLockoutSafetyCheck"),
    )


def describe_key(s: KmsService, m: Members) -> Mapping[str, Any]:
    return s.describe_key(_key(m), grant_tokens=m.strings("GrantTokens"))


def list_keys(s: KmsService, m: Members) -> Mapping[str, Any]:
    m.integer("Limit")  # type-checked; kmscli answers every key in one page (Truncated false)
    return s.list_keys()


def enable_key(s: KmsService, m: Members) -> dict[str, Any]:
    return s.enable_key(_key(m))


def disable_key(s: KmsService, m: Members) -> dict[str, Any]:
    return s.disable_key(_key(m))


def update_key_description(s: KmsService, m: Members) -> dict[str, Any]:
    return s.update_key_description(_key(m), m.required_string("Description"))


# -- key policies -------------------------------------------------------------------------------


def get_key_policy(s: KmsService, m: Members) -> dict[str, Any]:
    return s.get_key_policy(_key(m), m.string("PolicyName") or "default")


def put_key_policy(s: KmsService, m: Members) -> dict[str, Any]:
    return s.put_key_policy(
        _key(m),
        m.required_string("Policy"),
        m.string("PolicyName") or "default",
        bypass_policy_lockout_safety_check=m.boolean("BypassPolicyLockoutSafetyCheck"),
    )


def list_key_policies(s: KmsService, m: Members) -> dict[str, Any]:
    return s.list_key_policies(_key(m))


# -- aliases ------------------------------------------------------------------------------------


def create_alias(s: KmsService, m: Members) -> dict[str, Any]:
    return s.create_alias(m.required_string("AliasName"), m.required_string("TargetKeyId"))


def update_alias(s: KmsService, m: Members) -> dict[str, Any]:
    return s.update_alias(m.required_string("AliasName"), m.required_string("TargetKeyId"))


def delete_alias(s: KmsService, m: Members) -> dict[str, Any]:
    return s.delete_alias(m.required_string("AliasName"))


def list_aliases(s: KmsService, m: Members) -> Mapping[str, Any]:
    m.integer("Limit")
    return s.list_aliases(m.string("KeyId"))


# -- cryptographic operations -------------------------------------------------------------------


def encrypt(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    return s.encrypt(
        _key(m),
        m.blob("Plaintext"),
        m.string_map("EncryptionContext"),
        grant_tokens=m.strings("GrantTokens"),
        encryption_algorithm=m.string("EncryptionAlgorithm"),
    )


def _generate_data_key(s: KmsService, m: Members, *, with_plaintext: bool) -> Mapping[str, Any]:
    _unsupported(m, "DryRun", "Recipient")
    return s.generate_data_key(
        _key(m),
        key_spec=m.string("KeySpec"),
        number_of_bytes=m.integer("NumberOfBytes"),
        encryption_context=m.string_map("EncryptionContext"),
        with_plaintext=with_plaintext,
        grant_tokens=m.strings("GrantTokens"),
    )


def generate_data_key(s: KmsService, m: Members) -> Mapping[str, Any]:
    return _generate_data_key(s, m, with_plaintext=True)


def generate_data_key_without_plaintext(s: KmsService, m: Members) -> Mapping[str, Any]:
    return _generate_data_key(s, m, with_plaintext=False)


def decrypt(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun", "Recipient", "DryRunModifiers")
    return s.decrypt(
        m.blob("CiphertextBlob"),
        key=m.string("KeyId"),
        encryption_context=m.string_map("EncryptionContext"),
        grant_tokens=m.strings("GrantTokens"),
        encryption_algorithm=m.string("EncryptionAlgorithm"),
    )


def re_encrypt(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    _symmetric_only(m, "SourceEncryptionAlgorithm")
    _symmetric_only(m, "DestinationEncryptionAlgorithm")
    return s.re_encrypt(
        m.blob("CiphertextBlob"),
        m.required_string("DestinationKeyId"),
        source_encryption_context=m.string_map("SourceEncryptionContext"),
        destination_encryption_context=m.string_map("DestinationEncryptionContext"),
        source_key=m.string("SourceKeyId"),
    )


def generate_data_key_pair(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun", "Recipient")
    return s.generate_data_key_pair(
        _key(m),
        m.required_string("KeyPairSpec"),
        encryption_context=m.string_map("EncryptionContext"),
        grant_tokens=m.strings("GrantTokens"),
    )


def generate_data_key_pair_without_plaintext(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    return s.generate_data_key_pair(
        _key(m),
        m.required_string("KeyPairSpec"),
        encryption_context=m.string_map("EncryptionContext"),
        with_plaintext=False,
        grant_tokens=m.strings("GrantTokens"),
    )


# -- asymmetric and HMAC keys -------------------------------------------------------------------


def get_public_key(s: KmsService, m: Members) -> Mapping[str, Any]:
    return s.get_public_key(_key(m), grant_tokens=m.strings("GrantTokens"))


def sign(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    return s.sign(
        _key(m),
        m.blob("Message"),
        signing_algorithm=m.string("SigningAlgorithm"),
        message_type=m.string("MessageType") or "RAW",
        grant_tokens=m.strings("GrantTokens"),
    )


def verify(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    return s.verify(
        _key(m),
        m.blob("Message"),
        m.blob("Signature"),
        signing_algorithm=m.string("SigningAlgorithm"),
        message_type=m.string("MessageType") or "RAW",
        grant_tokens=m.strings("GrantTokens"),
    )


def generate_mac(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    return s.generate_mac(
        _key(m),
        m.blob("Message"),
        mac_algorithm=m.string("MacAlgorithm"),
        grant_tokens=m.strings("GrantTokens"),
    )


def verify_mac(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun")
    return s.verify_mac(
        _key(m),
        m.blob("Message"),
        m.blob("Mac"),
        mac_algorithm=m.string("MacAlgorithm"),
        grant_tokens=m.strings("GrantTokens"),
    )


def derive_shared_secret(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "DryRun", "Recipient")
    return s.derive_shared_secret(
        _key(m),
        m.blob("PublicKey"),
        key_agreement_algorithm=m.string("KeyAgreementAlgorithm") or "ECDH",
        grant_tokens=m.strings("GrantTokens"),
    )


def generate_random(s: KmsService, m: Members) -> Mapping[str, Any]:
    _unsupported(m, "CustomKeyStoreId", "Recipient")
    return s.generate_random(m.integer("NumberOfBytes"))


# -- rotation, deletion, tags -------------------------------------------------------------------


def enable_key_rotation(s: KmsService, m: Members) -> dict[str, Any]:
    return s.enable_key_rotation(_key(m), m.integer("RotationPeriodInDays"))


def disable_key_rotation(s: KmsService, m: Members) -> dict[str, Any]:
    return s.disable_key_rotation(_key(m))


def get_key_rotation_status(s: KmsService, m: Members) -> dict[str, Any]:
    return s.get_key_rotation_status(_key(m))


def list_key_rotations(s: KmsService, m: Members) -> dict[str, Any]:
    return s.list_key_rotations(
        _key(m),
        include_key_material=m.string("IncludeKeyMaterial") or "ROTATIONS_ONLY",
        limit=m.integer("Limit"),
        marker=m.string("Marker"),
    )


def rotate_key_on_demand(s: KmsService, m: Members) -> dict[str, Any]:
    return s.rotate_key_on_demand(_key(m))


def schedule_key_deletion(s: KmsService, m: Members) -> dict[str, Any]:
    return s.schedule_key_deletion(_key(m), m.integer("PendingWindowInDays"))


def cancel_key_deletion(s: KmsService, m: Members) -> dict[str, Any]:
    return s.cancel_key_deletion(_key(m))


def tag_resource(s: KmsService, m: Members) -> dict[str, Any]:
    return s.tag_resource(_key(m), m.tags(required=True))


def untag_resource(s: KmsService, m: Members) -> dict[str, Any]:
    return s.untag_resource(_key(m), m.strings("TagKeys", required=True))


def list_resource_tags(s: KmsService, m: Members) -> dict[str, Any]:
    return s.list_resource_tags(_key(m), limit=m.integer("Limit"), marker=m.string("Marker"))


# -- multi-Region keys and imported material ----------------------------------------------------


def replicate_key(s: KmsService, m: Members) -> dict[str, Any]:
    return s.replicate_key(
        _key(m),
        m.required_string("ReplicaRegion"),
        policy=m.string("Policy"),
        bypass_policy_lockout_safety_check=m.boolean("BypassPolicyLockoutSafetyCheck"),
        description=m.string("Description") or "",
        tags=m.tags(),
    )


def update_primary_region(s: KmsService, m: Members) -> dict[str, Any]:
    return s.update_primary_region(_key(m), m.required_string("PrimaryRegion"))


def get_parameters_for_import(s: KmsService, m: Members) -> dict[str, Any]:
    return s.get_parameters_for_import(
        _key(m), m.required_string("WrappingAlgorithm"), m.required_string("WrappingKeySpec")
    )


def import_key_material(s: KmsService, m: Members) -> dict[str, Any]:
    _unsupported(m, "KeyMaterialId", "KeyMaterialDescription")
    if m.string("ImportType") not in (None, "NEW_KEY_MATERIAL"):
        raise UnsupportedOperationException("kmscli supports ImportType NEW_KEY_MATERIAL only")
    return s.import_key_material(
        _key(m),
        m.blob("ImportToken"),
        m.blob("EncryptedKeyMaterial"),
        expiration_model=m.string("ExpirationModel"),
        valid_to=m.timestamp("ValidTo"),
    )


def delete_imported_key_material(s: KmsService, m: Members) -> dict[str, Any]:
    return s.delete_imported_key_material(_key(m), m.string("KeyMaterialId"))


# -- grants (operation functions of kmscli.kms.grants) ------------------------------------------


def create_grant(s: KmsService, m: Members) -> dict[str, Any]:
    from kmscli.kms import grants

    _unsupported(m, "DryRun")
    constraints: Any = m.document.get("Constraints") or {}
    if not isinstance(constraints, dict):
        raise serialization_error("Constraints: expected a structure")
    inner = Members(constraints)
    return grants.create_grant(
        s,
        _key(m),
        m.required_string("GranteePrincipal"),
        m.strings("Operations", required=True),
        retiring_principal=m.string("RetiringPrincipal"),
        constraints_equals=inner.string_map("EncryptionContextEquals"),
        constraints_subset=inner.string_map("EncryptionContextSubset"),
        name=m.string("Name"),
        grant_tokens=m.strings("GrantTokens"),
    )


def list_grants(s: KmsService, m: Members) -> dict[str, Any]:
    from kmscli.kms import grants

    return grants.list_grants(
        s,
        _key(m),
        grant_id=m.string("GrantId"),
        grantee_principal=m.string("GranteePrincipal"),
        limit=m.integer("Limit"),
        marker=m.string("Marker"),
    )


def list_retirable_grants(s: KmsService, m: Members) -> dict[str, Any]:
    from kmscli.kms import grants

    return grants.list_retirable_grants(
        s,
        m.required_string("RetiringPrincipal"),
        limit=m.integer("Limit"),
        marker=m.string("Marker"),
    )


def retire_grant(s: KmsService, m: Members) -> dict[str, Any]:
    from kmscli.kms import grants

    _unsupported(m, "DryRun")
    return grants.retire_grant(
        s, grant_token=m.string("GrantToken"), key=m.string("KeyId"), grant_id=m.string("GrantId")
    )


def revoke_grant(s: KmsService, m: Members) -> dict[str, Any]:
    from kmscli.kms import grants

    _unsupported(m, "DryRun")
    return grants.revoke_grant(s, _key(m), m.required_string("GrantId"))


_TABLE: list[tuple[str, str, Call]] = [
    ("CreateKey", "create_key", create_key),
    ("DescribeKey", "describe_key", describe_key),
    ("ListKeys", "list_keys", list_keys),
    ("EnableKey", "enable_key", enable_key),
    ("DisableKey", "disable_key", disable_key),
    ("UpdateKeyDescription", "update_key_description", update_key_description),
    ("GetKeyPolicy", "get_key_policy", get_key_policy),
    ("PutKeyPolicy", "put_key_policy", put_key_policy),
    ("ListKeyPolicies", "list_key_policies", list_key_policies),
    ("CreateAlias", "create_alias", create_alias),
    ("UpdateAlias", "update_alias", update_alias),
    ("DeleteAlias", "delete_alias", delete_alias),
    ("ListAliases", "list_aliases", list_aliases),
    ("Encrypt", "encrypt", encrypt),
    ("GenerateDataKey", "generate_data_key", generate_data_key),
    (
        "GenerateDataKeyWithoutPlaintext",
        "generate_data_key",
        generate_data_key_without_plaintext,
    ),
    ("Decrypt", "decrypt", decrypt),
    ("ReEncrypt", "re_encrypt", re_encrypt),
    ("GenerateRandom", "generate_random", generate_random),
    ("GenerateDataKeyPair", "generate_data_key_pair", generate_data_key_pair),
    (
        "GenerateDataKeyPairWithoutPlaintext",
        "generate_data_key_pair",
        generate_data_key_pair_without_plaintext,
    ),
    ("GetPublicKey", "get_public_key", get_public_key),
    ("Sign", "sign", sign),
    ("Verify", "verify", verify),
    ("GenerateMac", "generate_mac", generate_mac),
    ("VerifyMac", "verify_mac", verify_mac),
    ("DeriveSharedSecret", "derive_shared_secret", derive_shared_secret),
    ("EnableKeyRotation", "enable_key_rotation", enable_key_rotation),
    ("DisableKeyRotation", "disable_key_rotation", disable_key_rotation),
    ("GetKeyRotationStatus", "get_key_rotation_status", get_key_rotation_status),
    ("ListKeyRotations", "list_key_rotations", list_key_rotations),
    ("RotateKeyOnDemand", "rotate_key_on_demand", rotate_key_on_demand),
    ("ScheduleKeyDeletion", "schedule_key_deletion", schedule_key_deletion),
    ("CancelKeyDeletion", "cancel_key_deletion", cancel_key_deletion),
    ("TagResource", "tag_resource", tag_resource),
    ("UntagResource", "untag_resource", untag_resource),
    ("ListResourceTags", "list_resource_tags", list_resource_tags),
    ("ReplicateKey", "replicate_key", replicate_key),
    ("UpdatePrimaryRegion", "update_primary_region", update_primary_region),
    ("GetParametersForImport", "get_parameters_for_import", get_parameters_for_import),
    ("ImportKeyMaterial", "import_key_material", import_key_material),
    ("DeleteImportedKeyMaterial", "delete_imported_key_material", delete_imported_key_material),
    ("CreateGrant", "grants.create_grant", create_grant),
    ("ListGrants", "grants.list_grants", list_grants),
    ("ListRetirableGrants", "grants.list_retirable_grants", list_retirable_grants),
    ("RetireGrant", "grants.retire_grant", retire_grant),
    ("RevokeGrant", "grants.revoke_grant", revoke_grant),
]

OPERATIONS: dict[str, Operation] = {
    name: Operation(name, implementation, call) for name, implementation, call in _TABLE
}

# KmsService's public methods that are not KMS operations (helpers of the CLI and providers).
NOT_OPERATIONS = frozenset(
    {
        "blob_key_arn",
        "catch_up",
        "has_key",
        "list_key_records",
        "local_key_arn",
        "sign_stream",  # Sign over a file stream, for the CLI; Sign is served
        "verify_stream",
    }
)
