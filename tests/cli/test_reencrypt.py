"""`kmscli reencrypt`: ReEncrypt of blobs, re-wrapping of messages (body bytes unchanged for
unsigned suites), full re-encryption of signed ones, atomic replacement, and other regions."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aws_encryption_sdk
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy

from kmscli.kms.service import KmsService
from kmscli.message.header import parse_header
from kmscli.store import open_keyring
from tests.conftest import Runner
from tests.helpers import json_of, ok
from tests.interop.test_esdk_kms_interop import _provider

EU = ("--region", "eu-west-1")
SIGNED = "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"


def _arn(run: Runner, key: str, *region: str) -> str:
    return str(json_of(run("key", "describe", key, "--json", *region))["KeyMetadata"]["Arn"])


def _split(path: Path) -> tuple[Any, bytes]:
    """A message's parsed header and every byte after it."""
    data = path.read_bytes()
    header = parse_header(io.BytesIO(data))
    return header, data[header.header_length :]


@pytest.fixture
def service(kmscli_env: dict[str, str]) -> KmsService:
    """The keyring's KMS in this process, for the ESDK's master key provider."""
    keyring = open_keyring(
        Path(kmscli_env["KMSCLI_HOME"]),
        root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=Path(kmscli_env["HOME"]),
        passphrase=lambda: None,
    )
    return KmsService(keyring, region="us-east-1", clock=lambda: datetime.now(UTC))


@pytest.fixture
def keys(run_inproc: Runner) -> tuple[str, str]:
    old = ok(run_inproc("key", "create", "--alias", "alias/old")).out.strip()
    new = ok(run_inproc("key", "create", "--alias", "alias/new")).out.strip()
    return old, new


def test_blob_reencrypt_is_kms_reencrypt(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    (tmp_path / "p").write_bytes(b"direct")
    ok(run_inproc("encrypt", "--direct", "-k", old, "-c", "app=x", "p", "-o", "p.blob"))
    before = (tmp_path / "p.blob").read_bytes()
    response = json_of(
        run_inproc(
            "reencrypt",
            "-k",
            "alias/new",
            "-c",
            "app=x",
            "--new-context",
            "app=y",
            "p.blob",
            "--json",
        )
    )
    (entry,) = response["Files"]
    assert entry["SourceKeyId"] == _arn(run_inproc, old)
    assert entry["KeyId"] == _arn(run_inproc, new)
    assert entry["Output"] == "p.blob" and (tmp_path / "p.blob").read_bytes() != before
    assert json_of(run_inproc("inspect", "p.blob", "--json"))["KeyId"] == new
    ok(run_inproc("key", "disable", old))
    assert run_inproc("decrypt", "-c", "app=x", "-o", "-", "p.blob").status == 7
    assert ok(run_inproc("decrypt", "-c", "app=y", "-o", "-", "p.blob")).out == "direct"

    # The source context must be exact; the source key, if named, must be the blob's.
    (tmp_path / "q.blob").write_bytes(before)
    ok(run_inproc("key", "enable", old))
    wrong = run_inproc("reencrypt", "-k", new, "-c", "app=z", "q.blob")
    assert wrong.status == 7 and "InvalidCiphertextException" in wrong.err
    other = run_inproc("reencrypt", "-k", new, "-c", "app=x", "--source-key", new, "q.blob")
    assert other.status == 7 and "IncorrectKeyException" in other.err
    assert (tmp_path / "q.blob").read_bytes() == before  # failures leave the input alone


def test_reencrypt_needs_reencrypt_permissions(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    account = _arn(run_inproc, old).split(":")[4]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {"Effect": "Deny", "Principal": "*", "Action": "kms:ReEncryptFrom", "Resource": "*"},
        ],
    }
    (tmp_path / "deny.json").write_text(json.dumps(policy))
    ok(run_inproc("policy", "put", old, "deny.json"))
    (tmp_path / "p").write_bytes(b"x")
    ok(run_inproc("encrypt", "--direct", "-k", old, "p", "-o", "p.blob"))
    denied = run_inproc("reencrypt", "-k", new, "p.blob")
    assert denied.status == 5 and "kms:ReEncryptFrom" in denied.err
    ok(run_inproc("decrypt", "-o", "-", "p.blob"))  # Decrypt itself is still allowed


