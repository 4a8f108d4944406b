"""kmscli.kms.invariants: saving an inconsistent key record is refused, and nothing is written.

Each case takes a record that real operations made in a real keyring, breaks one rule, and saves
it the way every operation does; the save must raise KMSInternalException (exit 1: a bug) and
leave every file of the keyring as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kmscli.errors import KMSInternalException
from kmscli.kms.invariants import check_key_record
from kmscli.kms.model import KeyRecord, KeyState, KeyUsage, Material, MaterialState
from kmscli.kms.service import KmsService
from kmscli.kmsapi.shapes import KeyMetadataResponse
from kmscli.store import open_keyring

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
SEALED = "c2VhbGVk"  # any non-empty base64: a material whose secret is present


def _no_passphrase() -> bytes | None:
    raise AssertionError("a key-file keyring never asks for a passphrase")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def service(home: Path, tmp_path: Path) -> KmsService:
    keyring = open_keyring(
        home, root_key_file=None, root_key_dir=tmp_path / "config", passphrase=_no_passphrase
    )
    return KmsService(keyring, region=REGION, clock=lambda: NOW)


def _key_id(response: KeyMetadataResponse) -> str:
    return response["KeyMetadata"]["KeyId"]


def _made(service: KmsService, kind: str) -> tuple[str, str]:
    """(region, key ID) of a fresh key of `kind`, made by the service's own operations."""
    if kind == "symmetric":
        key_id = _key_id(service.create_key())
        service.enable_key_rotation(key_id)
        service.rotate_key_on_demand(key_id)  # two materials: one CURRENT, one NON_CURRENT
        return REGION, key_id
    if kind == "external":
        return REGION, _key_id(service.create_key(origin="EXTERNAL"))
    if kind == "rsa":
        return REGION, _key_id(service.create_key(key_spec="RSA_2048", key_usage="SIGN_VERIFY"))
    if kind in {"primary", "replica"}:
        key_id = _key_id(service.create_key(multi_region=True))
        service.replicate_key(key_id, OTHER_REGION)
        return (REGION if kind == "primary" else OTHER_REGION), key_id
    assert kind == "aws-managed"
    service.generate_data_key("alias/aws/kmscli", key_spec="AES_256", via_service=True)
    aliases = service.list_aliases()["Aliases"]
    [managed] = [a for a in aliases if a["AliasName"] == "alias/aws/kmscli"]
    return REGION, str(managed["TargetKeyId"])


def _load(service: KmsService, region: str, key_id: str) -> KeyRecord:
    with service.keyring.read() as view:
        raw = view.get("keys", f"{region}/{key_id}")
    assert raw is not None
    return KeyRecord.from_json(raw)


