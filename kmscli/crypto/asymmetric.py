"""Asymmetric KMS keys and data key pairs, keyed by AWS names (kms-behaviour.md §8, §3).

Owns: generating, loading and validating private keys per KeySpec (DER PKCS#8; raw bytes for
HMAC specs, through `hmac_keys`), their DER SubjectPublicKeyInfo, Sign/Verify with every
SigningAlgorithm for RAW, DIGEST and EXTERNAL_MU messages, RSA-OAEP Encrypt/Decrypt within AWS's
plaintext limits, ECDH key agreement, GenerateDataKeyPair's key pairs, hashing a stream for a
DIGEST message, and telling which specs the installed `cryptography` can do. Must not: know about
key records, key states, policies or the keyring; choose anything the caller could get wrong
(padding, salt length, hash and curve all follow from the AWS names); let a `cryptography`
exception escape: every failure is a KmsError with AWS's exception name and, where AWS's wording
is known, AWS's message.

Keys are passed as DER bytes and parsed per call; the caller keeps them sealed at rest.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Final

import cryptography
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils

from kmscli.crypto import hmac_keys, ml_dsa
from kmscli.crypto.keyspecs import (
    DIGEST,
    ECC,
    ECDH,
    ED25519,
    ED25519_PH_SHA_512,
    EXTERNAL_MU,
    HMAC,
    KEY_PAIR_SPECS,
    KEY_SPECS,
    ML_DSA,
    RSA,
    RSAES_OAEP_SHA_1,
    SIGNING_ALGORITHMS,
    SigningAlgorithm,
    check_message,
    key_agreement_algorithm,
    key_spec,
    rsa_plaintext_limit,
    signing_algorithm,
)
from kmscli.crypto.ml_dsa import Readable
from kmscli.errors import (
    InvalidCiphertextException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)

__all__ = [
    "KEY_PAIR_SPECS",
    "KEY_SPECS",
    "derive_shared_secret",
    "digest_stream",
    "external_mu_stream",
    "generate_data_key_pair",
    "generate_private_key",
    "load_private_key",
    "public_key_der",
    "rsa_decrypt",
    "rsa_encrypt",
    "sign",
    "signing_supported",
    "spec_supported",
    "verify",
]

_RSA_BITS: Final = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
_CURVES: Final[dict[str, Callable[[], ec.EllipticCurve]]] = {
    "ECC_NIST_P256": ec.SECP256R1,
    "ECC_NIST_P384": ec.SECP384R1,
    "ECC_NIST_P521": ec.SECP521R1,
    "ECC_SECG_P256K1": ec.SECP256K1,
}
_HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}
_CHUNK_BYTES: Final = 1 << 20
_PUBLIC: Final = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

_Private = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_Public = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


# -- what the installed cryptography can do ------------------------------------------------------


@functools.cache
def _curve_supported(spec: str) -> bool:
    try:
        ec.generate_private_key(_CURVES[spec]())
    except UnsupportedAlgorithm:
        return False
    return True


@functools.cache
def _ed25519_supported() -> bool:
    try:
        ed25519.Ed25519PrivateKey.generate()
    except UnsupportedAlgorithm:
        return False
    return True


def spec_supported(spec: str) -> bool:
    """Can the installed cryptography generate and use keys of `spec` (any KeySpec name)?"""
    family = key_spec(spec).family
    if family == ECC:
        return _curve_supported(spec)
    if family == ED25519:
        return _ed25519_supported()
    if family == ML_DSA:
        return ml_dsa.available()
    return True


def signing_supported(spec: str, algorithm: str) -> bool:
    """Can a `spec` key sign and verify with `algorithm` here? (Never ED25519_PH_SHA_512.)"""
    signing_algorithm(spec, algorithm)
    return algorithm != ED25519_PH_SHA_512 and spec_supported(spec)


_NEEDS: Final = {
    "ECC_NIST_P256": "the NIST P-256 curve",
    "ECC_NIST_P384": "the NIST P-384 curve",
    "ECC_NIST_P521": "the NIST P-521 curve",
    "ECC_SECG_P256K1": "the secp256k1 curve",
    "ECC_NIST_EDWARDS25519": "Ed25519",
}


def _require_supported(spec: str) -> None:
    if not spec_supported(spec):
        needs = _NEEDS.get(spec, "ML-DSA")
        raise UnsupportedOperationException(
            f"Key spec {spec} is not available here: the installed cryptography "
            f"{cryptography.__version__} (or the OpenSSL it is built on) does not provide {needs}."
        )


def _no_ed25519ph() -> UnsupportedOperationException:
    return UnsupportedOperationException(
        f"Signing algorithm {ED25519_PH_SHA_512} is not available here: the installed "
        f"cryptography {cryptography.__version__} does not provide Ed25519ph (pre-hashed "
        "Ed25519, RFC 8032). Use ED25519_SHA_512 with MessageType RAW."
    )


# -- generating and loading keys -----------------------------------------------------------------


def _private_der(key: _Private) -> bytes:
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_key(spec: str, family: str) -> _Private:
    if family == RSA:
        return rsa.generate_private_key(public_exponent=65537, key_size=_RSA_BITS[spec])
    if family == ECC:
        return ec.generate_private_key(_CURVES[spec]())
    return ed25519.Ed25519PrivateKey.generate()


def generate_private_key(spec: str) -> bytes:
    """Fresh key material for a KMS key of `spec`.

    DER PKCS#8 for asymmetric specs; for HMAC specs, random bytes as long as the digest.
    """
    family = key_spec(spec).family
    if family == HMAC:
        return hmac_keys.generate_key(spec)
    if family == ML_DSA:
        return ml_dsa.generate(spec)
    _require_asymmetric(spec, family)
    _require_supported(spec)
    return _private_der(_new_key(spec, family))


def _require_asymmetric(spec: str, family: str) -> None:
    if family not in (RSA, ECC, ED25519, ML_DSA):
        raise UnsupportedOperationException(f"Key spec {spec} is not an asymmetric key spec.")


def _matches(spec: str, key: object) -> bool:
    family = KEY_SPECS[spec].family
    if family == RSA:
        return isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey) and (
            key.key_size == _RSA_BITS[spec]
        )
    if family == ECC:
        return isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) and (
            key.curve.name == _CURVES[spec]().name
        )
    return isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey)


def _load_private(spec: str, der: bytes, *, trusted: bool = True) -> _Private:
    """The `spec` private key in `der`.

    `trusted` keys (generated here and kept sealed by the keyring) skip cryptography's RSA
    consistency check, which costs a quarter of a second for RSA_4096; imported material gets it.
    """
    _require_supported(spec)
    message = f"The key material is not a DER-encoded PKCS#8 {spec} private key."
    try:
        key = serialization.load_der_private_key(
            bytes(der), password=None, unsafe_skip_rsa_key_validation=trusted
        )
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValidationException(message) from None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ) or not _matches(spec, key):
        raise ValidationException(message)
    return key


def _load_public(spec: str, der: bytes) -> _Public:
    _require_supported(spec)
    message = f"The public key is not a DER-encoded X.509 SubjectPublicKeyInfo {spec} key."
    try:
        key = serialization.load_der_public_key(bytes(der))
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationException(message) from None
    if not isinstance(
        key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    ) or not _matches(spec, key):
        raise ValidationException(message)
    return key


def _der_header(data: bytes, offset: int) -> tuple[int, int, int] | None:
    """(tag, content length, content offset) of the DER element at `offset`, if well formed."""
    if offset + 2 > len(data):
        return None
    tag, first = data[offset], data[offset + 1]
    if first < 0x80:
        return tag, first, offset + 2
    count = first & 0x7F
    if not 0 < count <= 4 or offset + 2 + count > len(data):
        return None
    length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    return tag, length, offset + 2 + count


def _is_pkcs8(der: bytes) -> bool:
    """SEQUENCE { INTEGER version, SEQUENCE algorithm, ... } (RFC 5208/5958), not PKCS#1 or SEC1."""
    outer = _der_header(der, 0)
    if outer is None or outer[0] != 0x30:
        return False
    version = _der_header(der, outer[2])
    if version is None or version[0] != 0x02:
        return False
    algorithm = _der_header(der, version[2] + version[1])
    return algorithm is not None and algorithm[0] == 0x30


