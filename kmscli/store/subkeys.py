"""The keyring's key schedule: one HKDF subkey of the root key per purpose.

Owns: the derivation labels and the key-check value that tells a wrong root key from a
corrupt header. It never sees a file, a passphrase or a record; a new purpose gets a new label
here, and no subkey is ever used for two purposes.
"""

from __future__ import annotations

from typing import Final

from kmscli.crypto.primitives import hkdf_sha256, hmac_sha256, hmac_sha256_verify

_LABEL = b"kmscli/keyring/v1/"
_KEY_CHECK = b"kmscli root key check v1"


class Subkeys:
    """One subkey per purpose (a plain class: cheaper to create at import than a NamedTuple or
    dataclass, and nothing ever compares or prints subkeys)."""

    __slots__ = (
        "audit",
        "audit_seal",
        "backup",
        "fingerprint",
        "header_mac",
        "journal",
        "key_check",
        "names",
        "records",
        "seal",
    )

    def __init__(
        self,
        *,
        key_check: bytes,
        header_mac: bytes,
        records: bytes,
        journal: bytes,
        seal: bytes,
        audit: bytes,
        audit_seal: bytes,
        backup: bytes,
        fingerprint: bytes,
        names: bytes,
    ) -> None:
        self.key_check: Final = key_check
        self.header_mac: Final = header_mac
        self.records: Final = records
        self.journal: Final = journal
        self.seal: Final = seal
        self.audit: Final = audit
        self.audit_seal: Final = audit_seal
        self.backup: Final = backup
        self.fingerprint: Final = fingerprint
        self.names: Final = names

    def __repr__(self) -> str:  # never print key bytes
        return "Subkeys(<redacted>)"


def derive(root_key: bytes, keyring_id: str) -> Subkeys:
    # The keyring id salts every derivation, so two keyrings sharing one root key file still
    # get unrelated subkeys.
    salt = keyring_id.encode("ascii")

    def sub(purpose: bytes) -> bytes:
        return hkdf_sha256(root_key, info=_LABEL + purpose, salt=salt)

    return Subkeys(
        key_check=sub(b"key-check"),
        header_mac=sub(b"header-mac"),
        records=sub(b"records"),
        journal=sub(b"journal"),
        seal=sub(b"seal"),
        audit=sub(b"audit"),
        audit_seal=sub(b"audit-seal"),
        backup=sub(b"backup"),
        fingerprint=sub(b"fingerprint"),
        names=sub(b"record-names"),
    )


def key_check_value(keys: Subkeys) -> bytes:
    return hmac_sha256(keys.key_check, _KEY_CHECK)


def key_check_matches(keys: Subkeys, value: bytes) -> bool:
    """Whether `value` (a header's key check) is that of these subkeys' root key."""
    return hmac_sha256_verify(keys.key_check, _KEY_CHECK, value)
