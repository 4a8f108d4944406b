"""The KMS key record as kept in the keyring, and its AWS-shaped `KeyMetadata`.

Owns the record's fields, its JSON form (schema of the `keys` records) and how it is shown as AWS
shows it. It holds key material only in sealed form; unsealing is the service's job, through the
keyring. It must not touch the store or decide permissions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from kmscli.kms.ids import key_arn

# Key states (kms-behaviour.md §2).
ENABLED = "Enabled"
DISABLED = "Disabled"
PENDING_DELETION = "PendingDeletion"
PENDING_IMPORT = "PendingImport"

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
ORIGIN_AWS_KMS = "AWS_KMS"
CUSTOMER = "CUSTOMER"
AWS_MANAGED = "AWS"

CURRENT = "CURRENT"
NON_CURRENT = "NON_CURRENT"

KEY_RECORD_VERSION = 1


def format_timestamp(instant: datetime) -> str:
    """ISO 8601 with zone, as the AWS CLI prints timestamps."""
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Material:
    """One version of a key's secret bytes, sealed under the keyring root key."""

    material_id: str
    sealed: str  # base64 of the sealed bytes
    created: str
    state: str = CURRENT
    rotation_type: str | None = None  # None for the original material


@dataclass
class KeyRecord:
    key_id: str
    region: str
    account: str
    creation_date: str
    description: str = ""
    key_usage: str = ENCRYPT_DECRYPT
    key_spec: str = SYMMETRIC_DEFAULT
    origin: str = ORIGIN_AWS_KMS
    key_manager: str = CUSTOMER
    state: str = ENABLED
    multi_region: bool = False
    policy: str = ""
    tags: list[dict[str, str]] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    deletion_date: str | None = None
    pending_window_days: int | None = None

    @property
    def arn(self) -> str:
        return key_arn(self.region, self.account, self.key_id)

    @property
    def current_material(self) -> Material | None:
        for material in self.materials:
            if material.state == CURRENT:
                return material
        return None

    def material(self, material_id: str) -> Material | None:
        for material in self.materials:
            if material.material_id == material_id:
                return material
        return None

    @property
    def is_aws_managed(self) -> bool:
        return self.key_manager == AWS_MANAGED

    def to_json(self) -> bytes:
        data = asdict(self)
        data["record_version"] = KEY_RECORD_VERSION
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> KeyRecord:
        data: dict[str, Any] = json.loads(raw)
        data.pop("record_version", None)
        data["materials"] = [Material(**m) for m in data.get("materials", [])]
        return cls(**data)

    def metadata(self) -> dict[str, Any]:
        """`KeyMetadata` exactly as DescribeKey/CreateKey return it."""
        meta: dict[str, Any] = {
            "AWSAccountId": self.account,
            "KeyId": self.key_id,
            "Arn": self.arn,
            "CreationDate": self.creation_date,
            "Enabled": self.state == ENABLED,
            "Description": self.description,
            "KeyUsage": self.key_usage,
            "KeyState": self.state,
            "Origin": self.origin,
            "KeyManager": self.key_manager,
            "CustomerMasterKeySpec": self.key_spec,
            "KeySpec": self.key_spec,
            "EncryptionAlgorithms": [SYMMETRIC_DEFAULT],
            "MultiRegion": self.multi_region,
        }
        if self.deletion_date is not None:
            meta["DeletionDate"] = self.deletion_date
        if self.pending_window_days is not None:
            meta["PendingDeletionWindowInDays"] = self.pending_window_days
        current = self.current_material
        if current is not None:
            meta["CurrentKeyMaterialId"] = current.material_id
        return meta
