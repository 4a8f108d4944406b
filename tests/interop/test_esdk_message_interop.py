"""Byte-level interoperability with the real AWS Encryption SDK (aws-encryption-sdk 4.0.7).

Both directions, with the ESDK's RawMasterKey and a fixed AES-256 wrapping key (the public test
vector key `aes-256`). At the message layer our EDK list simply holds the raw-AES EDK the ESDK
expects (esdk-format.md §2.1), built here with AESGCM; for ESDK-written messages the test unwraps
that EDK and hands the data key to MessageDecryptor.
"""

from __future__ import annotations

import base64
import io
import os
import struct
from collections.abc import Mapping
from typing import Any

import aws_encryption_sdk
import pytest
from aws_encryption_sdk import CommitmentPolicy as EsdkPolicy
from aws_encryption_sdk.identifiers import Algorithm, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kmscli.errors import FormatError, InvalidCiphertextException
from kmscli.message.context import serialize_encryption_context
from kmscli.message.decoder import CommitmentPolicy, MessageDecryptor
from kmscli.message.encoder import DEFAULT_FRAME_LENGTH, MessageEncryptor
from kmscli.message.frames import FINAL_FRAME_MARKER
from kmscli.message.header import ContentType, EncryptedDataKey, MessageHeader, parse_header
from kmscli.message.inspect import describe
from kmscli.message.suites import suite_by_id

WRAPPING_KEY = base64.b64decode("AAECAwQFBgcICRAREhMUFRYXGBkgISIjJCUmJygpMDE=")
PROVIDER_ID = "aws-raw-vectors-persistant"
KEY_NAME = b"aes-256"
F = 256
SIZES = [0, 1, F - 1, F, F + 1, 2 * F, 5 * F + 3]
CONTEXTS: dict[str, dict[str, str]] = {
    "empty": {},
    "non-ascii": {"purpose": "interop", "ключ": "значение", "鍵": "", "emoji 🔑": "✓"},
}
V1_SUITES = [0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378]

MASTER_KEY = RawMasterKey(
    provider_id=PROVIDER_ID,
    key_id=KEY_NAME,
    wrapping_key=WrappingKey(
        wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
        wrapping_key=WRAPPING_KEY,
        wrapping_key_type=EncryptionKeyType.SYMMETRIC,
    ),
)
CLIENTS = {
    policy: aws_encryption_sdk.EncryptionSDKClient(commitment_policy=policy)
    for policy in EsdkPolicy
}
STRICT = CLIENTS[EsdkPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT]
LEGACY = CLIENTS[EsdkPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT]


def raw_aes_edk(data_key: bytes, context: Mapping[str, str]) -> EncryptedDataKey:
    """The EDK a raw AES keyring writes: info = name ‖ tag bits ‖ IV length ‖ IV (§2.1)."""
    iv = os.urandom(12)
    wrapped = AESGCM(WRAPPING_KEY).encrypt(iv, data_key, serialize_encryption_context(context))
    return EncryptedDataKey(PROVIDER_ID, KEY_NAME + struct.pack(">II", 128, 12) + iv, wrapped)


def unwrap(header: MessageHeader) -> bytes:
    (edk,) = header.encrypted_data_keys
    assert edk.provider_id == PROVIDER_ID and edk.provider_info[:-20] == KEY_NAME
    assert edk.provider_info[-20:-12] == struct.pack(">II", 128, 12)
    aad = serialize_encryption_context(header.encryption_context)
    return AESGCM(WRAPPING_KEY).decrypt(edk.provider_info[-12:], edk.ciphertext, aad)


def our_encrypt(
    plaintext: bytes, suite_id: int, context: Mapping[str, str], frame_length: int = F
) -> tuple[bytes, MessageEncryptor]:
    encryptor = MessageEncryptor(suite_by_id(suite_id), context, frame_length)
    data_key = os.urandom(32)
    out = io.BytesIO()
    edk = raw_aes_edk(data_key, encryptor.encryption_context)
    encryptor.write(io.BytesIO(plaintext), out, data_key, [edk])
    return out.getvalue(), encryptor


def our_decrypt(
    message: bytes,
    policy: CommitmentPolicy = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
) -> tuple[bytes, MessageHeader]:
    decryptor = MessageDecryptor(io.BytesIO(message), commitment_policy=policy)
    header = decryptor.read_header()
    out = io.BytesIO()
    decryptor.decrypt(unwrap(header), out)
    return out.getvalue(), header


