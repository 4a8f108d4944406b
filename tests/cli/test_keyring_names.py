"""The keyring directory reveals no name: record files have opaque names (schema 2).

What the README promises: someone who can list the keyring directory learns which kinds of
records there are and how many, never a key ID, alias, Region, grant ID or principal. A keyring
made by kmscli before schema 2 (readable file names; the committed vectors of
tests/vectors/v1) keeps working, and is migrated by its first write, never by a read.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from pathlib import Path
from typing import Any

from kmscli.store import layout
from tests.conftest import Runner
from tests.keyring_files import naming_of, record_file, schema_of
from tests.test_vectors import APP_ROLE, _context_args, _expected, _input, _open, _plaintext

ACCOUNT = "111122223333"
GRANTEE = f"arn:aws:iam::{ACCOUNT}:role/PlatypusGranteeRole"
RETIREE = f"arn:aws:iam::{ACCOUNT}:user/EchidnaRetiringUser"
AUDITOR = f"arn:aws:iam::{ACCOUNT}:role/NumbatAuditorRole"
IDENTITY_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": "*"}],
    }
)


def _ok(run: Runner, *args: str, input: bytes | None = None) -> Any:
    result = run("--json", *args, input=input)
    assert result.status == 0, (args, result.err)
    return json.loads(result.out) if result.out.strip() else None


def _spellings(identifier: str) -> set[str]:
    """`identifier` and every part of it a file name could hold, as they could be spelled:
    as is, %-encoded (urllib), and in schema 1's reversible encoding; lower case."""
    parts = {identifier, *identifier.replace(":", "/").split("/")}
    spelled: set[str] = set()
    for part in parts:
        if len(part) < 4 or part in ("alias", "role", "user", "root"):  # words, not names
            continue
        spelled |= {part, urllib.parse.quote(part, safe=""), layout.encode_name(part)}
    return {s.lower() for s in spelled}