def test_unsigned_message_rewrap_copies_the_body(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    plaintext = os.urandom(3 * 4096 + 17)
    (tmp_path / "p").write_bytes(plaintext)
    os.chmod(tmp_path / "p", 0o640)
    ok(run_inproc("encrypt", "-k", old, "-c", "purpose=test", "--frame-size", "4096", "p"))
    old_header, old_body = _split(tmp_path / "p.kms")
    response = json_of(
        run_inproc("reencrypt", "--header-only", "-k", "alias/new", "p.kms", "--json")
    )
    assert response["Files"][0]["BodyCopied"] is True
    assert response["Files"][0]["KeyIds"] == [_arn(run_inproc, new)]
    new_header, new_body = _split(tmp_path / "p.kms")
    assert new_body == old_body  # byte for byte
    assert new_header.message_id == old_header.message_id
    assert new_header.encryption_context == old_header.encryption_context
    assert [k.provider_info.decode() for k in new_header.encrypted_data_keys] == [
        _arn(run_inproc, new)
    ]
    assert new_header.header_tag != old_header.header_tag
    assert (tmp_path / "p.kms").stat().st_mode & 0o777 == 0o640
    ok(run_inproc("key", "disable", old))
    (tmp_path / "p").unlink()
    ok(run_inproc("decrypt", "-c", "purpose=test", "p.kms"))
    assert (tmp_path / "p").read_bytes() == plaintext
    by_old = run_inproc("decrypt", "-k", old, "-o", "-", "p.kms")
    assert by_old.status == 7 and "IncorrectKeyException" in by_old.err


def test_several_new_keys_and_source_restrictions(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    third = ok(run_inproc("key", "create")).out.strip()
    (tmp_path / "p").write_bytes(b"several")
    ok(run_inproc("encrypt", "-k", old, "p"))
    refused = run_inproc("reencrypt", "-k", new, "--source-key", third, "p.kms")
    assert refused.status == 7 and "IncorrectKeyException" in refused.err
    required = run_inproc("reencrypt", "-k", new, "-c", "missing=1", "p.kms")
    assert required.status == 7
    ok(run_inproc("reencrypt", "-k", new, "-k", third, "--source-key", old, "p.kms"))
    for key in (new, third):
        ok(run_inproc("decrypt", "-k", key, "-o", "-", "p.kms"))


def test_signed_messages_are_decrypted_and_encrypted_again(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    plaintext = os.urandom(300_000)
    (tmp_path / "p").write_bytes(plaintext)
    ok(run_inproc("encrypt", "-k", old, "--algorithm", SIGNED, "-c", "a=b", "p", "-o", "s.kms"))
    old_header, _ = _split(tmp_path / "s.kms")
    response = json_of(run_inproc("reencrypt", "--header-only", "-k", new, "s.kms", "--json"))
    assert response["Files"][0]["BodyCopied"] is False, "signed messages are always re-encrypted"
    new_header, _ = _split(tmp_path / "s.kms")
    assert new_header.suite.id == 0x0578 and new_header.message_id != old_header.message_id
    assert new_header.encryption_context["a"] == "b"
    ok(run_inproc("key", "disable", old))
    ok(run_inproc("decrypt", "-o", "out", "s.kms"))
    assert (tmp_path / "out").read_bytes() == plaintext


def test_unsigned_messages_are_encrypted_again_by_default(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    (tmp_path / "p").write_bytes(os.urandom(10_000))
    ok(run_inproc("encrypt", "-k", old, "p"))
    old_header, old_body = _split(tmp_path / "p.kms")
    response = json_of(run_inproc("reencrypt", "-k", new, "p.kms", "--json"))
    assert response["Files"][0]["BodyCopied"] is False
    new_header, new_body = _split(tmp_path / "p.kms")
    assert new_header.message_id != old_header.message_id and new_body != old_body
    ok(run_inproc("decrypt", "-k", new, "-o", "out", "p.kms"))
    assert (tmp_path / "out").read_bytes() == (tmp_path / "p").read_bytes()


def test_failures_leave_the_input_and_no_temporary_file(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, _new = keys
    (tmp_path / "p").write_bytes(b"keep me")
    ok(run_inproc("encrypt", "-k", old, "p"))
    before = (tmp_path / "p.kms").read_bytes()
    missing = run_inproc("reencrypt", "-k", "alias/nowhere", "p.kms")
    assert missing.status == 3
    damaged = bytearray(before)
    damaged[60] ^= 1  # inside the header body
    (tmp_path / "bad.kms").write_bytes(bytes(damaged))
    assert run_inproc("reencrypt", "-k", old, "bad.kms").status in (7, 8)
    assert (tmp_path / "p.kms").read_bytes() == before
    assert (tmp_path / "bad.kms").read_bytes() == bytes(damaged)
    assert sorted(p.name for p in tmp_path.iterdir() if "tmp" in p.name) == []
    (tmp_path / "plain").write_bytes(b"not encrypted")
    assert run_inproc("reencrypt", "-k", old, "plain").status == 8
    # -o writes elsewhere and refuses to overwrite without -f.
    ok(run_inproc("reencrypt", "-k", old, "p.kms", "-o", "copy.kms"))
    assert (tmp_path / "p.kms").read_bytes() == before
    exists = run_inproc("reencrypt", "-k", old, "p.kms", "-o", "copy.kms")
    assert exists.status == 4


def test_stdin_to_stdout(run_inproc: Runner, keys: tuple[str, str], tmp_path: Path) -> None:
    old, new = keys
    (tmp_path / "p").write_bytes(b"streamed")
    ok(run_inproc("encrypt", "-k", old, "p"))
    out = ok(run_inproc("reencrypt", "-k", new, input=(tmp_path / "p.kms").read_bytes()))
    (tmp_path / "streamed.kms").write_bytes(out.stdout)
    ok(run_inproc("decrypt", "-k", new, "-o", "back", "streamed.kms"))
    assert (tmp_path / "back").read_bytes() == b"streamed"


def test_multi_region_destinations(run_inproc: Runner, tmp_path: Path) -> None:
    mrk = ok(run_inproc("key", "create", "--multi-region")).out.strip()
    other = ok(run_inproc("key", "create", "--multi-region")).out.strip()
    for key in (mrk, other):
        ok(run_inproc("key", "replicate", key, "--replica-region", "eu-west-1"))
    (tmp_path / "p").write_bytes(b"regions")
    ok(run_inproc("encrypt", "--direct", "-k", mrk, "p", "-o", "p.blob"))
    # A blob re-encrypted under a multi-Region key of another region, by its ARN.
    eu_other = _arn(run_inproc, other, *EU)
    response = json_of(run_inproc("reencrypt", "-k", eu_other, "p.blob", "--json"))
    assert response["Files"][0]["KeyId"] == eu_other
    assert ok(run_inproc("decrypt", "-o", "-", "p.blob", *EU)).out == "regions"
    single = ok(run_inproc("key", "create", "--region", "eu-west-1")).out.strip()
    refused = run_inproc("reencrypt", "-k", _arn(run_inproc, single, *EU), "p.blob")
    assert refused.status == 3 and "Invalid arn eu-west-1" in refused.err
    # A message written in us-east-1 is re-wrapped in eu-west-1 by the replicas there.
    ok(run_inproc("encrypt", "-k", mrk, "p", "-o", "p.kms"))
    ok(run_inproc("reencrypt", "-k", other, "p.kms", *EU))
    ok(run_inproc("decrypt", "-k", other, "-o", "-", "p.kms"))


def test_the_esdk_decrypts_rewrapped_messages(
    run_inproc: Runner, service: KmsService, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    new_arn = _arn(run_inproc, new)
    plaintext = os.urandom(5000)
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    )
    # A version 1 message, written by the ESDK itself, and a version 2 one by kmscli.
    legacy, _ = client.encrypt(
        source=plaintext,
        key_provider=_provider(service, _arn(run_inproc, old)),
        algorithm=aws_encryption_sdk.Algorithm.AES_256_GCM_IV12_TAG16_HKDF_SHA256,
        frame_length=1024,
    )
    (tmp_path / "v1.kms").write_bytes(legacy)
    (tmp_path / "p").write_bytes(plaintext)
    ok(run_inproc("encrypt", "-k", old, "p", "-o", "v2.kms"))
    ok(
        run_inproc(
            "reencrypt",
            "--header-only",
            "-k",
            new,
            "v1.kms",
            "v2.kms",
            "--commitment-policy",
            "require-encrypt-allow-decrypt",
        )
    )
    _, v1_body = _split(tmp_path / "v1.kms")
    assert legacy.endswith(v1_body)  # the v1 body is the ESDK's own, untouched
    reader = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
    )
    for name in ("v1.kms", "v2.kms"):
        decrypted, header = reader.decrypt(
            source=(tmp_path / name).read_bytes(), key_provider=_provider(service)
        )
        assert decrypted == plaintext
        assert [k.key_provider.key_info.decode() for k in header.encrypted_data_keys] == [new_arn]
