"""HMAC KMS keys (HMAC_224/256/384/512): key generation, GenerateMac and VerifyMac (RFC 2104).

Owns: the raw key bytes of an HMAC key spec (generated at digest size; imported within AWS's
length ranges), computing a MAC with exactly the algorithm the spec supports, and comparing MACs
in constant time. Must not: know about key records, key states or policies; accept an algorithm
the spec does not name (InvalidKeyUsageException, AWS's wording); say why a MAC did not verify
(KMSInvalidMacException carries an empty message, as AWS's does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

from kmscli.crypto.keyspecs import HMAC, MAC_ALGORITHMS, key_spec, mac_hash
from kmscli.crypto.primitives import constant_time_equal, random_bytes
from kmscli.errors import KMSInvalidMacException, ValidationException

_HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "SHA_224": hashes.SHA224,
    "SHA_256": hashes.SHA256,
    "SHA_384": hashes.SHA384,
    "SHA_512": hashes.SHA512,
}

# Imported HMAC key material: accepted lengths in bytes per key spec (kms-behaviour.md §7).
KEY_LENGTHS: Final[dict[str, tuple[int, int]]] = {
    "HMAC_224": (28, 64),
    "HMAC_256": (32, 64),
    "HMAC_384": (48, 128),
    "HMAC_512": (64, 128),
}


def _hmac_spec(spec: str) -> str:
    found = key_spec(spec)
    if found.family != HMAC:
        raise ValidationException(f"Key spec {found.name} is not an HMAC key spec.")
    return found.name


def _hash_for(spec: str, algorithm: str) -> hashes.HashAlgorithm:
    return _HASHES[mac_hash(spec, algorithm)]()


def generate_key(spec: str) -> bytes:
    """A fresh HMAC key for `spec`: random bytes as long as the spec's digest, as KMS makes."""
    name = _hmac_spec(spec)
    return random_bytes(_HASHES[MAC_ALGORITHMS[key_spec(name).mac_algorithms[0]]]().digest_size)


def load_key(spec: str, material: bytes) -> bytes:
    """`material` if it may be imported as an `spec` key, else ValidationException."""
    low, high = KEY_LENGTHS[_hmac_spec(spec)]
    if not low <= len(material) <= high:
        raise ValidationException(
            f"Key material for key spec {spec} must be {low} to {high} bytes long, "
            f"not {len(material)}."
        )
    return bytes(material)


def generate_mac(spec: str, key: bytes, algorithm: str, message: bytes) -> bytes:
    """HMAC of `message` under `key` with `algorithm`, which must be the one `spec` supports."""
    mac = _hmac.HMAC(key, _hash_for(spec, algorithm))
    mac.update(message)
    return mac.finalize()


def verify_mac(spec: str, key: bytes, algorithm: str, message: bytes, mac: bytes) -> None:
    """Returns if `mac` is the HMAC of `message`; KMSInvalidMacException (no detail) if not."""
    expected = generate_mac(spec, key, algorithm, message)
    if not constant_time_equal(expected, bytes(mac)):
        raise KMSInvalidMacException("")
