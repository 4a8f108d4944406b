"""The ESDK suite table and commitment policies."""

from __future__ import annotations

import pytest

from kmscli.errors import FormatError, ValidationException
from kmscli.message.suites import (
    ALL_SUITES,
    DEFAULT_SUITE,
    AlgorithmSuite,
    CommitmentPolicy,
    suite_by_id,
    suite_by_name,
)

EXPECTED = {
    # id: (key bytes, kdf name, committing, curve, format version)
    0x0014: (16, "identity", False, None, 1),
    0x0046: (24, "identity", False, None, 1),
    0x0078: (32, "identity", False, None, 1),
    0x0114: (16, "hkdf-sha256", False, None, 1),
    0x0146: (24, "hkdf-sha256", False, None, 1),
    0x0178: (32, "hkdf-sha256", False, None, 1),
    0x0214: (16, "hkdf-sha256", False, "P-256", 1),
    0x0346: (24, "hkdf-sha384", False, "P-384", 1),
    0x0378: (32, "hkdf-sha384", False, "P-384", 1),
    0x0478: (32, "hkdf-sha512", True, None, 2),
    0x0578: (32, "hkdf-sha512", True, "P-384", 2),
}


def test_table_matches_the_reference() -> None:
    assert {s.id for s in ALL_SUITES} == set(EXPECTED)
    for suite in ALL_SUITES:
        key, kdf, committing, curve, version = EXPECTED[suite.id]
        assert (suite.key_length, suite.kdf_name, suite.committing) == (key, kdf, committing)
        assert (suite.signature, suite.message_format_version) == (curve, version)
        assert suite.suite_data_length == (32 if committing else 0)
        assert (suite.iv_length, suite.tag_length) == (12, 16)


def test_default_suite() -> None:
    assert DEFAULT_SUITE.id == 0x0478
    assert DEFAULT_SUITE.name == "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"


def test_esdk_names_match_the_installed_sdk() -> None:
    from aws_encryption_sdk.identifiers import Algorithm

    for suite in ALL_SUITES:
        assert Algorithm[suite.name].algorithm_id == suite.id


@pytest.mark.parametrize("suite_id", [0x0000, 0x0070, 0x0074, 0x6700, 0x6701, 0x0479, 0xFFFF])
def test_unknown_ids_are_format_errors(suite_id: int) -> None:
    with pytest.raises(FormatError):
        suite_by_id(suite_id)


@pytest.mark.parametrize(
    ("text", "suite_id"),
    [
        ("AES_256_GCM_HKDF_SHA512_COMMIT_KEY", 0x0478),
        ("aes_256_gcm_hkdf_sha512_commit_key_ecdsa_p384", 0x0578),
        ("0x0578", 0x0578),
        (" 0x0078 ", 0x0078),
        ("AES_256_GCM_IV12_TAG16", 0x0078),
        ("AES_256_GCM_IV12_TAG16_NO_KDF", 0x0078),
        ("ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY", 0x0478),
    ],
)
def test_suite_by_name(text: str, suite_id: int) -> None:
    assert suite_by_name(text) is suite_by_id(suite_id)


@pytest.mark.parametrize("text", ["", "AES", "0x9999", "0xZZ", "1144"])
def test_suite_by_name_rejects(text: str) -> None:
    with pytest.raises(ValidationException):
        suite_by_name(text)


@pytest.mark.parametrize("suite", ALL_SUITES, ids=lambda s: s.id_hex)
def test_commitment_policies(suite: AlgorithmSuite) -> None:
    forbid = CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    allow = CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    require = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    assert forbid.allows_decrypt(suite) and allow.allows_decrypt(suite)
    assert require.allows_decrypt(suite) is suite.committing
    assert forbid.allows_encrypt(suite) is not suite.committing
    assert allow.allows_encrypt(suite) is suite.committing
    assert require.allows_encrypt(suite) is suite.committing
