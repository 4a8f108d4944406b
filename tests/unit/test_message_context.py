"""Encryption context serialization (esdk-format.md §1.4)."""

from __future__ import annotations

import struct

import pytest

from kmscli.errors import FormatError, ValidationException
from kmscli.message.context import (
    check_no_reserved_keys,
    parse_encryption_context,
    serialize_encryption_context,
)


def _pairs(*pairs: tuple[bytes, bytes]) -> bytes:
    out = struct.pack(">H", len(pairs))
    for key, value in pairs:
        out += struct.pack(">H", len(key)) + key + struct.pack(">H", len(value)) + value
    return out


def test_empty_context_is_zero_bytes() -> None:
    assert serialize_encryption_context({}) == b""
    assert parse_encryption_context(b"") == {}


def test_layout_and_sorting_by_utf8_bytes() -> None:
    # U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (F0 9F 98 80) by UTF-8 bytes, but
    # after it in UTF-16 code units (FF5E > D83D): the ESDK sorts by the bytes.
    context = {"b": "2", "\U0001f600": "smile", "a": "", "\uff5e": "wave", "A": "1"}
    data = serialize_encryption_context(context)
    assert data == _pairs(
        (b"A", b"1"),
        (b"a", b""),
        (b"b", b"2"),
        ("\uff5e".encode(), b"wave"),
        ("\U0001f600".encode(), b"smile"),
    )
    assert parse_encryption_context(data) == context


def test_matches_the_esdk_serializer() -> None:
    from aws_encryption_sdk.internal.formatting.encryption_context import (
        serialize_encryption_context as esdk_serialize,
    )

    context = {"purpose": "backup", "Ünïcode": "välue", "": "empty key", "z": ""}
    assert serialize_encryption_context(context) == esdk_serialize(context)


def test_non_ascii_round_trip() -> None:
    context = {"département": "Île-de-France", "ключ": "значение", "鍵": "値"}
    assert parse_encryption_context(serialize_encryption_context(context)) == context


def test_limits() -> None:
    with pytest.raises(ValidationException):
        serialize_encryption_context({"k" * 65536: "v"})
    with pytest.raises(ValidationException):
        serialize_encryption_context({"k": "v" * 65536})
    with pytest.raises(ValidationException):  # each pair fits, the total does not
        serialize_encryption_context({"a": "v" * 40000, "b": "v" * 40000})
    assert len(serialize_encryption_context({"k": "v" * 65000})) == 2 + 2 + 1 + 2 + 65000


def test_rejects_non_text_and_surrogates() -> None:
    with pytest.raises(ValidationException):
        serialize_encryption_context({"k": b"bytes"})  # type: ignore[dict-item]
    with pytest.raises(ValidationException):
        serialize_encryption_context({"k": "\ud800"})


@pytest.mark.parametrize(
    "data",
    [
        b"\x00",  # shorter than the count
        b"\x00\x00",  # zero pairs but non-zero length
        _pairs((b"a", b"1"), (b"a", b"2")),  # duplicate key
        _pairs((b"a", b"1")) + b"\x00",  # leftover byte
        _pairs((b"a", b"1"))[:-1],  # truncated value
        _pairs((b"\xff", b"1")),  # invalid UTF-8 key
        _pairs((b"a", b"\xc3")),  # invalid UTF-8 value
        struct.pack(">H", 2) + _pairs((b"a", b"1"))[2:],  # count says 2, one pair present
        b"\x00\x01\x00",  # truncated key length
    ],
)
def test_parse_rejects(data: bytes) -> None:
    with pytest.raises(FormatError):
        parse_encryption_context(data)


def test_reserved_keys() -> None:
    check_no_reserved_keys({"aws-crypto": "x", "aws-cryptography": "y", "purpose": "z"})
    with pytest.raises(ValidationException, match="reserved"):
        check_no_reserved_keys({"aws-crypto-public-key": "x"})
    with pytest.raises(ValidationException):
        check_no_reserved_keys({"ok": "1", "aws-crypto-anything": ""})
