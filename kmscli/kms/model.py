"""The KMS key record as kept in the keyring, and its AWS-shaped `KeyMetadata`.

Owns the record's fields, its JSON form (schema of the `keys` records) and how it is shown as AWS
shows it: states, rotation settings, multi-Region roles, imported-material expiry. It holds key
material only in sealed form; unsealing is the service's job, through the keyring. It must not
touch the store or decide permissions. Records written before a field existed load with that
field's default.

States, usages, origins, managers, roles and material states are `StrEnum`s whose values are
exactly AWS's strings: they compare equal to those strings, and JSON (records and output) holds
the plain strings, so the persisted format is the one of plain-string records. The rules a record
must obey before it is saved are kmscli.kms.invariants'.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from kmscli.errors import KeyringVersionError, KMSInternalException
from kmscli.kms.ids import key_arn


class KeyState(StrEnum):
    """KeyState (kms-behaviour.md §2). Creating, Updating and Unavailable are never stored."""

    CREATING = "Creating"
    ENABLED = "Enabled"
    DISABLED = "Disabled"
    PENDING_DELETION = "PendingDeletion"
    PENDING_IMPORT = "PendingImport"
    PENDING_REPLICA_DELETION = "PendingReplicaDeletion"
    UNAVAILABLE = "Unavailable"
    UPDATING = "Updating"


class KeyUsage(StrEnum):
    """KeyUsageType: the usages kmscli's key specs allow (kmscli.crypto.keyspecs)."""

    ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
    SIGN_VERIFY = "SIGN_VERIFY"
    GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
    KEY_AGREEMENT = "KEY_AGREEMENT"


class Origin(StrEnum):
    """OriginType. Only AWS_KMS and EXTERNAL keys are ever made here; the custom key store
    origins are known so that CreateKey can refuse them as unsupported."""

    AWS_KMS = "AWS_KMS"
    EXTERNAL = "EXTERNAL"
    AWS_CLOUDHSM = "AWS_CLOUDHSM"
    EXTERNAL_KEY_STORE = "EXTERNAL_KEY_STORE"


class KeyManager(StrEnum):
    """KeyManagerType."""

    AWS = "AWS"
    CUSTOMER = "CUSTOMER"


class MultiRegionKeyType(StrEnum):
    PRIMARY = "PRIMARY"
    REPLICA = "REPLICA"


class MaterialState(StrEnum):
    """KeyMaterialState of one material: the one in use, or an older one kept for decryption."""

    CURRENT = "CURRENT"
    NON_CURRENT = "NON_CURRENT"


class RotationType(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    ON_DEMAND = "ON_DEMAND"


class ImportState(StrEnum):
    """ImportState of an EXTERNAL key's material."""

    IMPORTED = "IMPORTED"
    PENDING_IMPORT = "PENDING_IMPORT"


class ExpirationModel(StrEnum):
    KEY_MATERIAL_EXPIRES = "KEY_MATERIAL_EXPIRES"
    KEY_MATERIAL_DOES_NOT_EXPIRE = "KEY_MATERIAL_DOES_NOT_EXPIRE"


PENDING_ANY_DELETION = frozenset({KeyState.PENDING_DELETION, KeyState.PENDING_REPLICA_DELETION})
SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"  # the KeySpec, and its one encryption algorithm

# The string constants these enums replaced, still imported by kmscli.kms.service (which this
# change leaves alone while its operations move out); new code uses the enums.
ENABLED = KeyState.ENABLED
DISABLED = KeyState.DISABLED
PENDING_IMPORT = KeyState.PENDING_IMPORT
ENCRYPT_DECRYPT = KeyUsage.ENCRYPT_DECRYPT
ORIGIN_AWS_KMS = Origin.AWS_KMS
ORIGIN_EXTERNAL = Origin.EXTERNAL
CUSTOMER = KeyManager.CUSTOMER
AWS_MANAGED = KeyManager.AWS
PRIMARY = MultiRegionKeyType.PRIMARY

KEY_RECORD_VERSION = 1


def format_timestamp(instant: datetime) -> str:
    """ISO 8601 with zone, as the AWS CLI prints timestamps."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


def days_after(text: str, days: int) -> str:
    return format_timestamp(parse_timestamp(text) + timedelta(days=days))


# Material and KeyRecord are plain classes whose __slots__ name their fields (the JSON members),
# not dataclasses: every command loads them, and creating a 23-field dataclass at import costs
# more than all the rest of this module.


class _Record:
    """Equality, repr and the field dictionary, from the subclass's `__slots__`."""

    __slots__: tuple[str, ...] = ()

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.fields() == other.fields()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.fields().items())
        return f"{type(self).__name__}({shown})"


