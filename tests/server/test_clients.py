"""Real clients other than boto3 through `kmscli serve`: the AWS CLI and the AWS Encryption SDK's
own KMS master key provider, each interoperating with files the kmscli commands write and read."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aws_encryption_sdk
import botocore.session
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy

from tests.server.conftest import REGION, Server

AWS = shutil.which("aws")


def _aws(server: Server, env: dict[str, str], *args: str) -> dict[str, Any]:
    assert AWS is not None
    key_id, secret = server.access_key()
    full = {
        **env,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(Path(env["HOME"]) / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(Path(env["HOME"]) / "no-credentials"),
    }
    done = subprocess.run(
        [AWS, "kms", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True,
        env=full,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout or b"{}")  # type: ignore[no-any-return]


@pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed")
def test_the_aws_cli(kms_server: Server, kmscli_env: dict[str, str], tmp_path: Path) -> None:
    made = _aws(kms_server, kmscli_env, "create-key", "--description", "from the aws cli")
    key = made["KeyMetadata"]["KeyId"]
    described = _aws(kms_server, kmscli_env, "describe-key", "--key-id", key)
    assert described["KeyMetadata"]["Description"] == "from the aws cli"
    (tmp_path / "plain.txt").write_bytes(b"hello from the aws cli")
    sealed = _aws(
        kms_server,
        kmscli_env,
        "encrypt",
        "--key-id",
        key,
        "--plaintext",
        f"fileb://{tmp_path / 'plain.txt'}",
        "--encryption-context",
        "purpose=cli",
    )
    (tmp_path / "blob").write_bytes(base64.b64decode(sealed["CiphertextBlob"]))
    opened = _aws(
        kms_server,
        kmscli_env,
        "decrypt",
        "--ciphertext-blob",
        f"fileb://{tmp_path / 'blob'}",
        "--encryption-context",
        "purpose=cli",
    )
    assert base64.b64decode(opened["Plaintext"]) == b"hello from the aws cli"
    assert opened["KeyId"] == made["KeyMetadata"]["Arn"]


def _esdk_provider(
    server: Server, arn: str, monkeypatch: pytest.MonkeyPatch
) -> aws_encryption_sdk.StrictAwsKmsMasterKeyProvider:
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", server.url)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    session = botocore.session.Session()
    key_id, secret = server.access_key()
    session.set_credentials(key_id, secret)
    return aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(key_ids=[arn], botocore_session=session)


def test_the_encryption_sdk_kms_keyring(
    kms_server: Server, run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = kms_server.client().create_key()["KeyMetadata"]["Arn"]
    provider = _esdk_provider(kms_server, arn, monkeypatch)
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    original = os.urandom(10_000)
    (tmp_path / "by-kmscli").write_bytes(original)
    result = run("encrypt", "-k", arn, "-c", "purpose=interop", "by-kmscli")
    assert result.status == 0, result.err
    plaintext, header = client.decrypt(
        source=(tmp_path / "by-kmscli.kms").read_bytes(), key_provider=provider
    )
    assert plaintext == original
    assert header.encryption_context["purpose"] == "interop"
    sealed, _ = client.encrypt(
        source=original, key_provider=provider, encryption_context={"by": "esdk"}
    )
    (tmp_path / "by-esdk.kms").write_bytes(sealed)
    result = run("decrypt", "-c", "by=esdk", "by-esdk.kms", "-o", "by-esdk")
    assert result.status == 0, result.err
    assert (tmp_path / "by-esdk").read_bytes() == original
