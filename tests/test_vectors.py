"""The committed format vectors (tests/vectors/) open, verify and decrypt with today's code.

Every keyring, blob, message, signature, MAC, data key and backup archive under tests/vectors/
was made by an earlier kmscli (see tests/vectors/README.md); these tests copy them into
tmp_path (the committed files are never touched: their hashes are checked before and after) and
check that the code of this tree still reads every one of them the way expected.json says. A
failure here means a persisted format changed: old keyrings and files would become unreadable.
Never regenerate the vectors to make these tests pass.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KMSCLI, Runner

VECTORS = Path(__file__).resolve().parent / "vectors"
# The files of tests/vectors/ that are provenance, not vectors.
PROVENANCE = {".gitattributes", "README.md", "make_vectors.py"}
VERSIONS = sorted(p.name for p in VECTORS.iterdir() if (p / "expected.json").is_file())
APP_ROLE = "arn:aws:iam::111122223333:role/vector-app"


@cache
def _expected(version: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VECTORS / version / "expected.json").read_bytes())
    return document


def _tree_digest() -> dict[str, str]:
    return {
        p.relative_to(VECTORS).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        + f":{p.stat().st_mode:o}"
        for p in sorted(VECTORS.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module", autouse=True)
def _vectors_untouched() -> Iterator[None]:
    """No test may change a committed vector (contents or mode)."""
    before = _tree_digest()
    yield
    assert _tree_digest() == before, "a test modified tests/vectors/"


def _items(kind: str) -> list[Any]:
    """(version, keyring, item) for every vector of one kind, in every folder and keyring."""
    params = []
    for version in VERSIONS:
        for keyring, info in _expected(version)["keyrings"].items():
            for item in info.get(kind, []):
                name = item.get("file", item.get("peer_public_key"))
                params.append(pytest.param(version, keyring, item, id=f"{version}:{name}"))
    return params


def _keyrings() -> list[Any]:
    return [
        pytest.param(version, name, id=f"{version}:{name}")
        for version in VERSIONS
        for name in _expected(version)["keyrings"]
    ]


def _copy_private(source: Path, target: Path) -> None:
    """Copy a vector keyring directory with the modes kmscli requires (git keeps no modes)."""
    shutil.copytree(source, target)
    target.chmod(0o700)
    for path in target.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)


def _open(version: str, keyring: str, tmp_path: Path) -> dict[str, str]:
    """Copy one vector keyring into tmp_path; the environment that opens the copy."""
    info = _expected(version)["keyrings"][keyring]
    base = VECTORS / version
    home = tmp_path / f"{keyring}-home"
    _copy_private(base / info["home"], home)
    env = {"KMSCLI_HOME": str(home)}
    if "root_key_file" in info:
        root_key = tmp_path / f"{keyring}-root.key"
        shutil.copyfile(base / info["root_key_file"], root_key)
        root_key.chmod(0o600)
        env["KMSCLI_ROOT_KEY_FILE"] = str(root_key)
    else:
        env["KMSCLI_ROOT_KEY_FILE"] = str(tmp_path / "no-such-root.key")
    if "passphrase_file" in info:
        passphrase = tmp_path / f"{keyring}-passphrase.txt"
        shutil.copyfile(base / info["passphrase_file"], passphrase)
        env["KMSCLI_PASSPHRASE_FILE"] = str(passphrase)
    return env


def _plaintext(version: str, name: str) -> bytes:
    info: dict[str, str] = _expected(version)["plaintexts"][name]
    data = (VECTORS / version / info["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == info["sha256"]
    return data


def _input(version: str, relative: str, tmp_path: Path) -> Path:
    """A private copy of one vector file, so no command can touch the committed one."""
    copy = tmp_path / "inputs" / relative
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(VECTORS / version / relative, copy)
    return copy


def _json(run: Runner, env: dict[str, str], *args: str) -> Any:
    result = run("--json", *args, env=env)
    assert result.status == 0, (args, result.err)
    return json.loads(result.out)


def _context_args(context: dict[str, str]) -> list[str]:
    return [a for k, v in context.items() for a in ("-c", f"{k}={v}")]


# ------------------------------------------------------------------------------ the vector set


def test_there_are_vectors() -> None:
    assert VERSIONS, "tests/vectors/ holds no vector set"
    assert "v1" in VERSIONS
    for version in VERSIONS:
        made = _expected(version)["provenance"]
        assert made["git_commit"] and made["kmscli_version"].startswith("kmscli ")
        assert made["kmscli_tree_modified"] is False, "vectors must come from committed code"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_vector_file_is_listed_with_its_hash(version: str) -> None:
    """A stray, missing or edited vector file is noticed."""
    listed = _expected(version)["files"]
    base = VECTORS / version
    present = {
        p.relative_to(base).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in base.rglob("*")
        if p.is_file() and p.name != "expected.json"
    }
    assert sorted(present) == sorted(listed)
    assert present == listed
    total = sum(p.stat().st_size for p in base.rglob("*") if p.is_file())
    assert total < 1 << 20, "keep each vector folder small (under 1 MiB)"


def test_nothing_else_in_the_vectors_directory() -> None:
    top = {p.name for p in VECTORS.iterdir() if p.name != "__pycache__"}
    assert top == PROVENANCE | set(VERSIONS)


@pytest.mark.parametrize(("version", "keyring"), _keyrings())
def test_keyring_and_audit_trail_verify(
    run: Runner, tmp_path: Path, version: str, keyring: str
) -> None:
    info = _expected(version)["keyrings"][keyring]
    env = _open(version, keyring, tmp_path)
    verified = run("keyring", "verify", env=env)
    assert verified.status == 0, verified.err
    audited = run("audit", "--verify", env=env)
    assert audited.status == 0, audited.err
    status = _json(run, env, "keyring", "status")
    assert status["AccountId"] == info["account_id"]
    assert status["Protection"] == info["protection"]
    header = json.loads((VECTORS / version / info["home"] / "header").read_bytes().split(b"\n")[0])
    assert status["KeyringId"] == header["keyring_id"]
    regions: dict[str, int] = {}
    for key in info["keys"].values():
        regions[key["region"]] = regions.get(key["region"], 0) + 1
    assert {r["Region"]: r["KeyCount"] for r in status["Regions"]} == regions
    records = _json(run, env, "audit")["Records"]
    # The trail made with the vectors comes first, unchanged; this test's commands follow it.
    events = [[r["eventName"], r["eventID"]] for r in records]
    assert events[: info["audit"]["records"]] == info["audit"]["events"]


@pytest.mark.parametrize(("version", "keyring"), _keyrings())
def test_keys_aliases_and_tags_are_described_as_made(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str
) -> None:
    info = _expected(version)["keyrings"][keyring]
    env = _open(version, keyring, tmp_path)
    run = run_inproc
    for name, key in info["keys"].items():
        meta = _json(run, env, "--region", key["region"], "key", "describe", key["key_id"])
        expected = dict(key["metadata"])
        actual = {k: meta["KeyMetadata"].get(k) for k in expected}
        if name == "sym-rotation-enabled":
            # Automatic rotation falls due years after the vectors were made: its material
            # may have moved on by the time this runs.
            expected.pop("CurrentKeyMaterialId", None)
            actual.pop("CurrentKeyMaterialId", None)
        assert actual == expected, name
        if "tags" in key:
            tags = _json(run, env, "--region", key["region"], "key", "tags", key["key_id"])
            assert {t["TagKey"]: t["TagValue"] for t in tags["Tags"]} == key["tags"], name
        if "aliases" in key:
            listed = _json(run, env, "--region", key["region"], "alias", "list")["Aliases"]
            named = {a["AliasName"]: a.get("TargetKeyId") for a in listed}
            assert {a: named.get(a) for a in key["aliases"]} == key["aliases"], name
    aliases = _json(run, env, "alias", "list")["Aliases"]
    named = {a["AliasName"]: a.get("TargetKeyId") for a in aliases}
    for alias, key_id in info["aliases"].items():
        assert named[alias] == key_id
    if "key_list" in info:
        assert _json(run, env, "key", "list") == info["key_list"]
        assert _json(run, env, "alias", "list") == info["alias_list"]


def test_rotations_policies_grants_and_principals(run_inproc: Runner, tmp_path: Path) -> None:
    for version in VERSIONS:
        info = _expected(version)["keyrings"]["keyfile"]
        env = _open(version, "keyfile", tmp_path / version)
        run = run_inproc
        keys = info["keys"]
        for name, rotations in info["rotations"].items():
            listed = _json(run, env, "key", "rotation", "list", keys[name]["key_id"])["Rotations"]
            assert [
                {k: r[k] for k in ("KeyMaterialId", "RotationType", "RotationDate")} for r in listed
            ] == rotations
            # The original material is not a rotation; every later one is.
            assert [r["KeyMaterialId"] for r in rotations] == keys[name]["materials"][1:]
        for name, status in info["rotation_status"].items():
            actual = _json(run, env, "key", "rotation", "status", keys[name]["key_id"])
            for field in ("KeyRotationEnabled", "RotationPeriodInDays", "KeyId"):
                assert actual.get(field) == status.get(field), field
        for name, policy in info["policy"].items():
            assert _json(run, env, "policy", "get", keys[name]["key_id"]) == policy
            document = json.loads(policy["Policy"])
            written = json.loads((VECTORS / version / keys[name]["policy_file"]).read_bytes())
            assert document == written
        for grant in info["grants"]:
            listed = _json(run, env, "policy", "grant", "list", grant["key_id"])["Grants"]
            (found,) = [g for g in listed if g["GrantId"] == grant["grant_id"]]
            assert found["GranteePrincipal"] == grant["grantee"]
            assert sorted(found["Operations"]) == sorted(grant["operations"])
            assert found.get("Name") == grant.get("name")
            assert found.get("RetiringPrincipal") == grant.get("retiring")
            assert found.get("Constraints") == grant.get("constraints")
        for identity in info["identity_policies"]:
            got = _json(
                run, env, "policy", "identity", "get", identity["principal"], identity["name"]
            )
            written = json.loads((VECTORS / version / identity["file"]).read_bytes())
            assert json.loads(got["PolicyDocument"]) == written
        listed_keys = _json(run, env, "principal", "access-key", "list")["AccessKeyMetadata"]
        for access in info["access_keys"]:
            (found,) = [a for a in listed_keys if a["AccessKeyId"] == access["access_key_id"]]
            assert found["PrincipalArn"] == access["principal"]


# ------------------------------------------------------------------------------ decryption


@pytest.mark.parametrize(("version", "keyring", "item"), _items("blobs"))
def test_blob_decrypts(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    info = _expected(version)["keyrings"][keyring]
    env = _open(version, keyring, tmp_path)
    blob = _input(version, item["file"], tmp_path)
    inspected = _json(run_inproc, env, "inspect", str(blob))
    assert inspected["KeyId"] == item["key_id"]
    if "material" in item:
        key = next(k for k in info["keys"].values() if k["key_id"] == item["key_id"])
        assert inspected["KeyMaterialId"] == key["materials"][item["material"]]
    for region in item.get("decrypt_regions", ["us-east-1"]):
        out = tmp_path / f"out-{region}"
        result = run_inproc(
            "--region",
            region,
            "decrypt",
            str(blob),
            *_context_args(item["context"]),
            "-o",
            str(out),
            env=env,
        )
        assert result.status == 0, result.err
        assert out.read_bytes() == _plaintext(version, item["plaintext"])


@pytest.mark.parametrize(("version", "keyring", "item"), _items("messages"))
def test_message_decrypts(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    message = _input(version, item["file"], tmp_path)
    if "inspect" in item:
        # Every header field read then is read the same now (new fields may be added).
        inspected = _json(run_inproc, env, "inspect", str(message))
        assert {k: inspected.get(k) for k in item["inspect"]} == item["inspect"]
    out = tmp_path / "out"
    result = run_inproc(
        "decrypt", str(message), *_context_args(item["context"]), "-o", str(out), env=env
    )
    if item["file"].endswith("disabled-key.kms"):
        assert result.status == 6, result.err  # the key was disabled after it was used
        assert "DisabledException" in result.err
        assert not out.exists()
        return
    assert result.status == 0, result.err
    assert out.read_bytes() == _plaintext(version, item["plaintext"])
    # Each data key alone decrypts: every EDK of the message is readable.
    for key_id in item["key_ids"]:
        only = tmp_path / f"out-{key_id}"
        result = run_inproc("decrypt", str(message), "-k", key_id, "-o", str(only), env=env)
        assert result.status == 0, result.err
        assert only.read_bytes() == _plaintext(version, item["plaintext"])


@pytest.mark.parametrize(("version", "keyring", "item"), _items("datakeys"))
def test_data_key_blob_decrypts(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    blob = _input(version, item["file"], tmp_path)
    out = tmp_path / "dk"
    result = run_inproc(
        "datakey", "decrypt", str(blob), *_context_args(item["context"]), "-o", str(out), env=env
    )
    assert result.status == 0, result.err
    assert out.read_bytes().hex() == item["plaintext_hex"]
    if "public_key" in item:
        # A data key pair: the private key decrypted from the blob matches the public key.
        from cryptography.hazmat.primitives import serialization

        private = serialization.load_der_private_key(out.read_bytes(), password=None)
        public = (VECTORS / version / item["public_key"]).read_bytes()
        assert (
            private.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            == public
        )


@pytest.mark.parametrize(("version", "keyring", "item"), _items("rsa_ciphertexts"))
def test_rsa_ciphertext_decrypts(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    ciphertext = _input(version, item["file"], tmp_path)
    out = tmp_path / "out"
    result = run_inproc(
        "decrypt",
        str(ciphertext),
        "-k",
        item["key_id"],
        "--encryption-algorithm",
        item["algorithm"],
        "-o",
        str(out),
        env=env,
    )
    assert result.status == 0, result.err
    assert out.read_bytes() == _plaintext(version, item["plaintext"])


# ------------------------------------------------------------------------------ asymmetric, MAC


@pytest.mark.parametrize(("version", "keyring", "item"), _items("public_keys"))
def test_public_key_unchanged(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    out = tmp_path / "pub.der"
    result = run_inproc("key", "public-key", item["key_id"], "-o", str(out), env=env)
    assert result.status == 0, result.err
    assert out.read_bytes() == (VECTORS / version / item["file"]).read_bytes()


@pytest.mark.parametrize(("version", "keyring", "item"), _items("signatures"))
def test_signature_verifies(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    message = _input(version, _expected(version)["plaintexts"][item["message"]]["file"], tmp_path)
    signature = _input(version, item["file"], tmp_path)
    result = run_inproc(
        "verify",
        str(message),
        "-k",
        item["key_id"],
        "--signature",
        str(signature),
        "--algorithm",
        item["algorithm"],
        env=env,
    )
    assert result.status == 0, result.err
    _verify_with_cryptography(version, item, message.read_bytes(), signature.read_bytes())
    # The stored private key still signs for the committed public key.
    again = tmp_path / "again.sig"
    result = run_inproc(
        "sign", str(message), "-k", item["key_id"], "--algorithm", item["algorithm"],
        "-o", str(again), env=env,
    )  # fmt: skip
    assert result.status == 0, result.err
    if item["deterministic"]:
        assert again.read_bytes() == signature.read_bytes()
    _verify_with_cryptography(version, item, message.read_bytes(), again.read_bytes())
    result = run_inproc(
        "verify", str(message), "-k", item["key_id"], "--signature", str(again),
        "--algorithm", item["algorithm"], env=env,
    )  # fmt: skip
    assert result.status == 0, result.err


def _verify_with_cryptography(version: str, item: Any, message: bytes, signature: bytes) -> None:
    """Check a signature independently of kmscli, against the committed public key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    algorithm = item["algorithm"]
    if algorithm.startswith("ML_DSA"):
        return  # `cryptography` has no ML-DSA here; kmscli's verify covered it
    public = serialization.load_der_public_key(
        (VECTORS / version / item["public_key"]).read_bytes()
    )
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}
    if isinstance(public, rsa.RSAPublicKey):
        chosen = digest[algorithm[-3:]]
        pad = (
            padding.PKCS1v15()
            if "PKCS1" in algorithm
            else padding.PSS(mgf=padding.MGF1(chosen), salt_length=chosen.digest_size)
        )
        public.verify(signature, message, pad, chosen)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, message, ec.ECDSA(digest[algorithm[-3:]]))
    else:
        assert isinstance(public, ed25519.Ed25519PublicKey)
        public.verify(signature, message)


