"""The cryptography the AWS Encryption SDK message format needs, and nothing else.

Owns: the ESDK key derivations (committing HKDF-SHA512 and the v1 HKDF/identity variants), the
per-frame AES-GCM sealer/opener over reused buffers, the header authentication tag, ECDSA
signing/verification over an incrementally hashed message (prehashed), the SEC1 compressed public
key in Base64, and the constant-time commitment compare.

Must not: know the byte layout of headers or frames (that is `kmscli.message`), choose random
nonces (ESDK IVs are deterministic and chosen by the format), or raise KmsError: failures of
authentication raise `AuthenticationError` and malformed public keys `InvalidPublicKeyError`, and
the message layer translates them.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Final, Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

# ECDSA serves the signed suites only; its modules are imported by the signer and verifier so
# that an unsigned `kmscli encrypt` does not pay for them at start-up.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

from kmscli.crypto.primitives import AuthenticationError, constant_time_equal

__all__ = [
    "GCM_IV_BYTES",
    "GCM_TAG_BYTES",
    "HAS_INTO",
    "AuthenticationError",
    "Curve",
    "FrameCipher",
    "FrameOpener",
    "InvalidPublicKeyError",
    "Kdf",
    "MessageSigner",
    "MessageVerifier",
    "commitment_matches",
    "compute_header_tag",
    "derive_committing_keys",
    "derive_legacy_key",
    "verify_header_tag",
]

GCM_IV_BYTES: Final = 12
GCM_TAG_BYTES: Final = 16

Kdf = Literal["identity", "hkdf-sha256", "hkdf-sha384"]
Curve = Literal["P-256", "P-384"]

# `encrypt_into`/`decrypt_into` arrived in cryptography 47; older versions allocate per call.
HAS_INTO: Final = hasattr(AESGCM, "encrypt_into") and hasattr(AESGCM, "decrypt_into")

_DERIVEKEY: Final = b"DERIVEKEY"
_COMMITKEY: Final = b"COMMITKEY"


class InvalidPublicKeyError(ValueError):
    """The `aws-crypto-public-key` value is not a valid compressed point on the suite's curve."""


# -- key derivation ------------------------------------------------------------------------------


def derive_committing_keys(
    data_key: bytes, *, suite_id: int, message_id: bytes
) -> tuple[bytes, bytes]:
    """Suites 0x0478/0x0578: (encryption key, commitment key), both 32 bytes.

    HKDF-SHA512 with salt = message ID; one extract step, two expands:
    info = suite ID ‖ "DERIVEKEY" for the key, info = "COMMITKEY" for the commitment.
    """
    extract = _hmac.HMAC(message_id, hashes.SHA512())
    extract.update(data_key)
    prk = extract.finalize()
    key = HKDFExpand(
        algorithm=hashes.SHA512(), length=32, info=suite_id.to_bytes(2, "big") + _DERIVEKEY
    ).derive(prk)
    commitment = HKDFExpand(algorithm=hashes.SHA512(), length=32, info=_COMMITKEY).derive(prk)
    return key, commitment


def derive_legacy_key(
    data_key: bytes, *, kdf: Kdf, suite_id: int, message_id: bytes, length: int
) -> bytes:
    """Version-1 suites: the data key itself, or HKDF (no salt, info = suite ID ‖ message ID)."""
    if kdf == "identity":
        return data_key
    algorithm: hashes.HashAlgorithm = hashes.SHA256() if kdf == "hkdf-sha256" else hashes.SHA384()
    info = suite_id.to_bytes(2, "big") + message_id
    return HKDF(algorithm=algorithm, length=length, salt=None, info=info).derive(data_key)


def commitment_matches(expected: bytes, actual: bytes) -> bool:
    """Constant-time equality of two commitment keys."""
    return constant_time_equal(expected, actual)


# -- header tag ----------------------------------------------------------------------------------


def compute_header_tag(key: bytes, iv: bytes, header_body: bytes) -> bytes:
    """GCM over an empty plaintext with the header body as AAD; returns the 16-byte tag."""
    return AESGCM(key).encrypt(iv, b"", header_body)


def verify_header_tag(key: bytes, iv: bytes, header_body: bytes, tag: bytes) -> None:
    try:
        AESGCM(key).decrypt(iv, tag, header_body)
    except InvalidTag:
        raise AuthenticationError from None


# -- frames --------------------------------------------------------------------------------------


