"""The ciphertext blob of direct Encrypt / GenerateDataKey: kmscli's own format.

Layout (all integers unsigned):

    magic      4   b"KMSB"
    version    1   0x01
    id length  1   length of the key ID
    key ID     n   ASCII, the bare key ID (so a multi-Region key decrypts in any of its Regions)
    material  32   the key material ID (64 hex digits, stored as raw bytes)
    nonce     12   random
    ciphertext     AES-256-GCM of the plaintext, followed by the 16-byte tag

The associated data is every byte before the nonce, a NUL, then the canonical encryption context
(UTF-8 JSON with keys sorted by code point, no whitespace), so the key identity and the context
are both bound. A blob is at most 6144 bytes, as AWS's CiphertextBlob.

This module owns the byte layout only; choosing the key and material is the service's job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from kmscli.crypto.primitives import (
    GCM_NONCE_BYTES,
    GCM_TAG_BYTES,
    AuthenticationError,
    aes_gcm_open,
    aes_gcm_seal,
)
from kmscli.errors import InvalidCiphertextException

MAGIC = b"KMSB"
VERSION = 1
MATERIAL_ID_BYTES = 32
MAX_BLOB_BYTES = 6144


class BlobHeader:
    """A parsed blob: the key and material it names, its header bytes and the sealed rest.
    (A plain class: far cheaper to create at import than a NamedTuple or a dataclass.)"""

    __slots__ = ("header_bytes", "key_id", "material_id", "sealed")

    def __init__(self, key_id: str, material_id: str, header_bytes: bytes, sealed: bytes) -> None:
        self.key_id: Final = key_id
        self.material_id: Final = material_id
        self.header_bytes: Final = header_bytes
        self.sealed: Final = sealed


def looks_like_blob(data: bytes) -> bool:
    return data[: len(MAGIC)] == MAGIC


def canonical_context(encryption_context: Mapping[str, str]) -> bytes:
    return json.dumps(
        dict(encryption_context), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _header(key_id: str, material_id: str) -> bytes:
    raw_id = key_id.encode("ascii")
    return MAGIC + bytes([VERSION, len(raw_id)]) + raw_id + bytes.fromhex(material_id)


def seal_blob(
    material: bytes,
    key_id: str,
    material_id: str,
    plaintext: bytes,
    encryption_context: Mapping[str, str],
) -> bytes:
    header = _header(key_id, material_id)
    aad = header + b"\x00" + canonical_context(encryption_context)
    return header + aes_gcm_seal(material, plaintext, aad)


def parse_blob(blob: bytes) -> BlobHeader:
    """Split a blob into its header fields; anything malformed is InvalidCiphertextException."""
    if len(blob) > MAX_BLOB_BYTES or not looks_like_blob(blob) or len(blob) < 6:
        raise InvalidCiphertextException("the ciphertext is not a kmscli ciphertext blob")
    if blob[4] != VERSION:
        raise InvalidCiphertextException(f"unsupported ciphertext blob version {blob[4]}")
    id_length = blob[5]
    material_end = 6 + id_length + MATERIAL_ID_BYTES
    if len(blob) < material_end + GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise InvalidCiphertextException("the ciphertext blob is truncated")
    try:
        key_id = blob[6 : 6 + id_length].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidCiphertextException("the ciphertext blob is damaged") from None
    material_id = blob[6 + id_length : material_end].hex()
    return BlobHeader(key_id, material_id, blob[:material_end], blob[material_end:])


def open_blob(material: bytes, header: BlobHeader, encryption_context: Mapping[str, str]) -> bytes:
    aad = header.header_bytes + b"\x00" + canonical_context(encryption_context)
    try:
        return aes_gcm_open(material, header.sealed, aad)
    except AuthenticationError:
        raise InvalidCiphertextException(
            "the ciphertext is damaged, or the encryption context does not match the one it "
            "was encrypted with"
        ) from None
