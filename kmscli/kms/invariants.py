"""The rules every stored key record obeys, checked before the record is written.

Owns `check_key_record`, which the service runs on every save of a `keys` record: a record that
breaks a rule is refused with KMSInternalException (exit 1) before anything reaches the keyring,
because no operation may produce one; reaching it is a bug, and writing it would turn a bug into a
keyring that misbehaves later. The rules are what the operations guarantee (kms-behaviour.md §2,
§5-§8), loose enough for records written by earlier versions (a multi-Region primary without a
recorded role, a rotation schedule without a recorded period).

Must not: touch the store, repair a record, or decide whether an operation is allowed (that is
kmscli.kms.states and the operation modules).
"""

from __future__ import annotations

from kmscli.crypto.keyspecs import KEY_SPECS
from kmscli.errors import KMSInternalException
from kmscli.kms.model import (
    PENDING_ANY_DELETION,
    SYMMETRIC_DEFAULT,
    ExpirationModel,
    KeyManager,
    KeyRecord,
    KeyState,
    KeyUsage,
    MaterialState,
    MultiRegionKeyType,
    Origin,
)

# Creating, Updating and Unavailable are answers, never stored states (kmscli.kms.states).
STORED_STATES = frozenset(
    {
        KeyState.ENABLED,
        KeyState.DISABLED,
        KeyState.PENDING_DELETION,
        KeyState.PENDING_IMPORT,
        KeyState.PENDING_REPLICA_DELETION,
    }
)


def check_key_record(key: KeyRecord) -> None:
    """Raise KMSInternalException naming every rule `key` breaks; return if it breaks none."""
    broken = violations(key)
    if broken:
        raise KMSInternalException(
            f"kmscli refused to save an inconsistent record of key {key.arn}: " + "; ".join(broken),
            hints=["this is a bug in kmscli: please report it; the keyring was not changed"],
        )


def violations(key: KeyRecord) -> list[str]:
    """Every rule `key` breaks, in words (empty: the record is consistent)."""
    return [
        *_state_rules(key),
        *_spec_rules(key),
        *_material_rules(key),
        *_rotation_rules(key),
        *_multi_region_rules(key),
    ]


def _state_rules(key: KeyRecord) -> list[str]:
    broken = []
    if key.state not in STORED_STATES:
        broken.append(f"state {key.state} is never stored")
    if key.state == KeyState.PENDING_DELETION and not key.deletion_date:
        broken.append("PendingDeletion without a deletion date")
    if key.deletion_date is not None and key.state != KeyState.PENDING_DELETION:
        broken.append(f"a deletion date on a key in state {key.state}")
    if key.pending_window_days is not None and key.state not in PENDING_ANY_DELETION:
        broken.append(f"a pending deletion window on a key in state {key.state}")
    if key.state == KeyState.PENDING_IMPORT and key.origin != Origin.EXTERNAL:
        broken.append(f"PendingImport on a key of origin {key.origin}")
    if key.state == KeyState.PENDING_REPLICA_DELETION and not (
        key.is_primary and key.replica_regions
    ):
        broken.append("PendingReplicaDeletion on a key that is not a primary with replicas")
    return broken


def _spec_rules(key: KeyRecord) -> list[str]:
    spec = KEY_SPECS.get(key.key_spec)
    if spec is None:
        return [f"unknown key spec {key.key_spec}"]
    broken = []
    if key.key_usage not in spec.usages:
        broken.append(f"key usage {key.key_usage} does not fit key spec {key.key_spec}")
    if key.origin not in (Origin.AWS_KMS, Origin.EXTERNAL):
        broken.append(f"origin {key.origin} is not kept in this keyring")
    if key.key_manager == KeyManager.AWS and (
        key.origin != Origin.AWS_KMS
        or key.key_spec != SYMMETRIC_DEFAULT
        or key.key_usage != KeyUsage.ENCRYPT_DECRYPT
        or key.multi_region
    ):
        broken.append("an AWS managed key that is not a single-Region symmetric AWS_KMS key")
    return broken


def _material_rules(key: KeyRecord) -> list[str]:
    broken = []
    ids = [m.material_id for m in key.materials]
    if len(set(ids)) != len(ids):
        broken.append("two materials with the same ID")
    current = [m for m in key.materials if m.state == MaterialState.CURRENT]
    if len(current) > 1:
        broken.append(f"{len(current)} CURRENT materials")
    if any(m.present for m in key.materials) and not (current and current[0].present):
        broken.append("material is present but the CURRENT material is not")
    if key.origin == Origin.AWS_KMS:
        if len(current) != 1:
            broken.append("an AWS_KMS key without exactly one CURRENT material")
        if not all(m.present for m in key.materials):
            broken.append("an AWS_KMS key with a material whose secret is gone")
        if any(m.import_state is not None or m.expiration_model is not None for m in key.materials):
            broken.append("import state or expiry on the material of an AWS_KMS key")
    if key.state == KeyState.PENDING_IMPORT and any(m.present for m in key.materials):
        broken.append("PendingImport while key material is present")
    for material in key.materials:
        expires = material.expiration_model == ExpirationModel.KEY_MATERIAL_EXPIRES
        if expires != (material.valid_to is not None):
            broken.append(
                f"material {material.material_id}: ValidTo must be set exactly when it expires"
            )
        if not material.present and material.expiration_model is not None:
            broken.append(f"material {material.material_id}: an expiry on deleted material")
    return broken


def _rotation_rules(key: KeyRecord) -> list[str]:
    has_rotation = (
        key.rotation_enabled
        or key.rotation_period_days is not None
        or key.next_rotation_date is not None
        or key.on_demand_rotations > 0
    )
    broken = []
    if has_rotation and (key.key_spec != SYMMETRIC_DEFAULT or key.origin != Origin.AWS_KMS):
        broken.append(
            f"rotation settings on a {key.key_spec} key of origin {key.origin} "
            "(only symmetric AWS_KMS keys rotate)"
        )
    if not key.rotation_enabled and (
        key.rotation_period_days is not None or key.next_rotation_date is not None
    ):
        broken.append("a rotation period or date while automatic rotation is off")
    if key.on_demand_rotations < 0:
        broken.append("a negative count of on-demand rotations")
    return broken


def _multi_region_rules(key: KeyRecord) -> list[str]:
    regions = key.replica_regions
    if not key.multi_region:
        if key.multi_region_type is not None or key.primary_region is not None or regions:
            return ["multi-Region roles or regions on a single-Region key"]
        return []
    broken = []
    if not key.key_id.startswith("mrk-"):
        broken.append("a multi-Region key whose ID does not start with mrk-")
    if len(set(regions)) != len(regions):
        broken.append("a replica Region listed twice")
    if key.primary in regions:
        broken.append(f"the primary Region {key.primary} is also listed as a replica Region")
    if key.multi_region_type == MultiRegionKeyType.REPLICA:
        if key.primary_region is None or key.primary_region == key.region:
            broken.append("a replica that does not name a primary in another Region")
        if key.region not in regions:
            broken.append(f"a replica whose Region {key.region} is not in its set's replica list")
    elif key.primary != key.region:
        broken.append(f"a primary key whose primary Region is {key.primary}, not {key.region}")
    return broken
