"""--backend aws against `kmscli serve`: a KMS endpoint with AWS's semantics (SigV4, key
policies, key states, import, multi-Region keys), for what moto does not do.

The server runs in this process over its own keyring (tests/server/conftest.py); the kmscli
under test is a real process with --backend aws and the server's URL as its endpoint, so it
never touches a keyring itself.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.aws.conftest import aws_environment
from tests.conftest import Result, Runner
from tests.helpers import ok
from tests.server.conftest import ALICE, ROOT, Server, kms_server  # noqa: F401 (a fixture)


@pytest.fixture
def remote(run: Runner, kms_server: Server, tmp_path: Path) -> Runner:  # noqa: F811
    def runner(*args: str, principal: str = ROOT, **kwargs: object) -> Result:
        key_id, secret = kms_server.access_key(principal)
        env = {
            **aws_environment(kms_server.url, tmp_path),
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_MAX_ATTEMPTS": "1",
            **kwargs.pop("env", {}),  # type: ignore[dict-item]
        }
        return run(*args, env=env, **kwargs)

    return runner


def test_key_states_and_policies_are_the_endpoints(remote: Runner, tmp_path: Path) -> None:
    key = ok(remote("key", "create")).out.strip()
    (tmp_path / "f").write_bytes(b"data")
    ok(remote("encrypt", "-k", key, "f"))
    denied = remote("decrypt", "f.kms", "-o", "-", principal=ALICE)
    assert denied.status == 5 and "AccessDeniedException" in denied.err
    ok(remote("key", "disable", key))
    disabled = remote("decrypt", "f.kms", "-o", "-")
    assert disabled.status == 6 and "DisabledException" in disabled.err
    wrong = remote("key", "describe", "alias/nothing")
    assert wrong.status == 3 and "NotFoundException" in wrong.err


def test_credentials_the_endpoint_refuses_exit_5(remote: Runner) -> None:
    result = remote("key", "list", env={"AWS_SECRET_ACCESS_KEY": "not-the-secret"})
    assert result.status == 5, result.err


def test_import_openssl_wrapped_material(remote: Runner, tmp_path: Path) -> None:
    key = ok(remote("key", "create", "--origin", "EXTERNAL")).out.strip()
    (tmp_path / "params").mkdir()
    ok(remote("key", "import-parameters", key, "--out-dir", "params"))
    (tmp_path / "material.bin").write_bytes(os.urandom(32))
    subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-keyform",
            "DER",
            "-inkey",
            "params/PublicKey.bin",
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            "rsa_oaep_md:sha256",
            "-pkeyopt",
            "rsa_mgf1_md:sha256",
            "-in",
            "material.bin",
            "-out",
            "wrapped.bin",
        ],
        cwd=tmp_path,
        check=True,
    )
    imported = remote(
        "key",
        "import-material",
        key,
        "--material",
        "wrapped.bin",
        "--token",
        "params/ImportToken.bin",
        "--no-expiry",
    )
    material_id = ok(imported).out.strip()
    assert len(material_id) == 64
    (tmp_path / "f").write_bytes(b"under imported material")
    ok(remote("encrypt", "-k", key, "f"))
    assert remote("decrypt", "f.kms", "-o", "-").stdout == b"under imported material"
    ok(remote("key", "delete-material", key))
    state = json.loads(ok(remote("key", "describe", key, "--json")).out)["KeyMetadata"]["KeyState"]
    assert state == "PendingImport"


def test_multi_region_primary_and_replica(remote: Runner, tmp_path: Path) -> None:
    key = ok(remote("key", "create", "--multi-region")).out.strip()
    ok(remote("key", "replicate", key, "--replica-region", "eu-west-1"))
    (tmp_path / "f").write_bytes(b"across regions")
    ok(remote("encrypt", "-k", key, "f"))
    decrypted = remote("decrypt", "f.kms", "-o", "-", "--region", "eu-west-1", "-v")
    assert decrypted.status == 0, decrypted.err
    assert decrypted.stdout == b"across regions" and ":eu-west-1:" in decrypted.err
    ok(remote("key", "update-primary-region", key, "eu-west-1"))
    described = json.loads(
        ok(remote("key", "describe", key, "--json", "--region", "eu-west-1")).out
    )
    configuration = described["KeyMetadata"]["MultiRegionConfiguration"]
    assert configuration["MultiRegionKeyType"] == "PRIMARY"


def test_data_key_pair_and_shared_secret(remote: Runner, tmp_path: Path) -> None:
    key = ok(remote("key", "create")).out.strip()
    pair = json.loads(
        ok(remote("datakey", "pair", "-k", key, "--key-pair-spec", "ECC_NIST_P256", "--json")).out
    )
    assert pair["KeyPairSpec"] == "ECC_NIST_P256" and pair["PrivateKeyCiphertextBlob"]
    agreement = ok(
        remote("key", "create", "--key-spec", "ECC_NIST_P256", "--key-usage", "KEY_AGREEMENT")
    ).out.strip()
    (tmp_path / "peer.der").write_bytes(base64.b64decode(pair["PublicKey"]))
    secret = remote("key", "derive-shared-secret", agreement, "--public-key", "peer.der", "--json")
    assert len(base64.b64decode(json.loads(ok(secret).out)["SharedSecret"])) == 32
