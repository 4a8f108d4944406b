"""The keyring through the CLI: init, status, permissions, tamper, passphrase mode, concurrency."""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner
from tests.keyring_files import naming_of, record_file


def _home(env: dict[str, str]) -> Path:
    return Path(env["KMSCLI_HOME"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_on_first_use_with_safe_permissions(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    key = run("key", "create", "--alias", "alias/a").out.strip()
    assert run("encrypt", "--direct", "-k", key, "-o", "blob", input=b"x").status == 0
    home = _home(kmscli_env)
    root_key = Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"])
    assert _mode(root_key) == 0o600
    assert not root_key.is_relative_to(home), "the root key lives outside the keyring"
    everything = [home, *home.rglob("*")]
    assert len(everything) > 4
    for path in everything:
        expected = 0o700 if path.is_dir() else 0o600
        assert _mode(path) == expected, path
    secret_free = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    assert root_key.read_bytes().strip() not in secret_free


def test_default_root_key_goes_to_the_user_config_dir(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    env = {k: v for k, v in kmscli_env.items() if k != "KMSCLI_ROOT_KEY_FILE"}
    created = subprocess.run(
        [str(KMSCLI), "key", "create"], env=env, capture_output=True, check=False
    )
    assert created.returncode == 0, created.stderr
    keys = list((Path(env["XDG_CONFIG_HOME"]) / "kmscli").rglob("*.key"))
    assert len(keys) == 1 and _mode(keys[0]) == 0o600


def test_init_and_status(run: Runner, kmscli_env: dict[str, str]) -> None:
    init = run("keyring", "init", "--account-id", "111122223333")
    assert init.status == 0 and init.out.strip() == "111122223333"
    again = run("keyring", "init")
    assert again.status == 4 and "AlreadyExistsException" in again.err
    run("key", "create")
    run("key", "create", "--region", "eu-west-1")
    run("key", "create", "--region", "eu-west-1")
    status = json.loads(run("keyring", "status", "--json").out)
    assert status["AccountId"] == "111122223333"
    assert status["Home"] == kmscli_env["KMSCLI_HOME"]
    assert status["Protection"] == "key-file" and status["SchemaVersion"] == 2
    assert status["Regions"] == [
        {"Region": "eu-west-1", "KeyCount": 2},
        {"Region": "us-east-1", "KeyCount": 1},
    ]
    text = run("keyring", "status").out
    assert "111122223333" in text and "eu-west-1 (2)" in text
    arn = json.loads(run("key", "create", "--json").out)["KeyMetadata"]["Arn"]
    assert ":111122223333:key/" in arn


def test_status_without_a_keyring(run: Runner) -> None:
    result = run("keyring", "status")
    assert result.status == 9 and "KeyringMissingError" in result.err  # issue 14: was 3
    assert "keyring init" in result.err


def test_bad_account_id(run: Runner) -> None:
    assert run("keyring", "init", "--account-id", "12345").status == 2


def test_unsafe_root_key_file_is_refused(run: Runner, kmscli_env: dict[str, str]) -> None:
    assert run("key", "create").status == 0
    root_key = Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"])
    for mode in (0o640, 0o604, 0o660):
        root_key.chmod(mode)
        result = run("key", "list")
        assert result.status == 9 and "KeyringPermissionError" in result.err, mode
        assert "chmod 600" in result.err
    root_key.chmod(0o600)
    assert run("key", "list").status == 0


def test_missing_root_key_locks_the_keyring(run: Runner, kmscli_env: dict[str, str]) -> None:
    assert run("key", "create").status == 0
    Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]).rename(Path(kmscli_env["KMSCLI_HOME"]).parent / "gone")
    result = run("key", "list")
    assert result.status == 9 and "KeyringLockedError" in result.err


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset % len(data)] ^= 0x20
    path.write_bytes(bytes(data))


# Each kind of keyring file, and commands that read it. The header is read by every command;
# a record is checked whenever it is read, so no command ever uses a changed one.
TAMPER_CASES: dict[str, tuple[Callable[[dict[str, str]], Path], list[list[str]]]] = {
    "header": (
        lambda env: _home(env) / "header",
        [["key", "describe", "{key}"], ["alias", "list"], ["key", "list"]],
    ),
    "key record": (
        lambda env: next(naming_of(env).kind_dir("keys").iterdir()),
        [["key", "describe", "{key}"], ["key", "list"], ["encrypt", "-k", "{key}"]],
    ),
    "alias record": (
        lambda env: record_file(env, "aliases", "us-east-1/alias/a"),
        [["alias", "list"], ["key", "describe", "alias/a"], ["key", "list"]],
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPER_CASES))
@pytest.mark.parametrize("where", [0, 17, -1])
def test_one_changed_byte_in_any_file_is_refused_naming_it(
    run: Runner, kmscli_env: dict[str, str], kind: str, where: int
) -> None:
    key = run("key", "create", "--alias", "alias/a").out.strip()
    locate, commands = TAMPER_CASES[kind]
    target = locate(kmscli_env)
    before = {p: p.read_bytes() for p in _home(kmscli_env).rglob("*") if p.is_file()}
    _flip(target, where)
    for command in commands:
        args = [a.format(key=key) for a in command]
        result = run(*args, input=b"data")
        assert result.status == 9, (args, result.err)
        assert "KeyringCorruptError" in result.err or "KeyringLockedError" in result.err
        assert target.name in result.err, result.err
    tampered = {p: p.read_bytes() for p in _home(kmscli_env).rglob("*") if p.is_file()}
    assert set(tampered) == set(before), "kmscli must not repair or drop anything by itself"


def test_a_renamed_record_is_refused(run: Runner, kmscli_env: dict[str, str]) -> None:
    first = run("key", "create").out.strip()
    second = run("key", "create").out.strip()
    a, b = (
        record_file(kmscli_env, "keys", f"us-east-1/{first}"),
        record_file(kmscli_env, "keys", f"us-east-1/{second}"),
    )
    data_a, data_b = a.read_bytes(), b.read_bytes()
    a.write_bytes(data_b)
    b.write_bytes(data_a)
    for key in (first, second):
        result = run("key", "describe", key)
        assert result.status == 9 and "KeyringCorruptError" in result.err


def test_sealed_material_moved_to_another_key_is_detected(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    from kmscli.kms.model import KeyRecord
    from kmscli.store import open_keyring

    first = run("key", "create").out.strip()
    second = run("key", "create").out.strip()
    assert run("encrypt", "--direct", "-k", second, "-o", "b", input=b"x").status == 0
    keyring = open_keyring(
        _home(kmscli_env),
        root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=Path(kmscli_env["HOME"]),
        passphrase=lambda: None,
    )
    with keyring.write() as tx:
        source = KeyRecord.from_json(tx.get("keys", f"us-east-1/{first}") or b"")
        victim = KeyRecord.from_json(tx.get("keys", f"us-east-1/{second}") or b"")
        victim.materials = source.materials  # a validly authenticated record, wrong material
        tx.put("keys", f"us-east-1/{second}", victim.to_json())
    result = run("encrypt", "--direct", "-k", second, "-o", "c", input=b"x")
    assert result.status == 9 and "KeyringCorruptError" in result.err
    assert "key material" in result.err and second in result.err
    assert run("encrypt", "--direct", "-k", first, "-o", "d", input=b"x").status == 0


def test_passphrase_mode_without_a_terminal(run: Runner, kmscli_env: dict[str, str]) -> None:
    secret = {"KMSCLI_PASSPHRASE": "correct horse battery staple"}
    init = run("keyring", "init", "--passphrase", env=secret)
    assert init.status == 0, init.err
    assert not Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]).exists()
    assert json.loads(run("keyring", "status", "--json", env=secret).out)["Protection"] == (
        "passphrase"
    )
    key = run("key", "create", env=secret).out.strip()
    assert run("encrypt", "--direct", "-k", key, "-o", "b", input=b"hi", env=secret).status == 0
    started = time.monotonic()
    locked = run("key", "list")
    assert time.monotonic() - started < 1.5
    assert locked.status == 9 and "KeyringLockedError" in locked.err
    assert "KMSCLI_PASSPHRASE" in locked.err
    wrong = run("key", "list", env={"KMSCLI_PASSPHRASE": "wrong"})
    assert wrong.status == 9 and "KeyringLockedError" in wrong.err
    header = (_home(kmscli_env) / "header").read_bytes()
    assert b"correct horse" not in header
    assert b"argon2id" in header.lower()


