"""KmsService: constructing one has no side effect; catching up on due work is `catch_up()`.

A real key-file keyring owes two events (a key whose waiting period has passed, a key whose
automatic rotation fell due); a service made at a later "now" must leave every byte of the
keyring as it was, and its explicit `catch_up()` must then perform both, audited as KMS's own
service events.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kmscli.errors import NotFoundException
from kmscli.kms.service import KmsService
from kmscli.store import Keyring, audit_log
from tests.unit.keyrings import open_kf

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=120)  # past a 7-day deletion window and one 90-day rotation
REGION = "us-east-1"


def _files(home: Path) -> dict[str, bytes | None]:
    """Every path under the keyring's home, with the bytes of each file (None: a directory)."""
    return {
        str(path.relative_to(home)): path.read_bytes() if path.is_file() else None
        for path in sorted(home.rglob("*"))
    }


def _service_events(keyring: Keyring) -> list[tuple[str, str]]:
    """(eventName, keyId) of each event KMS performed by itself, in trail order."""
    events = [json.loads(entry.event) for entry in audit_log(keyring).entries()]
    return [
        (event["eventName"], event["serviceEventDetails"]["keyId"])
        for event in events
        if event.get("eventType") == "AwsServiceEvent"
    ]


@pytest.fixture
def owing(tmp_path: Path) -> tuple[Keyring, str, str]:
    """A keyring owing a deletion and a rotation at LATER: (keyring, deleted key, rotated key)."""
    keyring = open_kf(tmp_path)
    service = KmsService(keyring, region=REGION, clock=lambda: NOW)
    doomed = service.create_key()["KeyMetadata"]["KeyId"]
    service.schedule_key_deletion(doomed, 7)
    rotating = service.create_key()["KeyMetadata"]["KeyId"]
    service.enable_key_rotation(rotating, 90)
    return keyring, doomed, rotating


def test_constructing_a_service_writes_nothing(owing: tuple[Keyring, str, str]) -> None:
    keyring, _, _ = owing
    before = _files(keyring.info.home)
    KmsService(keyring, region=REGION, clock=lambda: LATER)
    assert _files(keyring.info.home) == before
    assert _service_events(keyring) == []


def test_an_explicit_catch_up_performs_the_due_work(owing: tuple[Keyring, str, str]) -> None:
    keyring, doomed, rotating = owing
    service = KmsService(keyring, region=REGION, clock=lambda: LATER)
    assert service.catch_up() == 2
    assert sorted(_service_events(keyring)) == sorted(
        [("DeleteKey", doomed), ("RotateKey", rotating)]
    )
    with pytest.raises(NotFoundException):
        service.describe_key(doomed)
    assert len(service.list_key_rotations(rotating)["Rotations"]) == 1
    # Nothing more is due: a second call performs nothing and writes nothing.
    after = _files(keyring.info.home)
    assert service.catch_up() == 0
    assert _files(keyring.info.home) == after
