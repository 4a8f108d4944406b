"""Files kmscli writes with --backend aws and the real aws-encryption-sdk, both directions.

The ESDK uses its own AWS KMS master key provider (StrictAwsKmsMasterKeyProvider, botocore
underneath) pointed at the same moto server, exactly as aws-encryption-cli would: data keys made
by kmscli's GenerateDataKey call are unwrapped by the ESDK's Decrypt call, and the reverse.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import aws_encryption_sdk
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy

from tests.aws.servers import KmsProxy
from tests.conftest import Runner

SUITES = {
    "AES_256_GCM_HKDF_SHA512_COMMIT_KEY": (
        aws_encryption_sdk.Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY
    ),
    "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384": (
        aws_encryption_sdk.Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384
    ),
}
CONTEXT = {"purpose": "interop", "ключ": "значение"}


@pytest.fixture
def esdk(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> aws_encryption_sdk.EncryptionSDKClient:
    for name, value in aws_env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def _key_arn(aws: Runner, *args: str) -> str:
    created = aws("key", "create", "--json", *args)
    assert created.status == 0, created.err
    return str(json.loads(created.out)["KeyMetadata"]["Arn"])


def _provider(*arns: str) -> aws_encryption_sdk.StrictAwsKmsMasterKeyProvider:
    return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=list(arns))


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("size", [0, 1, 5000, 300_000])
def test_the_esdk_decrypts_what_kmscli_wrote(
    aws: Runner, esdk: aws_encryption_sdk.EncryptionSDKClient, tmp_path: Path, suite: str, size: int
) -> None:
    arn = _key_arn(aws)
    plaintext = os.urandom(size)
    (tmp_path / "in").write_bytes(plaintext)
    context = [arg for k, v in CONTEXT.items() for arg in ("-c", f"{k}={v}")]
    result = aws("encrypt", "-k", arn, *context, "--algorithm", suite, "in", "-o", "in.kms")
    assert result.status == 0, result.err
    decrypted, header = esdk.decrypt(
        source=(tmp_path / "in.kms").read_bytes(), key_provider=_provider(arn)
    )
    assert decrypted == plaintext
    assert header.algorithm == SUITES[suite]
    assert CONTEXT.items() <= header.encryption_context.items()


def test_the_esdk_decrypts_with_either_of_two_keys(
    aws: Runner, esdk: aws_encryption_sdk.EncryptionSDKClient, tmp_path: Path
) -> None:
    first, second = _key_arn(aws), _key_arn(aws)
    (tmp_path / "in").write_bytes(b"two keys")
    assert aws("encrypt", "-k", first, "-k", second, "in").status == 0
    message = (tmp_path / "in.kms").read_bytes()
    assert esdk.decrypt(source=message, key_provider=_provider(second))[0] == b"two keys"


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("frame_length", [0, 1024, 4096])
def test_kmscli_decrypts_what_the_esdk_wrote(
    aws: Runner,
    esdk: aws_encryption_sdk.EncryptionSDKClient,
    tmp_path: Path,
    suite: str,
    frame_length: int,
) -> None:
    arn = _key_arn(aws)
    plaintext = os.urandom(10_000)
    message, _ = esdk.encrypt(
        source=plaintext,
        key_provider=_provider(arn),
        encryption_context=CONTEXT,
        algorithm=SUITES[suite],
        frame_length=frame_length,
    )
    (tmp_path / "esdk.kms").write_bytes(message)
    result = aws("decrypt", "esdk.kms", "-o", "out", "-c", "purpose=interop")
    assert result.status == 0, result.err
    assert (tmp_path / "out").read_bytes() == plaintext


def test_a_file_of_another_region_is_decrypted_there(aws: Runner, tmp_path: Path) -> None:
    arn = _key_arn(aws, "--region", "eu-west-1")
    (tmp_path / "in").write_bytes(b"from eu-west-1")
    assert aws("encrypt", "-k", arn, "in", "--region", "eu-west-1").status == 0
    result = aws("decrypt", "in.kms", "-o", "-", "--region", "us-east-1")
    assert result.status == 0, result.err
    assert result.stdout == b"from eu-west-1"


def test_a_multi_region_data_key_is_decrypted_by_the_related_key_here(
    aws_via_proxy: Runner, proxy: KmsProxy, tmp_path: Path
) -> None:
    arn = _key_arn(aws_via_proxy, "--multi-region")
    key_id = arn.rsplit("/", 1)[1]  # moto's ReplicateKey takes no ARN
    assert aws_via_proxy("key", "replicate", key_id, "--replica-region", "eu-west-1").status == 0
    (tmp_path / "in").write_bytes(b"across regions")
    assert aws_via_proxy("encrypt", "-k", arn, "in").status == 0
    aws_via_proxy("decrypt", "in.kms", "-o", "-", "--region", "eu-west-1")
    # moto's replicas do not share key material, so its answer is AccessDenied; what matters is
    # the request: Decrypt in eu-west-1 with the replica's ARN, as the ESDK's MRK-aware keyring.
    decrypts = [(region, doc.get("KeyId")) for op, region, doc in proxy.log if op == "Decrypt"]
    assert decrypts[-1] == ("eu-west-1", arn.replace(":us-east-1:", ":eu-west-1:"))
