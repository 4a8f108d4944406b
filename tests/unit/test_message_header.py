"""Header serialization and parsing (esdk-format.md §1.2, §1.3, §1.5, §1.12 steps 1-5)."""

from __future__ import annotations

import io
import struct

import pytest

from kmscli.errors import FormatError, ValidationException
from kmscli.message.context import serialize_encryption_context
from kmscli.message.header import (
    ContentType,
    EncryptedDataKey,
    parse_header,
    serialize_encrypted_data_keys,
    serialize_header_body_v2,
)
from kmscli.message.suites import AlgorithmSuite, suite_by_id

EDKS = (
    EncryptedDataKey("aws-kms", b"arn:aws:kms:eu-west-1:111122223333:key/x", b"\x01" * 40),
    EncryptedDataKey("kmscli-ünï", b"", b""),
)
CONTEXT = {"purpose": "test", "é": ""}


def _v2_body(**overrides: object) -> bytes:
    fields: dict[str, object] = {
        "suite": suite_by_id(0x0478),
        "message_id": bytes(range(32)),
        "encryption_context_bytes": serialize_encryption_context(CONTEXT),
        "encrypted_data_keys": EDKS,
        "frame_length": 4096,
        "commitment_key": b"\xcc" * 32,
    }
    fields.update(overrides)
    return serialize_header_body_v2(**fields)  # type: ignore[arg-type]


def _v1_body(
    suite_id: int = 0x0178,
    *,
    message_type: int = 0x80,
    content_type: int = 2,
    reserved: bytes = bytes(4),
    iv_length: int = 12,
    frame_length: int = 4096,
) -> bytes:
    ec = serialize_encryption_context(CONTEXT)
    return (
        struct.pack(">BBH", 1, message_type, suite_id)
        + bytes(range(16))
        + struct.pack(">H", len(ec))
        + ec
        + serialize_encrypted_data_keys(EDKS)
        + struct.pack(">B", content_type)
        + reserved
        + struct.pack(">BI", iv_length, frame_length)
    )


def _parse(data: bytes, **kwargs: object) -> object:
    return parse_header(io.BytesIO(data), **kwargs)  # type: ignore[arg-type]


def test_v2_round_trip_and_layout() -> None:
    body = _v2_body()
    tag = b"\x77" * 16
    stream = io.BytesIO(body + tag + b"BODY")
    header = parse_header(stream)
    assert stream.read() == b"BODY"  # left exactly at the body
    assert header.version == 2 and header.suite.id == 0x0478 and header.message_type is None
    assert header.message_id == bytes(range(32))
    assert dict(header.encryption_context) == CONTEXT
    assert header.encryption_context_bytes == serialize_encryption_context(CONTEXT)
    assert header.encrypted_data_keys == EDKS
    assert header.content_type is ContentType.FRAMED and header.frame_length == 4096
    assert header.suite_data == b"\xcc" * 32
    assert header.header_iv == bytes(12) and header.header_tag == tag
    assert header.body == body and header.serialize() == body + tag
    assert header.header_length == len(body) + 16
    ec_len = len(serialize_encryption_context(CONTEXT))
    edk_len = len(serialize_encrypted_data_keys(EDKS))
    assert len(body) == 1 + 2 + 32 + 2 + ec_len + edk_len + 1 + 4 + 32
    assert body[:3] == b"\x02\x04\x78"


def test_empty_context_has_zero_aad_length() -> None:
    body = _v2_body(encryption_context_bytes=b"")
    assert body[35:37] == b"\x00\x00" and body[37:39] == b"\x00\x02"  # then the EDK count
    assert parse_header(io.BytesIO(body + bytes(16))).encryption_context == {}


def test_v1_header() -> None:
    body = _v1_body()
    auth = b"\x10" * 12 + b"\x20" * 16
    header = parse_header(io.BytesIO(body + auth))
    assert (header.version, header.message_type, header.suite.id) == (1, 0x80, 0x0178)
    assert header.message_id == bytes(range(16)) and header.suite_data == b""
    assert header.header_iv == b"\x10" * 12 and header.header_tag == b"\x20" * 16
    assert header.body == body and header.header_length == len(body) + 28
    assert header.serialize() == body + auth


