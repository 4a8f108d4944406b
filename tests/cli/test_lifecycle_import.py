"""Imported key material (kms-behaviour.md §7), wrapped the way AWS documents it: with the
`openssl` command line (pkeyutl with OAEP, and enc -id-aes256-wrap-pad for the AES variant)."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, Runner
from tests.helpers import json_of, ok
from tests.keyring_files import record_file

T0 = datetime(2030, 1, 1, tzinfo=UTC)
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")


def at(days: float = 0, **delta: float) -> datetime:
    return T0 + timedelta(days=days, **delta)


def iso(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _openssl(*args: str) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], check=True, capture_output=True, timeout=60)


def wrap(directory: Path, material: Path, algorithm: str, out: Path) -> None:
    """Wrap `material` with the public key in `directory` as AWS's documentation shows."""
    digest = "sha1" if algorithm.endswith("SHA_1") else "sha256"
    oaep = [
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        f"rsa_oaep_md:{digest}",
        "-pkeyopt",
        f"rsa_mgf1_md:{digest}",
    ]
    public = ["-pubin", "-keyform", "DER", "-inkey", str(directory / "PublicKey.bin")]
    if algorithm.startswith("RSAES_OAEP"):
        _openssl("pkeyutl", "-encrypt", *public, *oaep, "-in", str(material), "-out", str(out))
        return
    aes = directory / "aes.key"
    aes.write_bytes(os.urandom(32))
    wrapped_aes, wrapped_material = directory / "aes.wrapped", directory / "material.wrapped"
    _openssl("pkeyutl", "-encrypt", *public, *oaep, "-in", str(aes), "-out", str(wrapped_aes))
    _openssl(
        "enc",
        "-id-aes256-wrap-pad",
        "-K",
        aes.read_bytes().hex(),
        "-iv",
        "A65959A6",
        "-in",
        str(material),
        "-out",
        str(wrapped_material),
    )
    out.write_bytes(wrapped_aes.read_bytes() + wrapped_material.read_bytes())


def parameters(
    run: Runner, key: str, directory: Path, algorithm: str, when: datetime, *region: str
) -> dict[str, Any]:
    directory.mkdir(exist_ok=True)
    return json_of(
        run(
            "key",
            "import-parameters",
            key,
            "--wrapping-algorithm",
            algorithm,
            "--out-dir",
            str(directory),
            "-f",
            "--json",
            *region,
            now=when,
        )
    )


def import_material(
    run: Runner,
    key: str,
    material: Path,
    tmp_path: Path,
    *expiry: str,
    algorithm: str = "RSAES_OAEP_SHA_256",
    when: datetime | None = None,
    region: tuple[str, ...] = (),
) -> Result:
    when = when or at()
    directory = tmp_path / "params"
    parameters(run, key, directory, algorithm, when, *region)
    wrapped = tmp_path / "wrapped.bin"
    wrap(directory, material, algorithm, wrapped)
    return run(
        "key",
        "import-material",
        key,
        "--material",
        str(wrapped),
        "--token",
        str(directory / "ImportToken.bin"),
        *expiry,
        *region,
        now=when,
    )


@pytest.fixture
def external(run_inproc: Runner) -> str:
    return ok(run_inproc("key", "create", "--origin", "EXTERNAL", now=at())).out.strip()


@pytest.fixture
def material(tmp_path: Path) -> Path:
    path = tmp_path / "material.bin"
    path.write_bytes(os.urandom(32))
    return path


@pytest.mark.parametrize(
    "algorithm",
    [
        "RSAES_OAEP_SHA_256",
        "RSAES_OAEP_SHA_1",
        "RSA_AES_KEY_WRAP_SHA_256",
        "RSA_AES_KEY_WRAP_SHA_1",
    ],
)
def test_openssl_wrapped_material_imports(
    run_inproc: Runner, external: str, material: Path, tmp_path: Path, algorithm: str
) -> None:
    response = parameters(run_inproc, external, tmp_path / "params", algorithm, at())
    assert response["ParametersValidTo"] == (T0 + timedelta(hours=24)).isoformat(
        timespec="microseconds"
    )
    assert (tmp_path / "params" / "PublicKey.bin").read_bytes()[:1] == b"\x30"  # DER
    imported = json_of(
        import_material(
            run_inproc, external, material, tmp_path, "--no-expiry", "--json", algorithm=algorithm
        )
    )
    meta = json_of(run_inproc("key", "describe", external, "--json", now=at()))["KeyMetadata"]
    assert meta["KeyState"] == "Enabled" and meta["ExpirationModel"] == (
        "KEY_MATERIAL_DOES_NOT_EXPIRE"
    )
    assert meta["CurrentKeyMaterialId"] == imported["KeyMaterialId"] and "ValidTo" not in meta
    (tmp_path / "p").write_bytes(b"imported")
    ok(run_inproc("encrypt", "-k", external, "p", now=at()))
    ok(run_inproc("decrypt", "-o", "out", "p.kms", now=at()))
    assert (tmp_path / "out").read_bytes() == b"imported"