@pytest.mark.parametrize(("version", "keyring", "item"), _items("macs"))
def test_mac_verifies_and_is_reproduced(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    message = _input(version, _expected(version)["plaintexts"][item["message"]]["file"], tmp_path)
    mac = _input(version, item["file"], tmp_path)
    result = run_inproc(
        "mac", "verify", str(message), "-k", item["key_id"], "--mac", str(mac), env=env
    )
    assert result.status == 0, result.err
    again = tmp_path / "again.mac"
    result = run_inproc(
        "mac",
        "generate",
        str(message),
        "-k",
        item["key_id"],
        "--algorithm",
        item["algorithm"],
        "-o",
        str(again),
        env=env,
    )
    assert result.status == 0, result.err
    assert again.read_bytes() == mac.read_bytes()


@pytest.mark.parametrize(("version", "keyring", "item"), _items("shared_secrets"))
def test_shared_secret_is_reproduced(
    run_inproc: Runner, tmp_path: Path, version: str, keyring: str, item: Any
) -> None:
    env = _open(version, keyring, tmp_path)
    peer = _input(version, item["peer_public_key"], tmp_path)
    secret = _json(
        run_inproc, env, "key", "derive-shared-secret", item["key_id"], "--public-key", str(peer)
    )
    assert base64.b64decode(secret["SharedSecret"]).hex() == item["shared_secret_hex"]
    # The peer derives the same secret from the committed public key of the keyring's key.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = serialization.load_pem_private_key(
        (VECTORS / version / item["peer_private_key"]).read_bytes(), password=None
    )
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    public_file = next(
        p["file"]
        for p in _expected(version)["keyrings"][keyring]["public_keys"]
        if p["key_id"] == item["key_id"]
    )
    public = serialization.load_der_public_key((VECTORS / version / public_file).read_bytes())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert private.exchange(ec.ECDH(), public).hex() == item["shared_secret_hex"]


