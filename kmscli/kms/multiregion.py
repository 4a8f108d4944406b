"""Multi-Region keys (kms-behaviour.md §6): replicas, the primary role, shared properties.

Owns ReplicateKey and UpdatePrimaryRegion, which properties a set of related keys shares (key ID,
all key material versions, origin, spec, usage, the automatic-rotation setting, the roles) and
copying them from the key that changed to the others (`sync_replicas`), and the deletion rule
that ties a primary to its replicas (`forget_replica`). Each key of a set is its own record in its
own region, with its own policy, aliases, tags, description, state and deletion schedule; its
material is sealed for its own ARN. Independent properties are never copied here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kmscli.errors import (
    AlreadyExistsException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from kmscli.kms import validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.ids import is_valid_region
from kmscli.kms.model import (
    KeyManager,
    KeyRecord,
    KeyState,
    Material,
    MultiRegionKeyType,
    Origin,
    days_after,
    format_timestamp,
)
from kmscli.kms.states import check_state
from kmscli.policy import default_key_policy, parse_key_policy
from kmscli.store import RecordView, Transaction

if TYPE_CHECKING:
    from datetime import datetime

    from kmscli.kms.service import KmsService

KEYS = "keys"

__all__ = [
    "forget_replica",
    "load_in",
    "related",
    "replicate_key",
    "sync_replicas",
    "update_primary_region",
]


def load_in(view: RecordView, region: str, key_id: str) -> KeyRecord | None:
    raw = view.get(KEYS, f"{region}/{key_id}")
    return None if raw is None else KeyRecord.from_json(raw)


def set_regions(key: KeyRecord) -> list[str]:
    """Every region of the key's set: the primary's first, then the replicas'."""
    return [key.primary, *key.replica_regions]


def related(view: RecordView, key: KeyRecord) -> list[KeyRecord]:
    """The other keys of `key`'s multi-Region set, as stored."""
    if not key.multi_region:
        return []
    found = []
    for region in set_regions(key):
        if region == key.region:
            continue
        other = load_in(view, region, key.key_id)
        if other is not None:
            found.append(other)
    return found


def _copy_shared(service: KmsService, source: KeyRecord, target: KeyRecord) -> None:
    target.key_spec = source.key_spec
    target.key_usage = source.key_usage
    target.origin = source.origin
    target.multi_region = True
    target.primary_region = source.primary
    target.replica_regions = list(source.replica_regions)
    target.multi_region_type = (
        MultiRegionKeyType.PRIMARY
        if target.region == source.primary
        else MultiRegionKeyType.REPLICA
    )
    target.rotation_enabled = source.rotation_enabled
    target.rotation_period_days = source.rotation_period_days
    target.next_rotation_date = source.next_rotation_date
    target.on_demand_rotations = source.on_demand_rotations
    if source.origin != Origin.AWS_KMS:
        return  # imported material is imported into each key of the set by its owner
    have = {m.material_id: m for m in target.materials}
    materials: list[Material] = []
    for material in source.materials:
        mine = have.get(material.material_id)
        if mine is None:
            secret = service._material_secret(source, material)
            mine = Material(
                material.material_id,
                service._seal_material(target.arn, material.material_id, secret),
                material.created,
            )
        mine.state = material.state
        mine.rotation_type = material.rotation_type
        mine.rotation_date = material.rotation_date
        materials.append(mine)
    target.materials = materials


def sync_replicas(service: KmsService, tx: Transaction, source: KeyRecord) -> None:
    """Copy `source`'s shared properties to every other key of its set (the caller saves
    `source` itself)."""
    for other in related(tx, source):
        _copy_shared(service, source, other)
        service._save_key(tx, other)


def forget_replica(
    service: KmsService, tx: Transaction, replica: KeyRecord, when: datetime
) -> None:
    """`replica` is gone: drop it from its set; a primary waiting for its replicas' deletion
    starts its own waiting period at `when` once the last one is gone (§2, §6)."""
    for other in related(tx, replica):
        if replica.region in other.replica_regions:
            other.replica_regions.remove(replica.region)
        if (
            other.region == other.primary
            and other.state == KeyState.PENDING_REPLICA_DELETION
            and not other.replica_regions
        ):
            other.state = KeyState.PENDING_DELETION
            window = other.pending_window_days or 30
            other.deletion_date = days_after(format_timestamp(when), window)
        service._save_key(tx, other)