class Material(_Record):
    """One version of a key's secret bytes, sealed under the keyring root key.

    `sealed` is empty when the secret is gone (imported material deleted or expired): the entry
    stays, so the same material can be imported again and old ciphertexts decrypt once more.
    """

    __slots__ = (
        "created",
        "expiration_model",
        "import_state",
        "material_id",
        "rotation_date",
        "rotation_type",
        "sealed",
        "state",
        "valid_to",
    )

    def __init__(
        self,
        material_id: str,
        sealed: str,  # base64 of the sealed bytes
        created: str,
        state: str = MaterialState.CURRENT,
        rotation_type: str | None = None,  # None for the original material
        rotation_date: str | None = None,
        import_state: str | None = None,  # EXTERNAL keys only
        expiration_model: str | None = None,
        valid_to: str | None = None,
    ) -> None:
        # The enum-valued fields take their AWS strings (as JSON holds them) or members; an
        # unknown value is a ValueError here, when the record is made, not later.
        self.material_id = material_id
        self.sealed = sealed
        self.created = created
        self.state = MaterialState(state)
        self.rotation_type = None if rotation_type is None else RotationType(rotation_type)
        self.rotation_date = rotation_date
        self.import_state = None if import_state is None else ImportState(import_state)
        self.expiration_model = (
            None if expiration_model is None else ExpirationModel(expiration_model)
        )
        self.valid_to = valid_to

    @property
    def present(self) -> bool:
        return bool(self.sealed)


