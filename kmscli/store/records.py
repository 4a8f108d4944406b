"""One record file's bytes: authenticated encryption bound to the record's kind and name.

Owns: the record file format. A record file is `KMSR` ‖ version 1 ‖ AES-GCM(records subkey,
u16 name length ‖ name ‖ data) with the kind and the file name as associated data, so an
edited byte, a file renamed onto another name or moved to another kind all fail to open, and a
record whose name does not give its file name (under the keyring's `Naming`) is refused. It
treats `data` as opaque bytes and does no I/O.
"""

from __future__ import annotations

import struct

from kmscli.crypto.primitives import AuthenticationError, aes_gcm_open, aes_gcm_seal
from kmscli.errors import KeyringCorruptError, ValidationException
from kmscli.store.layout import Naming, name_bytes
from kmscli.store.subkeys import Subkeys
from kmscli.store.versions import known_version

RECORD_MAGIC = b"KMSR"
RECORD_VERSION = 1
MAGIC = RECORD_MAGIC + bytes([RECORD_VERSION])
_AAD_LABEL = b"kmscli record v1\0"
_NAME_LEN = struct.Struct(">H")


def _aad(kind: str, filename: str) -> bytes:
    return _AAD_LABEL + kind.encode("ascii") + b"\0" + filename.encode("ascii")


def corrupt(where: str) -> KeyringCorruptError:
    return KeyringCorruptError(
        f"keyring file '{where}' failed its integrity check",
        hints=["restore the keyring directory from a backup"],
    )


def encode_record(keys: Subkeys, naming: Naming, kind: str, name: str, data: bytes) -> bytes:
    raw_name = name_bytes(name)
    plaintext = _NAME_LEN.pack(len(raw_name)) + raw_name + data
    return MAGIC + aes_gcm_seal(keys.records, plaintext, _aad(kind, naming.filename(kind, name)))


def decode_record(
    keys: Subkeys, naming: Naming, kind: str, filename: str, blob: bytes, *, where: str
) -> tuple[str, bytes]:
    """(name, data) of a record file; KeyringCorruptError naming `where` on any mismatch."""
    if not known_version(blob, RECORD_MAGIC, RECORD_VERSION, where=f"keyring file '{where}'"):
        raise corrupt(where)
    try:
        plaintext = aes_gcm_open(keys.records, blob[len(MAGIC) :], _aad(kind, filename))
    except AuthenticationError:
        raise corrupt(where) from None
    if len(plaintext) < _NAME_LEN.size:
        raise corrupt(where)
    (length,) = _NAME_LEN.unpack_from(plaintext)
    end = _NAME_LEN.size + length
    try:
        name = plaintext[_NAME_LEN.size : end].decode("utf-8")
    except UnicodeDecodeError:
        raise corrupt(where) from None
    try:
        if len(plaintext) < end or naming.filename(kind, name) != filename:
            raise corrupt(where)
    except ValidationException:
        raise corrupt(where) from None
    return name, plaintext[end:]