def _check_region(region: str, member: str) -> None:
    if not is_valid_region(region):
        raise validation.constraint_error(
            region,
            member,
            "Member must satisfy regular expression pattern: ^([a-z]+-){2,3}\\d+$",
        )


def replicate_key(
    service: KmsService,
    key: str,
    replica_region: str,
    *,
    policy: str | None = None,
    bypass_policy_lockout_safety_check: bool = False,
    description: str = "",
    tags: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    _check_region(replica_region, "replicaRegion")
    validation.check_description(description)
    validation.check_tags(tags)
    document = parse_key_policy(policy) if policy is not None else None
    with service.keyring.write() as tx:
        primary = service._resolve(tx, key, aliases=False)
        facts = RequestFacts(extra={"kms:ReplicaRegion": replica_region})
        service._authorize(tx, "ReplicateKey", primary, facts)
        if not primary.multi_region:
            raise UnsupportedOperationException(f"{primary.arn} is not a multi-region key.")
        if primary.is_replica:
            raise UnsupportedOperationException(f"{primary.arn} is not a multi-region primary key.")
        check_state("ReplicateKey", primary)
        if replica_region == primary.region:
            raise ValidationException(
                f"{replica_region} is the Region of the primary key {primary.arn}; a replica "
                "must be in another Region."
            )
        replica_arn = primary.arn_in(replica_region)
        if replica_region in primary.replica_regions or load_in(tx, replica_region, primary.key_id):
            raise AlreadyExistsException(
                f"Key '{replica_arn}' already exists: {primary.key_id} has a replica in "
                f"{replica_region}"
            )
        service._authorize_iam(tx, "CreateKey")
        if tags:
            service._authorize_iam(tx, "TagResource")
        now = service._now()
        replica = KeyRecord(
            key_id=primary.key_id,
            region=replica_region,
            account=primary.account,
            creation_date=now,
            description=description,
            key_manager=KeyManager.CUSTOMER,
            state=KeyState.ENABLED if primary.origin == Origin.AWS_KMS else KeyState.PENDING_IMPORT,
            multi_region=True,
            policy=policy if policy is not None else default_key_policy(primary.account),
            tags=[{"TagKey": k, "TagValue": v} for k, v in tags],
        )
        if document is not None and not bypass_policy_lockout_safety_check:
            service._authorizer().check_lockout(tx, document, replica.arn, replica.account)
        primary.replica_regions.append(replica_region)
        _copy_shared(service, primary, replica)
        service._save_key(tx, replica)
        sync_replicas(service, tx, primary)
        service._save_key(tx, primary)
    metadata = replica.metadata()
    # AWS answers while the replica is still being created.
    metadata["KeyState"] = KeyState.CREATING
    metadata["Enabled"] = False
    return {
        "ReplicaKeyMetadata": metadata,
        "ReplicaPolicy": replica.policy,
        "ReplicaTags": list(replica.tags),
    }


def update_primary_region(service: KmsService, key: str, primary_region: str) -> dict[str, Any]:
    _check_region(primary_region, "primaryRegion")
    with service.keyring.write() as tx:
        primary = service._resolve(tx, key, aliases=False)
        facts = RequestFacts(extra={"kms:PrimaryRegion": primary_region})
        service._authorize(tx, "UpdatePrimaryRegion", primary, facts)
        if not primary.multi_region:
            raise UnsupportedOperationException(f"{primary.arn} is not a multi-region key.")
        if primary.is_replica:
            raise UnsupportedOperationException(f"{primary.arn} is not a multi-region primary key.")
        check_state("UpdatePrimaryRegion", primary)
        if primary_region == primary.region:
            raise ValidationException(
                f"{primary.arn} is already the primary key; give the Region of a replica."
            )
        replica = (
            load_in(tx, primary_region, primary.key_id)
            if primary_region in primary.replica_regions
            else None
        )
        if replica is None:
            raise NotFoundException(f"Key '{primary.arn_in(primary_region)}' does not exist")
        service._authorize(tx, "UpdatePrimaryRegion", replica, facts)
        check_state("UpdatePrimaryRegion", replica)
        regions = [r for r in primary.replica_regions if r != primary_region]
        regions.append(primary.region)
        primary.replica_regions = regions
        primary.primary_region = primary_region
        primary.multi_region_type = MultiRegionKeyType.REPLICA
        _copy_shared(service, primary, replica)  # the new primary takes the set's settings
        sync_replicas(service, tx, replica)
        service._save_key(tx, replica)
    return {}
