"""Small, misuse-resistant cryptographic primitives for the keyring and the ciphertext blob.

This module (with its siblings in `kmscli.crypto`) is the only place that imports `cryptography`.
Nonces are always chosen here, never by the caller. Authentication failures raise
`AuthenticationError`; callers translate it into the KmsError that fits their layer.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GCM_NONCE_BYTES = 12
GCM_TAG_BYTES = 16
AES256_KEY_BYTES = 32


class AuthenticationError(Exception):
    """Ciphertext, tag or MAC did not verify. Carries no detail on purpose."""


def random_bytes(count: int) -> bytes:
    """`count` bytes from the operating system's CSPRNG."""
    return os.urandom(count)


def aes_gcm_seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-GCM under a fresh random 96-bit nonce; returns nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(GCM_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def aes_gcm_open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Inverse of `aes_gcm_seal`. Raises AuthenticationError on any mismatch."""
    if len(sealed) < GCM_NONCE_BYTES + GCM_TAG_BYTES:
        raise AuthenticationError
    nonce, body = sealed[:GCM_NONCE_BYTES], sealed[GCM_NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise AuthenticationError from None


def hkdf_sha256(ikm: bytes, *, info: bytes, length: int = 32, salt: bytes | None = None) -> bytes:
    """RFC 5869 HKDF with SHA-256: one purpose-bound subkey per `info` label."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def hmac_sha256(key: bytes, data: bytes) -> bytes:
    mac = _crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def hmac_sha256_verify(key: bytes, data: bytes, tag: bytes) -> bool:
    """Whether `tag` is HMAC-SHA256(key, data); compared in constant time."""
    mac = _crypto_hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    try:
        mac.verify(tag)
    except InvalidSignature:
        return False
    return True


def sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def constant_time_equal(left: bytes, right: bytes) -> bool:
    """Compare two secrets without leaking where they differ.

    A MAC is checked with `hmac_sha256_verify` instead where it can be: the standard library's
    hmac module loads a second copy of OpenSSL, a cost every command would pay at start-up.
    """
    import hmac

    return hmac.compare_digest(left, right)


def argon2id(
    passphrase: bytes,
    *,
    salt: bytes,
    memory_kib: int,
    iterations: int,
    lanes: int,
    length: int = 32,
) -> bytes:
    """Argon2id (RFC 9106) from cryptography; used to wrap the keyring root key."""
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    kdf = Argon2id(
        salt=salt, length=length, iterations=iterations, lanes=lanes, memory_cost=memory_kib
    )
    return kdf.derive(passphrase)
