"""Message header: the v2 serializer and the v1/v2 parser (esdk-format.md §1.2, §1.3, §1.5).

Owns: `EncryptedDataKey`, `MessageHeader`, the header body byte layout and the structural checks
of §1.12 steps 1-5. Must not: derive keys or verify the header tag (the decoder does that with the
data key), apply the commitment policy (the decoder passes a `check_suite` callback), or hold on
to the source stream. Structural problems raise FormatError.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import BinaryIO, Final, NamedTuple

from kmscli.errors import FormatError, ValidationException
from kmscli.message.context import parse_encryption_context
from kmscli.message.suites import AlgorithmSuite, suite_by_id

VERSION_1: Final = 1
VERSION_2: Final = 2
V1_TYPE_CUSTOMER_AED: Final = 0x80
MESSAGE_ID_LENGTH: Final = {VERSION_1: 16, VERSION_2: 32}
HEADER_IV_V2: Final = bytes(12)
MAX_FRAME_LENGTH: Final = 2**31 - 1  # Python ESDK's decrypt limit; also its encrypt limit
_MAX_U16: Final = 0xFFFF


class ContentType(enum.IntEnum):
    NON_FRAMED = 1
    FRAMED = 2


class EncryptedDataKey(NamedTuple):
    provider_id: str
    provider_info: bytes
    ciphertext: bytes

    def serialize(self) -> bytes:
        try:
            provider_id = self.provider_id.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationException("the data key provider ID is not valid Unicode") from None
        parts: list[bytes] = []
        for name, value in (
            ("provider ID", provider_id),
            ("provider info", self.provider_info),
            ("ciphertext", self.ciphertext),
        ):
            if len(value) > _MAX_U16:
                raise ValidationException(
                    f"an encrypted data key {name} is {len(value)} bytes; the limit is {_MAX_U16}"
                )
            parts += (len(value).to_bytes(2, "big"), bytes(value))
        return b"".join(parts)


class MessageHeader(NamedTuple):
    """A parsed (or freshly built) header. `body` is the exact header body bytes as read/written;
    the header tag and the signature are computed over those bytes, never a re-serialization."""

    version: int
    suite: AlgorithmSuite
    message_id: bytes
    encryption_context: Mapping[str, str]
    encryption_context_bytes: bytes
    encrypted_data_keys: tuple[EncryptedDataKey, ...]
    content_type: ContentType
    frame_length: int
    suite_data: bytes  # the commitment key for v2, empty for v1
    header_iv: bytes  # v1: the IV as read; v2: 12 zero bytes (not serialized)
    header_tag: bytes
    body: bytes
    message_type: int | None = None  # v1 only: 0x80

    @property
    def auth_bytes(self) -> bytes:
        """The header authentication as serialized: IV ‖ tag for v1, the tag alone for v2."""
        return self.header_iv + self.header_tag if self.version == VERSION_1 else self.header_tag

    @property
    def header_length(self) -> int:
        """Bytes of the whole header, body and authentication."""
        return len(self.body) + len(self.auth_bytes)

    def serialize(self) -> bytes:
        return self.body + self.auth_bytes


def serialize_encrypted_data_keys(keys: Sequence[EncryptedDataKey]) -> bytes:
    if not keys:
        raise ValidationException("a message needs at least one encrypted data key")
    if len(keys) > _MAX_U16:
        raise ValidationException(f"a message holds at most {_MAX_U16} encrypted data keys")
    return len(keys).to_bytes(2, "big") + b"".join(key.serialize() for key in keys)


def serialize_header_body_v2(
    *,
    suite: AlgorithmSuite,
    message_id: bytes,
    encryption_context_bytes: bytes,
    encrypted_data_keys: Sequence[EncryptedDataKey],
    frame_length: int,
    commitment_key: bytes,
) -> bytes:
    """Version-2 framed header body, version byte through suite data (§1.2)."""
    if len(message_id) != MESSAGE_ID_LENGTH[VERSION_2] or len(commitment_key) != 32:
        raise ValueError("v2 message ID and commitment key are 32 bytes")
    return b"".join(
        (
            struct.pack(">BH", VERSION_2, suite.id),
            message_id,
            len(encryption_context_bytes).to_bytes(2, "big"),
            encryption_context_bytes,
            serialize_encrypted_data_keys(encrypted_data_keys),
            struct.pack(">BI", ContentType.FRAMED, frame_length),
            commitment_key,
        )
    )


class _ExactReader:
    """Reads exactly n bytes from a stream (short reads are fine) and keeps what it read."""

    __slots__ = ("_src", "data")

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.data = bytearray()

    def take(self, count: int) -> bytes:
        chunk = read_exact(self._src, count)
        if len(chunk) != count:
            if not self.data and not chunk:
                raise FormatError("the input is empty: it is not an encrypted message")
            raise FormatError("the message header is truncated")
        self.data += chunk
        return chunk

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")


def read_exact(src: BinaryIO, count: int) -> bytes:
    """Up to `count` bytes, fewer only at end of stream."""
    data = src.read(count)
    if data is None or len(data) == count:
        return data or b""
    parts = [data]
    got = len(data)
    while got < count and data:
        data = src.read(count - got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def _looks_base64(first: int) -> bool:
    # v1 messages start "AY", v2 "AgR4"/"AgV4" when Base64-encoded.
    return first == ord("A")


def parse_header(
    src: BinaryIO,
    *,
    max_encrypted_data_keys: int | None = None,
    check_suite: Callable[[AlgorithmSuite], None] | None = None,
) -> MessageHeader:
    """Read one header (body and authentication) from `src`, leaving `src` at the body.

    Applies esdk-format.md §1.12 steps 1-5; `check_suite` runs as soon as the suite is known
    (step 2) and may raise. Raises FormatError for anything structurally wrong.
    """
    reader = _ExactReader(src)
    version = reader.uint(1)
    if version not in (VERSION_1, VERSION_2):
        if _looks_base64(version):
            raise FormatError(
                "this is not an encrypted message; it looks Base64-encoded (decode it first)"
            )
        raise FormatError(f"not an encrypted message (unknown format version 0x{version:02X})")
    message_type: int | None = None
    if version == VERSION_1:
        message_type = reader.uint(1)
        if message_type != V1_TYPE_CUSTOMER_AED:
            raise FormatError(f"unknown v1 message type 0x{message_type:02X}")
    suite = suite_by_id(reader.uint(2))
    if suite.message_format_version != version:
        raise FormatError(
            f"algorithm suite {suite.id_hex} is not valid in a version {version} message"
        )
    if check_suite is not None:
        check_suite(suite)
    message_id = reader.take(MESSAGE_ID_LENGTH[version])

    ec_bytes = reader.take(reader.uint(2))
    context = parse_encryption_context(ec_bytes)

    edk_count = reader.uint(2)
    if edk_count == 0:
        raise FormatError("the message has no encrypted data keys")
    if max_encrypted_data_keys is not None and edk_count > max_encrypted_data_keys:
        raise FormatError(
            f"the message has {edk_count} encrypted data keys; the limit is "
            f"{max_encrypted_data_keys}",
            hints=(
                f"if you trust this message, allow it with --max-encrypted-data-keys {edk_count}",
            ),
        )
    keys = []
    for _ in range(edk_count):
        raw_provider_id = reader.take(reader.uint(2))
        provider_info = reader.take(reader.uint(2))
        ciphertext = reader.take(reader.uint(2))
        try:
            provider_id = raw_provider_id.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError("an encrypted data key provider ID is not valid UTF-8") from None
        keys.append(EncryptedDataKey(provider_id, provider_info, ciphertext))

    raw_content_type = reader.uint(1)
    try:
        content_type = ContentType(raw_content_type)
    except ValueError:
        raise FormatError(f"unknown content type 0x{raw_content_type:02X}") from None
    if version == VERSION_1:
        if reader.uint(4) != 0:
            raise FormatError("the v1 header reserved field is not zero")
        iv_length = reader.uint(1)
        if iv_length != suite.iv_length:
            raise FormatError(f"the v1 header IV length is {iv_length}, not {suite.iv_length}")
    frame_length = reader.uint(4)
    if content_type is ContentType.NON_FRAMED and frame_length != 0:
        raise FormatError("a non-framed message must have frame length 0")
    if content_type is ContentType.FRAMED and not 1 <= frame_length <= MAX_FRAME_LENGTH:
        raise FormatError(f"frame length {frame_length} is outside 1..{MAX_FRAME_LENGTH}")
    suite_data = reader.take(suite.suite_data_length)
    body = bytes(reader.data)

    header_iv = reader.take(suite.iv_length) if version == VERSION_1 else HEADER_IV_V2
    header_tag = reader.take(suite.tag_length)
    return MessageHeader(
        version=version,
        suite=suite,
        message_id=message_id,
        encryption_context=context,
        encryption_context_bytes=ec_bytes,
        encrypted_data_keys=tuple(keys),
        content_type=content_type,
        frame_length=frame_length,
        suite_data=suite_data,
        header_iv=header_iv,
        header_tag=header_tag,
        body=body,
        message_type=message_type,
    )
