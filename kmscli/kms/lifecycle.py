"""KMS's own clock-driven work: what fell due since the keyring was last opened happens now.

Owns `catch_up`: a cheap check of the due index (one small record under the shared lock) and,
only when something is due, one write transaction that performs every due event in time order,
each at the instant it fell due: automatic rotations (dated as AWS would have dated them),
destruction of keys whose waiting period has passed, and expiry of imported material. A key's
events can start another's (the last replica's deletion starts its primary's window), so the
index is re-read after each one. The events themselves belong to `rotation`, `deletion` and
`imports`; the index to `schedule`. Nothing here is authorized: it is KMS acting, not a caller.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from kmscli.kms import audit, schedule
from kmscli.kms.model import KeyRecord, KeyState, parse_timestamp
from kmscli.store import Transaction

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

KEYS = "keys"
# A runaway guard: far more events than any keyring can owe (rotations are >= 90 days apart).
MAX_EVENTS = 100_000


def catch_up(service: KmsService) -> int:
    """Perform every event due at the service's "now"; returns how many were performed."""
    now = service.clock()
    with service.keyring.read() as view:
        index = schedule.load(view)
        if index is None:
            if not view.list(KEYS):
                return 0
            index = schedule.rebuild(view)
            missing = True
        else:
            missing = False
        first = schedule.earliest(index)
    if not missing and (first is None or first > now):
        return 0
    events: list[tuple[str, str, datetime]] = []
    with service.keyring.write() as tx:
        if schedule.load(tx) is None:
            schedule.store(tx, schedule.rebuild(tx))
        performed = _perform_due(service, tx, now, events)
        # Committed with the changes they describe: both happen, or neither does.
        for event_name, arn, instant in events:
            tx.audit(audit.service_event(service, event_name, arn, instant))
    return performed


def _perform_due(
    service: KmsService, tx: Transaction, now: datetime, events: list[tuple[str, str, datetime]]
) -> int:
    performed = 0
    while performed < MAX_EVENTS:
        index = schedule.load(tx) or {}
        due = sorted(
            (parse_timestamp(value), name)
            for name, value in index.items()
            if parse_timestamp(value) <= now
        )
        if not due:
            break
        instant, name = due[0]
        raw = tx.get(KEYS, name)
        if raw is None:
            schedule.note(tx, name, None)
            continue
        key = KeyRecord.from_json(raw)
        event_name = _advance(service, tx, key, instant)
        if event_name is None:
            # The index disagreed with the record: trust the record.
            actual = schedule.next_event(key)
            schedule.note(tx, name, actual)
            if actual is not None and actual <= instant:
                break  # nothing here can make progress; never loop
            continue
        events.append((event_name, key.arn, instant))
        performed += 1
    return performed


def _advance(service: KmsService, tx: Transaction, key: KeyRecord, instant: datetime) -> str | None:
    """Perform `key`'s one event due at `instant`; its audit event name, None if none was due."""
    from kmscli.kms import deletion, imports, rotation  # only when something is due

    if (
        key.state == KeyState.PENDING_DELETION
        and key.deletion_date is not None
        and parse_timestamp(key.deletion_date) <= instant
    ):
        deletion.destroy(service, tx, key, instant)
        return "DeleteKey"
    if imports.expire_due_material(service, tx, key, instant):
        service._save_key(tx, key)
        return "DeleteExpiredKeyMaterial"
    due = schedule.next_rotation(key)
    if key.state == KeyState.ENABLED and due is not None and due <= instant:
        rotation.rotate_automatically_at(service, tx, key, due)
        service._save_key(tx, key)
        return "RotateKey"
    return None
