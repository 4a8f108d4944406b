"""Key rotation (kms-behaviour.md §5): automatic schedules, on-demand rotation, their reports.

Owns EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus, ListKeyRotations and
RotateKeyOnDemand, who may rotate (symmetric AWS_KMS keys; multi-Region primaries only; AWS
managed keys by themselves, yearly), the schedule rules (first rotation a period after enabling,
then every period; a key disabled past its date rotates as soon as it is enabled again) and the
act of rotating: a fresh material becomes CURRENT, every older one stays for decryption. The
catch-up that performs due automatic rotations is `kmscli.kms.lifecycle`'s; handing new material
to replicas is `kmscli.kms.multiregion`'s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kmscli.errors import (
    ConflictException,
    KMSInvalidStateException,
    LimitExceededException,
    UnsupportedOperationException,
)
from kmscli.kms import multiregion, schedule, validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.model import (
    PENDING_ANY_DELETION,
    SYMMETRIC_DEFAULT,
    KeyRecord,
    MaterialState,
    RotationType,
    format_timestamp,
    parse_timestamp,
)
from kmscli.kms.states import check_state
from kmscli.store import Transaction

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

MIN_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 2560
DEFAULT_PERIOD_DAYS = 365
AWS_MANAGED_PERIOD_DAYS = 365
MAX_ON_DEMAND_ROTATIONS = 25
CONFLICT_WINDOW = timedelta(minutes=20)
ROTATIONS_ONLY = "ROTATIONS_ONLY"
ALL_KEY_MATERIAL = "ALL_KEY_MATERIAL"
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100


def check_period(days: int | None) -> int:
    if days is None:
        return DEFAULT_PERIOD_DAYS
    if days < MIN_PERIOD_DAYS:
        raise validation.constraint_error(
            days,
            "rotationPeriodInDays",
            f"Member must have value greater than or equal to {MIN_PERIOD_DAYS}",
        )
    if days > MAX_PERIOD_DAYS:
        raise validation.constraint_error(
            days,
            "rotationPeriodInDays",
            f"Member must have value less than or equal to {MAX_PERIOD_DAYS}",
        )
    return days


def _check_configurable(key: KeyRecord) -> None:
    """Refusals that do not depend on the caller: AWS managed keys configure themselves."""
    if key.is_aws_managed:
        raise UnsupportedOperationException(
            f"{key.arn} is an AWS managed key: AWS KMS rotates it every year and its rotation "
            "cannot be configured or requested."
        )


def _check_eligible(key: KeyRecord, *, on_demand: bool = False) -> None:
    """Only symmetric encryption keys rotate; EXTERNAL keys never rotate automatically."""
    if key.key_spec != SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException("")
    if key.is_external and not on_demand:
        raise UnsupportedOperationException(
            f"{key.arn} origin is EXTERNAL which is not valid for this operation."
        )
    if key.is_replica:
        raise UnsupportedOperationException(
            f"{key.arn} is a multi-Region replica key; rotation is set and performed on its "
            f"primary key {key.arn_in(key.primary)}."
        )


def start_aws_managed_schedule(key: KeyRecord) -> None:
    """An AWS managed key rotates yearly from its creation, and says so in its status."""
    key.rotation_enabled = True
    key.rotation_period_days = AWS_MANAGED_PERIOD_DAYS
    key.next_rotation_date = format_timestamp(
        parse_timestamp(key.creation_date) + timedelta(days=AWS_MANAGED_PERIOD_DAYS)
    )


period_of = schedule.period_of
next_rotation = schedule.next_rotation


def rotate(
    service: KmsService, tx: Transaction, key: KeyRecord, *, date: str, rotation_type: RotationType
) -> None:
    """Give `key` a fresh CURRENT material dated `date`; older ones become NON_CURRENT.

    Its replicas get the material here; the caller saves `key`.
    """
    for material in key.materials:
        if material.state == MaterialState.CURRENT:
            material.state = MaterialState.NON_CURRENT
    material = service._new_material(key.arn, date)
    material.rotation_type = rotation_type
    material.rotation_date = date
    key.materials.append(material)
    if rotation_type == RotationType.AUTOMATIC:
        key.next_rotation_date = format_timestamp(
            parse_timestamp(date) + timedelta(days=period_of(key))
        )
    multiregion.sync_replicas(service, tx, key)


def rotate_automatically_at(
    service: KmsService, tx: Transaction, key: KeyRecord, due: datetime
) -> None:
    """The scheduled rotation that fell due at `due`; the next is a period later."""
    rotate(service, tx, key, date=format_timestamp(due), rotation_type=RotationType.AUTOMATIC)


def resume_after_enable(service: KmsService, tx: Transaction, key: KeyRecord) -> None:
    """EnableKey on a key whose rotation fell due while it was disabled: rotate now (§5)."""
    due = next_rotation(key)
    now = service.clock()
    if due is None or due > now:
        return
    rotate(service, tx, key, date=format_timestamp(now), rotation_type=RotationType.AUTOMATIC)


def enable_key_rotation(
    service: KmsService, key: str, rotation_period_in_days: int | None = None
) -> dict[str, Any]:
    period = check_period(rotation_period_in_days)
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        _check_configurable(record)
        facts = RequestFacts(extra={"kms:RotationPeriodInDays": period})
        service._authorize(tx, "EnableKeyRotation", record, facts)
        check_state("EnableKeyRotation", record)
        _check_eligible(record)
        now = service.clock()
        if record.rotation_enabled and record.next_rotation_date is not None:
            # A new period on an enabled schedule counts from the same start as the old one.
            current = parse_timestamp(record.next_rotation_date)
            start = current - timedelta(days=period_of(record))
            due = max(start + timedelta(days=period), now)
        else:  # the first rotation is one period after enabling
            due = now + timedelta(days=period)
        record.rotation_enabled = True
        record.rotation_period_days = period
        record.next_rotation_date = format_timestamp(due)
        multiregion.sync_replicas(service, tx, record)
        service._save_key(tx, record)
    return {}


def disable_key_rotation(service: KmsService, key: str) -> dict[str, Any]:
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        _check_configurable(record)
        service._authorize(tx, "DisableKeyRotation", record)
        check_state("DisableKeyRotation", record)
        _check_eligible(record)
        record.rotation_enabled = False
        record.rotation_period_days = None
        record.next_rotation_date = None
        multiregion.sync_replicas(service, tx, record)
        service._save_key(tx, record)
    return {}


def get_key_rotation_status(service: KmsService, key: str) -> dict[str, Any]:
    with service.keyring.read() as view:
        record = service._resolve(view, key, aliases=False)
        service._authorize(view, "GetKeyRotationStatus", record)
    check_state("GetKeyRotationStatus", record)
    if record.key_spec != SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException("")
    enabled = (record.rotation_enabled or record.is_aws_managed) and not record.is_external
    response: dict[str, Any] = {"KeyId": record.arn}
    if not enabled or record.state in PENDING_ANY_DELETION:
        response["KeyRotationEnabled"] = False
        return response
    response["KeyRotationEnabled"] = True
    response["RotationPeriodInDays"] = period_of(record)
    due = next_rotation(record)
    if record.is_replica and record.next_rotation_date is not None:
        due = parse_timestamp(record.next_rotation_date)
    if due is not None:
        response["NextRotationDate"] = format_timestamp(due)
    return response


def list_key_rotations(
    service: KmsService,
    key: str,
    *,
    include_key_material: str = ROTATIONS_ONLY,
    limit: int | None = None,
    marker: str | None = None,
) -> dict[str, Any]:
    if include_key_material not in (ROTATIONS_ONLY, ALL_KEY_MATERIAL):
        raise validation.constraint_error(
            include_key_material,
            "includeKeyMaterial",
            f"Member must satisfy enum value set: [{ALL_KEY_MATERIAL}, {ROTATIONS_ONLY}]",
        )
    count = validation.check_limit(limit, MAX_LIST_LIMIT, DEFAULT_LIST_LIMIT)
    with service.keyring.read() as view:
        record = service._resolve(view, key, aliases=False)
        service._authorize(view, "ListKeyRotations", record)
    check_state("ListKeyRotations", record)
    if record.key_spec != SYMMETRIC_DEFAULT:
        raise UnsupportedOperationException("")
    entries: list[dict[str, Any]] = []
    for material in record.materials:
        if material.rotation_type is None and include_key_material == ROTATIONS_ONLY:
            continue
        entry: dict[str, Any] = {"KeyId": record.arn, "KeyMaterialId": material.material_id}
        if material.import_state is not None:
            entry["ImportState"] = material.import_state
        entry["KeyMaterialState"] = material.state
        if material.expiration_model is not None:
            entry["ExpirationModel"] = material.expiration_model
        if material.valid_to is not None:
            entry["ValidTo"] = material.valid_to
        if material.rotation_type is not None:
            entry["RotationDate"] = material.rotation_date or material.created
            entry["RotationType"] = material.rotation_type
        entries.append(entry)
    return validation.page(entries, "Rotations", count, marker)


def rotate_key_on_demand(service: KmsService, key: str) -> dict[str, Any]:
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        _check_configurable(record)
        service._authorize(tx, "RotateKeyOnDemand", record)
        check_state("RotateKeyOnDemand", record)
        _check_eligible(record, on_demand=True)
        if record.is_external:
            raise KMSInvalidStateException(
                f"No available key material pending rotation for the key: {record.arn}."
            )
        if record.on_demand_rotations >= MAX_ON_DEMAND_ROTATIONS:
            raise LimitExceededException(
                "The on-demand rotations limit has been reached for the given keyId. No more "
                f"on-demand rotations can be performed for this key: {record.arn}"
            )
        now = service.clock()
        due = next_rotation(record)
        if due is not None and due <= now + CONFLICT_WINDOW:
            raise ConflictException(
                f"An automatic rotation of {record.arn} is due at {format_timestamp(due)}; "
                "try the on-demand rotation after it."
            )
        record.on_demand_rotations += 1
        rotate(
            service, tx, record, date=format_timestamp(now), rotation_type=RotationType.ON_DEMAND
        )
        service._save_key(tx, record)
    return {"KeyId": record.arn}