def load_private_key(spec: str, der: bytes) -> bytes:
    """Validate key material for `spec` (e.g. before import); returns it in canonical form.

    Asymmetric specs: a DER PKCS#8 private key of exactly that type, size or curve, returned
    re-encoded as unencrypted DER PKCS#8. HMAC specs: raw bytes within AWS's length range.
    ValidationException if the material does not fit the spec.
    """
    family = key_spec(spec).family
    if family == HMAC:
        return hmac_keys.load_key(spec, der)
    _require_asymmetric(spec, family)
    if not _is_pkcs8(bytes(der)):
        raise ValidationException(
            f"The key material is not a DER-encoded PKCS#8 {spec} private key."
        )
    if family == ML_DSA:
        return ml_dsa.canonical_private(spec, der)
    return _private_der(_load_private(spec, der, trusted=False))


def public_key_der(spec: str, private: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo (what GetPublicKey returns) of a `spec` private key."""
    family = key_spec(spec).family
    if family == ML_DSA:
        return ml_dsa.public_key_der(spec, private)
    if family not in (RSA, ECC, ED25519):
        raise UnsupportedOperationException(f"Key spec {spec} has no public key.")
    return _load_private(spec, private).public_key().public_bytes(*_PUBLIC)


def generate_data_key_pair(key_pair_spec: str) -> tuple[bytes, bytes]:
    """A fresh key pair for GenerateDataKeyPair: (DER PKCS#8 private, DER SPKI public)."""
    if key_pair_spec not in KEY_PAIR_SPECS:
        raise ValidationException(
            f"1 validation error detected: Value '{key_pair_spec}' at 'keyPairSpec' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(KEY_PAIR_SPECS)}]"
        )
    private = generate_private_key(key_pair_spec)
    return private, public_key_der(key_pair_spec, private)


# -- Sign and Verify -----------------------------------------------------------------------------


def _prepare(spec: str, algorithm: str, message: bytes, message_type: str) -> SigningAlgorithm:
    """Check the request the way KMS does: algorithm for the spec, message type, digest length."""
    found = signing_algorithm(spec, algorithm)
    check_message(spec, found, message, message_type)
    if found.scheme == "ed25519ph":
        raise _no_ed25519ph()
    _require_supported(spec)
    return found


def _hash_argument(
    algorithm: SigningAlgorithm, message_type: str
) -> tuple[hashes.HashAlgorithm, hashes.HashAlgorithm | utils.Prehashed]:
    digest = _HASHES[algorithm.hash_name]()
    return digest, utils.Prehashed(digest) if message_type == DIGEST else digest


def _pss(digest: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.DIGEST_LENGTH)


def _sign_classic(key: _Private, algorithm: SigningAlgorithm, message: bytes, kind: str) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    digest, argument = _hash_argument(algorithm, kind)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(argument))
    if algorithm.scheme == "rsa-pss":
        return key.sign(message, _pss(digest), argument)
    return key.sign(message, padding.PKCS1v15(), argument)


def _verify_classic(
    key: _Public, algorithm: SigningAlgorithm, message: bytes, kind: str, signature: bytes
) -> None:
    if isinstance(key, ed25519.Ed25519PublicKey):
        key.verify(signature, message)
        return
    digest, argument = _hash_argument(algorithm, kind)
    if isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, message, ec.ECDSA(argument))
    elif algorithm.scheme == "rsa-pss":
        key.verify(signature, message, _pss(digest), argument)
    else:
        key.verify(signature, message, padding.PKCS1v15(), argument)


