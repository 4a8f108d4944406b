"""kmscli.kms.model: the key model's enums are AWS's own strings, in output and on disk.

The values are checked against botocore's KMS service model (the one the AWS CLI uses), so a
misspelt member, or one AWS does not have, shows up here.
"""

from __future__ import annotations

import json
from enum import StrEnum

import botocore.session
import pytest

from kmscli.crypto.keyspecs import KEY_USAGES
from kmscli.errors import KMSInternalException
from kmscli.kms.model import (
    ExpirationModel,
    ImportState,
    KeyManager,
    KeyRecord,
    KeyState,
    KeyUsage,
    Material,
    MaterialState,
    MultiRegionKeyType,
    Origin,
    RotationType,
)

MODEL = botocore.session.get_session().get_service_model("kms")

# (our enum, botocore's shape, whether we know every value AWS has)
ENUMS: list[tuple[type[StrEnum], str, bool]] = [
    (KeyState, "KeyState", True),
    (KeyUsage, "KeyUsageType", False),  # no ENCAPSULATE_DECAPSULATE: kmscli has no ML-KEM keys
    (Origin, "OriginType", True),
    (KeyManager, "KeyManagerType", True),
    (MultiRegionKeyType, "MultiRegionKeyType", True),
    (MaterialState, "KeyMaterialState", False),  # no pending-rotation states: no multi-material
    (RotationType, "RotationType", True),
    (ImportState, "ImportState", True),
    (ExpirationModel, "ExpirationModelType", True),
]


@pytest.mark.parametrize(("enum", "shape", "complete"), ENUMS, ids=[e[1] for e in ENUMS])
def test_enum_values_are_the_aws_strings(enum: type[StrEnum], shape: str, complete: bool) -> None:
    aws = set(MODEL.shape_for(shape).enum)
    ours = {member.value for member in enum}
    assert ours <= aws
    if complete:
        assert ours == aws
    for member in enum:
        assert str(member) == f"{member}" == member.value
        assert json.dumps(member) == json.dumps(member.value)


def test_key_usages_are_the_key_specs_usages() -> None:
    assert {usage.value for usage in KeyUsage} == set(KEY_USAGES)


def test_records_persist_the_same_strings_and_load_as_enums() -> None:
    record = KeyRecord(
        key_id="mrk-1234abcd12ab34cd56ef1234567890ab",
        region="us-east-1",
        account="111122223333",
        creation_date="2026-03-01T12:00:00.000000+00:00",
        origin="EXTERNAL",
        state="PendingImport",
        multi_region=True,
        multi_region_type="PRIMARY",
        materials=[
            Material(
                "ab" * 32,
                "",
                "2026-03-01T12:00:00.000000+00:00",
                import_state="PENDING_IMPORT",
            )
        ],
    )
    stored = json.loads(record.to_json())
    assert stored["state"] == "PendingImport" and type(stored["state"]) is str
    assert stored["origin"] == "EXTERNAL" and stored["key_usage"] == "ENCRYPT_DECRYPT"
    assert stored["key_manager"] == "CUSTOMER" and stored["multi_region_type"] == "PRIMARY"
    assert stored["materials"][0]["state"] == "CURRENT"
    assert stored["materials"][0]["import_state"] == "PENDING_IMPORT"
    loaded = KeyRecord.from_json(record.to_json())
    assert loaded.state is KeyState.PENDING_IMPORT
    assert loaded.origin is Origin.EXTERNAL
    assert loaded.key_usage is KeyUsage.ENCRYPT_DECRYPT
    assert loaded.key_manager is KeyManager.CUSTOMER
    assert loaded.multi_region_type is MultiRegionKeyType.PRIMARY
    assert loaded.materials[0].state is MaterialState.CURRENT
    assert loaded.materials[0].import_state is ImportState.PENDING_IMPORT
    metadata = json.loads(json.dumps(loaded.metadata()))
    assert metadata["KeyState"] == "PendingImport" and metadata["Enabled"] is False


def test_a_value_aws_does_not_have_is_refused_when_the_record_is_made() -> None:
    with pytest.raises(ValueError, match="Enabeld"):
        KeyRecord(
            key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
            region="us-east-1",
            account="111122223333",
            creation_date="2026-03-01T12:00:00.000000+00:00",
            state="Enabeld",
        )


def test_a_stored_record_with_an_unknown_value_is_a_bug_not_a_silent_pass() -> None:
    """Before the enums, an unknown state passed every check of the state table."""
    record = KeyRecord(
        key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
        region="us-east-1",
        account="111122223333",
        creation_date="2026-03-01T12:00:00.000000+00:00",
    )
    raw = record.to_json().replace(b'"Enabled"', b'"Enabeld"')
    with pytest.raises(KMSInternalException, match="us-east-1/1234abcd") as refused:
        KeyRecord.from_json(raw)
    assert "Enabeld" in refused.value.message and refused.value.exit_status == 1
