"""`kmscli reencrypt` in place re-encrypts the file a path names: through a symbolic link (the
link stays), keeping the file's permission bits and owner; with other hard links it refuses
--header-only (the old copy beside the new one is what its forgery risk needs) and a full
re-encryption unless -f (the other names keep the old ciphertext)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner
from tests.helpers import ok

PLAINTEXT = b"re-encrypted in place\n" * 50


@pytest.fixture
def keys(run_inproc: Runner) -> tuple[str, str]:
    old = ok(run_inproc("key", "create")).out.strip()
    new = ok(run_inproc("key", "create")).out.strip()
    return old, new


def _under(run: Runner, path: Path) -> list[str]:
    """The key IDs a message's data keys are wrapped under."""
    report = json.loads(ok(run("inspect", str(path), "--json")).out)
    return [k["KeyArn"].rsplit("/", 1)[1] for k in report["EncryptedDataKeys"]]


def _message(run: Runner, tmp_path: Path, key: str, name: str = "p.kms") -> Path:
    (tmp_path / "p").write_bytes(PLAINTEXT)
    ok(run("encrypt", "-k", key, "-o", name, "p"))
    return tmp_path / name


@pytest.mark.parametrize("header_only", [False, True])
def test_through_a_symbolic_link_the_file_is_reencrypted_and_the_link_kept(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path, header_only: bool
) -> None:
    old, new = keys
    real = _message(run_inproc, tmp_path, old)
    (tmp_path / "links").mkdir()
    os.symlink("../p.kms", tmp_path / "links" / "p.kms")
    args = ["reencrypt", "-k", new, "links/p.kms", *(["--header-only"] * header_only)]
    ok(run_inproc(*args))
    assert os.readlink(tmp_path / "links" / "p.kms") == "../p.kms"
    assert _under(run_inproc, real) == [new]
    assert ok(run_inproc("decrypt", "-k", new, "-o", "-", "p.kms")).stdout == PLAINTEXT
    assert sorted(os.listdir(tmp_path / "links")) == ["p.kms"]


def test_a_blob_through_a_symbolic_link(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    (tmp_path / "secret").write_bytes(b"blob plaintext")
    ok(run_inproc("encrypt", "--direct", "-k", old, "-o", "s.blob", "secret"))
    os.symlink("s.blob", tmp_path / "link.blob")
    ok(run_inproc("reencrypt", "-k", new, "link.blob"))
    assert os.path.islink(tmp_path / "link.blob")
    decrypted = run_inproc("decrypt", "-k", new, "-o", "-", "s.blob")
    assert ok(decrypted).stdout == b"blob plaintext"


def test_hard_links_refuse_header_only(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    message = _message(run_inproc, tmp_path, old)
    os.link(message, tmp_path / "other.kms")
    before = message.read_bytes()
    for args in (
        ["reencrypt", "--header-only", "-k", new, "p.kms"],
        ["reencrypt", "--header-only", "-f", "-k", new, "p.kms"],
        # -o naming another link of the input is the same file, in place.
        ["reencrypt", "--header-only", "-f", "-k", new, "p.kms", "-o", "other.kms"],
    ):
        refused = run_inproc(*args)
        assert refused.status == 2, (args, refused.err)
        assert "--header-only" in refused.err and "hard link" in refused.err
        assert "forge" in refused.err
        assert message.read_bytes() == before
        assert (tmp_path / "other.kms").read_bytes() == before
        assert os.stat(message).st_nlink == 2


def test_hard_links_need_force_for_a_full_reencryption(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path
) -> None:
    old, new = keys
    message = _message(run_inproc, tmp_path, old)
    os.link(message, tmp_path / "other.kms")
    before = message.read_bytes()
    refused = run_inproc("reencrypt", "-k", new, "p.kms")
    assert refused.status == 2, refused.err
    assert "hard link" in refused.err and "old ciphertext" in refused.err
    assert message.read_bytes() == before
    forced = ok(run_inproc("reencrypt", "-f", "-k", new, "p.kms"))
    assert "old ciphertext" in forced.err  # said, not silent
    assert _under(run_inproc, message) == [new]
    assert (tmp_path / "other.kms").read_bytes() == before
    assert os.stat(message).st_nlink == 1


def test_in_place_keeps_the_file_s_mode_and_owner_never_setuid(
    run_inproc: Runner, keys: tuple[str, str], tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another owner needs root")
    old, new = keys
    message = _message(run_inproc, tmp_path, old)
    os.chown(message, 1234, 2345)
    os.chmod(message, 0o6640)
    done = subprocess.run(
        [KMSCLI, "reencrypt", "-k", new, "p.kms"],
        env=kmscli_env,
        cwd=tmp_path,
        capture_output=True,
        check=False,
        preexec_fn=lambda: os.umask(0o077),
    )
    assert done.returncode == 0, done.stderr
    info = os.stat(message)
    assert (info.st_uid, info.st_gid) == (1234, 2345)
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert _under(run_inproc, message) == [new]
