"""HMAC KMS keys in kmscli.crypto, with `openssl mac` as the independent peer.

openssl computes the same MAC for every spec, at generated and at imported key lengths; the rest
pins AWS's errors (kms-behaviour.md §8): KMSInvalidMacException (empty message) for any mismatch
and InvalidKeyUsageException `Algorithm <ALG> is incompatible with key spec <SPEC>.`
"""

from __future__ import annotations

import hmac
import shutil
import subprocess

import pytest

from kmscli.crypto import hmac_keys
from kmscli.crypto.asymmetric import KEY_SPECS, generate_private_key
from kmscli.crypto.hmac_keys import generate_key, generate_mac, load_key, verify_mac
from kmscli.errors import InvalidKeyUsageException, KMSInvalidMacException, ValidationException

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl command line")

SPECS = {"HMAC_224": "SHA224", "HMAC_256": "SHA256", "HMAC_384": "SHA384", "HMAC_512": "SHA512"}
DIGEST_BYTES = {"HMAC_224": 28, "HMAC_256": 32, "HMAC_384": 48, "HMAC_512": 64}
IMPORT_RANGES = {
    "HMAC_224": (28, 64),
    "HMAC_256": (32, 64),
    "HMAC_384": (48, 128),
    "HMAC_512": (64, 128),
}
MESSAGE = b"kmscli authenticates this message\n"


def _algorithm(spec: str) -> str:
    return spec.replace("HMAC_", "HMAC_SHA_")


def _openssl_mac(spec: str, key: bytes, message: bytes) -> bytes:
    assert OPENSSL is not None
    result = subprocess.run(
        [
            OPENSSL,
            "mac",
            "-digest",
            SPECS[spec],
            "-macopt",
            f"hexkey:{key.hex()}",
            "-binary",
            "HMAC",
        ],
        input=message,
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_a_generated_key_is_as_long_as_the_digest(spec: str) -> None:
    key = generate_key(spec)
    assert len(key) == DIGEST_BYTES[spec]
    assert generate_key(spec) != key
    assert len(generate_private_key(spec)) == DIGEST_BYTES[spec]
    assert KEY_SPECS[spec].mac_algorithms == (_algorithm(spec),)


@needs_openssl
@pytest.mark.parametrize("spec", sorted(SPECS))
def test_openssl_computes_the_same_mac_at_every_key_length(spec: str) -> None:
    low, high = IMPORT_RANGES[spec]
    for key in (generate_key(spec), bytes(range(low)), bytes(range(high))):
        for message in (MESSAGE, b"", bytes(range(256)) * 16):
            ours = generate_mac(spec, key, _algorithm(spec), message)
            assert ours == _openssl_mac(spec, key, message)
            assert ours == hmac.new(key, message, SPECS[spec].lower()).digest()
            assert len(ours) == DIGEST_BYTES[spec]
            verify_mac(spec, key, _algorithm(spec), message, ours)


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_any_mismatch_raises_kms_invalid_mac_with_an_empty_message(spec: str) -> None:
    key = generate_key(spec)
    algorithm = _algorithm(spec)
    mac = generate_mac(spec, key, algorithm, MESSAGE)
    tampered = bytes([mac[0] ^ 0x80]) + mac[1:]
    cases = [
        (key, MESSAGE, tampered),
        (key, MESSAGE, mac[:-1]),
        (key, MESSAGE, mac + b"\x00"),
        (key, MESSAGE, b""),
        (key, MESSAGE + b"!", mac),
        (generate_key(spec), MESSAGE, mac),
    ]
    for candidate_key, message, candidate in cases:
        with pytest.raises(KMSInvalidMacException) as caught:
            verify_mac(spec, candidate_key, algorithm, message, candidate)
        assert caught.value.message == ""
        assert caught.value.code == "KMSInvalidMacException"


def test_verify_mac_compares_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def spy(left: bytes, right: bytes) -> bool:
        compared.append((left, right))
        return hmac.compare_digest(left, right)

    monkeypatch.setattr(hmac_keys, "constant_time_equal", spy)
    key = generate_key("HMAC_256")
    mac = generate_mac("HMAC_256", key, "HMAC_SHA_256", MESSAGE)
    verify_mac("HMAC_256", key, "HMAC_SHA_256", MESSAGE, mac)
    assert compared == [(mac, mac)]


MISMATCHES = [
    (spec, algorithm)
    for spec in sorted(SPECS)
    for algorithm in map(_algorithm, sorted(SPECS))
    if algorithm != _algorithm(spec)
]


@pytest.mark.parametrize(("spec", "algorithm"), MISMATCHES)
def test_another_algorithm_than_the_specs_is_invalid_key_usage(spec: str, algorithm: str) -> None:
    key = generate_key(spec)
    expected = f"Algorithm {algorithm} is incompatible with key spec {spec}."
    with pytest.raises(InvalidKeyUsageException) as generating:
        generate_mac(spec, key, algorithm, MESSAGE)
    assert generating.value.message == expected
    with pytest.raises(InvalidKeyUsageException) as verifying:
        verify_mac(spec, key, algorithm, MESSAGE, b"\x00" * 32)
    assert verifying.value.message == expected


def test_the_aws_recorded_mismatch_message() -> None:
    with pytest.raises(InvalidKeyUsageException) as caught:
        generate_mac("HMAC_224", b"k" * 28, "HMAC_SHA_256", MESSAGE)
    assert caught.value.message == "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."


def test_unknown_algorithms_and_non_hmac_specs_are_refused() -> None:
    with pytest.raises(ValidationException) as unknown:
        generate_mac("HMAC_256", b"k" * 32, "INVALID", MESSAGE)
    assert unknown.value.message == (
        "1 validation error detected: Value 'INVALID' at 'macAlgorithm' failed to satisfy "
        "constraint: Member must satisfy enum value set: "
        "[HMAC_SHA_224, HMAC_SHA_256, HMAC_SHA_384, HMAC_SHA_512]"
    )
    with pytest.raises(InvalidKeyUsageException) as rsa:
        generate_mac("RSA_2048", b"k" * 32, "HMAC_SHA_256", MESSAGE)
    assert rsa.value.message == "Algorithm HMAC_SHA_256 is incompatible with key spec RSA_2048."
    for spec in ("RSA_2048", "SYMMETRIC_DEFAULT"):
        with pytest.raises(ValidationException):
            generate_key(spec)
        with pytest.raises(ValidationException):
            load_key(spec, b"k" * 32)


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_imported_key_material_must_be_within_the_aws_range(spec: str) -> None:
    low, high = IMPORT_RANGES[spec]
    assert load_key(spec, b"k" * low) == b"k" * low
    assert load_key(spec, b"k" * high) == b"k" * high
    for size in (0, low - 1, high + 1):
        with pytest.raises(ValidationException) as caught:
            load_key(spec, b"k" * size)
        assert caught.value.message == (
            f"Key material for key spec {spec} must be {low} to {high} bytes long, not {size}."
        )


RFC_4231_CASE_2 = {
    "HMAC_224": "a30e01098bc6dbbf45690f3a7e9e6d0f8bbea2a39e6148008fd05e44",
    "HMAC_256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    "HMAC_384": "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
    "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
    "HMAC_512": "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
    "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
}


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_the_mac_is_the_raw_rfc_2104_output(spec: str) -> None:
    """RFC 4231 test case 2 (key "Jefe"): raw bytes, no hex, no prefix, no truncation."""
    mac = generate_mac(spec, b"Jefe", _algorithm(spec), b"what do ya want for nothing?")
    assert mac == bytes.fromhex(RFC_4231_CASE_2[spec])
