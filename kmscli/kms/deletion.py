"""Key deletion (kms-behaviour.md §2, §3, §6): the waiting period and the destruction after it.

Owns ScheduleKeyDeletion and CancelKeyDeletion (window 7..30 days, default 30; a multi-Region
primary with replicas waits in PendingReplicaDeletion for them), and `destroy`: when the window
has passed, the key record with all its sealed material, its aliases, its import parameters and
its grants are removed from the keyring (deleted, not flagged), so nothing can bring the key
back. The clock-driven call to `destroy` is `kmscli.kms.lifecycle`'s.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kmscli.kms import multiregion, schedule, validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.model import KeyRecord, KeyState, format_timestamp
from kmscli.kms.states import check_state
from kmscli.store import Transaction

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

MIN_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 30
DEFAULT_WINDOW_DAYS = 30
KEYS = "keys"
ALIASES = "aliases"
# Record kinds whose records belong to one key, named "<region>/<key id>" or "<region>/<key
# id>/...": they go with the key.
KEY_SCOPED_KINDS = ("import-parameters", "grants")


def check_window(days: int | None) -> int:
    if days is None:
        return DEFAULT_WINDOW_DAYS
    if days < MIN_WINDOW_DAYS:
        raise validation.constraint_error(
            days,
            "pendingWindowInDays",
            f"Member must have value greater than or equal to {MIN_WINDOW_DAYS}",
        )
    if days > MAX_WINDOW_DAYS:
        raise validation.constraint_error(
            days,
            "pendingWindowInDays",
            f"Member must have value less than or equal to {MAX_WINDOW_DAYS}",
        )
    return days


def schedule_key_deletion(
    service: KmsService, key: str, pending_window_in_days: int | None = None
) -> dict[str, Any]:
    window = check_window(pending_window_in_days)
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        facts = RequestFacts(extra={"kms:ScheduleKeyDeletionPendingWindowInDays": window})
        service._authorize(tx, "ScheduleKeyDeletion", record, facts)
        check_state("ScheduleKeyDeletion", record)
        record.pending_window_days = window
        if record.is_primary and record.replica_regions:
            # The primary's own window starts only when its last replica is deleted.
            record.state = KeyState.PENDING_REPLICA_DELETION
            record.deletion_date = None
        else:
            record.state = KeyState.PENDING_DELETION
            record.deletion_date = format_timestamp(service.clock() + timedelta(days=window))
        service._save_key(tx, record)
    response: dict[str, Any] = {"KeyId": record.arn}
    if record.deletion_date is not None:
        response["DeletionDate"] = record.deletion_date
    response["KeyState"] = record.state
    response["PendingWindowInDays"] = window
    return response


def cancel_key_deletion(service: KmsService, key: str) -> dict[str, Any]:
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        service._authorize(tx, "CancelKeyDeletion", record)
        check_state("CancelKeyDeletion", record)
        record.state = KeyState.DISABLED  # always; the caller enables it again (§2)
        record.deletion_date = None
        record.pending_window_days = None
        service._save_key(tx, record)
    return {"KeyId": record.arn}


def destroy(service: KmsService, tx: Transaction, key: KeyRecord, when: datetime) -> None:
    """Remove the key and everything that belongs to it from the keyring, at `when`."""
    name = schedule.record_name(key)
    tx.delete(KEYS, name)
    schedule.note(tx, name, None)
    for alias_name in tx.list(ALIASES, prefix=f"{key.region}/"):
        raw = tx.get(ALIASES, alias_name)
        if raw is not None and json.loads(raw).get("target_key_id") == key.key_id:
            tx.delete(ALIASES, alias_name)
    for kind in KEY_SCOPED_KINDS:
        for record_name in tx.list(kind, prefix=name):
            if record_name == name or record_name.startswith(name + "/"):
                tx.delete(kind, record_name)
    if key.multi_region:
        multiregion.forget_replica(service, tx, key, when)
