"""Opening a key-file keyring in a test's tmp_path, shared by the store and audit unit tests."""

from __future__ import annotations

from pathlib import Path

from kmscli.store import Keyring, open_keyring


def no_passphrase() -> bytes | None:
    raise AssertionError("not passphrase-protected")


def open_kf(tmp_path: Path) -> Keyring:
    """The key-file keyring at tmp_path/home (created on first use), root key under tmp_path/cfg."""
    return open_keyring(
        tmp_path / "home",
        root_key_file=None,
        root_key_dir=tmp_path / "cfg",
        passphrase=no_passphrase,
    )
