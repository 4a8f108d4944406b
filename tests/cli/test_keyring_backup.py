"""`kmscli keyring backup|restore|verify` through the real command line."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.keyring_files import naming_of, record_file

PASSPHRASE = {"KMSCLI_PASSPHRASE": "correct horse battery staple"}


def _home(env: dict[str, str]) -> Path:
    return Path(env["KMSCLI_HOME"])


def _files(home: Path) -> dict[str, bytes]:
    return {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def _populate(run: Runner, tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """A keyring with keys, an alias, an encrypted file, a blob and a data key; what they are."""
    made: dict[str, str] = {}
    made["key"] = run(
        "key", "create", "--alias", "alias/payroll", "--description", "salaries-2026", env=env
    ).out.strip()
    made["other"] = run("key", "create", "--region", "eu-west-1", env=env).out.strip()
    (tmp_path / "plain.txt").write_bytes(b"the plaintext of a file")
    assert run("encrypt", "-k", "alias/payroll", str(tmp_path / "plain.txt"), env=env).status == 0
    blob = run(
        "encrypt", "--direct", "-k", made["key"], "-o", str(tmp_path / "blob"),
        input=b"b", env=env,
    )  # fmt: skip
    assert blob.status == 0, blob.err
    generated = run("datakey", "generate", "-k", made["key"], "--json", env=env)
    document = json.loads(generated.out)
    (tmp_path / "datakey.blob").write_bytes(base64.b64decode(document["CiphertextBlob"]))
    made["datakey"] = document["Plaintext"]
    made["arn"] = json.loads(run("key", "describe", made["key"], "--json", env=env).out)[
        "KeyMetadata"
    ]["Arn"]
    return made


def _check_restored(run: Runner, tmp_path: Path, made: dict[str, str], env: dict[str, str]) -> None:
    plain = run("decrypt", str(tmp_path / "plain.txt.kms"), "-o", "-", env=env)
    assert plain.status == 0 and plain.stdout == b"the plaintext of a file", plain.err
    blob = run("decrypt", str(tmp_path / "blob"), "-o", "-", env=env)
    assert blob.status == 0 and blob.stdout == b"b", blob.err
    datakey = run("datakey", "decrypt", str(tmp_path / "datakey.blob"), "--json", env=env)
    assert json.loads(datakey.out)["Plaintext"] == made["datakey"]
    described = json.loads(run("key", "describe", "alias/payroll", "--json", env=env).out)
    assert described["KeyMetadata"]["KeyId"] == made["key"]
    assert described["KeyMetadata"]["Description"] == "salaries-2026"
    listed = json.loads(run("key", "list", "--region", "eu-west-1", "--json", env=env).out)
    assert [k["KeyId"] for k in listed["Keys"]] == [made["other"]]


def test_round_trip_in_key_file_mode(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    made = _populate(run, tmp_path)
    archive = tmp_path / "keyring.kmsbak"
    result = run("keyring", "backup", str(archive))
    assert result.status == 0, result.err
    assert result.stdout == b""
    assert kmscli_env["KMSCLI_ROOT_KEY_FILE"] in result.err, "say which root key file it needs"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    new_home = tmp_path / "restored"
    restored = run("--home", str(new_home), "keyring", "restore", str(archive))
    assert restored.status == 0, restored.err
    status = json.loads(run("keyring", "status", "--json").out)
    assert restored.out.strip() == status["AccountId"]
    _check_restored(run, tmp_path, made, {"KMSCLI_HOME": str(new_home)})
    assert run("--home", str(new_home), "keyring", "verify").status == 0


def test_round_trip_in_passphrase_mode(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("keyring", "init", "--passphrase", env=PASSPHRASE).status == 0
    made = _populate(run, tmp_path, env=PASSPHRASE)
    backup = run("keyring", "backup", "-", env=PASSPHRASE)
    assert backup.status == 0 and backup.stdout.startswith(b"KMSBKUP"), backup.err
    assert PASSPHRASE["KMSCLI_PASSPHRASE"].encode() not in backup.stdout
    new_home = str(tmp_path / "restored")
    # The passphrase alone restores it: no root key file anywhere.
    nothing = {"KMSCLI_ROOT_KEY_FILE": str(tmp_path / "none.key")}
    locked = run("--home", new_home, "keyring", "restore", "-", input=backup.stdout, env=nothing)
    assert locked.status == 9 and "KeyringLockedError" in locked.err
    assert "KMSCLI_PASSPHRASE" in locked.err
    wrong = run(
        "--home", new_home, "keyring", "restore", "-",
        input=backup.stdout, env={**nothing, "KMSCLI_PASSPHRASE": "wrong"},
    )  # fmt: skip
    assert wrong.status == 9 and "wrong passphrase" in wrong.err
    assert not Path(new_home).exists()
    restored = run(
        "--home", new_home, "keyring", "restore", "-", "--json",
        input=backup.stdout, env={**nothing, **PASSPHRASE},
    )  # fmt: skip
    assert restored.status == 0, restored.err
    assert json.loads(restored.out)["Protection"] == "passphrase"
    _check_restored(run, tmp_path, made, {**nothing, **PASSPHRASE, "KMSCLI_HOME": new_home})


def test_the_archive_shows_nothing_of_the_keyring(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    made = _populate(run, tmp_path)
    archive = tmp_path / "a.kmsbak"
    assert run("keyring", "backup", str(archive)).status == 0
    data = archive.read_bytes()
    root_key = Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]).read_bytes().strip()
    for secret in (
        made["key"],
        made["other"],
        made["arn"],
        "payroll",
        "salaries-2026",
        "eu-west-1",
        "aws/kmscli",
        "records",
    ):
        assert secret.encode() not in data, secret
    assert root_key not in data and bytes.fromhex(root_key.decode()) not in data
    assert base64.b64decode(made["datakey"]) not in data
    for path in _home(kmscli_env).rglob("*"):
        if path.is_file() and path.name not in ("header", "lock"):
            assert path.read_bytes()[8:40] not in data, path


def test_backup_refuses_to_overwrite_or_to_write_into_the_keyring(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("keyring", "backup", str(tmp_path / "x")).status == 9, "no keyring yet"
    assert not (tmp_path / "x").exists()
    run("key", "create")
    archive = tmp_path / "a.kmsbak"
    archive.write_bytes(b"precious")
    exists = run("keyring", "backup", str(archive))
    assert exists.status == 4 and "AlreadyExistsException" in exists.err
    assert archive.read_bytes() == b"precious"
    forced = run("keyring", "backup", str(archive), "-f", "--json")
    assert forced.status == 0, forced.err
    document = json.loads(forced.out)
    assert document["Size"] == archive.stat().st_size and document["FileCount"] >= 1
    assert document["RootKeyFile"] == kmscli_env["KMSCLI_ROOT_KEY_FILE"]
    inside = run("keyring", "backup", str(_home(kmscli_env) / "b.kmsbak"))
    assert inside.status == 2 and "inside the keyring" in inside.err
    assert run("keyring", "backup", "-", "--json").status == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_restore_replaces_a_keyring_only_with_force(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    saved = run("key", "create", "--alias", "alias/saved").out.strip()
    archive = tmp_path / "a.kmsbak"
    assert run("keyring", "backup", str(archive)).status == 0
    later = run("key", "create", "--alias", "alias/later").out.strip()
    before = _files(_home(kmscli_env))
    refused = run("keyring", "restore", str(archive))
    assert refused.status == 4 and "AlreadyExistsException" in refused.err
    assert "-f" in refused.err
    assert _files(_home(kmscli_env)) == before
    replaced = run("keyring", "restore", "-f", str(archive))
    assert replaced.status == 0, replaced.err
    keys = {k["KeyId"] for k in json.loads(run("key", "list", "--json").out)["Keys"]}
    assert saved in keys and later not in keys
    assert run("key", "describe", "alias/later").status == 3
    assert run("keyring", "verify").status == 0
    leftovers = [p.name for p in _home(kmscli_env).parent.iterdir() if "kmscli-" in p.name]
    assert leftovers == []


@pytest.mark.parametrize("where", [0, 10, 100, -300, -17, -1])
def test_a_changed_byte_anywhere_is_refused_and_changes_nothing(
    run_inproc: Runner, kmscli_env: dict[str, str], tmp_path: Path, where: int
) -> None:
    run = run_inproc
    run("key", "create", "--alias", "alias/a")
    archive = tmp_path / "a.kmsbak"
    assert run("keyring", "backup", str(archive)).status == 0
    data = bytearray(archive.read_bytes())
    data[where] ^= 0x04
    archive.write_bytes(bytes(data))
    fresh = run("--home", str(tmp_path / "new"), "keyring", "restore", str(archive))
    assert fresh.status == 9, fresh.err
    assert "KeyringCorruptError" in fresh.err or "KeyringVersionError" in fresh.err
    assert str(archive.name) in fresh.err
    assert not (tmp_path / "new").exists()
    before = _files(_home(kmscli_env))
    forced = run("keyring", "restore", "-f", str(archive))
    assert forced.status == 9
    assert _files(_home(kmscli_env)) == before


def test_restore_without_the_right_root_key(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    run("key", "create")
    archive = tmp_path / "a.kmsbak"
    assert run("keyring", "backup", str(archive)).status == 0
    keyring_id = json.loads(run("keyring", "status", "--json").out)["KeyringId"]
    target = str(tmp_path / "new")
    other = tmp_path / "other.key"
    other.write_text("ab" * 32 + "\n")
    other.chmod(0o600)
    wrong = run("--home", target, "keyring", "restore", str(archive), env={
        "KMSCLI_ROOT_KEY_FILE": str(other)
    })  # fmt: skip
    assert wrong.status == 9 and "KeyringLockedError" in wrong.err
    assert f"{keyring_id}.key" in wrong.err
    missing = run("--home", target, "keyring", "restore", str(archive), env={
        "KMSCLI_ROOT_KEY_FILE": str(tmp_path / "gone.key")
    })  # fmt: skip
    assert missing.status == 9 and "KeyringLockedError" in missing.err
    assert "kmscli: hint:" in missing.err and "gone.key" in missing.err
    assert not Path(target).exists()


def test_restore_of_what_is_not_a_backup(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "junk").write_bytes(b"not a backup at all")
    junk = run("keyring", "restore", str(tmp_path / "junk"))
    assert junk.status == 9 and "not a kmscli keyring backup" in junk.err
    missing = run("keyring", "restore", str(tmp_path / "absent"))
    assert missing.status == 10


# -- verify ----------------------------------------------------------------------------------------


def test_verify_a_sound_keyring(run: Runner, kmscli_env: dict[str, str]) -> None:
    assert run("keyring", "verify").status == 9, "no keyring: nothing to verify"
    run("key", "create", "--alias", "alias/a")
    clean = run("keyring", "verify")
    assert clean.status == 0 and clean.stdout == b"" and "no problems" in clean.err
    assert run("keyring", "verify", "-q").stderr == b""
    document = json.loads(run("keyring", "verify", "--json").out)
    assert document["Verified"] is True and document["Problems"] == []
    assert document["Home"] == kmscli_env["KMSCLI_HOME"]


def test_verify_reports_every_problem(run: Runner, kmscli_env: dict[str, str]) -> None:
    run("key", "create", "--alias", "alias/a")
    run("key", "create")
    home = _home(kmscli_env)
    naming = naming_of(kmscli_env)
    first, second = sorted(naming.kind_dir("keys").iterdir())
    data = bytearray(first.read_bytes())
    data[30] ^= 1
    first.write_bytes(bytes(data))
    renamed = second.with_name(second.name[:-1] + ("1" if second.name[-1] == "0" else "0"))
    second.rename(renamed)
    stray = naming.kind_dir("aliases") / "README.txt"
    stray.write_text("?")
    stray.chmod(0o600)
    alias = record_file(kmscli_env, "aliases", "us-east-1/alias/a")
    alias.chmod(0o644)
    result = run("keyring", "verify")
    assert result.status == 9 and "KeyringCorruptError" in result.err
    assert "4 problems" in result.err
    lines = result.out.splitlines()
    assert len(lines) == 4, lines
    for path, what in (
        (first, "failed its integrity check"),
        (renamed, "failed its integrity check"),
        (stray, "not a record file name"),
        (alias, "accessible by group or others"),
    ):
        relative = path.relative_to(home).as_posix()
        assert any(relative in line and what in line for line in lines), (relative, lines)
    document = run("keyring", "verify", "--json")
    assert document.status == 9
    parsed = json.loads(document.out)
    assert parsed["Verified"] is False and sorted(parsed["Problems"]) == sorted(lines)
    assert json.loads(document.err.splitlines()[-1])["Error"]["ExitStatus"] == 9
    backup = run("keyring", "backup", str(home.parent / "b.kmsbak"))
    assert backup.status == 9 and "keyring verify" in backup.err
    assert not (home.parent / "b.kmsbak").exists()


def test_verify_checks_the_audit_trail(run: Runner, kmscli_env: dict[str, str]) -> None:
    from kmscli.store import audit_log, open_keyring

    run("key", "create")
    keyring = open_keyring(
        _home(kmscli_env),
        root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=Path(kmscli_env["HOME"]),
        passphrase=lambda: None,
    )
    before = json.loads(run("keyring", "verify", "--json").out)["AuditRecords"]
    for name in ("First", "Second", "Third"):
        audit_log(keyring).append(b'{"eventName":"BackupTest%s"}' % name.encode())
    clean = run("keyring", "verify", "--json")
    assert clean.status == 0, clean.err
    assert json.loads(clean.out)["AuditRecords"] == before + 3
    log = _home(kmscli_env) / "audit" / "log"
    lines = log.read_bytes().splitlines(keepends=True)
    line = lines[before + 1]  # the event "BackupTestSecond", sealed
    at = line.index(b'"sealed":"') + 20
    lines[before + 1] = line[:at] + (b"B" if line[at : at + 1] == b"A" else b"A") + line[at + 1 :]
    log.write_bytes(b"".join(lines))
    result = run("keyring", "verify")
    assert result.status == 9 and "KeyringCorruptError" in result.err
    [problem] = result.out.splitlines()
    assert problem.startswith("audit log: line ") and "fails its MAC (edited)" in problem
