"""Re-wrapping primitives: the header rewrite of kmscli.message.rewrap, the MRK-aware ARN match of
the envelope, and the RSA wrapping of imported material (kmscli.crypto.wrapping)."""

from __future__ import annotations

import io
import os

import pytest

from kmscli.crypto.primitives import AuthenticationError
from kmscli.crypto.wrapping import (
    ALGORITHMS,
    generate_wrapping_key,
    unwrap_key_material,
    wrap_key_material,
)
from kmscli.envelope import same_key_arn
from kmscli.errors import InvalidCiphertextException, ValidationException
from kmscli.message.decoder import MessageDecryptor
from kmscli.message.encoder import MessageEncryptor
from kmscli.message.header import EncryptedDataKey, parse_header
from kmscli.message.rewrap import rewrap_header
from kmscli.message.suites import DEFAULT_SUITE, SIGNED_SUITE, AlgorithmSuite

OLD = EncryptedDataKey("aws-kms", b"arn:aws:kms:us-east-1:111122223333:key/old", b"o" * 40)
NEW = EncryptedDataKey("aws-kms", b"arn:aws:kms:us-east-1:111122223333:key/new", b"n" * 77)


def _message(
    suite: AlgorithmSuite = DEFAULT_SUITE, plaintext: bytes = b"p" * 3000
) -> tuple[bytes, bytes]:
    data_key = os.urandom(32)
    out = io.BytesIO()
    encryptor = MessageEncryptor(suite=suite, encryption_context={"a": "b"}, frame_length=1024)
    encryptor.write(io.BytesIO(plaintext), out, data_key, [OLD])
    return out.getvalue(), data_key


def test_rewrap_replaces_the_data_keys_and_keeps_the_body() -> None:
    message, data_key = _message()
    header = parse_header(io.BytesIO(message))
    body = message[header.header_length :]
    rewrapped = rewrap_header(header, data_key, [NEW, OLD])
    new = parse_header(io.BytesIO(rewrapped + body))
    assert new.encrypted_data_keys == (NEW, OLD)
    assert new.message_id == header.message_id and new.suite_data == header.suite_data
    decryptor = MessageDecryptor(io.BytesIO(rewrapped + body))
    decryptor.read_header()
    out = io.BytesIO()
    decryptor.decrypt(data_key, out)
    assert out.getvalue() == b"p" * 3000


def test_rewrap_checks_the_data_key_and_the_old_header() -> None:
    message, data_key = _message()
    header = parse_header(io.BytesIO(message))
    with pytest.raises(InvalidCiphertextException, match="commitment"):
        rewrap_header(header, os.urandom(32), [NEW])
    damaged = bytearray(message)
    damaged[header.header_length - 8] ^= 1  # inside the 16-byte header tag
    with pytest.raises(InvalidCiphertextException, match="header failed authentication"):
        rewrap_header(parse_header(io.BytesIO(bytes(damaged))), data_key, [NEW])


def test_rewrap_refuses_signed_suites() -> None:
    message, data_key = _message(SIGNED_SUITE)
    with pytest.raises(ValidationException, match="signed"):
        rewrap_header(parse_header(io.BytesIO(message)), data_key, [NEW])


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("arn:aws:kms:us-east-1:1:key/mrk-ab", "arn:aws:kms:eu-west-1:1:key/mrk-ab", True),
        ("arn:aws:kms:us-east-1:1:key/mrk-ab", "arn:aws:kms:us-east-1:1:key/mrk-ab", True),
        ("arn:aws:kms:us-east-1:1:key/mrk-ab", "arn:aws:kms:eu-west-1:2:key/mrk-ab", False),
        ("arn:aws:kms:us-east-1:1:key/mrk-ab", "arn:aws:kms:eu-west-1:1:key/mrk-cd", False),
        ("arn:aws:kms:us-east-1:1:key/1234", "arn:aws:kms:eu-west-1:1:key/1234", False),
        ("arn:aws:kms:us-east-1:1:key/mrk-ab", "arn:aws-cn:kms:eu-west-1:1:key/mrk-ab", False),
    ],
)
def test_multi_region_arns_match_across_regions_only(left: str, right: str, same: bool) -> None:
    assert same_key_arn(left, right) is same


@pytest.fixture(scope="module")
def wrapping_key() -> tuple[bytes, bytes]:
    return generate_wrapping_key(2048)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_wrapping_round_trip_and_tamper(wrapping_key: tuple[bytes, bytes], algorithm: str) -> None:
    private, public = wrapping_key
    material = os.urandom(32)
    wrapped = wrap_key_material(public, algorithm, material)
    assert unwrap_key_material(private, algorithm, wrapped) == material
    damaged = bytearray(wrapped)
    damaged[-1] ^= 1
    with pytest.raises(AuthenticationError):
        unwrap_key_material(private, algorithm, bytes(damaged))
    with pytest.raises(AuthenticationError):
        unwrap_key_material(private, algorithm, wrapped[:100])
