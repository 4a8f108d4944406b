"""Asymmetric and HMAC keys follow AWS's rules (kms-behaviour.md §8, §2, §4.5, §5).

CreateKey's spec/usage pairs, DescribeKey's algorithm members, the key usage and algorithm
refusals of every operation, key states, rotation refused, the condition keys of Sign, Verify,
GenerateMac, DeriveSharedSecret and GenerateDataKeyPair, grants, and the audit trail.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from tests.cli.authz_world import ALICE, ROOT_A, World
from tests.conftest import Result


def error(result: Result) -> tuple[int, str, str]:
    """(exit status, AWS exception name, message) of a failed command run with --json."""
    document = json.loads(result.err.strip().splitlines()[-1])["Error"]
    return result.status, document["Code"], document["Message"]


def key(world: World, spec: str, usage: str, *more: str) -> str:
    return world.create_key("--key-spec", spec, "--key-usage", usage, *more)


def describe(world: World, key_id: str) -> dict[str, Any]:
    metadata: dict[str, Any] = json.loads(world.ok("key", "describe", key_id, "--json").out)[
        "KeyMetadata"
    ]
    return metadata


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--key-spec", "RSA_2048"],
            "You must specify a KeyUsage value for all KMS keys except for symmetric "
            "encryption keys.",
        ),
        (
            ["--key-spec", "RSA_2048", "--key-usage", "KEY_AGREEMENT"],
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec RSA_2048",
        ),
        (
            ["--key-spec", "ECC_SECG_P256K1", "--key-usage", "KEY_AGREEMENT"],
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1",
        ),
        (
            ["--key-spec", "HMAC_256", "--key-usage", "SIGN_VERIFY"],
            "KeyUsage SIGN_VERIFY is not compatible with KeySpec HMAC_256",
        ),
        (
            ["--key-usage", "SIGN_VERIFY"],
            "KeyUsage SIGN_VERIFY is not compatible with KeySpec SYMMETRIC_DEFAULT",
        ),
        (
            ["--key-spec", "ML_DSA_65", "--key-usage", "ENCRYPT_DECRYPT"],
            "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ML_DSA_65",
        ),
        (
            ["--key-spec", "ECC_NIST_EDWARDS25519", "--key-usage", "KEY_AGREEMENT"],
            "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_NIST_EDWARDS25519",
        ),
    ],
)
def test_invalid_spec_and_usage_pairs_are_refused(
    world: World, args: list[str], expected: str
) -> None:
    result = world.kmscli("key", "create", *args, "--json")
    assert error(result) == (2, "ValidationException", expected)


def test_unknown_and_china_only_specs(world: World) -> None:
    status, code, message = error(world.kmscli("key", "create", "--key-spec", "RSA_1024", "--json"))
    assert (status, code) == (2, "ValidationException") and "enum value set" in message
    sm2 = world.kmscli("key", "create", "--key-spec", "SM2", "--key-usage", "SIGN_VERIFY", "--json")
    assert error(sm2)[:2] == (2, "UnsupportedOperationException")
    assert "Traceback" not in sm2.err


@pytest.mark.parametrize(
    ("spec", "usage", "member", "algorithms"),
    [
        (
            "RSA_2048",
            "ENCRYPT_DECRYPT",
            "EncryptionAlgorithms",
            ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
        ),
        (
            "RSA_3072",
            "SIGN_VERIFY",
            "SigningAlgorithms",
            [
                "RSASSA_PKCS1_V1_5_SHA_256",
                "RSASSA_PKCS1_V1_5_SHA_384",
                "RSASSA_PKCS1_V1_5_SHA_512",
                "RSASSA_PSS_SHA_256",
                "RSASSA_PSS_SHA_384",
                "RSASSA_PSS_SHA_512",
            ],
        ),
        ("ECC_NIST_P521", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_512"]),
        ("ECC_NIST_P384", "KEY_AGREEMENT", "KeyAgreementAlgorithms", ["ECDH"]),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", "SigningAlgorithms", ["ECDSA_SHA_256"]),
        (
            "ECC_NIST_EDWARDS25519",
            "SIGN_VERIFY",
            "SigningAlgorithms",
            ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
        ),
        ("ML_DSA_87", "SIGN_VERIFY", "SigningAlgorithms", ["ML_DSA_SHAKE_256"]),
        ("HMAC_224", "GENERATE_VERIFY_MAC", "MacAlgorithms", ["HMAC_SHA_224"]),
        ("HMAC_384", "GENERATE_VERIFY_MAC", "MacAlgorithms", ["HMAC_SHA_384"]),
    ],
)
def test_describe_shows_the_algorithms_of_the_usage(
    world: World, spec: str, usage: str, member: str, algorithms: list[str]
) -> None:
    metadata = describe(world, key(world, spec, usage))
    assert metadata["KeySpec"] == metadata["CustomerMasterKeySpec"] == spec
    assert metadata["KeyUsage"] == usage
    assert metadata[member] == algorithms
    others = {"EncryptionAlgorithms", "SigningAlgorithms", "MacAlgorithms"}
    others |= {"KeyAgreementAlgorithms"}
    assert not (others - {member}) & set(metadata)
    assert "CurrentKeyMaterialId" not in metadata  # symmetric keys only
    assert "CurrentKeyMaterialId" in describe(world, world.create_key())


def test_wrong_usage_is_refused_in_aws_words(world: World) -> None:
    rsa_enc = key(world, "RSA_2048", "ENCRYPT_DECRYPT")
    ecc_sign = key(world, "ECC_NIST_P256", "SIGN_VERIFY")
    hmac = key(world, "HMAC_224", "GENERATE_VERIFY_MAC")
    symmetric = world.create_key()
    message = world.file(b"message", ".txt")

    def refused(operation: str, key_id: str, usage: str, *args: str) -> None:
        result = world.kmscli(*args, "--json")
        assert error(result) == (
            2,
            "InvalidKeyUsageException",
            f"{world.arn(key_id)} key usage is {usage} which is not valid for {operation}.",
        ), " ".join(args)

    refused("Sign", rsa_enc, "ENCRYPT_DECRYPT", "sign", message, "-k", rsa_enc)
    refused("Sign", symmetric, "ENCRYPT_DECRYPT", "sign", message, "-k", symmetric)
    refused(
        "Verify", hmac, "GENERATE_VERIFY_MAC", "verify", message, "-k", hmac, "--signature", message
    )
    refused("GenerateMac", ecc_sign, "SIGN_VERIFY", "mac", "generate", message, "-k", ecc_sign)
    refused(
        "VerifyMac",
        symmetric,
        "ENCRYPT_DECRYPT",
        "mac",
        "verify",
        message,
        "-k",
        symmetric,
        "--mac",
        message,
    )
    refused(
        "Encrypt",
        ecc_sign,
        "SIGN_VERIFY",
        "encrypt",
        "--direct",
        "-k",
        ecc_sign,
        "--encryption-algorithm",
        "RSAES_OAEP_SHA_256",
        "-o",
        "-",
        message,
    )
    refused(
        "DeriveSharedSecret",
        ecc_sign,
        "SIGN_VERIFY",
        "key",
        "derive-shared-secret",
        ecc_sign,
        "--public-key",
        message,
    )
    refused("GenerateDataKey", ecc_sign, "SIGN_VERIFY", "datakey", "generate", "-k", ecc_sign)
    refused(
        "GenerateDataKeyPair",
        hmac,
        "GENERATE_VERIFY_MAC",
        "datakey",
        "pair",
        "-k",
        hmac,
        "--key-pair-spec",
        "RSA_2048",
    )
    # File encryption asks for a data key (GenerateDataKey), which only symmetric keys give.
    refused(
        "GenerateDataKey",
        hmac,
        "GENERATE_VERIFY_MAC",
        "encrypt",
        "-k",
        hmac,
        "-o",
        "x.kms",
        message,
    )
    # Data keys need a symmetric encryption key, not just an encryption one.
    status, code, text = error(world.kmscli("datakey", "generate", "-k", rsa_enc, "--json"))
    assert (status, code) == (2, "InvalidKeyUsageException") and "RSA_2048" in text
    # An RSA key encrypts only with an RSA algorithm.
    plain = world.kmscli("encrypt", "--direct", "-k", rsa_enc, "-o", "-", message, "--json")
    assert error(plain) == (
        2,
        "InvalidKeyUsageException",
        "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.",
    )
    rsa_on_symmetric = world.kmscli(
        "encrypt",
        "--direct",
        "-k",
        symmetric,
        "--encryption-algorithm",
        "RSAES_OAEP_SHA_1",
        "-o",
        "-",
        message,
        "--json",
    )
    assert error(rsa_on_symmetric) == (
        2,
        "InvalidKeyUsageException",
        "Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.",
    )
    assert not (world.tmp / "x.kms").exists()


def test_algorithms_and_messages_that_do_not_fit(world: World) -> None:
    hmac = key(world, "HMAC_224", "GENERATE_VERIFY_MAC")
    ecc = key(world, "ECC_NIST_P256", "SIGN_VERIFY")
    message = world.file(b"message", ".txt")
    mac = world.kmscli(
        "mac", "generate", message, "-k", hmac, "--algorithm", "HMAC_SHA_256", "--json"
    )
    assert error(mac) == (
        2,
        "InvalidKeyUsageException",
        "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.",
    )
    sign = world.kmscli("sign", message, "-k", ecc, "--algorithm", "ECDSA_SHA_384", "--json")
    assert error(sign)[:2] == (2, "InvalidKeyUsageException")
    short = world.kmscli("sign", message, "-k", ecc, "--message-type", "DIGEST", "--json")
    assert error(short) == (
        2,
        "ValidationException",
        "Digest is invalid length for algorithm ECDSA_SHA_256.",
    )
    bogus = world.kmscli("sign", message, "-k", ecc, "--algorithm", "ECDSA_SHA_1", "--json")
    assert error(bogus)[:2] == (2, "ValidationException")
    symmetric = world.create_key()
    public = world.kmscli("key", "public-key", symmetric, "--json")
    assert error(public)[:2] == (2, "UnsupportedOperationException")
    assert error(world.kmscli("key", "public-key", hmac, "--json"))[:2] == (
        2,
        "UnsupportedOperationException",
    )


def test_a_digest_and_its_message_verify_the_same_signature(world: World) -> None:
    ecc = key(world, "ECC_NIST_P384", "SIGN_VERIFY")
    text = b"the message itself"
    message = world.file(text, ".txt")
    digest = world.file(hashlib.sha384(text).digest(), ".bin")
    world.ok("sign", digest, "-k", ecc, "--message-type", "DIGEST", "-o", str(world.tmp / "d.sig"))
    world.ok("verify", message, "-k", ecc, "--signature", str(world.tmp / "d.sig"))
    printed = world.ok("sign", message, "-k", ecc, "--base64").out  # Base64 on stdout
    sig = world.file(printed.encode(), ".b64")
    world.ok("verify", digest, "-k", ecc, "--message-type", "DIGEST", "--signature", sig)


def test_states_and_rotation(world: World) -> None:
    ecc = key(world, "ECC_NIST_P256", "SIGN_VERIFY")
    hmac = key(world, "HMAC_256", "GENERATE_VERIFY_MAC")
    message = world.file(b"message", ".txt")
    world.ok("key", "disable", ecc)
    world.ok("key", "public-key", ecc, "-o", str(world.tmp / "pub.der"))  # as AWS does
    disabled = world.kmscli("sign", message, "-k", ecc, "--json")
    assert error(disabled) == (6, "DisabledException", f"{world.arn(ecc)} is disabled.")
    world.ok("key", "enable", ecc)
    for key_id in (ecc, hmac):
        assert error(world.kmscli("key", "rotate", key_id, "--json"))[:2] == (
            2,
            "UnsupportedOperationException",
        )
        enable = world.kmscli("key", "rotation", "enable", key_id, "--json")
        assert error(enable)[:2] == (2, "UnsupportedOperationException")
    world.ok("key", "schedule-deletion", hmac, "--yes")
    pending = world.kmscli("mac", "generate", message, "-k", hmac, "--json")
    assert error(pending) == (
        6,
        "KMSInvalidStateException",
        f"{world.arn(hmac)} is pending deletion.",
    )


def test_aliases_and_multi_region_keys_work_for_asymmetric_keys(world: World) -> None:
    ecc = key(world, "ECC_NIST_P256", "SIGN_VERIFY", "--alias", "alias/signer", "--multi-region")
    message = world.file(b"message", ".txt")
    world.ok("sign", message, "-k", "alias/signer", "-o", str(world.tmp / "m.sig"))
    world.ok("key", "replicate", ecc, "--replica-region", "eu-west-1")
    replica = world.kmscli(
        "verify",
        message,
        "-k",
        ecc,
        "--signature",
        str(world.tmp / "m.sig"),
        "--region",
        "eu-west-1",
    )
    assert replica.status == 0, replica.err
    other = key(world, "RSA_2048", "SIGN_VERIFY")
    mismatch = world.kmscli("alias", "update", "alias/signer", other, "--json")
    assert error(mismatch)[:2] == (2, "ValidationException")


def _policy_with_deny(action: str, operator: str, condition_key: str, value: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ROOT_A}, "Action": "kms:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": action,
                "Resource": "*",
                "Condition": {operator: {condition_key: value}},
            },
        ],
    }


def test_condition_keys_of_sign_verify_and_mac(world: World) -> None:
    rsa = key(world, "RSA_2048", "SIGN_VERIFY")
    message = world.file(b"message", ".txt")
    world.put_key_policy(
        rsa,
        _policy_with_deny(
            "kms:Sign", "StringNotEquals", "kms:SigningAlgorithm", "RSASSA_PSS_SHA_256"
        ),
    )
    denied = world.kmscli("sign", message, "-k", rsa, "--algorithm", "RSASSA_PKCS1_V1_5_SHA_256")
    assert denied.status == 5 and "explicit deny" in denied.err
    world.ok("sign", message, "-k", rsa, "--algorithm", "RSASSA_PSS_SHA_256")

    ecc = key(world, "ECC_NIST_P256", "SIGN_VERIFY")
    world.put_key_policy(
        ecc, _policy_with_deny("kms:Sign", "StringEquals", "kms:MessageType", "DIGEST")
    )
    digest = world.file(hashlib.sha256(b"message").digest(), ".bin")
    assert world.kmscli("sign", digest, "-k", ecc, "--message-type", "DIGEST").status == 5
    world.ok("sign", message, "-k", ecc)
    # A file over 4096 bytes is sent as a DIGEST, and the policy sees it so.
    big = world.file(b"x" * 5000, ".bin")
    assert world.kmscli("sign", big, "-k", ecc).status == 5

    hmac = key(world, "HMAC_512", "GENERATE_VERIFY_MAC")
    world.put_key_policy(
        hmac,
        _policy_with_deny("kms:GenerateMac", "StringEquals", "kms:MacAlgorithm", "HMAC_SHA_512"),
    )
    assert world.kmscli("mac", "generate", message, "-k", hmac).status == 5


def test_condition_keys_of_key_agreement_and_data_key_pairs(world: World) -> None:
    agree = key(world, "ECC_NIST_P256", "KEY_AGREEMENT")
    peer = key(world, "ECC_NIST_P256", "KEY_AGREEMENT")
    world.ok("key", "public-key", peer, "-o", str(world.tmp / "peer.der"))
    world.ok("key", "derive-shared-secret", agree, "--public-key", "peer.der", "-o", "s1")
    world.put_key_policy(
        agree,
        _policy_with_deny(
            "kms:DeriveSharedSecret", "StringEquals", "kms:KeyAgreementAlgorithm", "ECDH"
        ),
    )
    refused = world.kmscli(
        "key", "derive-shared-secret", agree, "--public-key", "peer.der", "-o", "s2"
    )
    assert refused.status == 5 and not (world.tmp / "s2").exists()

    symmetric = world.create_key()
    world.put_key_policy(
        symmetric,
        _policy_with_deny("kms:GenerateDataKeyPair*", "StringLike", "kms:DataKeyPairSpec", "RSA_*"),
    )
    rsa = world.kmscli(
        "datakey", "pair", "-k", symmetric, "--key-pair-spec", "RSA_2048", "--no-plaintext"
    )
    assert rsa.status == 5
    world.ok(
        "datakey", "pair", "-k", symmetric, "--key-pair-spec", "ECC_NIST_P256", "--no-plaintext"
    )


def test_grants_for_signing_and_macs(world: World) -> None:
    ecc = key(world, "ECC_NIST_P256", "SIGN_VERIFY")
    hmac = key(world, "HMAC_256", "GENERATE_VERIFY_MAC")
    message = world.file(b"message", ".txt")
    assert world.kmscli("sign", message, "-k", world.arn(ecc), caller=ALICE).status == 5
    world.ok(
        "policy", "grant", "create", ecc, "--grantee", ALICE, "--operations", "Sign,GetPublicKey"
    )
    world.ok("sign", message, "-k", world.arn(ecc), "-o", str(world.tmp / "m.sig"), caller=ALICE)
    world.ok("key", "public-key", world.arn(ecc), "-o", str(world.tmp / "p.der"), caller=ALICE)
    verify = world.kmscli(
        "verify",
        message,
        "-k",
        world.arn(ecc),
        "--signature",
        str(world.tmp / "m.sig"),
        caller=ALICE,
    )
    assert verify.status == 5  # Verify was not granted
    world.ok("policy", "grant", "create", hmac, "--grantee", ALICE, "--operations", "GenerateMac")
    world.ok("mac", "generate", message, "-k", world.arn(hmac), caller=ALICE)
    wrong = world.kmscli(
        "policy", "grant", "create", hmac, "--grantee", ALICE, "--operations", "Sign"
    )
    assert wrong.status == 2


def test_the_audit_trail_names_the_operations_and_keeps_no_secrets(world: World) -> None:
    ecc = key(world, "ECC_NIST_P256", "SIGN_VERIFY")
    hmac = key(world, "HMAC_256", "GENERATE_VERIFY_MAC")
    symmetric = world.create_key()
    message = world.file(b"top secret message", ".txt")
    world.ok("sign", message, "-k", ecc, "-o", str(world.tmp / "m.sig"))
    world.ok("verify", message, "-k", ecc, "--signature", str(world.tmp / "m.sig"))
    world.ok("key", "public-key", ecc, "-o", str(world.tmp / "p.der"))
    world.ok("mac", "generate", message, "-k", hmac, "-o", str(world.tmp / "m.mac"))
    world.kmscli(
        "mac", "verify", world.file(b"other", ".txt"), "-k", hmac, "--mac", str(world.tmp / "m.mac")
    )
    world.ok(
        "datakey", "pair", "-k", symmetric, "--key-pair-spec", "ECC_NIST_P256", "--no-plaintext"
    )
    events = world.audit()
    names = [e["eventName"] for e in events[-6:]]
    assert names == [
        "Sign", "Verify", "GetPublicKey", "GenerateMac", "VerifyMac",
        "GenerateDataKeyPairWithoutPlaintext",
    ]  # fmt: skip
    sign = events[-6]
    assert sign["requestParameters"]["signingAlgorithm"] == "ECDSA_SHA_256"
    assert sign["requestParameters"]["messageType"] == "RAW"
    assert sign["resources"][0]["ARN"] == world.arn(ecc)
    assert events[-2]["errorCode"] == "KMSInvalidMacException"
    assert events[-1]["requestParameters"]["keyPairSpec"] == "ECC_NIST_P256"
    trail = json.dumps(events)
    assert "top secret" not in trail and (world.tmp / "m.sig").read_bytes().hex() not in trail
