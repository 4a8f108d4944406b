"""A keyring appears only when the user means it (issue 14), through the real `kmscli`.

Only `key create` and `encrypt` under the AWS managed key create a missing keyring, and they
announce it once on stderr; every other command refuses a missing keyring with exit 9 and a
hint, and leaves no directory and no root key file behind. A message or blob this keyring cannot
decrypt names the key it needs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner, isolated_environment

# Commands that only read (or act on keys that must already exist): on a missing keyring each
# must fail with exit 9 and create nothing. KEY is a well-formed key ID no keyring has.
KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
ARN = "arn:aws:iam::111122223333:user/ci"
READERS: list[tuple[str, ...]] = [
    ("key", "list"),
    ("key", "describe", KEY),
    ("key", "describe", "alias/aws/kmscli"),
    ("key", "tags", KEY),
    ("key", "enable", KEY),
    ("key", "rotation", "status", KEY),
    ("key", "rotation", "list", KEY),
    ("key", "public-key", KEY),
    ("alias", "list"),
    ("alias", "create", "alias/typo", KEY),
    ("policy", "get", KEY),
    ("policy", "simulate", "--key", KEY, "--action", "kms:Decrypt"),
    ("policy", "identity", "list", ARN),
    ("policy", "grant", "list", KEY),
    ("principal", "access-key", "list"),
    ("principal", "access-key", "create", ARN),
    ("decrypt", "msg.kms", "-o", "out"),
    ("decrypt", "msg.blob", "-o", "out"),
    ("datakey", "decrypt", "msg.blob"),
    ("datakey", "generate", "-k", "alias/aws/kmscli"),
    ("encrypt", "-k", "alias/backups", "plain.txt"),
    ("verify", "plain.txt", "-k", KEY, "--signature", "plain.txt"),
    ("mac", "verify", "plain.txt", "-k", KEY, "--mac", "plain.txt"),
    ("random", "--bytes", "16"),
    ("reencrypt", "-k", KEY, "msg.kms"),
    ("sign", "plain.txt", "-k", KEY, "--algorithm", "ECDSA_SHA_256", "-o", "out"),
    ("mac", "generate", "plain.txt", "-k", KEY, "--algorithm", "HMAC_SHA_256"),
    ("datakey", "pair", "-k", KEY, "--key-pair-spec", "ECC_NIST_P256"),
    ("key", "schedule-deletion", KEY, "--yes"),
    ("policy", "put", KEY, "policy.json"),
    ("policy", "identity", "put", ARN, "p", "policy.json"),
    ("serve", "--port", "0"),
    ("audit",),
    ("keyring", "status"),
    ("keyring", "verify"),
    ("keyring", "backup", "backup.kmsbak"),
]


@pytest.fixture(scope="module")
def made_elsewhere(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A message and a blob made by another machine's keyring."""
    folder = tmp_path_factory.mktemp("elsewhere")
    env = isolated_environment(folder)
    (folder / "p").write_bytes(b"hello\n")
    key = subprocess.run(
        [KMSCLI, "key", "create"], env=env, capture_output=True, check=True
    ).stdout.strip()
    for args in (["p"], ["--direct", "-k", key.decode(), "-o", "p.blob", "p"]):
        subprocess.run([KMSCLI, "encrypt", *args], env=env, cwd=folder, check=True)
    return {
        "msg.kms": (folder / "p.kms").read_bytes(),
        "msg.blob": (folder / "p.blob").read_bytes(),
    }


def _write_inputs(folder: Path, made: dict[str, bytes]) -> None:
    (folder / "plain.txt").write_bytes(b"hello\n")
    (folder / "policy.json").write_text(
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
        '{"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]}'
    )
    for name, data in made.items():
        (folder / name).write_bytes(data)


def _no_keyring_made(kmscli_env: dict[str, str], home: Path) -> None:
    assert not home.exists(), f"{home} was created"
    assert not Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]).exists(), "a root key file was created"
    config = Path(kmscli_env["XDG_CONFIG_HOME"]) / "kmscli" / "root-keys"
    assert not config.exists() or not any(config.iterdir())


@pytest.mark.parametrize("args", READERS, ids=" ".join)
def test_a_reading_command_refuses_a_missing_keyring_and_creates_nothing(
    run: Runner,
    kmscli_env: dict[str, str],
    tmp_path: Path,
    made_elsewhere: dict[str, bytes],
    args: tuple[str, ...],
) -> None:
    _write_inputs(tmp_path, made_elsewhere)
    typo = tmp_path / "typo"
    result = run("--home", str(typo), *args)
    assert result.status == 9, result.err
    assert f"KeyringMissingError: no keyring at '{typo}'" in result.err
    assert "kmscli: hint: create one with 'kmscli keyring init'" in result.err
    assert "--home" in result.err  # --home was given: the hint says to check it
    assert result.stdout == b""
    _no_keyring_made(kmscli_env, typo)
    assert not (tmp_path / "out").exists() and not (tmp_path / "backup.kmsbak").exists()


