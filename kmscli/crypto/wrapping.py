"""RSA wrapping of imported key material, the way AWS KMS's GetParametersForImport expects it.

Owns: generating the RSA wrapping key pair (DER SubjectPublicKeyInfo for the caller, DER PKCS#8
for the keyring to seal), and unwrapping (and, for tests and tooling, wrapping) key material
with the four wrapping algorithms AWS accepts: RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 (RSA-OAEP
of the material itself, MGF1 with the same hash) and RSA_AES_KEY_WRAP_SHA_1 and
RSA_AES_KEY_WRAP_SHA_256 (RSA-OAEP of a fresh AES-256 key, followed by the material under AES key
wrap with padding, RFC 5649). Must not: know what a KMS key or an import token is. Failures to
unwrap raise `AuthenticationError` and carry no detail.
"""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kmscli.crypto.primitives import AuthenticationError, random_bytes

OAEP_SHA_1: Final = "RSAES_OAEP_SHA_1"
OAEP_SHA_256: Final = "RSAES_OAEP_SHA_256"
AES_KEY_WRAP_SHA_1: Final = "RSA_AES_KEY_WRAP_SHA_1"
AES_KEY_WRAP_SHA_256: Final = "RSA_AES_KEY_WRAP_SHA_256"
ALGORITHMS: Final = (OAEP_SHA_1, OAEP_SHA_256, AES_KEY_WRAP_SHA_1, AES_KEY_WRAP_SHA_256)
_AES_KEY_BYTES: Final = 32


def generate_wrapping_key(bits: int) -> tuple[bytes, bytes]:
    """A fresh RSA key pair: (private key as DER PKCS#8, public key as DER SPKI)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def _oaep(algorithm: str) -> padding.OAEP:
    digest: hashes.HashAlgorithm = hashes.SHA1() if algorithm.endswith("SHA_1") else hashes.SHA256()  # noqa: S303
    return padding.OAEP(mgf=padding.MGF1(algorithm=digest), algorithm=digest, label=None)


def _check(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown wrapping algorithm {algorithm!r}")


def unwrap_key_material(private_key_der: bytes, algorithm: str, wrapped: bytes) -> bytes:
    """The key material inside `wrapped`; AuthenticationError if it does not unwrap."""
    _check(algorithm)
    key = serialization.load_der_private_key(private_key_der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the wrapping key is not an RSA key")
    block = key.key_size // 8
    try:
        if algorithm in (OAEP_SHA_1, OAEP_SHA_256):
            if len(wrapped) != block:
                raise AuthenticationError
            return key.decrypt(wrapped, _oaep(algorithm))
        if len(wrapped) <= block:
            raise AuthenticationError
        aes_key = key.decrypt(wrapped[:block], _oaep(algorithm))
        if len(aes_key) != _AES_KEY_BYTES:
            raise AuthenticationError
        return keywrap.aes_key_unwrap_with_padding(aes_key, wrapped[block:])
    except (ValueError, keywrap.InvalidUnwrap):
        raise AuthenticationError from None


def wrap_key_material(public_key_der: bytes, algorithm: str, material: bytes) -> bytes:
    """`material` wrapped as AWS's documentation does it with openssl (inverse of unwrap)."""
    _check(algorithm)
    key = serialization.load_der_public_key(public_key_der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the wrapping key is not an RSA key")
    if algorithm in (OAEP_SHA_1, OAEP_SHA_256):
        return key.encrypt(material, _oaep(algorithm))
    aes_key = random_bytes(_AES_KEY_BYTES)
    return key.encrypt(aes_key, _oaep(algorithm)) + keywrap.aes_key_wrap_with_padding(
        aes_key, material
    )