def sign(spec: str, private: bytes, algorithm: str, message: bytes, message_type: str) -> bytes:
    """Sign as KMS Sign does; `message` is the message (RAW), its hash (DIGEST) or μ (ML-DSA).

    RSA signatures are PKCS #1 (PSS: MGF1 with the same hash, salt as long as the digest);
    ECDSA signatures are DER (X9.62 / RFC 3279); Ed25519 and ML-DSA signatures are raw.
    """
    found = _prepare(spec, algorithm, message, message_type)
    if found.scheme == "ml-dsa":
        return ml_dsa.sign(spec, private, message, external_mu=message_type == EXTERNAL_MU)
    return _sign_classic(_load_private(spec, private), found, bytes(message), message_type)


def verify(
    spec: str,
    public: bytes,
    algorithm: str,
    message: bytes,
    message_type: str,
    signature: bytes,
) -> None:
    """Returns if `signature` verifies under the DER SPKI `public`, else raises.

    A mismatch (or a malformed signature) raises KMSInvalidSignatureException, message empty.

    The message type may differ from the one used to sign, as long as it describes the same
    bytes (a RAW message and a DIGEST of its hash verify the same signature).
    """
    found = _prepare(spec, algorithm, message, message_type)
    if found.scheme == "ml-dsa":
        ml_dsa.verify(spec, public, message, signature, external_mu=message_type == EXTERNAL_MU)
        return
    key = _load_public(spec, public)
    try:
        _verify_classic(key, found, bytes(message), message_type, bytes(signature))
    except (InvalidSignature, ValueError):
        raise KMSInvalidSignatureException("") from None