def test_no_file_or_directory_name_holds_an_identifier(
    run_inproc: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run_inproc("keyring", "init", "--account-id", ACCOUNT).status == 0
    identifiers: set[str] = {ACCOUNT, GRANTEE, RETIREE, AUDITOR, "ZebraPolicyName"}
    regions = ["us-east-1", "ap-southeast-2", "eu-central-1"]
    identifiers.update(regions)
    made = []
    for region, alias in (("us-east-1", "alias/ZebraPayroll"), ("ap-southeast-2", "alias/wombat")):
        created = _ok(
            run_inproc,
            "--region",
            region,
            "key",
            "create",
            "--alias",
            alias,
            "--description",
            "QuokkaDescription",
            "--tag",
            "Project=NarwhalProject",
        )
        made.append(created["KeyMetadata"])
        identifiers.add(alias)
    mrk = _ok(run_inproc, "key", "create", "--multi-region", "--alias", "alias/kiwi-mrk")
    made.append(mrk["KeyMetadata"])
    identifiers.add("alias/kiwi-mrk")
    mrk_id = mrk["KeyMetadata"]["KeyId"]
    _ok(run_inproc, "key", "replicate", mrk_id, "--replica-region", "eu-central-1")
    key_id = made[0]["KeyId"]
    grant = _ok(
        run_inproc,
        "policy",
        "grant",
        "create",
        key_id,
        "--grantee",
        GRANTEE,
        "--operations",
        "Encrypt,Decrypt",
        "--retiring",
        RETIREE,
    )
    identifiers.add(grant["GrantId"])
    policy = tmp_path / "identity.json"
    policy.write_text(IDENTITY_POLICY)
    _ok(run_inproc, "policy", "identity", "put", AUDITOR, "ZebraPolicyName", str(policy))
    for metadata in made:
        identifiers.update({metadata["KeyId"], metadata["Arn"]})
    # The records are there (the test looks at a keyring that holds all of them).
    assert len(_ok(run_inproc, "key", "list")["Keys"]) == 2
    assert len(_ok(run_inproc, "--region", "ap-southeast-2", "key", "list")["Keys"]) == 1
    assert len(_ok(run_inproc, "--region", "eu-central-1", "key", "list")["Keys"]) == 1
    assert _ok(run_inproc, "policy", "grant", "list", key_id)["Grants"][0]["GrantId"]

    home = Path(kmscli_env["KMSCLI_HOME"])
    components = {part.lower() for path in home.rglob("*") for part in path.relative_to(home).parts}
    assert len(components) > 10
    forbidden = set().union(*(_spellings(i) for i in identifiers))
    for component in sorted(components):
        for spelled in forbidden:
            assert spelled not in component, (component, spelled)
    # The record directories show kinds (and counts), nothing else.
    naming = naming_of(kmscli_env)
    for kind_dir in naming.records_dir.iterdir():
        for record in kind_dir.iterdir():
            assert len(record.name) == 64 and set(record.name) <= set("0123456789abcdef")


# -- a schema-1 keyring (made by kmscli before schema 2) ---------------------------------------


def _tree(home: Path) -> dict[str, bytes | None]:
    """Every entry of the keyring but its audit trail (which records reads too)."""
    return {
        p.relative_to(home).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.relative_to(home).parts[0] != layout.AUDIT
    }


def _listings(run: Runner, info: dict[str, Any]) -> dict[str, Any]:
    """What the keyring holds, as commands show it."""
    found: dict[str, Any] = {
        "keys": _ok(run, "key", "list")["Keys"],
        "replicas": _ok(run, "--region", "eu-west-1", "key", "list")["Keys"],
        "aliases": _ok(run, "alias", "list")["Aliases"],
    }
    for grant in info["grants"]:
        found[grant["grant_id"]] = _ok(run, "policy", "grant", "list", grant["key_id"])["Grants"]
    for policy in info["identity_policies"]:
        found[policy["name"]] = _ok(
            run, "policy", "identity", "get", policy["principal"], policy["name"]
        )
    for name, key in info["keys"].items():
        found[name] = _ok(run, "key", "describe", key["key_id"])["KeyMetadata"]
    for name, policy in info["policy"].items():
        found[f"policy {name}"] = _ok(run, "policy", "get", info["keys"][name]["key_id"])
        assert found[f"policy {name}"] == policy
    return found


def _decrypts(run: Runner, tmp_path: Path, item: dict[str, Any], plaintext: bytes) -> None:
    path = _input("v1", item["file"], tmp_path)
    out = tmp_path / "plain.out"
    if out.exists():
        out.unlink()
    result = run("decrypt", str(path), *_context_args(item["context"]), "-o", str(out))
    assert result.status == 0, result.err
    assert out.read_bytes() == plaintext


def test_a_schema1_keyring_is_migrated_by_its_first_write_and_never_by_a_read(
    run_inproc: Runner, tmp_path: Path, monkeypatch: Any
) -> None:
    info = _expected("v1")["keyrings"]["keyfile"]
    for name, value in _open("v1", "keyfile", tmp_path).items():
        monkeypatch.setenv(name, value)
    home = Path(os.environ["KMSCLI_HOME"])
    run = run_inproc
    assert _ok(run, "keyring", "status")["SchemaVersion"] == 1
    before = _tree(home)
    assert any(key["key_id"] in path for path in before for key in info["keys"].values())

    listed = _listings(run, info)
    assert [k["KeyId"] for k in listed["keys"]] == [k["KeyId"] for k in info["key_list"]["Keys"]]
    blob = info["blobs"][0]
    _decrypts(run, tmp_path, blob, _plaintext("v1", blob["plaintext"]))
    message = tmp_path / "before-migration.kms"
    plaintext = b"made before the migration" * 40  # about 1 KB
    encrypted = run("encrypt", "-k", "alias/vector-sym", "-c", "when=before", "-o", str(message),
                    input=plaintext)  # fmt: skip
    assert encrypted.status == 0, encrypted.err
    assert run("keyring", "verify").status == 0
    # Reading (listing, describing, decrypting, encrypting, verifying) migrated nothing.
    assert _ok(run, "keyring", "status")["SchemaVersion"] == 1
    assert _tree(home) == before

    created = _ok(run, "key", "create", "--alias", "alias/after-migration")
    assert _ok(run, "keyring", "status")["SchemaVersion"] == 2
    assert schema_of(home) == 2
    assert sorted(os.listdir(home)) == ["audit", "header", "lock", layout.OPAQUE_RECORDS]
    after = _listings(run, info)
    new_id = created["KeyMetadata"]["KeyId"]
    assert [k for k in after.pop("keys") if k["KeyId"] != new_id] == listed.pop("keys")
    assert [a for a in after.pop("aliases") if a["AliasName"] != "alias/after-migration"] == [
        a for a in listed.pop("aliases")
    ]
    assert after == listed
    result = run("decrypt", str(message), "-c", "when=before", "-o", "-")
    assert result.status == 0 and result.stdout == plaintext, result.err
    _decrypts(run, tmp_path, blob, _plaintext("v1", blob["plaintext"]))
    # The grant still lets the app role decrypt under it, and only that.
    granted = next(b for b in info["blobs"] if b["file"] == "blobs/sym-material-2.blob")
    as_app = {"KMSCLI_PRINCIPAL": APP_ROLE}
    path = _input("v1", granted["file"], tmp_path)
    result = run("decrypt", str(path), *_context_args(granted["context"]), "-o", "-", env=as_app)
    assert result.status == 0, result.err
    assert result.stdout == _plaintext("v1", granted["plaintext"])
    assert run("key", "describe", granted["key_id"], env=as_app).status == 5
    verified = run("keyring", "verify")
    assert verified.status == 0, verified.err
    assert run("audit", "--verify").status == 0
    # The old readable names are gone for good.
    names = " ".join(p.name for p in home.rglob("*"))
    for key in info["keys"].values():
        assert key["key_id"] not in names


def test_backup_of_a_schema1_keyring_restores_as_it_was_and_works(
    run: Runner, tmp_path: Path
) -> None:
    info = _expected("v1")["keyrings"]["keyfile"]
    env = _open("v1", "keyfile", tmp_path)
    archive = tmp_path / "schema1.kmsbak"
    assert run("keyring", "backup", str(archive), env=env).status == 0
    assert schema_of(Path(env["KMSCLI_HOME"])) == 1  # a backup reads only
    restored = dict(env, KMSCLI_HOME=str(tmp_path / "restored"))
    result = run("keyring", "restore", str(archive), env=restored)
    assert result.status == 0, result.err
    status = json.loads(run("--json", "keyring", "status", env=restored).out)
    assert status["SchemaVersion"] == 1
    assert run("keyring", "verify", env=restored).status == 0
    blob = info["blobs"][0]
    plain = tmp_path / "plain"
    decrypted = run(
        "decrypt",
        str(_input("v1", blob["file"], tmp_path)),
        *_context_args(blob["context"]),
        "-o",
        str(plain),
        env=restored,
    )
    assert decrypted.status == 0, decrypted.err
    assert plain.read_bytes() == _plaintext("v1", blob["plaintext"])
    # Its first write migrates it, like any schema-1 keyring, and every key is still there.
    assert run("key", "create", env=restored).status == 0
    status = json.loads(run("--json", "keyring", "status", env=restored).out)
    assert status["SchemaVersion"] == 2
    keys = json.loads(run("--json", "key", "list", env=restored).out)["Keys"]
    assert {k["KeyId"] for k in info["key_list"]["Keys"]} < {k["KeyId"] for k in keys}
    assert run("keyring", "verify", env=restored).status == 0
    # And a schema-2 backup of it round-trips.
    archive2 = tmp_path / "schema2.kmsbak"
    assert run("keyring", "backup", str(archive2), env=restored).status == 0
    again = dict(env, KMSCLI_HOME=str(tmp_path / "again"))
    assert run("keyring", "restore", str(archive2), env=again).status == 0
    assert json.loads(run("--json", "key", "list", env=again).out)["Keys"] == keys
    assert json.loads(run("--json", "keyring", "status", env=again).out)["SchemaVersion"] == 2
    assert run("keyring", "verify", env=again).status == 0


# -- keyring verify on schema 2 ------------------------------------------------------------------


def test_verify_detects_renamed_unexpected_and_foreign_record_files(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    run("key", "create", "--alias", "alias/a")
    run("key", "create", "--alias", "alias/b")
    assert run("keyring", "verify").status == 0
    naming = naming_of(kmscli_env)
    home = naming.home
    # A record renamed onto another record's name (the other record is gone: replaced).
    a = record_file(kmscli_env, "aliases", "us-east-1/alias/a")
    b = record_file(kmscli_env, "aliases", "us-east-1/alias/b")
    os.replace(a, b)
    # A file of an unexpected name.
    stray = naming.kind_dir("keys") / "notes.txt"
    stray.write_bytes(b"?")
    stray.chmod(0o600)
    # A record of another keyring, under the name it has there.
    other = dict(
        kmscli_env,
        KMSCLI_HOME=str(tmp_path / "other"),
        KMSCLI_ROOT_KEY_FILE=str(tmp_path / "other.key"),
    )
    other_key = run("key", "create", env=other).out.strip()
    foreign = record_file(other, "keys", f"us-east-1/{other_key}")
    planted = naming.kind_dir("keys") / foreign.name
    shutil.copy2(foreign, planted)

    result = run("keyring", "verify")
    assert result.status == 9, result.err
    lines = result.out.splitlines()
    assert len(lines) == 3, lines
    for path, what in (
        (b, "failed its integrity check"),
        (stray, "is not a record file name"),
        (planted, "failed its integrity check"),
    ):
        relative = path.relative_to(home).as_posix()
        assert any(relative in line and what in line for line in lines), (relative, lines)
    # Commands that read those records refuse them too.
    assert run("alias", "list").status == 9
    assert run("key", "list").status == 9
