"""Encryption context (EC) bytes: serialize and parse per esdk-format.md §1.4.

Owns: the canonical serialization (pairs sorted by the UTF-8 bytes of the key), its size limits,
the strict parser (no duplicates, valid UTF-8, no leftover bytes) and the reserved-key check for
encrypt. Must not: do I/O or crypto. Parse errors are FormatError (they came from a message);
serialization and reserved-key errors are ValidationException (they came from the caller).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kmscli.errors import FormatError, ValidationException

PUBLIC_KEY_FIELD: Final = "aws-crypto-public-key"
RESERVED_PREFIX: Final = "aws-crypto-"
_MAX_U16: Final = 0xFFFF


def check_no_reserved_keys(context: Mapping[str, str]) -> None:
    """Encrypt must refuse caller keys in the `aws-crypto-` namespace (the SDK adds its own)."""
    reserved = sorted(key for key in context if key.startswith(RESERVED_PREFIX))
    if reserved:
        raise ValidationException(
            f"encryption context key {reserved[0]!r} is reserved: keys starting with "
            f"{RESERVED_PREFIX!r} are set by the encryption SDK itself"
        )


def _encode(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValidationException(f"encryption context {what}s must be text, got {type(text)!r}")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationException(f"encryption context {what} is not valid Unicode") from None
    if len(data) > _MAX_U16:
        raise ValidationException(
            f"encryption context {what} is {len(data)} bytes; the limit is {_MAX_U16}"
        )
    return data


def serialize_encryption_context(context: Mapping[str, str]) -> bytes:
    """The EC as header AAD bytes; empty bytes for an empty EC."""
    if not context:
        return b""
    if len(context) > _MAX_U16:
        raise ValidationException(f"the encryption context has more than {_MAX_U16} pairs")
    pairs = sorted((_encode(k, "key"), _encode(v, "value")) for k, v in context.items())
    parts = [len(pairs).to_bytes(2, "big")]
    for key, value in pairs:
        parts += (len(key).to_bytes(2, "big"), key, len(value).to_bytes(2, "big"), value)
    data = b"".join(parts)
    if len(data) > _MAX_U16:
        raise ValidationException(
            f"the encryption context serializes to {len(data)} bytes; the limit is {_MAX_U16}"
        )
    return data


def parse_encryption_context(data: bytes) -> dict[str, str]:
    """Inverse of `serialize_encryption_context`; strict (esdk-format.md §1.12 step 3)."""
    if not data:
        return {}
    view = memoryview(data)
    if len(view) < 2:
        raise FormatError("the encryption context is truncated")
    count = int.from_bytes(view[:2], "big")
    if count == 0:
        raise FormatError("the encryption context has a zero pair count but non-zero length")
    offset = 2
    context: dict[str, str] = {}

    def take_text() -> str:
        nonlocal offset
        if offset + 2 > len(view):
            raise FormatError("the encryption context is truncated")
        length = int.from_bytes(view[offset : offset + 2], "big")
        offset += 2
        if offset + length > len(view):
            raise FormatError("the encryption context is truncated")
        raw = bytes(view[offset : offset + length])
        offset += length
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("the encryption context is not valid UTF-8") from None

    for _ in range(count):
        key = take_text()
        value = take_text()
        if key in context:
            raise FormatError("the encryption context has a duplicate key")
        context[key] = value
    if offset != len(view):
        raise FormatError("the encryption context has bytes left over after its last pair")
    return context
