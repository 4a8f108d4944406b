"""ML-DSA (FIPS 204) KMS keys ML_DSA_44, ML_DSA_65 and ML_DSA_87 with ML_DSA_SHAKE_256.

Owns: whether the installed `cryptography` (and the OpenSSL it is built on) can do ML-DSA at all,
generating keys (DER PKCS#8 in seed form, DER SubjectPublicKeyInfo), signing and verifying
either the message itself (MessageType RAW: pure ML-DSA, empty context, as KMS signs) or a
caller-computed 64-byte representative μ (MessageType EXTERNAL_MU), and computing μ over a
stream. Must not: accept a message type or length (`kmscli.crypto.keyspecs.check_message` does
that before anything reaches here), or let a `cryptography` exception or a missing ML-DSA
escape: those become UnsupportedOperationException, ValidationException or
KMSInvalidSignatureException.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Final, Protocol

import cryptography
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from kmscli.errors import (
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)

try:
    from cryptography.hazmat.primitives.asymmetric import mldsa

    _IMPORTED = True
except ImportError:  # cryptography releases before ML-DSA
    _IMPORTED = False

if TYPE_CHECKING:
    _Private = mldsa.MLDSA44PrivateKey | mldsa.MLDSA65PrivateKey | mldsa.MLDSA87PrivateKey
    _Public = mldsa.MLDSA44PublicKey | mldsa.MLDSA65PublicKey | mldsa.MLDSA87PublicKey

_LEVELS: Final = {"ML_DSA_44": "MLDSA44", "ML_DSA_65": "MLDSA65", "ML_DSA_87": "MLDSA87"}
_CHUNK_BYTES: Final = 1 << 20


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


@functools.cache
def _probe() -> bool:
    if not _IMPORTED:
        return False
    try:
        mldsa.MLDSA44PrivateKey.generate()
    except UnsupportedAlgorithm:
        return False
    return True


def available() -> bool:
    """Can the installed cryptography generate, sign and verify with ML-DSA?"""
    return _probe()


def _require(spec: str) -> None:
    if spec not in _LEVELS:
        raise ValidationException(f"Key spec {spec} is not an ML-DSA key spec.")
    if not available():
        raise UnsupportedOperationException(
            f"Key spec {spec} is not available here: the installed cryptography "
            f"{cryptography.__version__} (or the OpenSSL it is built on) does not provide ML-DSA."
        )


def _classes(spec: str) -> tuple[type[_Private], type[_Public]]:
    _require(spec)
    prefix = _LEVELS[spec]
    private: type[_Private] = getattr(mldsa, f"{prefix}PrivateKey")
    public: type[_Public] = getattr(mldsa, f"{prefix}PublicKey")
    return private, public


def generate(spec: str) -> bytes:
    """A fresh key of `spec` as DER PKCS#8 (the 32-byte seed form)."""
    key = _classes(spec)[0].generate()
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private(spec: str, der: bytes) -> _Private:
    """The `spec` private key in `der` (DER PKCS#8); ValidationException if it is not one."""
    private_class = _classes(spec)[0]
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValidationException(_not_a(spec, "private")) from None
    if not isinstance(key, private_class):
        raise ValidationException(_not_a(spec, "private"))
    return key


def canonical_private(spec: str, der: bytes) -> bytes:
    """`der` re-encoded as seed-form DER PKCS#8; ValidationException if it holds no seed."""
    key = load_private(spec, der)
    try:
        return key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    except ValueError:
        raise ValidationException(
            f"The {spec} key material must include its 32-byte seed (FIPS 204 seed form)."
        ) from None


def load_public(spec: str, der: bytes) -> _Public:
    """The `spec` public key in `der` (DER SPKI); ValidationException if it is not one."""
    public_class = _classes(spec)[1]
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationException(_not_a(spec, "public")) from None
    if not isinstance(key, public_class):
        raise ValidationException(_not_a(spec, "public"))
    return key


def _not_a(spec: str, kind: str) -> str:
    form = "PKCS#8" if kind == "private" else "X.509 SubjectPublicKeyInfo"
    return f"The key is not a DER-encoded {form} {spec} {kind} key."


def _no_external_mu() -> UnsupportedOperationException:
    return UnsupportedOperationException(
        "MessageType EXTERNAL_MU is not available here: the installed cryptography "
        f"{cryptography.__version__} cannot sign or verify a precomputed ML-DSA μ."
    )


def public_key_der(spec: str, private_der: bytes) -> bytes:
    return (
        load_private(spec, private_der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def sign(spec: str, private_der: bytes, message: bytes, *, external_mu: bool) -> bytes:
    """ML-DSA signature of `message` (RAW, empty context) or of the representative μ."""
    key = load_private(spec, private_der)
    if not external_mu:
        return key.sign(message)
    if not hasattr(key, "sign_mu"):
        raise _no_external_mu()
    return key.sign_mu(message)


def verify(
    spec: str, public_der: bytes, message: bytes, signature: bytes, *, external_mu: bool
) -> None:
    """Returns if `signature` is valid; KMSInvalidSignatureException (no detail) if not."""
    key = load_public(spec, public_der)
    if external_mu and not hasattr(key, "verify_mu"):
        raise _no_external_mu()
    try:
        if external_mu:
            key.verify_mu(signature, message)
        else:
            key.verify(signature, message)
    except (InvalidSignature, ValueError):
        raise KMSInvalidSignatureException("") from None


def external_mu_stream(spec: str, public_der: bytes, readable: Readable) -> bytes:
    """FIPS 204 μ = SHAKE256(SHAKE256(pk, 64) ‖ 0x00 ‖ 0x00 ‖ M, 64) of a stream of any size.

    What a caller sends as an EXTERNAL_MU message to sign a file too big to send RAW.
    """
    public = load_public(spec, public_der)
    if not hasattr(mldsa, "MLDSAMuHasher"):
        raise _no_external_mu()
    hasher = mldsa.MLDSAMuHasher(public)
    while chunk := readable.read(_CHUNK_BYTES):
        hasher.update(chunk)
    return hasher.finalize()