def esdk_encrypt(
    plaintext: bytes,
    suite_id: int,
    context: Mapping[str, str],
    frame_length: int = F,
    client: Any = None,
) -> bytes:
    if client is None:
        client = STRICT if suite_by_id(suite_id).committing else LEGACY
    message, _ = client.encrypt(
        source=plaintext,
        key_provider=MASTER_KEY,
        algorithm=Algorithm.get_by_id(suite_id),
        frame_length=frame_length,
        encryption_context=dict(context),
    )
    return bytes(message)


def footer_of(message: bytes) -> bytes:
    stream = io.BytesIO(message)
    header = parse_header(stream)
    rest = stream.read()
    while rest[:4] != FINAL_FRAME_MARKER:
        rest = rest[header.frame_length + 32 :]
    return rest[40 + struct.unpack(">I", rest[20:24])[0] :]


def body_frames(message: bytes) -> tuple[int, int]:
    """(regular frame count, final frame content length) of a framed message."""
    stream = io.BytesIO(message)
    header = parse_header(stream)
    rest = stream.read()
    count = 0
    while rest[:4] != FINAL_FRAME_MARKER:
        rest = rest[header.frame_length + 32 :]
        count += 1
    return count, struct.unpack(">I", rest[20:24])[0]


# -- ESDK reads what we write --------------------------------------------------------------------


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=CONTEXTS.keys())
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite_id", [0x0478, 0x0578], ids=["0x0478", "0x0578"])
def test_esdk_decrypts_our_messages(suite_id: int, size: int, context: dict[str, str]) -> None:
    plaintext = os.urandom(size)
    message, encryptor = our_encrypt(plaintext, suite_id, context)
    decrypted, esdk_header = STRICT.decrypt(source=message, key_provider=MASTER_KEY)
    assert decrypted == plaintext
    assert esdk_header.algorithm.algorithm_id == suite_id
    assert esdk_header.frame_length == F
    assert esdk_header.encryption_context == dict(encryptor.encryption_context)
    # Ours ends with a full-length final frame when the plaintext fills whole frames.
    regular, final_length = body_frames(message)
    assert (regular, final_length) == (max(0, (size - 1) // F), size - max(0, (size - 1) // F) * F)


@pytest.mark.parametrize("suite_id", [0x0478, 0x0578], ids=["0x0478", "0x0578"])
def test_esdk_streams_our_default_frame_length(suite_id: int) -> None:
    plaintext = os.urandom(2 * DEFAULT_FRAME_LENGTH + 1000)
    message, _ = our_encrypt(plaintext, suite_id, {"k": "v"}, DEFAULT_FRAME_LENGTH)
    out = io.BytesIO()
    with STRICT.stream(mode="d", source=io.BytesIO(message), key_provider=MASTER_KEY) as stream:
        for chunk in stream:
            out.write(chunk)
    assert out.getvalue() == plaintext


def test_signatures_of_every_length_verify_in_the_esdk() -> None:
    """Python pads its signatures to 103 bytes; ours are whatever DER length comes out."""
    lengths = set()
    for _ in range(12):
        message, _ = our_encrypt(b"x", 0x0578, {})
        footer = message[len(message) - len(footer_of(message)) :]
        (length,) = struct.unpack(">H", footer[:2])
        assert len(footer) == 2 + length and 100 <= length <= 104
        lengths.add(length)
        assert STRICT.decrypt(source=message, key_provider=MASTER_KEY)[0] == b"x"
    assert lengths  # usually several DER lengths; the ESDK takes them all


# -- we read what the ESDK writes ----------------------------------------------------------------


@pytest.mark.parametrize("context", CONTEXTS.values(), ids=CONTEXTS.keys())
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("suite_id", [0x0478, 0x0578], ids=["0x0478", "0x0578"])
def test_we_decrypt_esdk_v2(suite_id: int, size: int, context: dict[str, str]) -> None:
    plaintext = os.urandom(size)
    message = esdk_encrypt(plaintext, suite_id, context)
    decrypted, header = our_decrypt(message)
    assert decrypted == plaintext
    assert (header.version, header.suite.id, header.frame_length) == (2, suite_id, F)
    for key, value in context.items():
        assert header.encryption_context[key] == value
    # The ESDK ends exact multiples with all-regular frames and an empty final frame.
    regular, final_length = body_frames(message)
    assert (regular, final_length) == (size // F, size % F)


@pytest.mark.parametrize("size", [0, 1, F, F + 1, 3 * F])
@pytest.mark.parametrize("suite_id", V1_SUITES, ids=[f"0x{s:04X}" for s in V1_SUITES])
def test_we_decrypt_esdk_v1_when_the_policy_allows(suite_id: int, size: int) -> None:
    plaintext = os.urandom(size)
    message = esdk_encrypt(plaintext, suite_id, CONTEXTS["non-ascii"])
    for policy in (
        CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
        CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT,
    ):
        decrypted, header = our_decrypt(message, policy)
        assert decrypted == plaintext
        assert (header.version, header.suite.id, len(header.message_id)) == (1, suite_id, 16)
    with pytest.raises(FormatError, match="commitment policy"):
        MessageDecryptor(io.BytesIO(message)).read_header()


@pytest.mark.parametrize(
    ("suite_id", "client"),
    [(0x0078, LEGACY), (0x0178, LEGACY), (0x0378, LEGACY), (0x0478, STRICT), (0x0578, STRICT)],
    ids=["0x0078", "0x0178", "0x0378", "0x0478", "0x0578"],
)
@pytest.mark.parametrize("size", [0, 1, 1000])
def test_we_decrypt_esdk_non_framed(suite_id: int, client: Any, size: int) -> None:
    plaintext = os.urandom(size)
    message = esdk_encrypt(plaintext, suite_id, {"a": "b"}, frame_length=0, client=client)
    policy = CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    decrypted, header = our_decrypt(message, policy)
    assert decrypted == plaintext
    assert header.content_type is ContentType.NON_FRAMED and header.frame_length == 0
    tag_byte = len(message) - (110 if suite_by_id(suite_id).signed else 3)  # ESDK footer: 105
    for damaged in (message[:-1], message + b"\x00", _flip(message, tag_byte)):
        decryptor = MessageDecryptor(io.BytesIO(damaged), commitment_policy=policy)
        out = io.BytesIO()
        with pytest.raises(InvalidCiphertextException):
            decryptor.decrypt(unwrap(decryptor.read_header()), out)
        assert out.getvalue() == b""


def _flip(message: bytes, position: int) -> bytes:
    damaged = bytearray(message)
    damaged[position] ^= 1
    return bytes(damaged)


@pytest.mark.parametrize("suite_id", [0x0478, 0x0578], ids=["0x0478", "0x0578"])
def test_damaged_esdk_messages_fail(suite_id: int) -> None:
    plaintext = os.urandom(3 * F)  # three regular frames and an empty final frame
    message = esdk_encrypt(plaintext, suite_id, {"k": "v"})
    header_length = parse_header(io.BytesIO(message)).header_length
    cuts = [header_length + i * (F + 32) for i in range(4)] + [len(message) - 1]
    cuts += [header_length + 100, len(message) - 30]
    damaged = [message[:cut] for cut in cuts]
    damaged += [message + b"\x00", _flip(message, header_length + 40)]
    damaged += [_flip(message, len(message) - 3)]
    for candidate in damaged:
        decryptor = MessageDecryptor(io.BytesIO(candidate))
        out = io.BytesIO()
        with pytest.raises(InvalidCiphertextException):
            decryptor.decrypt(unwrap(decryptor.read_header()), out)
        assert out.getvalue() == plaintext[: len(out.getvalue())]
        assert len(out.getvalue()) <= 3 * F


def test_esdk_accepts_a_trailing_byte_we_do_not() -> None:
    message = esdk_encrypt(b"abc", 0x0478, {}) + b"\x00"
    assert STRICT.decrypt(source=message, key_provider=MASTER_KEY)[0] == b"abc"
    with pytest.raises(InvalidCiphertextException, match="after the end"):
        our_decrypt(message)


def test_describe_an_esdk_header() -> None:
    message = esdk_encrypt(b"abc", 0x0578, {"purpose": "inspect"})
    info = describe(MessageDecryptor(io.BytesIO(message)).read_header())
    assert info["Version"] == 2
    assert info["AlgorithmSuite"] == {
        "Id": "0x0578",
        "Name": "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        "Committing": True,
        "Signed": True,
    }
    assert info["EncryptionContext"]["purpose"] == "inspect"
    assert "aws-crypto-public-key" in info["EncryptionContext"]
    (edk,) = info["EncryptedDataKeys"]
    assert edk["ProviderId"] == PROVIDER_ID and edk["KeyName"] == "aes-256"
    assert "ProviderInfoBase64" in edk  # the binary IV makes it not text
    assert info["ContentType"] == "framed" and info["FrameLength"] == F
    assert info["HeaderLength"] == len(message) - len(message[info["HeaderLength"] :])
    assert len(base64.b64decode(info["MessageId"])) == 32
