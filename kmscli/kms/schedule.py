"""The due index: when each key next needs KMS to act on its own (rotate, delete, expire).

Owns one record (`schedule/due`) mapping each key's record name to the instant of its next
clock-driven event, and `next_event`, the rule that computes that instant from a key record. It
exists so that every command can tell in one small read whether anything is due, instead of
opening every key. The work itself is `kmscli.kms.lifecycle`'s; this module only keeps the index.
A keyring without the index (written before it existed) has it rebuilt from the key records.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from kmscli.kms.model import KeyManager, KeyRecord, KeyState, parse_timestamp
from kmscli.store import RecordView, Transaction

KIND = "schedule"
NAME = "due"
KEYS = "keys"
DEFAULT_PERIOD_DAYS = 365
AWS_MANAGED_PERIOD_DAYS = 365


def record_name(key: KeyRecord) -> str:
    return f"{key.region}/{key.key_id}"


def rotates_automatically(key: KeyRecord) -> bool:
    """Whether the key's own schedule makes it rotate (AWS managed keys always do)."""
    if key.is_replica:
        return False  # the primary rotates and hands the material to its replicas
    return key.rotation_enabled or key.key_manager == KeyManager.AWS


def period_of(key: KeyRecord) -> int:
    """The key's rotation period in days (AWS managed keys: a year)."""
    if key.rotation_period_days is not None:
        return key.rotation_period_days
    return AWS_MANAGED_PERIOD_DAYS if key.key_manager == KeyManager.AWS else DEFAULT_PERIOD_DAYS


def next_rotation(key: KeyRecord) -> datetime | None:
    """When the key's own schedule next rotates it (None: it has no schedule)."""
    if not rotates_automatically(key):
        return None
    if key.next_rotation_date is not None:
        return parse_timestamp(key.next_rotation_date)
    if key.key_manager == KeyManager.AWS:  # a record from before schedules were kept
        dates = [m.rotation_date for m in key.materials if m.rotation_date is not None]
        anchor = parse_timestamp(max(dates, default=key.creation_date))
        return anchor + timedelta(days=period_of(key))
    return None


def next_event(key: KeyRecord) -> datetime | None:
    """The earliest instant at which the clock changes this key, or None."""
    instants: list[datetime] = []
    rotation = next_rotation(key)
    if key.state == KeyState.ENABLED and rotation is not None:
        instants.append(rotation)
    if key.state == KeyState.PENDING_DELETION and key.deletion_date:
        instants.append(parse_timestamp(key.deletion_date))
    instants.extend(
        parse_timestamp(m.valid_to) for m in key.materials if m.present and m.valid_to is not None
    )
    return min(instants) if instants else None


def load(view: RecordView) -> dict[str, str] | None:
    """The index (record name → ISO instant), or None when this keyring has none yet."""
    raw = view.get(KIND, NAME)
    if raw is None:
        return None
    data: dict[str, str] = json.loads(raw)
    return data


def rebuild(view: RecordView) -> dict[str, str]:
    """The index computed from every key record."""
    index: dict[str, str] = {}
    for name in view.list(KEYS):
        raw = view.get(KEYS, name)
        if raw is None:
            continue
        instant = next_event(KeyRecord.from_json(raw))
        if instant is not None:
            index[name] = instant.isoformat()
    return index


def earliest(index: dict[str, str]) -> datetime | None:
    return min((parse_timestamp(v) for v in index.values()), default=None)


def store(tx: Transaction, index: dict[str, str]) -> None:
    tx.put(KIND, NAME, json.dumps(index, sort_keys=True, separators=(",", ":")).encode())


def note(tx: Transaction, name: str, instant: datetime | None) -> None:
    """Record key `name`'s next event (None: nothing scheduled); writes only on a change."""
    index = load(tx)
    if index is None:
        index = rebuild(tx)
        changed = True
    else:
        changed = False
    value = None if instant is None else instant.isoformat()
    if index.get(name) != value:
        changed = True
        if value is None:
            index.pop(name, None)
        else:
            index[name] = value
    if changed:
        store(tx, index)