class KeyRecord(_Record):
    __slots__ = (
        "account",
        "creation_date",
        "deletion_date",
        "description",
        "key_id",
        "key_manager",
        "key_spec",
        "key_usage",
        "materials",
        "multi_region",
        "multi_region_type",
        "next_rotation_date",
        "on_demand_rotations",
        "origin",
        "pending_window_days",
        "policy",
        "primary_region",
        "region",
        "replica_regions",
        "rotation_enabled",
        "rotation_period_days",
        "state",
        "tags",
    )

    def __init__(
        self,
        *,
        key_id: str,
        region: str,
        account: str,
        creation_date: str,
        description: str = "",
        key_usage: str = KeyUsage.ENCRYPT_DECRYPT,
        key_spec: str = SYMMETRIC_DEFAULT,
        origin: str = Origin.AWS_KMS,
        key_manager: str = KeyManager.CUSTOMER,
        state: str = KeyState.ENABLED,
        multi_region: bool = False,
        policy: str = "",
        tags: list[dict[str, str]] | None = None,
        materials: list[Material] | None = None,
        deletion_date: str | None = None,
        pending_window_days: int | None = None,
        # Automatic rotation (kms-behaviour.md §5); shared by all keys of a multi-Region set.
        rotation_enabled: bool = False,
        rotation_period_days: int | None = None,
        next_rotation_date: str | None = None,
        on_demand_rotations: int = 0,
        # Multi-Region (§6): this key's role, where its primary is, and every replica's region.
        multi_region_type: str | None = None,
        primary_region: str | None = None,
        replica_regions: list[str] | None = None,
    ) -> None:
        self.key_id = key_id
        self.region = region
        self.account = account
        self.creation_date = creation_date
        self.description = description
        self.key_usage = KeyUsage(key_usage)
        self.key_spec = key_spec
        self.origin = Origin(origin)
        self.key_manager = KeyManager(key_manager)
        self.state = KeyState(state)
        self.multi_region = multi_region
        self.policy = policy
        self.tags: list[dict[str, str]] = [] if tags is None else tags
        self.materials: list[Material] = [] if materials is None else materials
        self.deletion_date = deletion_date
        self.pending_window_days = pending_window_days
        self.rotation_enabled = rotation_enabled
        self.rotation_period_days = rotation_period_days
        self.next_rotation_date = next_rotation_date
        self.on_demand_rotations = on_demand_rotations
        self.multi_region_type = (
            None if multi_region_type is None else MultiRegionKeyType(multi_region_type)
        )
        self.primary_region = primary_region
        self.replica_regions: list[str] = [] if replica_regions is None else replica_regions

    @property
    def arn(self) -> str:
        return key_arn(self.region, self.account, self.key_id)

    def arn_in(self, region: str) -> str:
        return key_arn(region, self.account, self.key_id)

    @property
    def current_material(self) -> Material | None:
        for material in self.materials:
            if material.state == MaterialState.CURRENT:
                return material
        return None

    @property
    def is_external(self) -> bool:
        return self.origin == Origin.EXTERNAL

    @property
    def is_primary(self) -> bool:
        """A multi-Region primary key (keys from before roles were recorded are primaries)."""
        return self.multi_region and self.multi_region_type != MultiRegionKeyType.REPLICA

    @property
    def is_replica(self) -> bool:
        return self.multi_region and self.multi_region_type == MultiRegionKeyType.REPLICA

    @property
    def primary(self) -> str:
        return self.primary_region or self.region

    def multi_region_configuration(self) -> dict[str, Any]:
        replicas = [
            {"Arn": self.arn_in(region), "Region": region} for region in self.replica_regions
        ]
        return {
            "MultiRegionKeyType": (
                MultiRegionKeyType.REPLICA if self.is_replica else MultiRegionKeyType.PRIMARY
            ),
            "PrimaryKey": {"Arn": self.arn_in(self.primary), "Region": self.primary},
            "ReplicaKeys": replicas,
        }

    def imported_expiry(self) -> tuple[str, str | None] | None:
        """(ExpirationModel, ValidTo) of the imported material in use, if any is imported."""
        imported = [m for m in self.materials if m.present and m.expiration_model is not None]
        if not imported:
            return None
        expiring = sorted(m.valid_to for m in imported if m.valid_to is not None)
        if expiring:
            return ExpirationModel.KEY_MATERIAL_EXPIRES, expiring[0]
        return ExpirationModel.KEY_MATERIAL_DOES_NOT_EXPIRE, None

    def material(self, material_id: str) -> Material | None:
        for material in self.materials:
            if material.material_id == material_id:
                return material
        return None

    @property
    def is_aws_managed(self) -> bool:
        return self.key_manager == KeyManager.AWS

    def to_json(self) -> bytes:
        data = self.fields()
        data["materials"] = [material.fields() for material in self.materials]
        data["record_version"] = KEY_RECORD_VERSION
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> KeyRecord:
        data: dict[str, Any] = json.loads(raw)
        version = data.pop("record_version", KEY_RECORD_VERSION)
        if not isinstance(version, int) or version > KEY_RECORD_VERSION:
            raise KeyringVersionError(
                f"the record of key {data.get('arn', '?')} has version {version}, written by a "
                f"newer kmscli; this kmscli reads version {KEY_RECORD_VERSION}",
                hints=["upgrade kmscli to use this keyring"],
            )
        try:
            data["materials"] = [Material(**m) for m in data.get("materials", [])]
            return cls(**data)
        except ValueError as error:  # a state, usage, origin... that AWS does not have
            raise KMSInternalException(
                f"the record of key {data.get('region', '?')}/{data.get('key_id', '?')} holds "
                f"a value kmscli does not know: {error}",
                hints=["this is a bug in kmscli: please report it"],
            ) from None

    def copy(self) -> KeyRecord:
        return KeyRecord.from_json(self.to_json())

    def metadata(self) -> dict[str, Any]:
        """`KeyMetadata` exactly as DescribeKey/CreateKey return it."""
        meta: dict[str, Any] = {
            "AWSAccountId": self.account,
            "KeyId": self.key_id,
            "Arn": self.arn,
            "CreationDate": self.creation_date,
            "Enabled": self.state == KeyState.ENABLED,
            "Description": self.description,
            "KeyUsage": self.key_usage,
            "KeyState": self.state,
            "Origin": self.origin,
            "KeyManager": self.key_manager,
            "CustomerMasterKeySpec": self.key_spec,
            "KeySpec": self.key_spec,
            **self.algorithms(),
            "MultiRegion": self.multi_region,
        }
        if self.multi_region:
            meta["MultiRegionConfiguration"] = self.multi_region_configuration()
        if self.deletion_date is not None:
            meta["DeletionDate"] = self.deletion_date
        if self.pending_window_days is not None:
            meta["PendingDeletionWindowInDays"] = self.pending_window_days
        expiry = self.imported_expiry()
        if expiry is not None:
            meta["ExpirationModel"] = expiry[0]
            if expiry[1] is not None:
                meta["ValidTo"] = expiry[1]
        current = self.current_material
        if current is not None and current.present and self.key_spec == SYMMETRIC_DEFAULT:
            # Only symmetric encryption keys show their material's ID (§5, §7).
            meta["CurrentKeyMaterialId"] = current.material_id
        return meta

    def algorithms(self) -> dict[str, list[str]]:
        """EncryptionAlgorithms, SigningAlgorithms, MacAlgorithms or KeyAgreementAlgorithms:
        the one member that fits the key's usage, with its spec's algorithms (§8)."""
        if self.key_spec == SYMMETRIC_DEFAULT:
            return {"EncryptionAlgorithms": [SYMMETRIC_DEFAULT]}
        from kmscli.crypto.keyspecs import KEY_SPECS

        spec = KEY_SPECS.get(self.key_spec)
        return {} if spec is None else spec.algorithms(self.key_usage)