# ------------------------------------------------------------------------------ authorization


def test_grant_and_custom_policy_still_authorize(run_inproc: Runner, tmp_path: Path) -> None:
    for version in VERSIONS:
        info = _expected(version)["keyrings"]["keyfile"]
        env = _open(version, "keyfile", tmp_path / version)
        blob = next(b for b in info["blobs"] if b["file"] == "blobs/sym-material-2.blob")
        path = _input(version, blob["file"], tmp_path / version)
        as_app = {**env, "KMSCLI_PRINCIPAL": APP_ROLE}
        # The grant (Decrypt with purpose=vector in the context) lets the app role decrypt...
        result = run_inproc(
            "decrypt", str(path), *_context_args(blob["context"]), "-o", "-", env=as_app
        )
        assert result.status == 0, result.err
        assert result.stdout == _plaintext(version, blob["plaintext"])
        # ...but gives it nothing else (no grant or policy allows DescribeKey on it).
        denied = run_inproc("key", "describe", blob["key_id"], env=as_app)
        assert denied.status == 5, denied.err
        # The custom key policy lets the app role decrypt for purpose=vector.
        message = next(m for m in info["messages"] if m["file"] == "messages/custom-policy.kms")
        path = _input(version, message["file"], tmp_path / version)
        result = run_inproc("decrypt", str(path), "-o", "-", env=as_app)
        assert result.status == 0, result.err
        assert result.stdout == _plaintext(version, message["plaintext"])


