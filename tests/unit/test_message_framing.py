"""The format's cryptography in kmscli.crypto.framing, checked against independent computations."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kmscli.crypto import framing
from kmscli.crypto.framing import (
    AuthenticationError,
    FrameCipher,
    InvalidPublicKeyError,
    MessageSigner,
    MessageVerifier,
    commitment_matches,
    compute_header_tag,
    derive_committing_keys,
    derive_legacy_key,
    verify_header_tag,
)

DATA_KEY = bytes(range(32))
MESSAGE_ID = bytes(range(100, 132))


def test_committing_keys_are_two_hkdf_sha512_derivations() -> None:
    key, commitment = derive_committing_keys(DATA_KEY, suite_id=0x0478, message_id=MESSAGE_ID)
    expected_key = HKDF(hashes.SHA512(), 32, salt=MESSAGE_ID, info=b"\x04\x78DERIVEKEY").derive(
        DATA_KEY
    )
    expected_commit = HKDF(hashes.SHA512(), 32, salt=MESSAGE_ID, info=b"COMMITKEY").derive(DATA_KEY)
    assert (key, commitment) == (expected_key, expected_commit)
    other, same_commit = derive_committing_keys(DATA_KEY, suite_id=0x0578, message_id=MESSAGE_ID)
    assert other != key and same_commit == commitment  # the suite ID is in the key info only


def test_committing_keys_match_the_esdk() -> None:
    from aws_encryption_sdk.identifiers import Algorithm
    from aws_encryption_sdk.internal.crypto.data_keys import (
        calculate_commitment_key,
        derive_data_encryption_key,
    )

    for algorithm in (Algorithm.get_by_id(0x0478), Algorithm.get_by_id(0x0578)):
        key, commitment = derive_committing_keys(
            DATA_KEY, suite_id=algorithm.algorithm_id, message_id=MESSAGE_ID
        )
        assert key == derive_data_encryption_key(DATA_KEY, algorithm, MESSAGE_ID)
        assert commitment == calculate_commitment_key(DATA_KEY, algorithm, MESSAGE_ID)


@pytest.mark.parametrize("suite_id", [0x0014, 0x0078, 0x0114, 0x0178, 0x0214, 0x0346, 0x0378])
def test_legacy_keys_match_the_esdk(suite_id: int) -> None:
    from aws_encryption_sdk.identifiers import Algorithm
    from aws_encryption_sdk.internal.crypto.data_keys import derive_data_encryption_key

    from kmscli.message.suites import suite_by_id

    suite = suite_by_id(suite_id)
    data_key = DATA_KEY[: suite.key_length]
    message_id = MESSAGE_ID[:16]
    assert suite.kdf is not None
    ours = derive_legacy_key(
        data_key, kdf=suite.kdf, suite_id=suite_id, message_id=message_id, length=suite.key_length
    )
    assert ours == derive_data_encryption_key(data_key, Algorithm.get_by_id(suite_id), message_id)


def test_frame_cipher_round_trip_into_reused_buffers() -> None:
    cipher = FrameCipher(DATA_KEY)
    iv = bytes(11) + b"\x01"
    plaintext = os.urandom(300)
    out = memoryview(bytearray(316 + 10))
    cipher.seal_into(iv, memoryview(plaintext), b"aad", out[:316])
    assert bytes(out[:316]) == AESGCM(DATA_KEY).encrypt(iv, plaintext, b"aad")
    back = memoryview(bytearray(300))
    cipher.open_into(iv, out[:316], b"aad", back)
    assert bytes(back) == plaintext
    bad = bytearray(out[:316])
    bad[5] ^= 1
    with pytest.raises(AuthenticationError):
        cipher.open_into(iv, memoryview(bad), b"aad", back)
    with pytest.raises(AuthenticationError):
        cipher.open_into(iv, out[:316], b"other aad", back)
    assert cipher.open(iv, bytes(out[:316]), b"aad") == plaintext
    with pytest.raises(AuthenticationError):
        cipher.open(iv, bytes(bad), b"aad")


def test_uses_the_into_api_when_present() -> None:
    assert hasattr(AESGCM, "encrypt_into") == framing.HAS_INTO


def test_header_tag() -> None:
    body = b"header body bytes"
    tag = compute_header_tag(DATA_KEY, bytes(12), body)
    assert len(tag) == 16
    verify_header_tag(DATA_KEY, bytes(12), body, tag)
    with pytest.raises(AuthenticationError):
        verify_header_tag(DATA_KEY, bytes(12), body + b"x", tag)
    with pytest.raises(AuthenticationError):
        verify_header_tag(DATA_KEY, b"\x01" + bytes(11), body, tag)


def test_commitment_compare() -> None:
    assert commitment_matches(b"a" * 32, b"a" * 32)
    assert not commitment_matches(b"a" * 32, b"a" * 31 + b"b")


@pytest.mark.parametrize(("curve", "length"), [("P-384", 68), ("P-256", 44)])
def test_sign_and_verify_incrementally(curve: framing.Curve, length: int) -> None:
    signer = MessageSigner(curve)
    assert len(signer.public_key_b64) == length
    point = base64.b64decode(signer.public_key_b64)
    assert point[0] in (2, 3)
    parts = [os.urandom(n) for n in (0, 1, 1000, 70000)]
    for part in parts:
        signer.update(memoryview(part))
    signature = signer.finalize()

    verifier = MessageVerifier(curve, signer.public_key_b64)
    for part in parts:
        verifier.update(part)
    verifier.verify(signature)

    # The same signature over the whole message with a non-prehashed ECDSA verifies too.
    ec_curve = ec.SECP384R1() if curve == "P-384" else ec.SECP256R1()
    algorithm = hashes.SHA384() if curve == "P-384" else hashes.SHA256()
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec_curve, point)
    public.verify(signature, b"".join(parts), ec.ECDSA(algorithm))

    tampered = MessageVerifier(curve, signer.public_key_b64)
    tampered.update(b"".join(parts) + b"x")
    with pytest.raises(AuthenticationError):
        tampered.verify(signature)


def test_esdk_can_load_our_public_key() -> None:
    from aws_encryption_sdk.identifiers import Algorithm
    from aws_encryption_sdk.internal.crypto.authentication import Verifier

    signer = MessageSigner("P-384")
    signer.update(b"message")
    signature = signer.finalize()
    # It takes the Base64 text itself, as stored in the encryption context.
    verifier = Verifier.from_encoded_point(Algorithm.get_by_id(0x0578), signer.public_key_b64)
    verifier.update(b"message")
    verifier.verify(signature)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not base64!",
        base64.b64encode(b"\x02" + bytes(47)).decode(),  # too short
        base64.b64encode(b"\x04" + bytes(48)).decode(),  # wrong prefix
        base64.b64encode(b"\x02" + b"\xff" * 48).decode(),  # x beyond the field prime
        "ä",
    ],
)
def test_bad_public_keys(value: str) -> None:
    with pytest.raises(InvalidPublicKeyError):
        MessageVerifier("P-384", value)


def test_p256_key_is_not_a_p384_key() -> None:
    with pytest.raises(InvalidPublicKeyError):
        MessageVerifier("P-384", MessageSigner("P-256").public_key_b64)
