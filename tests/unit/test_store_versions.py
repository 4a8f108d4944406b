"""Keyring files written by a newer kmscli are refused with exit 9 and "upgrade kmscli" (issue 13),
not reported as damaged: records, sealed key material, the journal and the header."""

from __future__ import annotations

from pathlib import Path

import pytest

from kmscli.errors import KeyringCorruptError, KeyringVersionError
from kmscli.store import Keyring, journal, layout, open_keyring
from tests.conftest import Runner
from tests.unit.keyrings import no_passphrase, open_kf


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    kr = open_kf(tmp_path)
    with kr.write() as tx:
        tx.put("keys", "us-east-1/one", b"payload")
    return kr


def _record_file(home: Path) -> Path:
    (path,) = (p for p in home.rglob("*") if p.is_file() and p.read_bytes().startswith(b"KMSR"))
    return path


def _with_version(path: Path, version: int) -> None:
    data = bytearray(path.read_bytes())
    data[4] = version
    path.write_bytes(bytes(data))


def test_a_record_of_a_newer_version_asks_for_an_upgrade(tmp_path: Path, keyring: Keyring) -> None:
    _with_version(_record_file(tmp_path / "home"), 2)
    with pytest.raises(KeyringVersionError) as caught, open_kf(tmp_path).read() as view:
        view.get("keys", "us-east-1/one")
    assert caught.value.exit_status == 9
    assert "newer kmscli" in str(caught.value)
    assert any("upgrade kmscli" in hint for hint in caught.value.hints)


def test_a_record_of_an_unknown_older_version_is_damage(tmp_path: Path, keyring: Keyring) -> None:
    _with_version(_record_file(tmp_path / "home"), 0)
    with pytest.raises(KeyringCorruptError) as caught, open_kf(tmp_path).read() as view:
        view.get("keys", "us-east-1/one")
    assert not isinstance(caught.value, KeyringVersionError)


def test_sealed_material_of_a_newer_version_asks_for_an_upgrade(keyring: Keyring) -> None:
    sealed = keyring.seal(b"secret", b"aad")
    assert keyring.unseal(sealed, b"aad", where="material") == b"secret"
    with pytest.raises(KeyringVersionError, match="newer kmscli"):
        keyring.unseal(b"\x02" + sealed[1:], b"aad", where="material")
    with pytest.raises(KeyringCorruptError):
        keyring.unseal(b"\x00" + sealed[1:], b"aad", where="material")


def test_a_journal_of_a_newer_version_asks_for_an_upgrade(tmp_path: Path, keyring: Keyring) -> None:
    home = tmp_path / "home"
    committed = journal.MAGIC[:-1] + b"\x02" + b"\x00" * 40
    (home / layout.JOURNAL).write_bytes(committed)
    (home / layout.JOURNAL).chmod(0o600)
    with pytest.raises(KeyringVersionError, match="newer kmscli"), open_kf(tmp_path).write():
        pass
    assert (home / layout.JOURNAL).read_bytes() == committed  # left for the newer kmscli


def test_the_cli_exits_9_with_an_upgrade_hint(
    run_inproc: Runner, kmscli_env: dict[str, str]
) -> None:
    assert run_inproc("key", "create").status == 0
    home = Path(kmscli_env["KMSCLI_HOME"])
    for path in home.rglob("*"):
        if path.is_file() and path.read_bytes().startswith(b"KMSR\x01"):
            _with_version(path, 7)
    result = run_inproc("key", "list")
    assert result.status == 9
    assert "newer kmscli" in result.err and "upgrade kmscli" in result.err


def test_a_key_record_of_a_newer_version_asks_for_an_upgrade(
    run_inproc: Runner, kmscli_env: dict[str, str]
) -> None:
    import json

    key_id = run_inproc("key", "create").out.strip()
    keyring = open_keyring(
        Path(kmscli_env["KMSCLI_HOME"]),
        root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=Path(kmscli_env["XDG_CONFIG_HOME"]),
        passphrase=no_passphrase,
    )
    name = f"us-east-1/{key_id}"
    with keyring.write() as tx:
        record = json.loads(tx.get("keys", name) or b"")
        assert record["record_version"] == 1
        record["record_version"] = 2
        record["a_field_of_the_future"] = True
        tx.put("keys", name, json.dumps(record).encode())
    result = run_inproc("key", "describe", key_id)
    assert result.status == 9, result.err
    assert "newer kmscli" in result.err and "upgrade kmscli" in result.err


def test_a_blob_of_a_newer_version_is_an_unsupported_format(
    run_inproc: Runner, tmp_path: Path
) -> None:
    key_id = run_inproc("key", "create").out.strip()
    (tmp_path / "secret").write_bytes(b"x")
    assert run_inproc("encrypt", "--direct", "-k", key_id, "-o", "blob", "secret").status == 0
    blob = bytearray((tmp_path / "blob").read_bytes())
    blob[4] = 2
    (tmp_path / "blob").write_bytes(bytes(blob))
    result = run_inproc("decrypt", "-o", "out", "blob")
    assert result.status == 8, result.err
    assert "version 2" in result.err and "upgrade kmscli" in result.err
    assert not (tmp_path / "out").exists()
