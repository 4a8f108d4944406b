"""Asymmetric KMS keys in kmscli.crypto against the `openssl` command line as the independent peer.

openssl verifies our signatures and we verify its signatures over the same key pairs, openssl
encrypts to our RSA keys and decrypts ours, derives the same ECDH secrets and parses every key
pair we make. The rest pins AWS's limits and error names and messages (kms-behaviour.md §8, §3).
Keys are generated once per module (RSA_4096 is slow).
"""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kmscli.crypto import asymmetric, keyspecs, ml_dsa
from kmscli.crypto.asymmetric import (
    KEY_PAIR_SPECS,
    KEY_SPECS,
    derive_shared_secret,
    digest_stream,
    external_mu_stream,
    generate_data_key_pair,
    generate_private_key,
    load_private_key,
    public_key_der,
    rsa_decrypt,
    rsa_encrypt,
    sign,
    signing_supported,
    spec_supported,
    verify,
)
from kmscli.errors import (
    InvalidCiphertextException,
    InvalidKeyUsageException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl command line")
needs_ml_dsa = pytest.mark.skipif(not ml_dsa.available(), reason="cryptography without ML-DSA")

MESSAGE = b"kmscli signs this message\n"
KeyPair = tuple[bytes, bytes]  # (DER PKCS#8 private, DER SPKI public)


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    assert OPENSSL is not None
    result = subprocess.run(
        [OPENSSL, *args], input=data, capture_output=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


def _openssl_ok(*args: str) -> bool:
    assert OPENSSL is not None
    result = subprocess.run([OPENSSL, *args], capture_output=True, check=False, timeout=60)
    return result.returncode == 0


@pytest.fixture(scope="module")
def pair() -> Callable[[str], KeyPair]:
    """One key pair per spec for the whole module, made the way the service will make them."""

    @functools.cache
    def make(spec: str) -> KeyPair:
        if spec in KEY_PAIR_SPECS:
            return generate_data_key_pair(spec)
        private = generate_private_key(spec)
        return private, public_key_der(spec, private)

    return make


@pytest.fixture
def files(tmp_path: Path) -> Callable[[str, bytes], str]:
    def write(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    return write


# -- the KeySpec table ---------------------------------------------------------------------------

RSA_SIGNING = [
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
]
EXPECTED_ALGORITHMS = {
    ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"): {"EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]},
    **{
        (f"RSA_{bits}", "ENCRYPT_DECRYPT"): {
            "EncryptionAlgorithms": ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
        }
        for bits in (2048, 3072, 4096)
    },
    **{
        (f"RSA_{bits}", "SIGN_VERIFY"): {"SigningAlgorithms": RSA_SIGNING}
        for bits in (2048, 3072, 4096)
    },
    ("ECC_NIST_P256", "SIGN_VERIFY"): {"SigningAlgorithms": ["ECDSA_SHA_256"]},
    ("ECC_NIST_P384", "SIGN_VERIFY"): {"SigningAlgorithms": ["ECDSA_SHA_384"]},
    ("ECC_NIST_P521", "SIGN_VERIFY"): {"SigningAlgorithms": ["ECDSA_SHA_512"]},
    **{
        (f"ECC_NIST_P{bits}", "KEY_AGREEMENT"): {"KeyAgreementAlgorithms": ["ECDH"]}
        for bits in (256, 384, 521)
    },
    ("ECC_SECG_P256K1", "SIGN_VERIFY"): {"SigningAlgorithms": ["ECDSA_SHA_256"]},
    ("ECC_NIST_EDWARDS25519", "SIGN_VERIFY"): {
        "SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"]
    },
    **{
        (f"ML_DSA_{level}", "SIGN_VERIFY"): {"SigningAlgorithms": ["ML_DSA_SHAKE_256"]}
        for level in (44, 65, 87)
    },
    **{
        (f"HMAC_{bits}", "GENERATE_VERIFY_MAC"): {"MacAlgorithms": [f"HMAC_SHA_{bits}"]}
        for bits in (224, 256, 384, 512)
    },
}


def test_the_table_holds_every_aws_key_spec_and_exactly_its_usages() -> None:
    assert set(KEY_SPECS) == {spec for spec, _ in EXPECTED_ALGORITHMS}
    for name, spec in KEY_SPECS.items():
        assert set(spec.usages) == {u for s, u in EXPECTED_ALGORITHMS if s == name}, name


@pytest.mark.parametrize(("spec", "usage"), sorted(EXPECTED_ALGORITHMS))
def test_describe_key_shows_only_the_algorithm_member_of_the_usage(spec: str, usage: str) -> None:
    assert KEY_SPECS[spec].algorithms(usage) == EXPECTED_ALGORITHMS[(spec, usage)]