class FrameCipher:
    """AES-GCM for one message's frames, writing into caller-owned buffers.

    `seal_into` writes ciphertext ‖ tag into `out` (exactly len(plaintext) + 16 bytes);
    `open_into` writes the plaintext into `out` (exactly len(data) - 16 bytes). On a failed open,
    `out` holds unauthenticated bytes: the caller must discard it.
    """

    __slots__ = ("_aead", "_key")

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._key = key

    def opener(self, iv: bytes, aad: bytes) -> FrameOpener:
        """Open one frame fed in pieces (a frame that spans read buffers), with no copy."""
        return FrameOpener(self._key, iv, aad)

    if HAS_INTO:

        def seal_into(
            self, iv: bytes, plaintext: memoryview | bytes, aad: bytes, out: memoryview
        ) -> None:
            self._aead.encrypt_into(iv, plaintext, aad, out)

        def open_into(
            self, iv: bytes | memoryview, data: memoryview | bytes, aad: bytes, out: memoryview
        ) -> None:
            try:
                self._aead.decrypt_into(iv, data, aad, out)
            except InvalidTag:
                raise AuthenticationError from None

    else:  # pragma: no cover - exercised only with cryptography < 47

        def seal_into(
            self, iv: bytes, plaintext: memoryview | bytes, aad: bytes, out: memoryview
        ) -> None:
            out[:] = self._aead.encrypt(iv, plaintext, aad)

        def open_into(
            self, iv: bytes | memoryview, data: memoryview | bytes, aad: bytes, out: memoryview
        ) -> None:
            try:
                out[:] = self._aead.decrypt(bytes(iv), data, aad)
            except InvalidTag:
                raise AuthenticationError from None

    def open(self, iv: bytes | memoryview, data: bytes | memoryview, aad: bytes) -> bytes:
        """One-shot open, for the legacy non-framed body."""
        try:
            return self._aead.decrypt(bytes(iv), data, aad)
        except InvalidTag:
            raise AuthenticationError from None


class FrameOpener:
    """AES-GCM decryption of one frame whose ciphertext arrives in pieces.

    `update_into(piece, out)` writes len(piece) plaintext bytes at the start of `out`, which must
    have room for 15 more (the cipher context's rule); `finish(tag)` authenticates the whole
    frame. Until `finish` returns, what was written is unauthenticated: the caller must discard
    it on AuthenticationError.
    """

    __slots__ = ("_context",)

    def __init__(self, key: bytes, iv: bytes, aad: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self._context = Cipher(algorithms.AES(key), modes.GCM(iv)).decryptor()
        self._context.authenticate_additional_data(aad)

    def update_into(self, data: memoryview | bytes, out: memoryview) -> int:
        return self._context.update_into(data, out)

    def finish(self, tag: bytes) -> None:
        try:
            self._context.finalize_with_tag(tag)
        except InvalidTag:
            raise AuthenticationError from None


# -- signatures ----------------------------------------------------------------------------------


def _curve_params(curve: Curve) -> tuple[ec.EllipticCurve, hashes.HashAlgorithm, int]:
    """(curve, hash, coordinate length in bytes)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if curve == "P-256":
        return ec.SECP256R1(), hashes.SHA256(), 32
    return ec.SECP384R1(), hashes.SHA384(), 48


class MessageSigner:
    """A fresh ECDSA key for one message; hashes the message as it is written, signs at the end."""

    __slots__ = ("_algorithm", "_hash", "_key", "public_key_b64")

    def __init__(self, curve: Curve) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        ec_curve, hash_algorithm, _ = _curve_params(curve)
        self._key = ec.generate_private_key(ec_curve)
        self._hash = hashes.Hash(hash_algorithm)
        self._algorithm = ec.ECDSA(Prehashed(hash_algorithm))
        point = self._key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        self.public_key_b64: str = base64.b64encode(point).decode("ascii")

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)

    def finalize(self) -> bytes:
        """The DER signature over everything passed to `update`."""
        return self._key.sign(self._hash.finalize(), self._algorithm)


class MessageVerifier:
    """Verifies a message footer against the public key carried in the encryption context."""

    __slots__ = ("_algorithm", "_hash", "_key")

    def __init__(self, curve: Curve, public_key_b64: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

        ec_curve, hash_algorithm, coordinate_bytes = _curve_params(curve)
        try:
            point = base64.b64decode(public_key_b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise InvalidPublicKeyError("the public key is not valid Base64") from None
        if len(point) != 1 + coordinate_bytes or point[0] not in (2, 3):
            raise InvalidPublicKeyError("the public key is not a compressed point on the curve")
        try:
            self._key = ec.EllipticCurvePublicKey.from_encoded_point(ec_curve, point)
        except ValueError:
            raise InvalidPublicKeyError("the public key is not a point on the curve") from None
        self._hash = hashes.Hash(hash_algorithm)
        self._algorithm = ec.ECDSA(Prehashed(hash_algorithm))

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)

    def verify(self, signature: bytes) -> None:
        try:
            self._key.verify(signature, self._hash.finalize(), self._algorithm)
        except InvalidSignature:
            raise AuthenticationError from None