def test_passphrase_file(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from a file\n")
    assert run("keyring", "init", "--passphrase-file", str(tmp_path / "pw")).status == 0
    env = {"KMSCLI_PASSPHRASE_FILE": str(tmp_path / "pw")}
    assert run("key", "create", env=env).status == 0
    assert run("key", "create", env={"KMSCLI_PASSPHRASE": "from a file"}).status == 0


def test_init_with_passphrase_needs_one(run: Runner) -> None:
    result = run("keyring", "init", "--passphrase")
    assert result.status == 9 and "KeyringLockedError" in result.err


@pytest.mark.slow
def test_eight_processes_at_once(run: Runner, kmscli_env: dict[str, str], tmp_path: Path) -> None:
    assert run("keyring", "init").status == 0
    script = (
        "set -e\n"
        'K=$("$KMSCLI" key create --description "w$1")\n'
        '"$KMSCLI" alias create "alias/w$1" "$K"\n'
        'printf "payload $1" > "$2/in$1"\n'
        '"$KMSCLI" encrypt -k "alias/w$1" "$2/in$1"\n'
        '"$KMSCLI" encrypt --direct -k "$K" -o "$2/blob$1" "$2/in$1"\n'
        '"$KMSCLI" alias create "alias/w$1-b" "$K"\n'
    )
    env = dict(kmscli_env, KMSCLI=str(KMSCLI))
    workers = [
        subprocess.Popen(
            ["bash", "-c", script, "worker", str(i), str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(8)
    ]
    for worker in workers:
        _out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    keys = json.loads(run("key", "list", "--json").out)["Keys"]
    assert len(keys) == 8
    names = {a["AliasName"] for a in json.loads(run("alias", "list", "--json").out)["Aliases"]}
    assert {f"alias/w{i}" for i in range(8)} | {f"alias/w{i}-b" for i in range(8)} <= names
    for i in range(8):
        plain = run("decrypt", str(tmp_path / f"in{i}.kms"), "-o", "-")
        assert plain.stdout == f"payload {i}".encode(), plain.err
        blob = run("decrypt", str(tmp_path / f"blob{i}"), "-o", "-")
        assert blob.stdout == f"payload {i}".encode()


def test_keyring_files_never_hold_plaintext_secrets(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    result = run("datakey", "generate", "-k", run("key", "create").out.strip(), "--json")
    plaintext = base64.b64decode(json.loads(result.out)["Plaintext"])
    blob = b"".join(p.read_bytes() for p in _home(kmscli_env).rglob("*") if p.is_file())
    assert plaintext not in blob