def test_v1_non_framed() -> None:
    header = parse_header(io.BytesIO(_v1_body(content_type=1, frame_length=0) + bytes(28)))
    assert header.content_type is ContentType.NON_FRAMED and header.frame_length == 0


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"", "empty"),
        (b"\x03", "unknown format version"),
        (b"AgR4", "Base64"),
        (b"AYAAA", "Base64"),
        (_v1_body(message_type=0x81) + bytes(28), "message type"),
        (_v1_body(suite_id=0x0478) + bytes(28), "not valid in a version 1"),
        (_v1_body(suite_id=0x0070) + bytes(28), "unknown algorithm suite"),
        (_v1_body(reserved=b"\x00\x00\x00\x01") + bytes(28), "reserved"),
        (_v1_body(iv_length=16) + bytes(28), "IV length"),
        (_v1_body(content_type=3) + bytes(28), "content type"),
        (_v1_body(content_type=1, frame_length=4096) + bytes(28), "frame length 0"),
        (_v1_body(frame_length=0) + bytes(28), "frame length"),
        (_v1_body(frame_length=2**31) + bytes(28), "frame length"),
        (b"\x02\x07\x78" + bytes(60), "unknown algorithm suite"),
        (b"\x02\x01\x78" + bytes(60), "not valid in a version 2"),
        (_v2_body()[:50], "truncated"),
        (_v2_body() + bytes(15), "truncated"),
        (_v1_body() + bytes(27), "truncated"),
    ],
)
def test_structural_errors(data: bytes, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        _parse(data)


def test_edk_count_checks_happen_before_the_entries() -> None:
    body = bytearray(_v2_body(encryption_context_bytes=b""))
    count_at = 37
    body[count_at : count_at + 2] = b"\x00\x00"
    with pytest.raises(FormatError, match="no encrypted data keys"):
        _parse(bytes(body))
    body[count_at : count_at + 2] = b"\xff\xff"  # no entries follow: the limit is hit first
    with pytest.raises(FormatError, match="limit is 64"):
        _parse(bytes(body[: count_at + 2]), max_encrypted_data_keys=64)
    with pytest.raises(FormatError, match="truncated"):
        _parse(bytes(body[: count_at + 2]), max_encrypted_data_keys=None)


def test_max_encrypted_data_keys() -> None:
    data = _v2_body() + bytes(16)
    assert len(parse_header(io.BytesIO(data), max_encrypted_data_keys=2).encrypted_data_keys) == 2
    with pytest.raises(FormatError):
        _parse(data, max_encrypted_data_keys=1)


def test_check_suite_runs_before_the_rest() -> None:
    seen: list[AlgorithmSuite] = []

    def reject(suite: AlgorithmSuite) -> None:
        seen.append(suite)
        raise FormatError("policy")

    with pytest.raises(FormatError, match="policy"):
        _parse(_v1_body()[:4], check_suite=reject)  # truncated right after the suite ID
    assert [s.id for s in seen] == [0x0178]


def test_invalid_provider_id_utf8() -> None:
    edk = EncryptedDataKey("x", b"", b"")
    body = bytearray(_v2_body(encryption_context_bytes=b"", encrypted_data_keys=[edk]))
    body[41] = 0xFF  # the provider ID byte
    with pytest.raises(FormatError, match="UTF-8"):
        _parse(bytes(body) + bytes(16))


def test_edk_serialization_limits() -> None:
    with pytest.raises(ValidationException):
        serialize_encrypted_data_keys([])
    with pytest.raises(ValidationException):
        serialize_encrypted_data_keys([EncryptedDataKey("p", b"i" * 65536, b"")])
    with pytest.raises(ValidationException):
        serialize_encrypted_data_keys([EncryptedDataKey("\ud800", b"", b"")])
    with pytest.raises(ValidationException):
        serialize_encrypted_data_keys([EncryptedDataKey("p", b"", b"")] * 65536)
    assert EncryptedDataKey("ab", b"c", b"de").serialize() == b"\x00\x02ab\x00\x01c\x00\x02de"


class _ShortReads(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), 3))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_parses_from_a_stream_with_short_reads() -> None:
    data = _v2_body() + bytes(16)
    header = parse_header(_ShortReads(data))  # type: ignore[arg-type]
    assert header.serialize() == data