def test_expiry_deletion_and_reimport(
    run_inproc: Runner, external: str, material: Path, tmp_path: Path
) -> None:
    imported = json_of(
        import_material(run_inproc, external, material, tmp_path, "--valid-to", iso(10), "--json")
    )
    meta = json_of(run_inproc("key", "describe", external, "--json", now=at()))["KeyMetadata"]
    assert meta["ExpirationModel"] == "KEY_MATERIAL_EXPIRES"
    assert meta["ValidTo"] == (T0 + timedelta(days=10)).isoformat(timespec="microseconds")
    (tmp_path / "p").write_bytes(b"expiring")
    ok(run_inproc("encrypt", "-k", external, "p", now=at(1)))
    ok(run_inproc("encrypt", "--direct", "-k", external, "p", "-o", "p.blob", now=at(1)))

    # ValidTo passes: KMS deletes the material and the key is PendingImport.
    refused = run_inproc("decrypt", "-o", "-", "p.kms", now=at(10))
    assert refused.status == 6 and "is pending import." in refused.err
    meta = json_of(run_inproc("key", "describe", external, "--json", now=at(10)))["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and "CurrentKeyMaterialId" not in meta
    assert "ExpirationModel" not in meta

    # The same material imported again: old ciphertexts decrypt again, with the same ID.
    again = json_of(
        import_material(
            run_inproc, external, material, tmp_path, "--no-expiry", "--json", when=at(11)
        )
    )
    assert again["KeyMaterialId"] == imported["KeyMaterialId"]
    ok(run_inproc("decrypt", "-o", "out", "p.kms", now=at(11)))
    assert (tmp_path / "out").read_bytes() == b"expiring"
    ok(run_inproc("decrypt", "-o", "-", "p.blob", now=at(11)))

    # Deleting it works the same way, and so does importing it once more.
    deleted = json_of(run_inproc("key", "delete-material", external, "--json", now=at(12)))
    assert deleted["KeyMaterialId"] == imported["KeyMaterialId"]
    assert run_inproc("decrypt", "-o", "-", "p.kms", now=at(12)).status == 6
    ok(import_material(run_inproc, external, material, tmp_path, "--no-expiry", when=at(13)))
    ok(run_inproc("decrypt", "-o", "-", "p.kms", now=at(13)))


def test_deleted_material_leaves_the_key_record(
    run_inproc: Runner,
    external: str,
    material: Path,
    tmp_path: Path,
    kmscli_env: dict[str, str],
) -> None:
    ok(import_material(run_inproc, external, material, tmp_path, "--no-expiry"))
    record = record_file(kmscli_env, "keys", f"us-east-1/{external}")
    with_material = record.read_bytes()
    ok(run_inproc("key", "delete-material", external, now=at()))
    assert len(record.read_bytes()) < len(with_material)  # the sealed secret is gone


def test_import_refusals(run_inproc: Runner, external: str, material: Path, tmp_path: Path) -> None:
    ok(import_material(run_inproc, external, material, tmp_path, "--no-expiry"))
    # Different material on re-import.
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(32))
    refused = import_material(run_inproc, external, other, tmp_path, "--no-expiry")
    assert refused.status == 7 and "IncorrectKeyMaterialException" in refused.err
    # Wrong length.
    short = tmp_path / "short.bin"
    short.write_bytes(os.urandom(16))
    refused = import_material(run_inproc, external, short, tmp_path, "--no-expiry")
    assert refused.status == 7 and "IncorrectKeyMaterialException" in refused.err

    directory = tmp_path / "params"
    parameters(run_inproc, external, directory, "RSAES_OAEP_SHA_256", at())
    wrapped = tmp_path / "w.bin"
    wrap(directory, material, "RSAES_OAEP_SHA_256", wrapped)
    token = directory / "ImportToken.bin"

    def attempt(*args: str, key: str = external, when: datetime | None = None) -> Result:
        return run_inproc(
            "key", "import-material", key, "--material", str(wrapped), *args, now=when or at()
        )

    # Expiry rules.
    missing = attempt("--token", str(token))
    assert (
        missing.status == 2
        and ("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
        in missing.err
    )
    too_late = attempt("--token", str(token), "--valid-to", iso(366))
    assert too_late.status == 2 and "365 days" in too_late.err
    past = attempt("--token", str(token), "--valid-to", iso(-1))
    assert past.status == 2 and "ValidationException" in past.err
    # A damaged token, a token of another key, and an expired one.
    bad = tmp_path / "bad-token"
    bad.write_bytes(b"\x01" + os.urandom(60))
    invalid = attempt("--token", str(bad), "--no-expiry")
    assert invalid.status == 7 and "InvalidImportTokenException" in invalid.err
    second = ok(run_inproc("key", "create", "--origin", "EXTERNAL", now=at())).out.strip()
    foreign = attempt("--token", str(token), "--no-expiry", key=second)
    assert foreign.status == 7 and "InvalidImportTokenException" in foreign.err
    expired = attempt("--token", str(token), "--no-expiry", when=at(1, seconds=1))
    assert expired.status == 6 and "ExpiredImportTokenException" in expired.err
    # A newer parameter set replaces the older one: its token no longer works.
    parameters(run_inproc, external, tmp_path / "newer", "RSAES_OAEP_SHA_256", at())
    replaced = attempt("--token", str(token), "--no-expiry")
    assert replaced.status == 7 and "InvalidImportTokenException" in replaced.err
    # Material wrapped under another public key does not unwrap.
    wrong = attempt("--token", str(tmp_path / "newer" / "ImportToken.bin"), "--no-expiry")
    assert wrong.status == 7 and "InvalidCiphertextException" in wrong.err


def test_wrapping_parameters_validation(run_inproc: Runner, external: str, tmp_path: Path) -> None:
    bad = run_inproc(
        "key",
        "import-parameters",
        external,
        "--wrapping-algorithm",
        "RSAES_PKCS1_V1_5",
        "--out-dir",
        str(tmp_path),
    )
    assert bad.status == 2
    rsa_3072 = json_of(
        run_inproc(
            "key",
            "import-parameters",
            external,
            "--wrapping-key-spec",
            "RSA_3072",
            "--out-dir",
            str(tmp_path),
            "--json",
        )
    )
    assert len(rsa_3072["PublicKey"]) > 500  # base64 of a 3072-bit SPKI
    exists = run_inproc("key", "import-parameters", external, "--out-dir", str(tmp_path))
    assert exists.status == 4 and "use -f" in exists.err


def test_imported_multi_region_key_replicas_import_the_same_material(
    run_inproc: Runner, material: Path, tmp_path: Path
) -> None:
    eu = ("--region", "eu-west-1")
    mrk = ok(
        run_inproc("key", "create", "--origin", "EXTERNAL", "--multi-region", now=at())
    ).out.strip()
    ok(import_material(run_inproc, mrk, material, tmp_path, "--no-expiry"))
    ok(run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1", now=at()))
    meta = json_of(run_inproc("key", "describe", mrk, "--json", *eu, now=at()))["KeyMetadata"]
    assert meta["KeyState"] == "PendingImport" and "CurrentKeyMaterialId" not in meta
    other = tmp_path / "other.bin"
    other.write_bytes(os.urandom(32))
    refused = import_material(run_inproc, mrk, other, tmp_path, "--no-expiry", region=eu)
    assert refused.status == 7 and "IncorrectKeyMaterialException" in refused.err
    ok(import_material(run_inproc, mrk, material, tmp_path, "--no-expiry", region=eu))
    (tmp_path / "p").write_bytes(b"both regions")
    ok(run_inproc("encrypt", "-k", mrk, "p", now=at()))
    ok(run_inproc("decrypt", "-o", "-", "p.kms", *eu, now=at()))
