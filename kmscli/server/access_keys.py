"""Access keys kept in the keyring, each mapped to the principal whose requests it signs.

Owns: records of kind `access-keys` named by the access key ID (`AKIA` + 16 upper-case
alphanumerics, as AWS issues them), holding the principal ARN, the creation date, the status
and the 40-character secret sealed under the keyring (`Keyring.seal`, bound to the key ID);
creating (the only time the secret is returned), listing (never the secret), deleting, and the
server's lookup of ID → (principal, secret).

Must not: authorize, print, or keep a secret anywhere but sealed in its record.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kmscli.crypto.primitives import random_bytes
from kmscli.errors import NotFoundException, ValidationException
from kmscli.policy import Principal
from kmscli.store import Keyring, RecordView

KIND = "access-keys"
ID_PREFIX = "AKIA"
ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # base32, as AWS's key IDs
SECRET_BYTES = 30  # 40 Base64 characters
ACTIVE = "Active"


def _aad(access_key_id: str) -> bytes:
    return b"kmscli/access-key/v1\x00" + access_key_id.encode()


def new_access_key_id() -> str:
    return ID_PREFIX + "".join(ID_ALPHABET[b % 32] for b in random_bytes(16))


def new_secret() -> str:
    return base64.b64encode(random_bytes(SECRET_BYTES)).decode()


def is_access_key_id(value: str) -> bool:
    return (
        len(value) == 20
        and value.startswith(ID_PREFIX)
        and all(c in ID_ALPHABET for c in value[4:])
    )


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str
    principal: str
    create_date: str
    status: str
    sealed_secret: str

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AccessKey:
        return cls(**json.loads(raw))

    def metadata(self) -> dict[str, Any]:
        """IAM's AccessKeyMetadata shape, with the principal ARN kmscli maps the key to."""
        entry: dict[str, Any] = {
            "AccessKeyId": self.access_key_id,
            "Status": self.status,
            "CreateDate": self.create_date,
            "PrincipalArn": self.principal,
        }
        name = Principal.parse(self.principal).name
        if name:
            entry["UserName"] = name
        return entry


def _check_principal(arn: str) -> Principal:
    principal = Principal.parse(arn)
    if principal.is_service:
        raise ValidationException(
            f"'{arn}' is a service principal: AWS services do not sign with access keys"
        )
    return principal


def create_access_key(keyring: Keyring, principal_arn: str, now: datetime) -> dict[str, Any]:
    """A new access key for `principal_arn`: `{"AccessKey": {..., "SecretAccessKey"}}`."""
    principal = _check_principal(principal_arn)
    secret = new_secret()
    with keyring.write() as tx:
        access_key_id = new_access_key_id()
        while tx.get(KIND, access_key_id) is not None:  # pragma: no cover - 2**80 IDs
            access_key_id = new_access_key_id()
        sealed = keyring.seal(secret.encode(), _aad(access_key_id))
        record = AccessKey(
            access_key_id=access_key_id,
            principal=principal.arn,
            create_date=now.astimezone(UTC).isoformat(timespec="seconds"),
            status=ACTIVE,
            sealed_secret=base64.b64encode(sealed).decode(),
        )
        tx.put(KIND, access_key_id, record.to_json())
    return {"AccessKey": {**record.metadata(), "SecretAccessKey": secret}}


def _records(view: RecordView) -> list[AccessKey]:
    found = []
    for name in view.list(KIND):
        raw = view.get(KIND, name)
        if raw is not None:
            found.append(AccessKey.from_json(raw))
    return found


def list_access_keys(keyring: Keyring, principal_arn: str | None = None) -> dict[str, Any]:
    """`{"AccessKeyMetadata": [...]}`, oldest first, optionally of one principal; no secrets."""
    wanted = None if principal_arn is None else _check_principal(principal_arn).arn
    with keyring.read() as view:
        records = _records(view)
    entries = [
        r.metadata()
        for r in sorted(records, key=lambda r: (r.create_date, r.access_key_id))
        if wanted is None or r.principal == wanted
    ]
    return {"AccessKeyMetadata": entries, "IsTruncated": False}


def _missing(access_key_id: str) -> NotFoundException:
    return NotFoundException(f"The Access Key with id {access_key_id} cannot be found.")


def delete_access_key(keyring: Keyring, access_key_id: str) -> dict[str, Any]:
    with keyring.write() as tx:
        if not is_access_key_id(access_key_id) or tx.get(KIND, access_key_id) is None:
            raise _missing(access_key_id)
        tx.delete(KIND, access_key_id)
    return {}


def lookup(keyring: Keyring, access_key_id: str) -> tuple[str, str] | None:
    """(principal ARN, secret) of an active access key, or None if there is none."""
    if not is_access_key_id(access_key_id):
        return None
    with keyring.read() as view:
        raw = view.get(KIND, access_key_id)
    if raw is None:
        return None
    record = AccessKey.from_json(raw)
    if record.status != ACTIVE:
        return None
    secret = keyring.unseal(
        base64.b64decode(record.sealed_secret),
        _aad(access_key_id),
        where=f"the secret of access key {access_key_id}",
    )
    return record.principal, secret.decode()