def _snapshot(home: Path) -> dict[str, str]:
    return {
        str(path.relative_to(home)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def _second_current(key: KeyRecord) -> None:
    for material in key.materials:
        material.state = MaterialState.CURRENT


def _no_current(key: KeyRecord) -> None:
    for material in key.materials:
        material.state = MaterialState.NON_CURRENT


def _secret_gone(key: KeyRecord) -> None:
    key.materials[0].sealed = ""


def _duplicate_material(key: KeyRecord) -> None:
    first = key.materials[0]
    key.materials.append(
        Material(first.material_id, SEALED, first.created, MaterialState.NON_CURRENT)
    )


def _deletion_date_while_enabled(key: KeyRecord) -> None:
    key.deletion_date = "2026-03-31T12:00:00.000000+00:00"


def _pending_deletion_without_date(key: KeyRecord) -> None:
    key.state = KeyState.PENDING_DELETION
    key.pending_window_days = 30


def _window_while_enabled(key: KeyRecord) -> None:
    key.pending_window_days = 7


def _stored_creating(key: KeyRecord) -> None:
    key.state = KeyState.CREATING


def _pending_import_aws_kms(key: KeyRecord) -> None:
    key.state = KeyState.PENDING_IMPORT


def _pending_import_with_material(key: KeyRecord) -> None:
    key.materials.append(Material("ab" * 32, SEALED, key.creation_date))


def _expiring_without_valid_to(key: KeyRecord) -> None:
    key.state = KeyState.ENABLED
    key.materials.append(
        Material("ab" * 32, SEALED, key.creation_date, expiration_model="KEY_MATERIAL_EXPIRES")
    )


def _sign_usage_on_symmetric(key: KeyRecord) -> None:
    key.key_usage = KeyUsage.SIGN_VERIFY


def _mac_usage_on_rsa(key: KeyRecord) -> None:
    key.key_usage = KeyUsage.GENERATE_VERIFY_MAC


def _rotation_on_rsa(key: KeyRecord) -> None:
    key.rotation_enabled = True
    key.rotation_period_days = 365
    key.next_rotation_date = "2027-03-01T12:00:00.000000+00:00"


def _rotation_on_external(key: KeyRecord) -> None:
    key.on_demand_rotations = 1


def _period_while_rotation_off(key: KeyRecord) -> None:
    key.rotation_enabled = False


def _replica_regions_on_single_region(key: KeyRecord) -> None:
    key.replica_regions = [OTHER_REGION]


def _replica_without_primary(key: KeyRecord) -> None:
    key.primary_region = None


def _replica_not_in_its_list(key: KeyRecord) -> None:
    key.replica_regions = []


def _primary_listed_as_replica(key: KeyRecord) -> None:
    key.replica_regions.append(REGION)


def _replica_listed_twice(key: KeyRecord) -> None:
    key.replica_regions.append(OTHER_REGION)


def _primary_naming_another_primary(key: KeyRecord) -> None:
    key.primary_region = "ap-south-1"


def _pending_replica_deletion_without_replicas(key: KeyRecord) -> None:
    key.state = KeyState.PENDING_REPLICA_DELETION
    key.pending_window_days = 30
    key.replica_regions = []


def _aws_managed_multi_region(key: KeyRecord) -> None:
    key.multi_region = True


Corruption = Callable[[KeyRecord], None]

CASES: list[tuple[str, Corruption, str]] = [
    ("symmetric", _second_current, "2 CURRENT materials"),
    ("symmetric", _no_current, "without exactly one CURRENT material"),
    ("symmetric", _secret_gone, "secret is gone"),
    ("symmetric", _duplicate_material, "same ID"),
    ("symmetric", _deletion_date_while_enabled, "a deletion date on a key in state Enabled"),
    ("symmetric", _pending_deletion_without_date, "PendingDeletion without a deletion date"),
    ("symmetric", _window_while_enabled, "pending deletion window on a key in state Enabled"),
    ("symmetric", _stored_creating, "state Creating is never stored"),
    ("symmetric", _pending_import_aws_kms, "PendingImport on a key of origin AWS_KMS"),
    ("external", _pending_import_with_material, "PendingImport while key material is present"),
    ("external", _expiring_without_valid_to, "ValidTo must be set exactly when it expires"),
    ("symmetric", _sign_usage_on_symmetric, "SIGN_VERIFY does not fit key spec SYMMETRIC"),
    ("rsa", _mac_usage_on_rsa, "GENERATE_VERIFY_MAC does not fit key spec RSA_2048"),
    ("rsa", _rotation_on_rsa, "rotation settings on a RSA_2048 key"),
    ("external", _rotation_on_external, "rotation settings on a SYMMETRIC_DEFAULT key of origin"),
    ("symmetric", _period_while_rotation_off, "rotation period or date while automatic rotation"),
    ("symmetric", _replica_regions_on_single_region, "regions on a single-Region key"),
    ("replica", _replica_without_primary, "does not name a primary"),
    ("replica", _replica_not_in_its_list, "not in its set's replica list"),
    ("primary", _primary_listed_as_replica, "also listed as a replica Region"),
    ("replica", _replica_listed_twice, "replica Region listed twice"),
    ("primary", _primary_naming_another_primary, "primary Region is ap-south-1"),
    ("primary", _pending_replica_deletion_without_replicas, "not a primary with replicas"),
    ("aws-managed", _aws_managed_multi_region, "AWS managed key that is not a single-Region"),
]


@pytest.mark.parametrize(
    ("kind", "corrupt", "rule"), CASES, ids=[case[1].__name__.lstrip("_") for case in CASES]
)
def test_an_inconsistent_record_is_refused_and_nothing_is_written(
    service: KmsService, home: Path, kind: str, corrupt: Corruption, rule: str
) -> None:
    region, key_id = _made(service, kind)
    record = _load(service, region, key_id)
    before = _snapshot(home)
    corrupt(record)
    with pytest.raises(KMSInternalException) as refused, service.keyring.write() as tx:
        service._save_key(tx, record)
    assert refused.value.exit_status == 1
    assert rule in refused.value.message
    assert record.arn in refused.value.message
    assert _snapshot(home) == before
    assert _load(service, region, key_id) != record


@pytest.mark.parametrize(
    "kind", ["symmetric", "external", "rsa", "primary", "replica", "aws-managed"]
)
def test_records_made_by_the_operations_save_as_they_are(
    service: KmsService, home: Path, kind: str
) -> None:
    """The control for the cases above: the same records, unbroken, save and are consistent."""
    region, key_id = _made(service, kind)
    record = _load(service, region, key_id)
    check_key_record(record)
    with service.keyring.write() as tx:
        service._save_key(tx, record)
    assert _load(service, region, key_id) == record


def test_the_refusal_names_every_broken_rule(service: KmsService) -> None:
    region, key_id = _made(service, "symmetric")
    record = _load(service, region, key_id)
    _stored_creating(record)
    _window_while_enabled(record)
    with pytest.raises(KMSInternalException) as refused:
        check_key_record(record)
    assert "state Creating is never stored" in refused.value.message
    assert "pending deletion window on a key in state Creating" in refused.value.message
    assert any("bug" in hint for hint in refused.value.hints)