def digest_stream(algorithm: str, readable: Readable) -> bytes:
    """The hash `algorithm` applies, over a stream of any size read in chunks.

    What a caller sends as a DIGEST message to sign a file larger than Sign's 4096-byte limit.
    ValidationException for algorithms that take no DIGEST (ED25519_SHA_512, ML_DSA_SHAKE_256).
    """
    found = SIGNING_ALGORITHMS.get(algorithm)
    if found is None or DIGEST not in found.message_types:
        raise ValidationException(
            f"Message type DIGEST is incompatible with algorithm {algorithm}."
        )
    hasher = hashes.Hash(_HASHES[found.hash_name]())
    while chunk := readable.read(_CHUNK_BYTES):
        hasher.update(chunk)
    return hasher.finalize()


def external_mu_stream(spec: str, public: bytes, readable: Readable) -> bytes:
    """The EXTERNAL_MU message (FIPS 204 μ, 64 bytes) for a stream, under an ML-DSA public key."""
    if key_spec(spec).family != ML_DSA:
        raise ValidationException(
            f"Message type {EXTERNAL_MU} is incompatible with key spec {spec}."
        )
    return ml_dsa.external_mu_stream(spec, public, readable)


# -- RSA Encrypt and Decrypt ---------------------------------------------------------------------


def _oaep(algorithm: str) -> padding.OAEP:
    digest: hashes.HashAlgorithm = (
        hashes.SHA1() if algorithm == RSAES_OAEP_SHA_1 else hashes.SHA256()  # noqa: S303
    )
    return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)


def rsa_encrypt(spec: str, public: bytes, algorithm: str, plaintext: bytes) -> bytes:
    """RSAES-OAEP (MGF1 with the same hash, no label) under the DER SPKI `public`.

    ValidationException above AWS's plaintext limit for the key size and algorithm.
    """
    limit = rsa_plaintext_limit(spec, algorithm)
    if len(plaintext) > limit:
        raise ValidationException(
            f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than "
            f"{limit} bytes."
        )
    key = _load_public(spec, public)
    assert isinstance(key, rsa.RSAPublicKey)
    return key.encrypt(bytes(plaintext), _oaep(algorithm))


def rsa_decrypt(spec: str, private: bytes, algorithm: str, ciphertext: bytes) -> bytes:
    """Inverse of `rsa_encrypt`; InvalidCiphertextException (no detail) if it does not decrypt."""
    rsa_plaintext_limit(spec, algorithm)
    key = _load_private(spec, private)
    assert isinstance(key, rsa.RSAPrivateKey)
    try:
        return key.decrypt(bytes(ciphertext), _oaep(algorithm))
    except ValueError:
        raise InvalidCiphertextException("") from None


# -- ECDH key agreement --------------------------------------------------------------------------


def _peer_key(spec: str, der: bytes) -> ec.EllipticCurvePublicKey:
    try:
        peer = serialization.load_der_public_key(bytes(der))
    except (ValueError, UnsupportedAlgorithm):
        raise ValidationException(
            "The public key is not a valid DER-encoded X.509 SubjectPublicKeyInfo."
        ) from None
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != _CURVES[spec]().name:
        raise ValidationException(
            f"The public key must be an elliptic curve key on the same curve as the KMS key "
            f"({spec})."
        )
    return peer


def derive_shared_secret(
    spec: str, private: bytes, peer_public: bytes, algorithm: str = ECDH
) -> bytes:
    """Raw ECDH shared secret (the x coordinate; NIST curves have cofactor 1) with a peer key.

    `peer_public` must be DER SPKI on the key's curve, else ValidationException.
    """
    key_agreement_algorithm(spec, algorithm)
    key = _load_private(spec, private)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    peer = _peer_key(spec, peer_public)
    try:
        return key.exchange(ec.ECDH(), peer)
    except ValueError:
        raise ValidationException("The public key is not a valid point on the curve.") from None
