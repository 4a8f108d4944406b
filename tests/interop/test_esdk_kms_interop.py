"""kmscli files and the real aws-encryption-sdk, with `aws-kms` data keys, in both directions.

The ESDK reaches kmscli's KMS through a master key provider defined here: it calls the local
KmsService for GenerateDataKey, Encrypt and Decrypt exactly as the ESDK's own KMS master key
calls AWS KMS (provider ID `aws-kms`, key info the key ARN from the response).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attr
import aws_encryption_sdk
import pytest
from aws_encryption_sdk.exceptions import DecryptKeyError
from aws_encryption_sdk.identifiers import CommitmentPolicy
from aws_encryption_sdk.key_providers.base import (
    MasterKey,
    MasterKeyConfig,
    MasterKeyProvider,
    MasterKeyProviderConfig,
)
from aws_encryption_sdk.structures import DataKey, EncryptedDataKey, MasterKeyInfo

from kmscli.errors import KmsError
from kmscli.kms.service import KmsService
from kmscli.store import open_keyring
from tests.conftest import Runner

FRAME = 1024
SUITES = {
    0x0478: aws_encryption_sdk.Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    0x0578: aws_encryption_sdk.Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
}
SUITE_NAMES = {
    0x0478: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
    0x0578: "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
}
SIZES = [0, 1, FRAME - 1, FRAME, FRAME + 1, 3 * FRAME + 5]
CONTEXTS = [{}, {"purpose": "interop", "ключ": "значение ✓"}]


@attr.s(hash=True)
class LocalKmsMasterKeyConfig(MasterKeyConfig):  # type: ignore[misc]
    provider_id = "aws-kms"
    service: KmsService | None = attr.ib(hash=False, default=None)


class LocalKmsMasterKey(MasterKey):  # type: ignore[misc]
    """One kmscli KMS key, used by the ESDK the way it uses an AWS KMS key."""

    provider_id = "aws-kms"
    _config_class = LocalKmsMasterKeyConfig

    def _service(self) -> KmsService:
        return self.config.service  # type: ignore[no-any-return]

    def _generate_data_key(self, algorithm: Any, encryption_context: dict[str, str]) -> DataKey:
        response = self._service().generate_data_key(
            self.key_id.decode(),
            number_of_bytes=algorithm.kdf_input_len,
            encryption_context=encryption_context,
        )
        return DataKey(
            key_provider=MasterKeyInfo("aws-kms", response["KeyId"].encode()),
            data_key=response["Plaintext"],
            encrypted_data_key=response["CiphertextBlob"],
        )

    def _encrypt_data_key(
        self, data_key: Any, algorithm: Any, encryption_context: dict[str, str]
    ) -> EncryptedDataKey:
        response = self._service().encrypt(
            self.key_id.decode(), data_key.data_key, encryption_context
        )
        return EncryptedDataKey(
            key_provider=MasterKeyInfo("aws-kms", response["KeyId"].encode()),
            encrypted_data_key=response["CiphertextBlob"],
        )

    def _decrypt_data_key(
        self, encrypted_data_key: Any, algorithm: Any, encryption_context: dict[str, str]
    ) -> DataKey:
        try:
            response = self._service().decrypt(
                encrypted_data_key.encrypted_data_key,
                key=encrypted_data_key.key_provider.key_info.decode(),
                encryption_context=encryption_context,
            )
        except KmsError as error:
            # As the ESDK's KMS master key turns a KMS ClientError into DecryptKeyError, so
            # that the next encrypted data key is tried.
            raise DecryptKeyError(f"{error.code}: {error.message}") from error
        return DataKey(
            key_provider=self.key_provider,
            data_key=response["Plaintext"],
            encrypted_data_key=encrypted_data_key.encrypted_data_key,
        )


@attr.s(hash=True)
class LocalKmsProviderConfig(MasterKeyProviderConfig):  # type: ignore[misc]
    service: KmsService | None = attr.ib(hash=False, default=None)


class LocalKmsProvider(MasterKeyProvider):  # type: ignore[misc]
    """Key IDs are key ARNs; decrypt vends a master key for whatever ARN an EDK names."""

    provider_id = "aws-kms"
    _config_class = LocalKmsProviderConfig

    def _new_master_key(self, key_id: bytes) -> LocalKmsMasterKey:
        return LocalKmsMasterKey(key_id=key_id, service=self.config.service)


@pytest.fixture
def service(kmscli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[KmsService]:
    for name, value in kmscli_env.items():
        monkeypatch.setenv(name, value)
    keyring = open_keyring(
        Path(kmscli_env["KMSCLI_HOME"]),
        root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=Path(kmscli_env["HOME"]),
        passphrase=lambda: None,
    )
    from datetime import UTC, datetime

    yield KmsService(keyring, region="us-east-1", clock=lambda: datetime.now(UTC))


def _esdk() -> aws_encryption_sdk.EncryptionSDKClient:
    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def _provider(service: KmsService, *arns: str) -> LocalKmsProvider:
    provider = LocalKmsProvider(service=service)
    for arn in arns:
        provider.add_master_key(arn.encode())
    return provider


def _new_key(run: Runner) -> str:
    result = run("key", "create", "--json")
    assert result.status == 0, result.err
    import json

    return str(json.loads(result.out)["KeyMetadata"]["Arn"])


@pytest.mark.parametrize("suite_id", sorted(SUITES))
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("context", CONTEXTS, ids=["empty", "non-ascii"])
def test_esdk_decrypts_what_kmscli_wrote(
    run_inproc: Runner,
    service: KmsService,
    tmp_path: Path,
    suite_id: int,
    size: int,
    context: dict[str, str],
) -> None:
    arn = _new_key(run_inproc)
    plaintext = os.urandom(size)
    (tmp_path / "p").write_bytes(plaintext)
    pairs = [a for k, v in context.items() for a in ("-c", f"{k}={v}")]
    result = run_inproc(
        "encrypt",
        "-k",
        arn,
        "--algorithm",
        SUITE_NAMES[suite_id],
        "--frame-size",
        str(FRAME),
        *pairs,
        "p",
    )
    assert result.status == 0, result.err
    decrypted, header = _esdk().decrypt(
        source=(tmp_path / "p.kms").read_bytes(), key_provider=_provider(service)
    )
    assert decrypted == plaintext
    assert header.algorithm == SUITES[suite_id]
    assert {
        k: v for k, v in header.encryption_context.items() if not k.startswith("aws-crypto-")
    } == context


def test_esdk_decrypts_with_any_of_several_kmscli_keys(
    run_inproc: Runner, service: KmsService, tmp_path: Path
) -> None:
    first, second = _new_key(run_inproc), _new_key(run_inproc)
    (tmp_path / "p").write_bytes(b"two keys")
    assert run_inproc("encrypt", "-k", first, "-k", second, "p").status == 0
    assert run_inproc("key", "disable", first).status == 0
    decrypted, header = _esdk().decrypt(
        source=(tmp_path / "p.kms").read_bytes(), key_provider=_provider(service)
    )
    assert decrypted == b"two keys" and len(header.encrypted_data_keys) == 2


@pytest.mark.parametrize("suite_id", sorted(SUITES))
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("context", CONTEXTS, ids=["empty", "non-ascii"])
def test_kmscli_decrypts_what_the_esdk_wrote(
    run_inproc: Runner,
    service: KmsService,
    tmp_path: Path,
    suite_id: int,
    size: int,
    context: dict[str, str],
) -> None:
    arn = _new_key(run_inproc)
    plaintext = os.urandom(size)
    message, _header = _esdk().encrypt(
        source=plaintext,
        key_provider=_provider(service, arn),
        algorithm=SUITES[suite_id],
        frame_length=FRAME,
        encryption_context=context,
    )
    (tmp_path / "e.kms").write_bytes(message)
    pairs = [a for k, v in context.items() for a in ("-c", f"{k}={v}")]
    result = run_inproc("decrypt", *pairs, "-o", "e", "e.kms", "-v")
    assert result.status == 0, result.err
    assert (tmp_path / "e").read_bytes() == plaintext
    assert arn in result.err


def test_kmscli_decrypts_esdk_streaming_with_the_empty_final_frame(
    run_inproc: Runner, service: KmsService, tmp_path: Path
) -> None:
    arn = _new_key(run_inproc)
    plaintext = os.urandom(FRAME * 4)
    (tmp_path / "src").write_bytes(plaintext)
    with (
        (tmp_path / "src").open("rb") as source,
        (tmp_path / "s.kms").open("wb") as sink,
        _esdk().stream(
            mode="e", source=source, key_provider=_provider(service, arn), frame_length=FRAME
        ) as stream,
    ):
        for chunk in stream:
            sink.write(chunk)
    assert run_inproc("decrypt", "-o", "s", "s.kms").status == 0
    assert (tmp_path / "s").read_bytes() == plaintext


def test_kmscli_decrypts_a_v1_esdk_message_only_when_allowed(
    run_inproc: Runner, service: KmsService, tmp_path: Path
) -> None:
    arn = _new_key(run_inproc)
    legacy = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    message, _ = legacy.encrypt(
        source=b"old format",
        key_provider=_provider(service, arn),
        algorithm=aws_encryption_sdk.Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256,
    )
    (tmp_path / "v1.kms").write_bytes(message)
    refused = run_inproc("decrypt", "-o", "v1", "v1.kms")
    assert refused.status == 8 and not (tmp_path / "v1").exists()
    allowed = run_inproc(
        "decrypt", "--commitment-policy", "require-encrypt-allow-decrypt", "-o", "v1", "v1.kms"
    )
    assert allowed.status == 0, allowed.err
    assert (tmp_path / "v1").read_bytes() == b"old format"