def test_an_incompatible_usage_shows_no_algorithms() -> None:
    assert KEY_SPECS["RSA_2048"].algorithms("KEY_AGREEMENT") == {}
    assert KEY_SPECS["ECC_SECG_P256K1"].algorithms("KEY_AGREEMENT") == {}
    assert KEY_SPECS["HMAC_256"].algorithms("SIGN_VERIFY") == {}


def test_create_key_usage_rules_answer_with_aws_messages() -> None:
    assert keyspecs.check_usage("SYMMETRIC_DEFAULT", None) == "ENCRYPT_DECRYPT"
    assert keyspecs.check_usage("ECC_NIST_P384", "KEY_AGREEMENT") == "KEY_AGREEMENT"
    with pytest.raises(ValidationException) as missing:
        keyspecs.check_usage("HMAC_256", None)
    assert missing.value.message == (
        "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
    )
    with pytest.raises(ValidationException) as incompatible:
        keyspecs.check_usage("RSA_2048", "KEY_AGREEMENT")
    assert (
        incompatible.value.message
        == "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048"
    )
    with pytest.raises(ValidationException, match="at 'keySpec' failed to satisfy"):
        keyspecs.check_usage("HMAC_random", "GENERATE_VERIFY_MAC")
    with pytest.raises(ValidationException, match="Value 'RANDOM' at 'keyUsage'"):
        keyspecs.check_usage("HMAC_256", "RANDOM")


def test_rsa_plaintext_limits_are_the_oaep_bound_for_each_modulus() -> None:
    for (spec, algorithm), limit in keyspecs.RSA_PLAINTEXT_LIMITS.items():
        modulus = int(spec.removeprefix("RSA_")) // 8
        digest = 20 if algorithm == "RSAES_OAEP_SHA_1" else 32
        assert limit == modulus - 2 * digest - 2


def test_what_the_installed_cryptography_supports() -> None:
    for spec in ("RSA_2048", "RSA_4096", "HMAC_224", "SYMMETRIC_DEFAULT"):
        assert spec_supported(spec)
    assert not signing_supported("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512")
    assert signing_supported("ECC_NIST_EDWARDS25519", "ED25519_SHA_512") == spec_supported(
        "ECC_NIST_EDWARDS25519"
    )
    assert spec_supported("ML_DSA_65") == ml_dsa.available()


# -- signatures, with openssl as the peer --------------------------------------------------------

OPENSSL_SIGNING = [
    *(("RSA_2048", algorithm) for algorithm in RSA_SIGNING),
    ("RSA_3072", "RSASSA_PSS_SHA_384"),
    ("RSA_3072", "RSASSA_PKCS1_V1_5_SHA_384"),
    ("RSA_4096", "RSASSA_PSS_SHA_512"),
    ("RSA_4096", "RSASSA_PKCS1_V1_5_SHA_256"),
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
]
HASHLIB = {"SHA_256": "sha256", "SHA_384": "sha384", "SHA_512": "sha512"}


def _hash_name(algorithm: str) -> str:
    return HASHLIB[keyspecs.SIGNING_ALGORITHMS[algorithm].hash_name]


def _digest(algorithm: str, message: bytes) -> bytes:
    return hashlib.new(_hash_name(algorithm), message).digest()


def _openssl_sign_options(algorithm: str, message_type: str) -> list[str]:
    options = ["-rawin", "-digest", _hash_name(algorithm)]
    if message_type == "DIGEST":
        options = ["-pkeyopt", f"digest:{_hash_name(algorithm)}"]
    if algorithm.startswith("RSASSA_PSS"):
        options += ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:digest"]
    return options


def _input(algorithm: str, message_type: str) -> bytes:
    return MESSAGE if message_type == "RAW" else _digest(algorithm, MESSAGE)


@needs_openssl
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
@pytest.mark.parametrize(("spec", "algorithm"), OPENSSL_SIGNING)
def test_openssl_verifies_our_signatures(
    pair: Callable[[str], KeyPair],
    files: Callable[[str, bytes], str],
    spec: str,
    algorithm: str,
    message_type: str,
) -> None:
    private, public = pair(spec)
    data = _input(algorithm, message_type)
    signature = sign(spec, private, algorithm, data, message_type)
    assert _openssl_ok(
        "pkeyutl", "-verify", "-pubin", "-inkey", files("pub.der", public), "-keyform", "DER",
        "-in", files("in", data), "-sigfile", files("sig", signature),
        *_openssl_sign_options(algorithm, message_type),
    )  # fmt: skip


