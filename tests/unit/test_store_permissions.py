"""kmscli.store: private modes for everything it creates, and refusing an exposed root key."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kmscli.errors import KeyringPermissionError
from kmscli.store import Keyring, init_keyring, journal, layout, open_keyring
from tests.unit.keyrings import no_passphrase


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> object:
    # Even a permissive umask must not leak group/other bits into the keyring.
    old = os.umask(0o022)
    yield
    os.umask(old)


def make(tmp_path: Path) -> Keyring:
    return open_keyring(
        tmp_path / "data" / "home",
        root_key_file=None,
        root_key_dir=tmp_path / "config" / "kmscli",
        passphrase=no_passphrase,
    )


def test_everything_created_is_private(tmp_path: Path) -> None:
    kr = make(tmp_path)
    with kr.write() as tx:
        tx.put("keys", "k1", b"x")
        tx.put("aliases", "alias/a", b"y")
    home = kr.info.home
    assert kr.info.root_key_file is not None
    for directory in [
        home,
        home.parent,
        kr.naming.records_dir,
        kr.naming.kind_dir("keys"),
        kr.info.root_key_file.parent,
        kr.info.root_key_file.parent.parent,
    ]:
        assert mode(directory) == 0o700, directory
    for file in [
        kr.info.root_key_file,
        home / "header",
        home / "lock",
        kr.naming.kind_dir("keys") / kr.naming.filename("keys", "k1"),
        kr.naming.kind_dir("aliases") / kr.naming.filename("aliases", "alias/a"),
    ]:
        assert mode(file) == 0o600, file
    for path in home.rglob("*"):
        assert mode(path) in (0o600, 0o700), path


def test_journal_and_temporaries_are_private(tmp_path: Path) -> None:
    kr = make(tmp_path)
    home = kr.info.home
    staged = journal.stage(kr.naming, kr._keys, [journal.Op("keys", "k", b"data")])
    pending = home / layout.JOURNAL_PENDING
    assert mode(pending) == 0o600
    temp = kr.naming.kind_dir("keys") / str(staged.entries[0].temp)
    assert mode(temp) == 0o600
    journal.commit_point(home)
    assert mode(home / layout.JOURNAL) == 0o600


def test_passphrase_keyring_is_private(tmp_path: Path) -> None:
    kr = init_keyring(
        tmp_path / "home", root_key_file=None, root_key_dir=tmp_path / "cfg", passphrase=b"pw"
    )
    for path in [kr.info.home, *kr.info.home.rglob("*")]:
        assert mode(path) in (0o600, 0o700), path


@pytest.mark.parametrize("unsafe", [0o644, 0o640, 0o604, 0o660, 0o602])
def test_exposed_root_key_file_is_refused(tmp_path: Path, unsafe: int) -> None:
    kr = make(tmp_path)
    key_file = kr.info.root_key_file
    assert key_file is not None
    key_file.chmod(unsafe)
    with pytest.raises(KeyringPermissionError) as caught:
        make(tmp_path)
    assert caught.value.exit_status == 9
    assert str(key_file) in caught.value.message
    assert any(f"chmod 600 '{key_file}'" in hint for hint in caught.value.hints)
    key_file.chmod(0o600)
    make(tmp_path)


def test_exposed_explicit_root_key_file_is_refused_at_init(tmp_path: Path) -> None:
    key_file = tmp_path / "root.key"
    key_file.write_text("cd" * 32)
    key_file.chmod(0o644)
    with pytest.raises(KeyringPermissionError):
        init_keyring(tmp_path / "home", root_key_file=key_file, root_key_dir=tmp_path)
    assert not (tmp_path / "home" / "header").exists()


def test_verify_reports_loosened_modes(tmp_path: Path) -> None:
    kr = make(tmp_path)
    with kr.write() as tx:
        tx.put("keys", "k1", b"x")
    assert kr.verify_all() == []
    record = kr.naming.kind_dir("keys") / kr.naming.filename("keys", "k1")
    record.chmod(0o644)
    kr.naming.records_dir.chmod(0o755)
    problems = kr.verify_all()
    assert len(problems) == 2
    assert any(f"'records.v2/keys/{record.name}'" in p and "0644" in p for p in problems)
    assert any("'records.v2'" in p and "0755" in p for p in problems)