# ------------------------------------------------------------------------------ backups


@pytest.mark.parametrize(("version", "keyring"), _keyrings())
def test_backup_archive_restores_and_decrypts(
    run: Runner, tmp_path: Path, version: str, keyring: str
) -> None:
    info = _expected(version)["keyrings"][keyring]
    env = _open(version, keyring, tmp_path)
    fresh = tmp_path / "restored"
    env["KMSCLI_HOME"] = str(fresh)
    archive = _input(version, info["backup"]["file"], tmp_path)
    restored = run("keyring", "restore", str(archive), env=env)
    assert restored.status == 0, restored.err
    assert restored.out.strip() == info["account_id"]
    verified = run("keyring", "verify", env=env)
    assert verified.status == 0, verified.err
    assert run("audit", "--verify", env=env).status == 0
    records = json.loads(run("--json", "audit", env=env).out)["Records"]
    assert [[r["eventName"], r["eventID"]] for r in records][: info["audit"]["records"]] == info[
        "audit"
    ]["events"]
    for item in info["messages"][:3] + info["blobs"][:3]:
        if item["file"].endswith("disabled-key.kms"):
            continue
        path = _input(version, item["file"], tmp_path)
        out = tmp_path / "out"
        if out.exists():
            os.unlink(out)
        result = run("decrypt", str(path), *_context_args(item["context"]), "-o", str(out), env=env)
        assert result.status == 0, result.err
        assert out.read_bytes() == _plaintext(version, item["plaintext"])


