"""Direct Encrypt/Decrypt of blobs, GenerateDataKey(WithoutPlaintext), GenerateRandom."""

from __future__ import annotations

import base64
import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from kmscli.kms.blob import MAX_BLOB_BYTES
from tests.conftest import KMSCLI, Runner


def test_direct_round_trip_and_blob_layout(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    (tmp_path / "note").write_bytes(b"four kilobytes at most")
    result = run_inproc("encrypt", "--direct", "-k", key, "-c", "who=me", str(tmp_path / "note"))
    assert result.status == 0, result.err
    blob = (tmp_path / "note.kms").read_bytes()
    assert blob[:5] == b"KMSB\x01" and blob[6 : 6 + blob[5]] == key.encode()
    assert len(blob) <= MAX_BLOB_BYTES
    back = run_inproc("decrypt", "-c", "who=me", str(tmp_path / "note.kms"), "-o", "-")
    assert back.status == 0 and back.stdout == b"four kilobytes at most"


def test_direct_limits(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    exact = run_inproc("encrypt", "--direct", "-k", key, "-o", "a", input=b"x" * 4096)
    assert exact.status == 0
    assert len((tmp_path / "a").read_bytes()) <= MAX_BLOB_BYTES
    over = run_inproc("encrypt", "--direct", "-k", key, "-o", "b", input=b"x" * 4097)
    assert over.status == 2
    assert "ValidationException" in over.err and "less than or equal to 4096" in over.err
    empty = run_inproc("encrypt", "--direct", "-k", key, "-o", "c", input=b"")
    assert empty.status == 2 and "greater than or equal to 1" in empty.err


def test_decrypt_checks_key_context_and_state(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    other = run_inproc("key", "create").out.strip()
    assert (
        run_inproc("encrypt", "--direct", "-k", key, "-o", "b", "-c", "a=1", input=b"data").status
        == 0
    )
    wrong_key = run_inproc("decrypt", "-k", other, "-c", "a=1", "b", "-o", "-")
    assert wrong_key.status == 7 and "IncorrectKeyException" in wrong_key.err
    assert run_inproc("decrypt", "-k", key, "-c", "a=1", "b", "-o", "-").stdout == b"data"
    for context in ([], ["-c", "a=2"], ["-c", "a=1", "-c", "b=2"], ["-c", "A=1"]):
        result = run_inproc("decrypt", *context, "b", "-o", "-")
        assert result.status == 7 and "InvalidCiphertextException" in result.err, context
        assert result.stdout == b""
    assert run_inproc("key", "disable", key).status == 0
    disabled = run_inproc("decrypt", "-c", "a=1", "b", "-o", "-")
    assert disabled.status == 6 and "DisabledException" in disabled.err


def test_tampered_blob_is_refused(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    assert run_inproc("encrypt", "--direct", "-k", key, "-o", "b", input=b"data").status == 0
    blob = (tmp_path / "b").read_bytes()
    for index in range(5, len(blob)):
        changed = bytearray(blob)
        changed[index] ^= 0x01
        (tmp_path / "t").write_bytes(bytes(changed))
        result = run_inproc("datakey", "decrypt", "t", "--json")
        assert result.status in (3, 5, 7), (index, result.err)
        assert "Plaintext" not in result.out


def test_blob_from_another_region_is_not_found(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    assert run_inproc("encrypt", "--direct", "-k", key, "-o", "b", input=b"data").status == 0
    result = run_inproc("decrypt", "b", "-o", "-", "--region", "eu-west-1")
    assert result.status == 5 and "AccessDeniedException" in result.err


def test_generate_data_key_json_and_decrypt(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    result = run_inproc("datakey", "generate", "-k", key, "-c", "p=q", "--json")
    assert result.status == 0, result.err
    doc = json.loads(result.out)
    assert set(doc) == {"CiphertextBlob", "Plaintext", "KeyId", "KeyMaterialId"}
    assert doc["KeyId"].endswith(key) and len(base64.b64decode(doc["Plaintext"])) == 32
    (tmp_path / "dek.blob").write_bytes(base64.b64decode(doc["CiphertextBlob"]))
    back = json.loads(run_inproc("datakey", "decrypt", "dek.blob", "-c", "p=q", "--json").out)
    assert back["Plaintext"] == doc["Plaintext"] and back["KeyMaterialId"] == doc["KeyMaterialId"]
    assert back["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"


@pytest.mark.parametrize(
    ("args", "length"),
    [([], 32), (["--key-spec", "AES_128"], 16), (["--bytes", "1"], 1), (["--bytes", "1024"], 1024)],
)
def test_data_key_sizes(run_inproc: Runner, args: list[str], length: int) -> None:
    key = run_inproc("key", "create").out.strip()
    result = run_inproc("datakey", "generate", "-k", key, *args, "--json")
    assert len(base64.b64decode(json.loads(result.out)["Plaintext"])) == length


@pytest.mark.parametrize(
    "args", [["--bytes", "0"], ["--bytes", "1025"], ["--bytes", "16", "--key-spec", "AES_128"]]
)
def test_data_key_size_refusals(run_inproc: Runner, args: list[str]) -> None:
    key = run_inproc("key", "create").out.strip()
    result = run_inproc("datakey", "generate", "-k", key, *args)
    assert result.status == 2 and "ValidationException" in result.err


def test_without_plaintext_and_files(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    doc = json.loads(run_inproc("datakey", "generate", "-k", key, "--no-plaintext", "--json").out)
    assert set(doc) == {"CiphertextBlob", "KeyId", "KeyMaterialId"}
    result = run_inproc(
        "datakey", "generate", "-k", key, "--ciphertext-out", "c.blob", "--plaintext-out", "p.bin"
    )
    assert result.status == 0, result.err
    assert result.out.splitlines()[0] == "KeyId\tKeyMaterialId"
    assert oct((tmp_path / "p.bin").stat().st_mode & 0o777) == "0o600"
    assert run_inproc("datakey", "decrypt", "c.blob", "-o", "q.bin").status == 0
    assert (tmp_path / "q.bin").read_bytes() == (tmp_path / "p.bin").read_bytes()
    again = run_inproc("datakey", "decrypt", "c.blob", "-o", "q.bin")
    assert again.status == 4, "no overwrite without -f"
    assert run_inproc("datakey", "decrypt", "c.blob", "-o", "q.bin", "-f").status == 0


def test_text_mode_is_scriptable(run_inproc: Runner) -> None:
    key = run_inproc("key", "create").out.strip()
    lines = run_inproc("datakey", "generate", "-k", key).out.splitlines()
    assert lines[0] == "CiphertextBlob\tPlaintext\tKeyId\tKeyMaterialId"
    blob, plaintext, arn, material = lines[1].split("\t")
    assert len(base64.b64decode(plaintext)) == 32 and arn.endswith(key) and len(material) == 64
    assert base64.b64decode(blob)[:4] == b"KMSB"


def _run_on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run kmscli with stdout on a pseudo-terminal; return its status and what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(KMSCLI), *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    _, err = process.communicate(timeout=30)
    os.close(leader)
    return process.returncode, shown + err


def test_plaintext_key_never_goes_to_a_terminal_unasked(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    key = run("key", "create").out.strip()
    status, shown = _run_on_terminal(["datakey", "generate", "-k", key], kmscli_env)
    assert status == 2 and b"refusing to print a plaintext data key" in shown
    status, shown = _run_on_terminal(["datakey", "generate", "-k", key, "--json"], kmscli_env)
    assert status == 2 and b"Plaintext" not in shown.split(b"kmscli:")[0]
    status, shown = _run_on_terminal(
        ["datakey", "generate", "-k", key, "--show-plaintext"], kmscli_env
    )
    assert status == 0 and b"Plaintext" in shown
    status, _ = _run_on_terminal(["datakey", "generate", "-k", key, "--no-plaintext"], kmscli_env)
    assert status == 0


def test_binary_output_to_a_terminal_is_refused(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "f").write_bytes(b"data")
    status, shown = _run_on_terminal(["encrypt", str(tmp_path / "f"), "-o", "-"], kmscli_env)
    assert status == 0 and shown  # `-o -` forces it
    status, shown = _run_on_terminal(["encrypt", "--direct", "-"], kmscli_env)
    assert status == 2 and b"refusing to write binary output to a terminal" in shown


def test_random(run_inproc: Runner, tmp_path: Path) -> None:
    assert run_inproc("keyring", "init").status == 0  # GenerateRandom is a call in its account
    text = run_inproc("random", "--bytes", "48")
    assert text.status == 0 and len(base64.b64decode(text.out)) == 48
    doc = json.loads(run_inproc("random", "--bytes", "1024", "--json").out)
    assert len(base64.b64decode(doc["Plaintext"])) == 1024
    assert run_inproc("random", "--bytes", "16", "-o", "r.bin").status == 0
    assert len((tmp_path / "r.bin").read_bytes()) == 16
    for count, message in (
        ("0", "greater than or equal to 1"),
        ("1025", "less than or equal to 1024"),
    ):
        result = run_inproc("random", "--bytes", count)
        assert result.status == 2 and message in result.err
    missing = run_inproc("random")
    assert missing.status == 2 and "NumberOfBytes is required." in missing.err