@needs_openssl
@pytest.mark.parametrize("message_type", ["RAW", "DIGEST"])
@pytest.mark.parametrize(("spec", "algorithm"), OPENSSL_SIGNING)
def test_we_verify_openssl_signatures(
    pair: Callable[[str], KeyPair],
    files: Callable[[str, bytes], str],
    spec: str,
    algorithm: str,
    message_type: str,
) -> None:
    private, public = pair(spec)
    data = _input(algorithm, message_type)
    signature = _openssl(
        "pkeyutl", "-sign", "-inkey", files("key.der", private), "-keyform", "DER",
        "-in", files("in", data), *_openssl_sign_options(algorithm, message_type),
    )  # fmt: skip
    verify(spec, public, algorithm, data, message_type, signature)
    other_type = "DIGEST" if message_type == "RAW" else "RAW"
    verify(spec, public, algorithm, _input(algorithm, other_type), other_type, signature)


@needs_openssl
def test_ed25519_signatures_interoperate_with_openssl(
    pair: Callable[[str], KeyPair], files: Callable[[str, bytes], str]
) -> None:
    spec = "ECC_NIST_EDWARDS25519"
    private, public = pair(spec)
    ours = sign(spec, private, "ED25519_SHA_512", MESSAGE, "RAW")
    assert len(ours) == 64
    message = files("msg", MESSAGE)
    assert _openssl_ok(
        "pkeyutl", "-verify", "-pubin", "-inkey", files("pub.der", public), "-keyform", "DER",
        "-rawin", "-in", message, "-sigfile", files("sig", ours),
    )  # fmt: skip
    theirs = _openssl(
        "pkeyutl", "-sign", "-inkey", files("key.der", private), "-keyform", "DER",
        "-rawin", "-in", message,
    )  # fmt: skip
    assert theirs == ours  # Ed25519 is deterministic
    verify(spec, public, "ED25519_SHA_512", MESSAGE, "RAW", theirs)


@needs_openssl
def test_openssl_rejects_a_signature_made_with_another_pss_salt_length(
    pair: Callable[[str], KeyPair], files: Callable[[str, bytes], str]
) -> None:
    """Our PSS salt is the digest length: openssl's maximum-salt signature must not verify."""
    private, public = pair("RSA_2048")
    theirs = _openssl(
        "pkeyutl", "-sign", "-inkey", files("key.der", private), "-keyform", "DER",
        "-rawin", "-digest", "sha256", "-in", files("msg", MESSAGE),
        "-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", "rsa_pss_saltlen:max",
    )  # fmt: skip
    with pytest.raises(KMSInvalidSignatureException):
        verify("RSA_2048", public, "RSASSA_PSS_SHA_256", MESSAGE, "RAW", theirs)


