"""The keyring header file: its format, schema version and authentication.

Owns: encoding and parsing `<home>/header`, the schema version check, and the header MAC. It
does not find or unwrap the root key (rootkey does) and never touches records.

The file is two lines of compact JSON:

    {"account_id":…,"created":…,"format":"kmscli-keyring","keyring_id":…,"schema_version":2,…}
    {"mac":"<hex HMAC-SHA256 of line 1 under the header subkey>","sha256":"<hex of line 1>"}

The unkeyed SHA-256 is checked first, so any edited byte is reported as corruption before the
root key is even looked for; the MAC (checked once the root key is known) stops deliberate
edits. A wrong root key is told apart by `key_check` (see subkeys), which the SHA-256 covers.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from kmscli.crypto.primitives import hmac_sha256, hmac_sha256_verify, sha256
from kmscli.errors import KeyringCorruptError, KeyringVersionError
from kmscli.store.layout import HEADER
from kmscli.store.rootkey import Argon2Params
from kmscli.store.subkeys import Subkeys

FORMAT = "kmscli-keyring"
SCHEMA_VERSION = 2  # 2: opaque record file names (layout.Naming); 1 is read and migrated
KEY_FILE = "key-file"
PASSPHRASE = "passphrase"  # noqa: S105 (the mode name, not a secret)

_MAC_LABEL = b"kmscli header v1\0"
_KEYRING_ID = re.compile(r"[0-9a-f]{32}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_HEX = re.compile(r"(?:[0-9a-f]{2})+")


class Header:
    """A parsed header: its fields, and the body and MAC as read (a plain class: cheaper to
    create at import than a NamedTuple or dataclass)."""

    __slots__ = (
        "account_id",
        "body",
        "created",
        "kdf",
        "key_check",
        "keyring_id",
        "mac",
        "protection",
        "schema_version",
        "wrapped_root_key",
    )

    def __init__(
        self,
        *,
        schema_version: int,
        keyring_id: str,
        account_id: str,
        created: str,
        protection: str,
        key_check: bytes,
        kdf: Argon2Params | None,
        wrapped_root_key: bytes | None,
        body: bytes,
        mac: bytes,
    ) -> None:
        self.schema_version: Final = schema_version
        self.keyring_id: Final = keyring_id
        self.account_id: Final = account_id
        self.created: Final = created
        self.protection: Final = protection
        self.key_check: Final = key_check
        self.kdf: Final = kdf
        self.wrapped_root_key: Final = wrapped_root_key
        self.body: Final = body
        self.mac: Final = mac


def _dumps(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def body_fields(
    *,
    keyring_id: str,
    account_id: str,
    created: str,
    protection: str,
    key_check: bytes,
    kdf: Argon2Params | None = None,
    wrapped_root_key: bytes | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "keyring_id": keyring_id,
        "account_id": account_id,
        "created": created,
        "protection": protection,
        "key_check": key_check.hex(),
    }
    if kdf is not None:
        fields["kdf"] = {
            "name": "argon2id",
            "memory_kib": kdf.memory_kib,
            "iterations": kdf.iterations,
            "lanes": kdf.lanes,
            "salt": kdf.salt.hex(),
        }
    if wrapped_root_key is not None:
        fields["wrapped_root_key"] = wrapped_root_key.hex()
    return fields


def encode_header(fields: dict[str, Any], keys: Subkeys) -> bytes:
    body = _dumps(fields)
    trailer = {"mac": _mac(keys, body).hex(), "sha256": sha256(body).hex()}
    return body + b"\n" + _dumps(trailer) + b"\n"


def _mac(keys: Subkeys, body: bytes) -> bytes:
    return hmac_sha256(keys.header_mac, _MAC_LABEL + body)


def _corrupt(detail: str = "failed its integrity check") -> KeyringCorruptError:
    return KeyringCorruptError(
        f"keyring file '{HEADER}' {detail}",
        hints=["restore the keyring directory from a backup"],
    )


def _hex_field(obj: dict[str, Any], key: str) -> bytes:
    value = obj.get(key)
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise _corrupt(f"has an invalid '{key}'")
    return bytes.fromhex(value)


def _int_field(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _corrupt(f"has an invalid '{key}'")
    return value


def _str_field(obj: dict[str, Any], key: str, pattern: re.Pattern[str] | None = None) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or (pattern is not None and not pattern.fullmatch(value)):
        raise _corrupt(f"has an invalid '{key}'")
    return value


def parse_header(data: bytes) -> Header:
    """Parse and integrity-check the header (not the MAC: that needs the root key)."""
    lines = data.split(b"\n")
    if len(lines) != 3 or lines[2] != b"":
        raise _corrupt()
    body, trailer_bytes = lines[0], lines[1]
    try:
        trailer = json.loads(trailer_bytes)
    except ValueError:
        raise _corrupt() from None
    if not isinstance(trailer, dict) or _dumps(trailer) != trailer_bytes:
        raise _corrupt()
    digest = _hex_field(trailer, "sha256")
    mac = _hex_field(trailer, "mac")
    if digest != sha256(body):  # an unkeyed checksum of public bytes: nothing to leak
        raise _corrupt()
    try:
        fields = json.loads(body)
    except ValueError:
        raise _corrupt() from None
    if not isinstance(fields, dict) or fields.get("format") != FORMAT:
        raise _corrupt("is not a kmscli keyring header")
    version = _int_field(fields, "schema_version")
    if version > SCHEMA_VERSION:
        raise KeyringVersionError(
            f"the keyring has schema version {version}; this kmscli knows up to {SCHEMA_VERSION}",
            hints=["upgrade kmscli to use this keyring"],
        )
    if version < 1:
        raise _corrupt("has an invalid 'schema_version'")
    protection = _str_field(fields, "protection")
    kdf: Argon2Params | None = None
    wrapped: bytes | None = None
    if protection == PASSPHRASE:
        raw_kdf = fields.get("kdf")
        if not isinstance(raw_kdf, dict) or raw_kdf.get("name") != "argon2id":
            raise _corrupt("has an invalid 'kdf'")
        kdf = Argon2Params(
            memory_kib=_int_field(raw_kdf, "memory_kib"),
            iterations=_int_field(raw_kdf, "iterations"),
            lanes=_int_field(raw_kdf, "lanes"),
            salt=_hex_field(raw_kdf, "salt"),
        )
        kdf.check(HEADER)
        wrapped = _hex_field(fields, "wrapped_root_key")
    elif protection != KEY_FILE:
        raise _corrupt("has an invalid 'protection'")
    return Header(
        schema_version=version,
        keyring_id=_str_field(fields, "keyring_id", _KEYRING_ID),
        account_id=_str_field(fields, "account_id", _ACCOUNT_ID),
        created=_str_field(fields, "created"),
        protection=protection,
        key_check=_hex_field(fields, "key_check"),
        kdf=kdf,
        wrapped_root_key=wrapped,
        body=body,
        mac=mac,
    )


def verify_mac(header: Header, keys: Subkeys) -> None:
    if not hmac_sha256_verify(keys.header_mac, _MAC_LABEL + header.body, header.mac):
        raise _corrupt()
