"""`kmscli encrypt` / `decrypt` of files: naming, streams, atomic outputs, clean failures."""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner


@pytest.fixture
def key(run_inproc: Runner) -> str:
    return run_inproc("key", "create", "--alias", "alias/files").out.strip()


def test_file_round_trip_beside_the_input(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    data = os.urandom(300_000)
    (tmp_path / "big.tar").write_bytes(data)
    assert run_inproc("encrypt", "-k", key, "big.tar").status == 0
    encrypted = (tmp_path / "big.tar.kms").read_bytes()
    assert encrypted[:1] == b"\x02" and data not in encrypted
    (tmp_path / "big.tar").unlink()
    result = run_inproc("decrypt", "big.tar.kms", "-v")
    assert result.status == 0, result.err
    assert (tmp_path / "big.tar").read_bytes() == data
    assert f"key/{key}" in result.err and "material" in result.err


def test_default_key_is_the_aws_managed_key(run_inproc: Runner, tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    assert run_inproc("encrypt", "f").status == 0
    inspected = json.loads(run_inproc("inspect", "f.kms", "--json").out)
    managed = json.loads(run_inproc("key", "describe", "alias/aws/kmscli", "--json").out)
    arn = managed["KeyMetadata"]["Arn"]
    assert [k["KeyArn"] for k in inspected["EncryptedDataKeys"]] == [arn]
    assert run_inproc("decrypt", "f.kms", "-o", "-").stdout == b"hello"


def test_kmscli_key_environment_variable(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    assert run_inproc("encrypt", "f", env={"KMSCLI_KEY": "alias/files"}).status == 0
    decrypted = run_inproc("decrypt", "f.kms", "-o", "-", "-k", key, "--json")
    assert decrypted.status == 0


def test_suffix_and_output_names(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "doc.txt").write_bytes(b"text")
    assert run_inproc("encrypt", "-k", key, "--suffix", ".enc", "doc.txt").status == 0
    assert (tmp_path / "doc.txt.enc").exists()
    no_suffix = run_inproc("decrypt", "doc.txt.enc")
    assert no_suffix.status == 2 and "-o" in no_suffix.err
    assert run_inproc("decrypt", "--suffix", ".enc", "doc.txt.enc", "-o", "copy.txt").status == 0
    assert (tmp_path / "copy.txt").read_bytes() == b"text"
    assert run_inproc("decrypt", "--suffix", ".enc", "-o", "out.txt", "doc.txt.enc").status == 0


def test_stdin_to_stdout(run_inproc: Runner, key: str) -> None:
    encrypted = run_inproc("encrypt", "-k", key, input=b"streamed")
    assert encrypted.status == 0 and encrypted.stdout[:1] == b"\x02"
    decrypted = run_inproc("decrypt", "-", input=encrypted.stdout)
    assert decrypted.status == 0 and decrypted.stdout == b"streamed"


def test_several_files_into_a_directory(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    for name in ("a.log", "b.log", "c.log"):
        (tmp_path / name).write_bytes(name.encode() * 100)
    (tmp_path / "vault").mkdir()
    result = run_inproc("encrypt", "-k", key, "-o", "vault", "a.log", "b.log", "c.log", "--json")
    assert result.status == 0, result.err
    report = json.loads(result.out)["Files"]
    assert [Path(f["Output"]).name for f in report] == ["a.log.kms", "b.log.kms", "c.log.kms"]
    not_a_dir = run_inproc("encrypt", "-k", key, "-o", "file.out", "a.log", "b.log")
    assert not_a_dir.status == 2
    (tmp_path / "plain").mkdir()
    kms_files = [str(Path("vault") / n) for n in ("a.log.kms", "b.log.kms", "c.log.kms")]
    assert run_inproc("decrypt", "-o", "plain", *kms_files).status == 0
    assert (tmp_path / "plain" / "b.log").read_bytes() == b"b.log" * 100


def test_one_failure_among_several_files(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "good").write_bytes(b"ok")
    result = run_inproc("encrypt", "-k", key, "good", "missing", "--json")
    assert result.status == 10
    assert "missing" in result.err
    assert (tmp_path / "good.kms").exists()


def test_no_overwrite_without_force(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "f").write_bytes(b"new")
    (tmp_path / "f.kms").write_bytes(b"precious")
    result = run_inproc("encrypt", "-k", key, "f")
    assert result.status == 4 and "-f" in result.err
    assert (tmp_path / "f.kms").read_bytes() == b"precious"
    assert run_inproc("encrypt", "-k", key, "-f", "f").status == 0
    assert (tmp_path / "f.kms").read_bytes() != b"precious"
    assert not [p for p in tmp_path.iterdir() if "kmscli-tmp" in p.name]


def test_input_equal_to_output_is_refused(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "same").write_bytes(b"data")
    for args in (
        ["encrypt", "-k", key, "-o", "same", "same"],
        ["encrypt", "-k", key, "-f", "-o", "./same", "same"],
    ):
        result = run_inproc(*args)
        assert result.status == 2 and "same file" in result.err
    os.link(tmp_path / "same", tmp_path / "hardlink")
    linked = run_inproc("encrypt", "-k", key, "-f", "-o", "hardlink", "same")
    assert linked.status == 2
    assert (tmp_path / "same").read_bytes() == b"data"


def test_permission_bits_are_kept(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "secret").write_bytes(b"data")
    os.chmod(tmp_path / "secret", 0o640)
    assert run_inproc("encrypt", "-k", key, "secret").status == 0
    assert stat.S_IMODE((tmp_path / "secret.kms").stat().st_mode) == 0o640
    os.chmod(tmp_path / "secret.kms", 0o604)
    assert run_inproc("decrypt", "-o", "back", "secret.kms").status == 0
    assert stat.S_IMODE((tmp_path / "back").stat().st_mode) == 0o604


def test_required_context_on_decrypt(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "f").write_bytes(b"data")
    assert (
        run_inproc("encrypt", "-k", key, "-c", "project=apollo", "-c", "env=prod", "f").status == 0
    )
    assert run_inproc("decrypt", "-c", "project=apollo", "f.kms", "-o", "a").status == 0
    for pairs in (["-c", "project=gemini"], ["-c", "team=x"], ["-c", "Project=apollo"]):
        result = run_inproc("decrypt", *pairs, "f.kms", "-o", "b")
        assert result.status == 7, pairs
        assert not (tmp_path / "b").exists()
    inspected = json.loads(run_inproc("inspect", "f.kms", "--json").out)
    assert inspected["EncryptionContext"] == {"env": "prod", "project": "apollo"}


def test_reserved_context_keys_are_refused(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "f").write_bytes(b"data")
    result = run_inproc("encrypt", "-k", key, "-c", "aws-crypto-public-key=x", "f")
    assert result.status == 2 and not (tmp_path / "f.kms").exists()


def test_several_keys_any_one_decrypts(run_inproc: Runner, tmp_path: Path) -> None:
    first = run_inproc("key", "create").out.strip()
    second = run_inproc("key", "create").out.strip()
    (tmp_path / "f").write_bytes(b"shared")
    assert run_inproc("encrypt", "-k", first, "-k", second, "f").status == 0
    keys = json.loads(run_inproc("inspect", "f.kms", "--json").out)["EncryptedDataKeys"]
    assert len(keys) == 2
    assert run_inproc("key", "disable", first).status == 0
    result = run_inproc("decrypt", "f.kms", "-o", "-", "--json")
    assert result.status == 0, result.err
    only_first = run_inproc("decrypt", "-k", first, "f.kms", "-o", "out")
    assert only_first.status == 6 and not (tmp_path / "out").exists()
    assert run_inproc("decrypt", "-k", second, "f.kms", "-o", "out").status == 0
    stranger = run_inproc("key", "create").out.strip()
    strict = run_inproc("decrypt", "-k", stranger, "f.kms", "-o", "out2")
    assert strict.status == 7 and "IncorrectKeyException" in strict.err


def test_signed_suite(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "f").write_bytes(os.urandom(70_000))
    result = run_inproc(
        "encrypt", "-k", key, "--algorithm", "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", "f"
    )
    assert result.status == 0, result.err
    info = json.loads(run_inproc("inspect", "f.kms", "--json").out)
    assert info["AlgorithmSuite"]["Id"] == "0x0578"
    assert "aws-crypto-public-key" in info["EncryptionContext"]
    assert run_inproc("decrypt", "f.kms", "-o", "g").status == 0
    assert (tmp_path / "g").read_bytes() == (tmp_path / "f").read_bytes()


def test_frame_size_option(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "f").write_bytes(b"x" * 1000)
    assert run_inproc("encrypt", "-k", key, "--frame-size", "128", "f").status == 0
    assert json.loads(run_inproc("inspect", "f.kms", "--json").out)["FrameLength"] == 128
    bad = run_inproc("encrypt", "-k", key, "--frame-size", "100", "-f", "f")
    assert bad.status == 2


def test_directories_and_missing_files(run_inproc: Runner, tmp_path: Path, key: str) -> None:
    (tmp_path / "d").mkdir()
    assert run_inproc("encrypt", "-k", key, "d").status == 10
    assert run_inproc("decrypt", "nothing.kms").status == 10
    (tmp_path / "f").write_bytes(b"x")
    result = run_inproc("encrypt", "-k", key, "-o", "f/inside.kms", "f")
    assert result.status == 10, "a regular file where a directory should be"


def test_unwritable_output_directory(run: Runner, tmp_path: Path) -> None:
    key = run("key", "create").out.strip()
    (tmp_path / "f").write_bytes(b"x")
    result = run("encrypt", "-k", key, "-o", str(tmp_path / "no" / "such" / "dir.kms"), "f")
    assert result.status == 10 and "InputOutputError" in result.err


def test_disk_full_leaves_no_partial_output(
    run: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    key = run("key", "create").out.strip()
    (tmp_path / "big").write_bytes(os.urandom(3_000_000))

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    for args in (["encrypt", "-k", key, "big"], ["encrypt", "-k", key, "-o", "out.kms", "big"]):
        done = subprocess.run(
            [str(KMSCLI), *args],
            env=kmscli_env,
            cwd=tmp_path,
            capture_output=True,
            preexec_fn=limit_file_size,
            check=False,
        )
        assert done.returncode == 10, done.stderr
        assert b"InputOutputError" in done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big", "keyring", "secrets"]


def test_makefile_rule_reruns_after_a_failed_decrypt(
    run: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is needed for this test")
    key = run("key", "create").out.strip()
    (tmp_path / "data.txt").write_bytes(b"payload\n")
    (tmp_path / "Makefile").write_text(
        f"KMSCLI = {KMSCLI}\n"
        "%.kms: %\n"
        f"\t$(KMSCLI) encrypt -f -k {key} -o $@ $<\n"
        "%.out: %.kms\n"
        "\t$(KMSCLI) decrypt -f -o $@ $<\n"
    )
    make = ["make", "--no-print-directory", "-C", str(tmp_path)]
    assert (
        subprocess.run(
            [*make, "data.txt.kms"], env=kmscli_env, check=False, capture_output=True
        ).returncode
        == 0
    )
    message = bytearray((tmp_path / "data.txt.kms").read_bytes())
    message[-5] ^= 1
    (tmp_path / "data.txt.kms").write_bytes(bytes(message))
    failed = subprocess.run(
        [*make, "data.txt.out"], env=kmscli_env, capture_output=True, check=False
    )
    assert failed.returncode != 0
    assert not (tmp_path / "data.txt.out").exists(), "a failed rule must leave no target"
    assert (
        subprocess.run(
            [*make, "-B", "data.txt.kms"], env=kmscli_env, capture_output=True, check=False
        ).returncode
        == 0
    )
    rerun = subprocess.run(
        [*make, "data.txt.out"], env=kmscli_env, capture_output=True, check=False
    )
    assert rerun.returncode == 0, rerun.stderr
    assert (tmp_path / "data.txt.out").read_bytes() == b"payload\n"