# -------------------------------------------------------------------------- old keyrings live on


@pytest.mark.parametrize(("version", "keyring"), _keyrings())
def test_old_keyring_takes_new_writes_and_still_verifies(
    run: Runner, tmp_path: Path, version: str, keyring: str
) -> None:
    """Writing to an old keyring (whatever upgrade it does) keeps everything old readable."""
    info = _expected(version)["keyrings"][keyring]
    env = _open(version, keyring, tmp_path)
    created = run("key", "create", "--description", "made after the vectors", env=env)
    assert created.status == 0, created.err
    new_key = created.out.strip()
    plain = tmp_path / "new.txt"
    plain.write_bytes(b"written by today's code into an old keyring")
    assert run("encrypt", "-k", new_key, str(plain), env=env).status == 0
    first = next(m for m in info["messages"] if not m["file"].endswith("disabled-key.kms"))
    path = _input(version, first["file"], tmp_path)
    old = run("decrypt", str(path), *_context_args(first["context"]), "-o", "-", env=env)
    assert old.status == 0, old.err
    assert old.stdout == _plaintext(version, first["plaintext"])
    new = run("decrypt", str(plain) + ".kms", "-o", "-", env=env)
    assert new.status == 0 and new.stdout == plain.read_bytes(), new.err
    verified = run("keyring", "verify", env=env)
    assert verified.status == 0, verified.err
    audited = run("audit", "--verify", env=env)
    assert audited.status == 0, audited.err
    records = json.loads(run("--json", "audit", env=env).out)["Records"]
    events = [[r["eventName"], r["eventID"]] for r in records]
    assert events[: info["audit"]["records"]] == info["audit"]["events"]
    assert "CreateKey" in [name for name, _ in events[info["audit"]["records"] :]]