def test_the_default_home_missing_is_refused_too(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    default = Path(kmscli_env["XDG_DATA_HOME"]) / "kmscli"
    env = {"KMSCLI_HOME": ""}  # empty: unset, so the platformdirs location is used
    result = run("key", "list", env=env)
    assert result.status == 9, result.err
    assert f"no keyring at '{default}'" in result.err
    assert "kmscli keyring init" in result.err
    _no_keyring_made(kmscli_env, default)


def test_json_error_for_a_missing_keyring(run: Runner, tmp_path: Path) -> None:
    result = run("--home", str(tmp_path / "typo"), "--json", "key", "list")
    assert result.status == 9
    error = json.loads(result.err.splitlines()[-1])["Error"]
    assert error["Code"] == "KeyringMissingError" and error["ExitStatus"] == 9


def test_encrypt_on_a_fresh_machine_creates_the_keyring_and_says_so_once(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"first secret\n")
    (tmp_path / "b.txt").write_bytes(b"second secret\n")
    home = Path(kmscli_env["KMSCLI_HOME"])
    root_key = Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"])
    first = run("encrypt", "a.txt")
    assert first.status == 0, first.err
    status = json.loads(run("keyring", "status", "--json").out)
    lines = first.err.splitlines()
    assert lines == [
        f"kmscli: created a keyring at '{home}' (account {status['AccountId']})",
        f"kmscli: its root key is the file '{root_key}': back it up, apart from the keyring; "
        "without it no key of the keyring can be used",
    ]
    assert root_key.is_file() and status["RootKeyFile"] == str(root_key)
    second = run("encrypt", "b.txt")
    assert second.status == 0 and second.err == ""
    back = run("decrypt", "a.txt.kms", "-o", "-")
    assert back.stdout == b"first secret\n" and back.err == ""


def test_concurrent_first_encrypts_share_one_keyring_announced_once(
    kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    names = [f"f{i}" for i in range(4)]
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    processes = [
        subprocess.Popen(
            [KMSCLI, "encrypt", name], env=kmscli_env, cwd=tmp_path, stderr=subprocess.PIPE
        )
        for name in names
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    assert sum(e.count("created a keyring at") for e in errors) == 1, errors
    for name in names:
        back = subprocess.run(
            [KMSCLI, "decrypt", f"{name}.kms", "-o", "-"],
            env=kmscli_env,
            cwd=tmp_path,
            capture_output=True,
            check=False,
        )
        assert back.stdout == name.encode(), back.stderr


def test_the_notice_is_silenced_by_quiet_and_kept_off_stdout_with_json(
    run: Runner, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"x")
    quiet = run("--home", str(tmp_path / "one"), "-q", "encrypt", "a.txt")
    assert quiet.status == 0 and quiet.err == ""
    assert (tmp_path / "one").is_dir()
    made = run("--home", str(tmp_path / "two"), "--json", "key", "create")
    assert made.status == 0, made.err
    json.loads(made.out)  # stdout is the JSON document alone
    assert "created a keyring" in made.err and "back it up" in made.err


def test_key_create_on_a_fresh_machine_creates_the_keyring(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    made = run("key", "create")
    assert made.status == 0, made.err
    assert len(made.out.strip()) == 36  # the key ID alone on stdout
    assert "created a keyring at" in made.err
    assert run("key", "list").status == 0


def test_keyring_init_says_where_the_root_key_is(run: Runner, kmscli_env: dict[str, str]) -> None:
    made = run("keyring", "init", "--account-id", "111122223333")
    assert made.status == 0 and made.out == "111122223333\n"
    assert f"its root key is the file '{kmscli_env['KMSCLI_ROOT_KEY_FILE']}'" in made.err


def test_decrypt_on_a_fresh_machine_says_there_is_no_keyring(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"secret")
    elsewhere = {
        "KMSCLI_HOME": str(tmp_path / "laptop"),
        "KMSCLI_ROOT_KEY_FILE": str(tmp_path / "laptop.key"),
    }
    assert run("encrypt", "a.txt", env=elsewhere).status == 0
    fresh = run("decrypt", "a.txt.kms", "-o", "out.txt")
    assert fresh.status == 9, fresh.err
    assert "no keyring at" in fresh.err
    assert not (tmp_path / "out.txt").exists()
    _no_keyring_made(kmscli_env, Path(kmscli_env["KMSCLI_HOME"]))


def test_a_message_from_another_keyring_names_the_key_it_needs(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"secret")
    other = {
        "KMSCLI_HOME": str(tmp_path / "other"),
        "KMSCLI_ROOT_KEY_FILE": str(tmp_path / "o.key"),
    }
    assert run("keyring", "init", "--account-id", "444455556666", env=other).status == 0
    key = run("key", "create", env=other).out.strip()
    assert run("encrypt", "-k", key, "a.txt", env=other).status == 0
    assert run("keyring", "init", "--account-id", "111122223333").status == 0
    arn = f"arn:aws:kms:us-east-1:444455556666:key/{key}"

    result = run("decrypt", "a.txt.kms", "-o", "out.txt")
    assert result.status == 7
    assert (
        f"IncorrectKeyException: the message needs the key {arn}, and the keyring at" in result.err
    )
    assert "(account 111122223333, region us-east-1) does not hold it" in result.err
    assert "hint: account 444455556666 is not this keyring's" in result.err
    assert not (tmp_path / "out.txt").exists()

    other_region = run("decrypt", "--region", "eu-west-1", "a.txt.kms", "-o", "out.txt", env=other)
    assert other_region.status == 7
    assert f"needs the key {arn}" in other_region.err
    assert "hint: the key is in region us-east-1: add --region us-east-1" in other_region.err


def test_a_blob_from_another_keyring_names_its_key_id(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"secret")
    other = {
        "KMSCLI_HOME": str(tmp_path / "other"),
        "KMSCLI_ROOT_KEY_FILE": str(tmp_path / "o.key"),
    }
    key = run("key", "create", env=other).out.strip()
    assert run("encrypt", "--direct", "-k", key, "-o", "a.blob", "a.txt", env=other).status == 0
    assert run("keyring", "init", "--account-id", "111122223333").status == 0
    for args in (("decrypt", "a.blob", "-o", "-"), ("datakey", "decrypt", "a.blob")):
        result = run(*args)
        assert result.status == 5, result.err  # AWS's AccessDeniedException, as on the wire
        assert f"hint: it was made under key ID {key}, which the keyring at" in result.err
        assert "(account 111122223333) does not hold in us-east-1" in result.err
