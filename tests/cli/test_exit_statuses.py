"""Every documented exit status, produced by a real `kmscli` process (CLI.md "Exit status")."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import KMSCLI, Runner


def _error_code(stderr: str) -> str:
    first = stderr.splitlines()[0]
    assert first.startswith("kmscli: error: "), stderr
    return first.removeprefix("kmscli: error: ").split(":", 1)[0]


def test_0_success_prints_the_new_key_id(run: Runner) -> None:
    result = run("key", "create")
    assert result.status == 0, result.err
    assert len(result.out.strip()) == 36


def test_1_internal_error_says_it_is_a_bug(run: Runner, kmscli_env: dict[str, str]) -> None:
    # A record that authenticates but does not parse can only come from a bug (or someone
    # holding the root key): kmscli must call it an internal error, without a traceback.
    key_id = run("key", "create").out.strip()
    from kmscli.store import open_keyring

    keyring = open_keyring(
        Path(kmscli_env["KMSCLI_HOME"]),
        root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=Path(kmscli_env["HOME"]),
        passphrase=lambda: None,
    )
    with keyring.write() as tx:
        tx.put("keys", f"us-east-1/{key_id}", b'{"not": "a key record"}')
    result = run("key", "describe", key_id)
    assert result.status == 1
    assert _error_code(result.err) == "KMSInternalException"
    assert "bug" in result.err and "Traceback" not in result.err
    debug = run("key", "describe", key_id, env={"KMSCLI_DEBUG": "1"})
    assert debug.status == 1 and "Traceback" in debug.err


def test_2_usage_and_validation(run: Runner, tmp_path: Path) -> None:
    assert run("keyring", "init").status == 0
    big = tmp_path / "big"
    big.write_bytes(b"x" * 4097)
    result = run("encrypt", "--direct", str(big), "-o", str(tmp_path / "out"))
    assert result.status == 2
    assert _error_code(result.err) == "ValidationException"
    assert "4096" in result.err
    assert not (tmp_path / "out").exists()
    unknown = run("key", "frobnicate")
    assert unknown.status == 2 and _error_code(unknown.err) == "UsageError"


def test_3_not_found(run: Runner) -> None:
    assert run("keyring", "init").status == 0
    result = run("key", "describe", "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert result.status == 3
    assert _error_code(result.err) == "NotFoundException"
    assert "does not exist" in result.err


def test_4_already_exists(run: Runner) -> None:
    key = run("key", "create").out.strip()
    assert run("alias", "create", "alias/dup", key).status == 0
    again = run("alias", "create", "alias/dup", key)
    assert again.status == 4
    assert _error_code(again.err) == "AlreadyExistsException"


def test_5_access_denied_on_the_aws_managed_key(run: Runner) -> None:
    assert run("keyring", "init").status == 0
    described = run("key", "describe", "alias/aws/kmscli", "--json")
    assert described.status == 0, described.err
    key_id = json.loads(described.out)["KeyMetadata"]["KeyId"]
    result = run("key", "disable", key_id)
    assert result.status == 5
    assert _error_code(result.err) == "AccessDeniedException"
    assert "is not authorized to perform: kms:DisableKey" in result.err


def test_6_disabled_key(run: Runner, tmp_path: Path) -> None:
    key = run("key", "create").out.strip()
    assert run("key", "disable", key).status == 0
    (tmp_path / "p").write_bytes(b"secret")
    result = run("encrypt", "--direct", "-k", key, str(tmp_path / "p"))
    assert result.status == 6
    assert _error_code(result.err) == "DisabledException"
    assert result.err.splitlines()[0].endswith(f"key/{key} is disabled.")


def test_7_wrong_encryption_context(run: Runner, tmp_path: Path) -> None:
    key = run("key", "create").out.strip()
    (tmp_path / "p").write_bytes(b"secret")
    assert run("encrypt", "--direct", "-k", key, "-c", "app=a", str(tmp_path / "p")).status == 0
    result = run("decrypt", "-c", "app=b", str(tmp_path / "p.kms"), "-o", str(tmp_path / "q"))
    assert result.status == 7
    assert _error_code(result.err) == "InvalidCiphertextException"
    assert not (tmp_path / "q").exists()


def test_8_not_a_message(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "junk.kms").write_bytes(b"this is not a message at all")
    result = run("decrypt", str(tmp_path / "junk.kms"))
    assert result.status == 8
    assert _error_code(result.err) == "FormatError"
    assert not (tmp_path / "junk").exists()


def test_9_keyring_unusable(run: Runner, kmscli_env: dict[str, str]) -> None:
    assert run("key", "create").status == 0
    os.chmod(kmscli_env["KMSCLI_ROOT_KEY_FILE"], 0o644)
    result = run("key", "list")
    assert result.status == 9
    assert _error_code(result.err) == "KeyringPermissionError"


def test_10_missing_input(run: Runner, tmp_path: Path) -> None:
    result = run("encrypt", str(tmp_path / "absent.txt"))
    assert result.status == 10
    assert _error_code(result.err) == "InputOutputError"
    assert "absent.txt" in result.err


def test_130_interrupted(run: Runner, kmscli_env: dict[str, str], tmp_path: Path) -> None:
    assert run("keyring", "init").status == 0  # the keyring exists: the process waits on stdin
    process = subprocess.Popen(
        [str(KMSCLI), "encrypt", "-o", str(tmp_path / "out.kms")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=kmscli_env,
    )
    assert process.stdin is not None
    process.stdin.write(b"partial input")
    process.stdin.flush()
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert not (tmp_path / "out.kms").exists()
    assert not list(tmp_path.glob(".out.kms.*"))


def test_json_errors_are_also_one_object_on_stderr(run: Runner) -> None:
    assert run("keyring", "init").status == 0
    result = run("key", "describe", "alias/nope", "--json")
    assert result.status == 3
    lines = result.err.splitlines()
    assert lines[0].startswith("kmscli: error: NotFoundException: Alias ")
    document = json.loads(lines[-1])
    assert document == {
        "Error": {
            "Code": "NotFoundException",
            "Message": document["Error"]["Message"],
            "ExitStatus": 3,
        }
    }
    assert result.out == ""