@needs_openssl
def test_a_big_file_signs_as_a_streamed_digest_and_openssl_verifies_the_whole_file(
    pair: Callable[[str], KeyPair], files: Callable[[str, bytes], str]
) -> None:
    content = bytes(range(256)) * (10 * 1024 + 7)  # 2.5 MiB, not a multiple of the chunk
    reads: list[int] = []

    class Tracked(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            reads.append(-1 if size is None else size)
            return super().read(size)

    digest = digest_stream("ECDSA_SHA_384", Tracked(content))
    assert digest == hashlib.sha384(content).digest()
    assert len(reads) > 2 and all(0 < size <= 1 << 20 for size in reads)
    private, public = pair("ECC_NIST_P384")
    signature = sign("ECC_NIST_P384", private, "ECDSA_SHA_384", digest, "DIGEST")
    assert _openssl_ok(
        "pkeyutl", "-verify", "-pubin", "-inkey", files("pub.der", public), "-keyform", "DER",
        "-rawin", "-digest", "sha384", "-in", files("big", content),
        "-sigfile", files("sig", signature),
    )  # fmt: skip


def test_digest_stream_refuses_algorithms_that_take_no_digest() -> None:
    for algorithm in ("ED25519_SHA_512", "ML_DSA_SHAKE_256", "NOT_AN_ALGORITHM"):
        with pytest.raises(ValidationException) as caught:
            digest_stream(algorithm, io.BytesIO(b"x"))
        assert caught.value.message == (
            f"Message type DIGEST is incompatible with algorithm {algorithm}."
        )
    assert digest_stream("ED25519_PH_SHA_512", io.BytesIO(b"x")) == hashlib.sha512(b"x").digest()


# -- tampering and refusals ----------------------------------------------------------------------

TAMPER_CASES = [
    ("RSA_2048", "RSASSA_PSS_SHA_256"),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512"),
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512"),
]


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize(("spec", "algorithm"), TAMPER_CASES)
def test_a_tampered_signature_or_message_raises_kms_invalid_signature(
    pair: Callable[[str], KeyPair], spec: str, algorithm: str
) -> None:
    private, public = pair(spec)
    signature = sign(spec, private, algorithm, MESSAGE, "RAW")
    verify(spec, public, algorithm, MESSAGE, "RAW", signature)
    forgeries = [
        (MESSAGE, _flip(signature, len(signature) // 2)),
        (MESSAGE, _flip(signature, len(signature) - 1)),
        (MESSAGE, signature[:-1]),
        (MESSAGE, b""),
        (MESSAGE, b"\x30\x00"),
        (MESSAGE + b"!", signature),
    ]
    for message, forged in forgeries:
        with pytest.raises(KMSInvalidSignatureException) as caught:
            verify(spec, public, algorithm, message, "RAW", forged)
        assert caught.value.message == ""
        assert caught.value.code == "KMSInvalidSignatureException"


def test_a_signature_from_another_key_of_the_same_spec_does_not_verify(
    pair: Callable[[str], KeyPair],
) -> None:
    private, _ = pair("ECC_NIST_P256")
    _, other_public = generate_data_key_pair("ECC_NIST_P256")
    signature = sign("ECC_NIST_P256", private, "ECDSA_SHA_256", MESSAGE, "RAW")
    with pytest.raises(KMSInvalidSignatureException):
        verify("ECC_NIST_P256", other_public, "ECDSA_SHA_256", MESSAGE, "RAW", signature)


DIGEST_ALGORITHMS = [
    *(("RSA_2048", algorithm) for algorithm in RSA_SIGNING),
    ("ECC_NIST_P256", "ECDSA_SHA_256"),
    ("ECC_NIST_P384", "ECDSA_SHA_384"),
    ("ECC_NIST_P521", "ECDSA_SHA_512"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256"),
    ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512"),
]


@pytest.mark.parametrize(("spec", "algorithm"), DIGEST_ALGORITHMS)
def test_a_digest_of_the_wrong_length_is_a_validation_error(
    pair: Callable[[str], KeyPair], spec: str, algorithm: str
) -> None:
    private, public = pair(spec)
    size = keyspecs.SIGNING_ALGORITHMS[algorithm].digest_bytes
    for wrong in (b"", b"\x00" * (size - 1), b"\x00" * (size + 1), MESSAGE):
        with pytest.raises(ValidationException) as signing:
            sign(spec, private, algorithm, wrong, "DIGEST")
        assert signing.value.message == f"Digest is invalid length for algorithm {algorithm}."
        with pytest.raises(ValidationException) as verifying:
            verify(spec, public, algorithm, wrong, "DIGEST", b"\x00" * 64)
        assert verifying.value.message == signing.value.message


WRONG_ALGORITHMS = [
    ("ECC_NIST_P256", "ECDSA_SHA_384"),
    ("ECC_NIST_P384", "ECDSA_SHA_256"),
    ("ECC_SECG_P256K1", "ECDSA_SHA_512"),
    ("ECC_NIST_P256", "RSASSA_PSS_SHA_256"),
    ("RSA_2048", "ECDSA_SHA_256"),
    ("RSA_2048", "ED25519_SHA_512"),
    ("ECC_NIST_EDWARDS25519", "ECDSA_SHA_512"),
    ("ML_DSA_44", "ECDSA_SHA_256"),
    ("HMAC_256", "RSASSA_PSS_SHA_256"),
    ("SYMMETRIC_DEFAULT", "ECDSA_SHA_256"),
]


@pytest.mark.parametrize(("spec", "algorithm"), WRONG_ALGORITHMS)
def test_an_algorithm_the_spec_lacks_is_invalid_key_usage(spec: str, algorithm: str) -> None:
    expected = f"Algorithm {algorithm} is incompatible with key spec {spec}."
    with pytest.raises(InvalidKeyUsageException) as signing:
        sign(spec, b"not even parsed", algorithm, MESSAGE, "RAW")
    assert signing.value.message == expected
    with pytest.raises(InvalidKeyUsageException) as verifying:
        verify(spec, b"not even parsed", algorithm, MESSAGE, "RAW", b"sig")
    assert verifying.value.message == expected


def test_an_unknown_signing_algorithm_or_spec_is_an_enum_validation_error() -> None:
    with pytest.raises(ValidationException, match="Value 'RSASSA_PSS_SHA_1' at 'signingAlgorithm'"):
        sign("RSA_2048", b"", "RSASSA_PSS_SHA_1", MESSAGE, "RAW")
    with pytest.raises(ValidationException, match="Value 'RSA_1024' at 'keySpec'"):
        generate_private_key("RSA_1024")
    with pytest.raises(ValidationException, match="Value 'HASHED' at 'messageType'"):
        sign("RSA_2048", b"", "RSASSA_PSS_SHA_256", MESSAGE, "HASHED")


MESSAGE_TYPE_REFUSALS = [
    ("ECC_NIST_EDWARDS25519", "ED25519_SHA_512", "DIGEST", "algorithm ED25519_SHA_512"),
    ("ECC_NIST_EDWARDS25519", "ED25519_PH_SHA_512", "RAW", "algorithm ED25519_PH_SHA_512"),
    ("ML_DSA_44", "ML_DSA_SHAKE_256", "DIGEST", "key spec ML_DSA_44"),
    ("ECC_NIST_P256", "ECDSA_SHA_256", "EXTERNAL_MU", "key spec ECC_NIST_P256"),
    ("RSA_2048", "RSASSA_PSS_SHA_256", "EXTERNAL_MU", "key spec RSA_2048"),
]


@pytest.mark.parametrize(("spec", "algorithm", "message_type", "subject"), MESSAGE_TYPE_REFUSALS)
def test_a_message_type_the_algorithm_refuses_is_a_validation_error(
    spec: str, algorithm: str, message_type: str, subject: str
) -> None:
    with pytest.raises(ValidationException) as caught:
        sign(spec, b"", algorithm, b"\x00" * 64, message_type)
    assert caught.value.message == f"Message type {message_type} is incompatible with {subject}."


def test_ed25519ph_is_refused_clearly_because_cryptography_lacks_it(
    pair: Callable[[str], KeyPair],
) -> None:
    private, public = pair("ECC_NIST_EDWARDS25519")
    digest = hashlib.sha512(MESSAGE).digest()
    with pytest.raises(UnsupportedOperationException) as signing:
        sign("ECC_NIST_EDWARDS25519", private, "ED25519_PH_SHA_512", digest, "DIGEST")
    assert "ED25519_PH_SHA_512" in signing.value.message
    assert "Ed25519ph" in signing.value.message
    with pytest.raises(UnsupportedOperationException):
        verify("ECC_NIST_EDWARDS25519", public, "ED25519_PH_SHA_512", digest, "DIGEST", b"s" * 64)


# -- ML-DSA --------------------------------------------------------------------------------------

# raw public key bytes, signature bytes, last arc of the OID 2.16.840.1.101.3.4.3.x (FIPS 204)
ML_DSA_SIZES = {
    "ML_DSA_44": (1312, 2420, 17),
    "ML_DSA_65": (1952, 3309, 18),
    "ML_DSA_87": (2592, 4627, 19),
}


def _mu(public_spki: bytes, raw_public_bytes: int, message: bytes) -> bytes:
    """FIPS 204 external μ with an empty context, computed with hashlib alone."""
    tr = hashlib.shake_256(public_spki[-raw_public_bytes:]).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


@needs_ml_dsa
@pytest.mark.parametrize("spec", sorted(ML_DSA_SIZES))
def test_ml_dsa_round_trips_raw_and_external_mu(pair: Callable[[str], KeyPair], spec: str) -> None:
    private, public = pair(spec)
    public_bytes, signature_bytes, oid_last = ML_DSA_SIZES[spec]
    oid = bytes([0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, oid_last])
    assert oid in public and len(public) == public_bytes + 22
    assert oid in private

    signature = sign(spec, private, "ML_DSA_SHAKE_256", MESSAGE, "RAW")
    assert len(signature) == signature_bytes
    verify(spec, public, "ML_DSA_SHAKE_256", MESSAGE, "RAW", signature)

    mu = _mu(public, public_bytes, MESSAGE)
    assert external_mu_stream(spec, public, io.BytesIO(MESSAGE)) == mu
    verify(spec, public, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU", signature)
    from_mu = sign(spec, private, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU")
    verify(spec, public, "ML_DSA_SHAKE_256", MESSAGE, "RAW", from_mu)

    with pytest.raises(KMSInvalidSignatureException) as caught:
        verify(spec, public, "ML_DSA_SHAKE_256", MESSAGE, "RAW", _flip(signature, 100))
    assert caught.value.message == ""
    with pytest.raises(KMSInvalidSignatureException):
        verify(spec, public, "ML_DSA_SHAKE_256", MESSAGE + b"!", "RAW", signature)
    with pytest.raises(ValidationException) as short:
        sign(spec, private, "ML_DSA_SHAKE_256", mu[:-1], "EXTERNAL_MU")
    assert short.value.message == "External Mu is invalid length for algorithm ML_DSA_SHAKE_256."
    assert load_private_key(spec, private) == private


def test_ml_dsa_missing_from_cryptography_is_a_clear_unsupported_operation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ml_dsa, "available", lambda: False)
    assert not spec_supported("ML_DSA_65")
    assert not signing_supported("ML_DSA_65", "ML_DSA_SHAKE_256")
    calls: list[Callable[[], object]] = [
        lambda: generate_private_key("ML_DSA_65"),
        lambda: public_key_der("ML_DSA_65", b"\x30\x00"),
        lambda: load_private_key("ML_DSA_65", bytes.fromhex("3005020100300b00")),
        lambda: sign("ML_DSA_65", b"", "ML_DSA_SHAKE_256", MESSAGE, "RAW"),
        lambda: verify("ML_DSA_65", b"", "ML_DSA_SHAKE_256", MESSAGE, "RAW", b"sig"),
        lambda: external_mu_stream("ML_DSA_65", b"", io.BytesIO(MESSAGE)),
    ]
    for call in calls:
        with pytest.raises(UnsupportedOperationException) as caught:
            call()
        assert "ML_DSA_65" in caught.value.message and "ML-DSA" in caught.value.message


def test_a_curve_missing_from_the_openssl_build_is_a_clear_unsupported_operation(
    monkeypatch: pytest.MonkeyPatch, pair: Callable[[str], KeyPair]
) -> None:
    private, public = pair("ECC_SECG_P256K1")
    monkeypatch.setattr(asymmetric, "_curve_supported", lambda spec: spec != "ECC_SECG_P256K1")
    assert not spec_supported("ECC_SECG_P256K1")
    assert spec_supported("ECC_NIST_P256")
    for call in (
        lambda: generate_private_key("ECC_SECG_P256K1"),
        lambda: generate_data_key_pair("ECC_SECG_P256K1"),
        lambda: sign("ECC_SECG_P256K1", private, "ECDSA_SHA_256", MESSAGE, "RAW"),
        lambda: verify("ECC_SECG_P256K1", public, "ECDSA_SHA_256", MESSAGE, "RAW", b"s"),
    ):
        with pytest.raises(UnsupportedOperationException, match="ECC_SECG_P256K1"):
            call()


# -- RSA encryption ------------------------------------------------------------------------------

OAEP = {"RSAES_OAEP_SHA_1": "sha1", "RSAES_OAEP_SHA_256": "sha256"}


def _oaep_options(algorithm: str) -> list[str]:
    md = OAEP[algorithm]
    return [
        "-pkeyopt", "rsa_padding_mode:oaep",
        "-pkeyopt", f"rsa_oaep_md:{md}",
        "-pkeyopt", f"rsa_mgf1_md:{md}",
    ]  # fmt: skip


@needs_openssl
@pytest.mark.parametrize("algorithm", sorted(OAEP))
@pytest.mark.parametrize("spec", ["RSA_2048", "RSA_3072", "RSA_4096"])
def test_rsa_oaep_interoperates_with_openssl_up_to_the_limit(
    pair: Callable[[str], KeyPair],
    files: Callable[[str, bytes], str],
    spec: str,
    algorithm: str,
) -> None:
    private, public = pair(spec)
    limit = keyspecs.RSA_PLAINTEXT_LIMITS[(spec, algorithm)]
    plaintext = bytes(range(256)) * 2
    plaintext = plaintext[:limit]
    theirs = _openssl(
        "pkeyutl", "-encrypt", "-pubin", "-inkey", files("pub.der", public), "-keyform", "DER",
        *_oaep_options(algorithm), data=plaintext,
    )  # fmt: skip
    assert rsa_decrypt(spec, private, algorithm, theirs) == plaintext
    ours = rsa_encrypt(spec, public, algorithm, plaintext)
    assert len(ours) == int(spec.removeprefix("RSA_")) // 8
    decrypted = _openssl(
        "pkeyutl", "-decrypt", "-inkey", files("key.der", private), "-keyform", "DER",
        *_oaep_options(algorithm), data=ours,
    )  # fmt: skip
    assert decrypted == plaintext


@pytest.mark.parametrize(("spec", "algorithm"), sorted(keyspecs.RSA_PLAINTEXT_LIMITS))
def test_rsa_plaintext_one_byte_over_the_limit_is_refused_with_aws_message(
    pair: Callable[[str], KeyPair], spec: str, algorithm: str
) -> None:
    _, public = pair(spec)
    limit = keyspecs.RSA_PLAINTEXT_LIMITS[(spec, algorithm)]
    with pytest.raises(ValidationException) as caught:
        rsa_encrypt(spec, public, algorithm, b"\x00" * (limit + 1))
    assert caught.value.message == (
        f"Algorithm {algorithm} and key spec {spec} cannot encrypt data larger than {limit} bytes."
    )


def test_rsa_decrypt_failures_are_invalid_ciphertext(pair: Callable[[str], KeyPair]) -> None:
    private, public = pair("RSA_2048")
    ciphertext = rsa_encrypt("RSA_2048", public, "RSAES_OAEP_SHA_256", b"secret")
    assert rsa_decrypt("RSA_2048", private, "RSAES_OAEP_SHA_256", ciphertext) == b"secret"
    for algorithm, blob in [
        ("RSAES_OAEP_SHA_256", _flip(ciphertext, 17)),
        ("RSAES_OAEP_SHA_256", ciphertext[:-1]),
        ("RSAES_OAEP_SHA_256", ciphertext + b"\x00"),
        ("RSAES_OAEP_SHA_256", b"\x00" * 256),
        ("RSAES_OAEP_SHA_1", ciphertext),
    ]:
        with pytest.raises(InvalidCiphertextException) as caught:
            rsa_decrypt("RSA_2048", private, algorithm, blob)
        assert caught.value.message == ""


def test_rsa_encryption_with_an_algorithm_the_spec_lacks_is_invalid_key_usage(
    pair: Callable[[str], KeyPair],
) -> None:
    _, public = pair("RSA_2048")
    cases = [
        ("RSA_2048", "SYMMETRIC_DEFAULT"),
        ("ECC_NIST_P256", "RSAES_OAEP_SHA_256"),
        ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1"),
    ]
    for spec, algorithm in cases:
        with pytest.raises(InvalidKeyUsageException) as caught:
            rsa_encrypt(spec, public, algorithm, b"x")
        assert (
            caught.value.message == f"Algorithm {algorithm} is incompatible with key spec {spec}."
        )
        with pytest.raises(InvalidKeyUsageException):
            rsa_decrypt(spec, b"", algorithm, b"x")
    with pytest.raises(ValidationException, match="at 'encryptionAlgorithm'"):
        rsa_encrypt("RSA_2048", public, "RSAES_PKCS1_V1_5", b"x")


def test_a_public_key_of_another_size_is_refused(pair: Callable[[str], KeyPair]) -> None:
    _, public_3072 = pair("RSA_3072")
    with pytest.raises(ValidationException):
        rsa_encrypt("RSA_2048", public_3072, "RSAES_OAEP_SHA_256", b"x")


# -- ECDH ----------------------------------------------------------------------------------------

CURVES = {"ECC_NIST_P256": "P-256", "ECC_NIST_P384": "P-384", "ECC_NIST_P521": "P-521"}


@needs_openssl
@pytest.mark.parametrize("spec", sorted(CURVES))
def test_openssl_derives_the_same_ecdh_secret(
    pair: Callable[[str], KeyPair], files: Callable[[str, bytes], str], spec: str
) -> None:
    private, public = pair(spec)
    peer_private = _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{CURVES[spec]}",
        "-outform", "DER",
    )  # fmt: skip
    peer_key = files("peer.der", peer_private)
    peer_public = _openssl("pkey", "-inform", "DER", "-in", peer_key, "-pubout", "-outform", "DER")
    theirs = _openssl(
        "pkeyutl", "-derive", "-inkey", peer_key, "-keyform", "DER",
        "-peerkey", files("ours.der", public), "-peerform", "DER",
    )  # fmt: skip
    ours = derive_shared_secret(spec, private, peer_public)
    assert ours == theirs
    assert len(ours) == {"ECC_NIST_P256": 32, "ECC_NIST_P384": 48, "ECC_NIST_P521": 66}[spec]


def test_ecdh_refuses_a_peer_key_that_is_not_on_the_same_curve(
    pair: Callable[[str], KeyPair],
) -> None:
    private, _ = pair("ECC_NIST_P256")
    _, p384 = pair("ECC_NIST_P384")
    _, rsa_public = pair("RSA_2048")
    _, secp256k1 = pair("ECC_SECG_P256K1")
    for peer in (p384, rsa_public, secp256k1, b"not a key", b"", p384[:-3]):
        with pytest.raises(ValidationException):
            derive_shared_secret("ECC_NIST_P256", private, peer)


def test_ecdh_on_a_spec_without_key_agreement_is_invalid_key_usage(
    pair: Callable[[str], KeyPair],
) -> None:
    _, peer = pair("ECC_NIST_P256")
    for spec in ("ECC_SECG_P256K1", "RSA_2048", "ECC_NIST_EDWARDS25519", "HMAC_256"):
        with pytest.raises(InvalidKeyUsageException) as caught:
            derive_shared_secret(spec, b"", peer)
        assert caught.value.message == f"Algorithm ECDH is incompatible with key spec {spec}."
    with pytest.raises(ValidationException, match="at 'keyAgreementAlgorithm'"):
        derive_shared_secret("ECC_NIST_P256", b"", peer, algorithm="X25519")


# -- data key pairs and key material -------------------------------------------------------------


@needs_openssl
@pytest.mark.parametrize("spec", KEY_PAIR_SPECS)
def test_openssl_parses_every_data_key_pair(
    pair: Callable[[str], KeyPair], files: Callable[[str, bytes], str], spec: str
) -> None:
    private, public = pair(spec)
    key = files("key.der", private)
    text = _openssl("pkey", "-inform", "DER", "-in", key, "-noout", "-text").decode()
    derived = _openssl("pkey", "-inform", "DER", "-in", key, "-pubout", "-outform", "DER")
    assert derived == public
    _openssl("pkey", "-pubin", "-inform", "DER", "-in", files("pub.der", public), "-noout")
    expected = {
        "RSA_2048": "2048 bit",
        "RSA_3072": "3072 bit",
        "RSA_4096": "4096 bit",
        "ECC_NIST_P256": "prime256v1",
        "ECC_NIST_P384": "secp384r1",
        "ECC_NIST_P521": "secp521r1",
        "ECC_SECG_P256K1": "secp256k1",
        "ECC_NIST_EDWARDS25519": "ED25519",
    }[spec]
    assert expected in text


def test_an_unknown_key_pair_spec_is_refused() -> None:
    for spec in ("ML_DSA_44", "HMAC_256", "SM2", "RSA_1024"):
        with pytest.raises(ValidationException, match=f"Value '{spec}' at 'keyPairSpec'"):
            generate_data_key_pair(spec)


def test_symmetric_and_hmac_specs_have_no_public_key() -> None:
    with pytest.raises(UnsupportedOperationException):
        public_key_der("HMAC_256", b"\x00" * 32)
    with pytest.raises(UnsupportedOperationException):
        public_key_der("SYMMETRIC_DEFAULT", b"\x00" * 32)
    with pytest.raises(UnsupportedOperationException):
        generate_private_key("SYMMETRIC_DEFAULT")


@needs_openssl
def test_imported_pkcs8_keys_from_openssl_load_and_sign(
    files: Callable[[str, bytes], str],
) -> None:
    cases = [
        ("RSA_2048", ["RSA", "-pkeyopt", "rsa_keygen_bits:2048"], "RSASSA_PSS_SHA_256"),
        ("ECC_NIST_P384", ["EC", "-pkeyopt", "ec_paramgen_curve:P-384"], "ECDSA_SHA_384"),
        ("ECC_SECG_P256K1", ["EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"], "ECDSA_SHA_256"),
        ("ECC_NIST_EDWARDS25519", ["ED25519"], "ED25519_SHA_512"),
    ]
    for spec, options, algorithm in cases:
        generated = _openssl("genpkey", "-algorithm", *options, "-outform", "DER")
        # openssl 3.0 writes RSA keys as PKCS#1 here; AWS's import guide converts like this.
        material = _openssl(
            "pkcs8", "-topk8", "-nocrypt", "-inform", "DER", "-outform", "DER", data=generated
        )
        canonical = load_private_key(spec, material)
        public = public_key_der(spec, canonical)
        signature = sign(spec, canonical, algorithm, MESSAGE, "RAW")
        verify(spec, public, algorithm, MESSAGE, "RAW", signature)
        openssl_public = _openssl(
            "pkey", "-inform", "DER", "-in", files("k.der", material), "-pubout", "-outform", "DER"
        )
        assert public == openssl_public


@needs_openssl
def test_imported_material_that_does_not_match_the_spec_is_a_validation_error(
    pair: Callable[[str], KeyPair], files: Callable[[str, bytes], str]
) -> None:
    rsa_2048, rsa_public = pair("RSA_2048")
    p256, _ = pair("ECC_NIST_P256")
    ed25519, _ = pair("ECC_NIST_EDWARDS25519")
    key = files("rsa.der", rsa_2048)
    traditional = _openssl("rsa", "-inform", "DER", "-in", key, "-outform", "DER", "-traditional")
    encrypted = _openssl(
        "pkcs8", "-topk8", "-inform", "DER", "-in", key, "-outform", "DER",
        "-v2", "aes-256-cbc", "-passout", "pass:secret",
    )  # fmt: skip
    mismatches = [
        ("RSA_3072", rsa_2048),
        ("RSA_2048", traditional),
        ("RSA_2048", encrypted),
        ("RSA_2048", rsa_public),
        ("ECC_NIST_P384", p256),
        ("ECC_SECG_P256K1", p256),
        ("ECC_NIST_P256", ed25519),
        ("ECC_NIST_EDWARDS25519", p256),
        ("RSA_2048", b""),
        ("RSA_2048", b"\x30\x03\x02\x01\x00"),
        ("RSA_2048", rsa_2048[:-10]),
    ]
    for spec, material in mismatches:
        with pytest.raises(ValidationException) as caught:
            load_private_key(spec, material)
        assert spec in caught.value.message
    assert load_private_key("RSA_2048", rsa_2048) == rsa_2048


@needs_ml_dsa
def test_imported_ml_dsa_material_must_be_of_the_same_level(
    pair: Callable[[str], KeyPair],
) -> None:
    ml_dsa_44, _ = pair("ML_DSA_44")
    with pytest.raises(ValidationException):
        load_private_key("ML_DSA_65", ml_dsa_44)
    p256, _ = pair("ECC_NIST_P256")
    with pytest.raises(ValidationException):
        load_private_key("ML_DSA_44", p256)


def test_hmac_material_is_checked_through_the_same_entry_point() -> None:
    assert load_private_key("HMAC_256", b"k" * 32) == b"k" * 32
    with pytest.raises(ValidationException):
        load_private_key("HMAC_256", b"k" * 31)
    assert len(generate_private_key("HMAC_384")) == 48