def test_imported_material_comes_back_when_imported_again(run: Runner, tmp_path: Path) -> None:
    """Deleting imported material and importing the same bytes again brings back the same
    material: its ID (stored in every blob and message made under it) must not change."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    for version in VERSIONS:
        info = _expected(version)["keyrings"]["keyfile"]
        key = info["keys"]["imported"]
        env = _open(version, "keyfile", tmp_path / version)
        blob = next(b for b in info["blobs"] if b["key_id"] == key["key_id"])
        path = _input(version, blob["file"], tmp_path / version)
        assert run("key", "delete-material", key["key_id"], env=env).status == 0
        gone = run("decrypt", str(path), *_context_args(blob["context"]), "-o", "-", env=env)
        assert gone.status == 6, gone.err  # PendingImport: the material is gone
        params = tmp_path / version / "import"
        params.mkdir()
        made = run("key", "import-parameters", key["key_id"], "--out-dir", str(params), env=env)
        assert made.status == 0, made.err
        public = serialization.load_der_public_key((params / "PublicKey.bin").read_bytes())
        assert isinstance(public, rsa.RSAPublicKey)
        wrapped = public.encrypt(
            bytes.fromhex(key["material_hex"]),
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        (params / "material.bin").write_bytes(wrapped)
        imported = run(
            "key", "import-material", key["key_id"], "--material", str(params / "material.bin"),
            "--token", str(params / "ImportToken.bin"), "--no-expiry", env=env,
        )  # fmt: skip
        assert imported.status == 0, imported.err
        described = json.loads(run("--json", "key", "describe", key["key_id"], env=env).out)
        assert described["KeyMetadata"]["CurrentKeyMaterialId"] == key["materials"][0]
        back = run("decrypt", str(path), *_context_args(blob["context"]), "-o", "-", env=env)
        assert back.status == 0, back.err
        assert back.stdout == _plaintext(version, blob["plaintext"])
        message = next(m for m in info["messages"] if m["key_ids"] == [key["key_id"]])
        path = _input(version, message["file"], tmp_path / version)
        back = run("decrypt", str(path), *_context_args(message["context"]), "-o", "-", env=env)
        assert back.status == 0, back.err
        assert back.stdout == _plaintext(version, message["plaintext"])


def test_passphrase_keyring_opens_with_its_passphrase_only(run: Runner, tmp_path: Path) -> None:
    for version in VERSIONS:
        info = _expected(version)["keyrings"]["passphrase"]
        env = _open(version, "passphrase", tmp_path / version)
        passphrase = Path(env.pop("KMSCLI_PASSPHRASE_FILE")).read_text().rstrip("\r\n")
        key = info["keys"]["pass-sym"]["key_id"]
        wrong = run("key", "describe", key, env={**env, "KMSCLI_PASSPHRASE": passphrase + "x"})
        assert wrong.status == 9, wrong.err
        right = run("--json", "key", "describe", key, env={**env, "KMSCLI_PASSPHRASE": passphrase})
        assert right.status == 0, right.err
        assert json.loads(right.out)["KeyMetadata"]["KeyId"] == key


def test_old_access_key_signs_requests_to_serve(kmscli_env: dict[str, str], tmp_path: Path) -> None:
    """The access key stored in the old keyring still authenticates `kmscli serve` requests."""
    import boto3
    import botocore.config

    for version in VERSIONS:
        info = _expected(version)["keyrings"]["keyfile"]
        env = {**kmscli_env, **_open(version, "keyfile", tmp_path / version)}
        access = info["access_keys"][0]
        blob = next(b for b in info["blobs"] if b["file"] == "blobs/sym-material-2.blob")
        log = tmp_path / version / "serve.log"
        with (
            log.open("wb") as errors,
            subprocess.Popen(
                [KMSCLI, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=errors, env=env
            ) as server,
        ):
            try:
                assert server.stdout is not None
                url = server.stdout.readline().decode().strip()
                assert url.startswith("http://127.0.0.1:"), url or log.read_text()
                client = boto3.client(
                    "kms",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id=access["access_key_id"],
                    aws_secret_access_key=access["secret_access_key"],
                    config=botocore.config.Config(retries={"max_attempts": 1}),
                )
                answer = client.decrypt(
                    CiphertextBlob=(VECTORS / version / blob["file"]).read_bytes(),
                    EncryptionContext=blob["context"],
                )
                client.close()
                assert answer["Plaintext"] == _plaintext(version, blob["plaintext"])
                assert answer["KeyId"].endswith(blob["key_id"])
            finally:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=20)
                finally:
                    if server.poll() is None:
                        server.kill()
