"""Re-wrapping a message: the same header with other encrypted data keys and a new header tag.

Owns `rewrap_header`: given a parsed header and its data key, check the key commitment and the
old header tag, splice the new encrypted data keys into the exact header body bytes, and
authenticate the result. The body's frames depend only on the data key and the message ID, so
the caller copies them unchanged; this is only valid for unsigned suites (a signature covers the
header), which `rewrap_header` refuses.

A version 1 header carries its IV, so the new tag gets a fresh random one. A version 2 header's
IV is fixed at zero, so its new tag is made under the same key and IV as the old one: anyone
holding both the old and the new copy of a message can work out the GHASH key of that message
and then alter its frames undetected. Callers offer a full re-encryption for that case.

Must not: unwrap or wrap data keys (the envelope layer does), read the body, or print.
"""

from __future__ import annotations

from collections.abc import Sequence

from kmscli.crypto.framing import (
    AuthenticationError,
    commitment_matches,
    compute_header_tag,
    derive_committing_keys,
    derive_legacy_key,
    verify_header_tag,
)
from kmscli.crypto.primitives import random_bytes
from kmscli.errors import InvalidCiphertextException, KMSInternalException, ValidationException
from kmscli.message.header import (
    VERSION_1,
    EncryptedDataKey,
    MessageHeader,
    serialize_encrypted_data_keys,
)

__all__ = ["rewrap_header"]


def _damaged(detail: str) -> InvalidCiphertextException:
    return InvalidCiphertextException(f"the message is damaged or was changed: {detail}")


def _header_key(header: MessageHeader, data_key: bytes) -> bytes:
    suite = header.suite
    if len(data_key) != suite.key_length:
        raise InvalidCiphertextException(
            f"the data key is {len(data_key)} bytes; suite {suite.id_hex} needs {suite.key_length}"
        )
    if suite.committing:
        key, commitment = derive_committing_keys(
            bytes(data_key), suite_id=suite.id, message_id=header.message_id
        )
        if not commitment_matches(commitment, header.suite_data):
            raise _damaged("the key commitment does not match this data key")
        return key
    return derive_legacy_key(
        bytes(data_key),
        kdf=suite.kdf or "identity",
        suite_id=suite.id,
        message_id=header.message_id,
        length=suite.key_length,
    )


def _data_keys_span(header: MessageHeader) -> tuple[int, int]:
    """Where the encrypted data keys section sits in the header body: (start, end)."""
    start = (
        1
        + (1 if header.version == VERSION_1 else 0)
        + 2
        + len(header.message_id)
        + 2
        + len(header.encryption_context_bytes)
    )
    section = serialize_encrypted_data_keys(header.encrypted_data_keys)
    end = start + len(section)
    if header.body[start:end] != section:
        raise KMSInternalException("the header body does not hold its encrypted data keys")
    return start, end


def rewrap_header(
    header: MessageHeader, data_key: bytes, encrypted_data_keys: Sequence[EncryptedDataKey]
) -> bytes:
    """The serialized header (body and authentication) with `encrypted_data_keys` in place of
    the old ones. Raises InvalidCiphertextException if `data_key` is not this message's."""
    if header.suite.signed:
        raise ValidationException(
            f"algorithm suite {header.suite} is signed: the signature covers the header, so the "
            "message must be decrypted and encrypted again"
        )
    key = _header_key(header, data_key)
    try:
        verify_header_tag(key, header.header_iv, header.body, header.header_tag)
    except AuthenticationError:
        raise _damaged("the header failed authentication") from None
    start, end = _data_keys_span(header)
    body = (
        header.body[:start] + serialize_encrypted_data_keys(encrypted_data_keys) + header.body[end:]
    )
    if header.version == VERSION_1:
        iv = random_bytes(len(header.header_iv))
        return body + iv + compute_header_tag(key, iv, body)
    return body + compute_header_tag(key, header.header_iv, body)
