"""kmscli.store: any edited, renamed or moved keyring file is refused, naming the file."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from kmscli.errors import KeyringCorruptError, KeyringError, KeyringVersionError
from kmscli.store import Keyring, init_keyring, journal, layout, open_keyring, rootkey, subkeys
from kmscli.store import header as header_mod
from tests.keyring_files import downgrade_to_schema1
from tests.unit.keyrings import no_passphrase, open_kf

KINDS = ["keys", "aliases", "grants", "identity-policies", "meta"]
LONG_NAME = "alias/" + "Z" * 300  # stored under a hashed file name


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    kr = open_kf(tmp_path)
    with kr.write() as tx:
        for kind in KINDS:
            tx.put(kind, f"us-east-1/{kind}-record", f"{kind} payload".encode())
        tx.put("aliases", "alias/other", b"other payload")
        tx.put("aliases", LONG_NAME, b"long payload")
    return kr


def flipped(path: Path, position: int, mask: int = 0x01) -> bytes:
    """Flip bits of one byte of `path` in place; returns the original content."""
    original = path.read_bytes()
    changed = bytearray(original)
    changed[position] ^= mask
    path.write_bytes(bytes(changed))
    return original


# -- the header ----------------------------------------------------------------------------------


def test_every_byte_of_the_header_is_protected(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "home" / layout.HEADER
    size = len(path.read_bytes())
    for position in range(size):
        for mask in (0x01, 0x80):
            original = flipped(path, position, mask)
            with pytest.raises(KeyringCorruptError) as caught:
                open_kf(tmp_path)
            assert "keyring file 'header'" in caught.value.message, position
            assert caught.value.exit_status == 9
            path.write_bytes(original)
    open_kf(tmp_path)


def test_truncated_or_extended_header_is_refused(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "home" / layout.HEADER
    original = path.read_bytes()
    for content in [b"", original[:-1], original + b"\n", original + b"x", b"\n" + original]:
        path.write_bytes(content)
        with pytest.raises(KeyringCorruptError, match="'header'"):
            open_kf(tmp_path)


def test_passphrase_header_is_protected(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_keyring(home, root_key_file=None, root_key_dir=tmp_path, passphrase=b"pw")
    path = home / layout.HEADER
    body, trailer = path.read_bytes().split(b"\n")[:2]
    targets = [
        0,
        body.index(b'"salt"') + 10,
        body.index(b'"wrapped_root_key"') + 25,
        len(body) - 2,
        len(body) + 10,
        len(body) + len(trailer) - 3,
    ]
    for position in targets:
        original = flipped(path, position)
        with pytest.raises(KeyringCorruptError, match="'header'"):
            open_keyring(home, root_key_file=None, root_key_dir=tmp_path, passphrase=lambda: b"pw")
        path.write_bytes(original)
    open_keyring(home, root_key_file=None, root_key_dir=tmp_path, passphrase=lambda: b"pw")


def _keys_of(kr: Keyring) -> subkeys.Subkeys:
    assert kr.info.root_key_file is not None
    root = rootkey.load_key_file(kr.info.root_key_file, expected_for="test")
    return subkeys.derive(root, kr.info.keyring_id)


def test_edited_header_with_recomputed_checksum_fails_the_mac(
    tmp_path: Path, keyring: Keyring
) -> None:
    path = tmp_path / "home" / layout.HEADER
    body = json.loads(path.read_bytes().split(b"\n")[0])
    body["account_id"] = "999999999999"
    forged = header_mod.encode_header(body, _keys_of(keyring))
    # Keep the new SHA-256 but not the new MAC: a forger without the root key.
    old_trailer = json.loads(path.read_bytes().split(b"\n")[1])
    new_body, new_trailer = forged.split(b"\n")[:2]
    trailer = json.loads(new_trailer)
    trailer["mac"] = old_trailer["mac"]
    path.write_bytes(
        new_body
        + b"\n"
        + json.dumps(trailer, sort_keys=True, separators=(",", ":")).encode()
        + b"\n"
    )
    with pytest.raises(KeyringCorruptError, match="'header'"):
        open_kf(tmp_path)


def test_schema_version_from_the_future_is_refused(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "home" / layout.HEADER
    body = json.loads(path.read_bytes().split(b"\n")[0])
    body["schema_version"] = header_mod.SCHEMA_VERSION + 1
    path.write_bytes(header_mod.encode_header(body, _keys_of(keyring)))  # a valid MAC
    with pytest.raises(KeyringVersionError) as caught:
        open_kf(tmp_path)
    assert caught.value.exit_status == 9
    assert str(header_mod.SCHEMA_VERSION + 1) in caught.value.message
    # Even without the root key at hand, the version is what gets reported.
    assert keyring.info.root_key_file is not None
    keyring.info.root_key_file.unlink()
    with pytest.raises(KeyringVersionError):
        open_kf(tmp_path)


def test_a_header_written_by_this_version_opens(tmp_path: Path, keyring: Keyring) -> None:
    path = tmp_path / "home" / layout.HEADER
    body = json.loads(path.read_bytes().split(b"\n")[0])
    path.write_bytes(header_mod.encode_header(body, _keys_of(keyring)))
    assert open_kf(tmp_path).info == keyring.info


# -- records -------------------------------------------------------------------------------------


@pytest.fixture(params=[2, 1], ids=["schema2", "schema1"])
def any_keyring(request: pytest.FixtureRequest, tmp_path: Path, keyring: Keyring) -> Keyring:
    """The `keyring` fixture at schema 2 (opaque file names) and at schema 1 (readable ones,
    as kmscli before schema 2 left them, until their first write)."""
    if request.param == 2:
        return keyring
    downgrade_to_schema1(keyring)
    reopened = open_kf(tmp_path)
    assert reopened.naming.schema == 1
    return reopened


def path_of(kr: Keyring, kind: str, name: str) -> Path:
    return kr.naming.kind_dir(kind) / kr.naming.filename(kind, name)


def record_files(kr: Keyring) -> list[Path]:
    return sorted(p for p in kr.naming.records_dir.rglob("*") if p.is_file())


def where(kr: Keyring, path: Path) -> str:
    return path.relative_to(kr.info.home).as_posix()


def _read_back(kr: Keyring, kind: str) -> None:
    """List the records of `kind` and read every one of them."""
    with kr.read() as view:
        for name in view.list(kind):
            view.get(kind, name)


def test_every_byte_of_every_record_is_protected(tmp_path: Path, any_keyring: Keyring) -> None:
    files = record_files(any_keyring)
    assert {p.parent.name for p in files} == set(KINDS)
    if any_keyring.naming.schema == 1:
        assert any(layout.is_hashed(p.name) for p in files)
    for path in files:
        for position in range(len(path.read_bytes())):
            original = flipped(path, position)
            with pytest.raises(KeyringCorruptError) as caught:
                _read_back(any_keyring, path.parent.name)
            assert (
                f"keyring file '{where(any_keyring, path)}' failed its integrity check"
                in caught.value.message
            )
            path.write_bytes(original)
        _read_back(open_kf(tmp_path), path.parent.name)


def test_verify_all_names_each_bad_file(any_keyring: Keyring) -> None:
    kr = any_keyring
    assert kr.verify_all() == []
    bad = [
        path_of(kr, "keys", "us-east-1/keys-record"),
        path_of(kr, "meta", "us-east-1/meta-record"),
    ]
    for path in bad:
        flipped(path, 20)
    stray = kr.naming.kind_dir("grants") / "Not-A-Record.txt"
    stray.write_bytes(b"?")
    stray.chmod(0o600)
    problems = kr.verify_all()
    assert len(problems) == 3, problems
    for path in bad:
        assert any(where(kr, path) in p for p in problems)
    assert any(f"'{where(kr, stray)}' is not a record file name" in p for p in problems)


def test_record_renamed_onto_another_name_is_detected(any_keyring: Keyring) -> None:
    kr = any_keyring
    stolen = path_of(kr, "aliases", "alias/stolen")
    os.replace(path_of(kr, "aliases", "alias/other"), stolen)
    with kr.read() as view:
        if kr.naming.schema == 1:  # the name is in the file name: listed, refused when read
            assert "alias/stolen" in view.list("aliases")
        else:  # listing opens every record: the name inside does not give this file name
            with pytest.raises(KeyringCorruptError, match=where(kr, stolen)):
                view.list("aliases")
        with pytest.raises(KeyringCorruptError, match=where(kr, stolen)):
            view.get("aliases", "alias/stolen")
    problems = kr.verify_all()
    assert problems == [f"keyring file '{where(kr, stolen)}' failed its integrity check"]


def test_record_copied_over_another_is_detected(any_keyring: Keyring) -> None:
    kr = any_keyring
    target = path_of(kr, "aliases", "us-east-1/aliases-record")
    target.write_bytes(path_of(kr, "aliases", "alias/other").read_bytes())
    with kr.read() as view, pytest.raises(KeyringCorruptError, match=where(kr, target)):
        view.get("aliases", "us-east-1/aliases-record")
    assert any(where(kr, target) in p for p in kr.verify_all())


def test_record_moved_to_another_kind_is_detected(any_keyring: Keyring) -> None:
    kr = any_keyring
    name = "us-east-1/grants-record"
    moved = path_of(kr, "keys", name)  # where a key record of that name would be
    os.replace(path_of(kr, "grants", name), moved)
    with kr.read() as view, pytest.raises(KeyringCorruptError, match=where(kr, moved)):
        view.get("keys", name)
    with kr.read() as view, pytest.raises(KeyringCorruptError, match=where(kr, moved)):
        _ = view.list("keys"), view.get("keys", name)
    assert any(where(kr, moved) in p for p in kr.verify_all())


def test_hashed_or_opaque_record_renamed_is_detected(any_keyring: Keyring) -> None:
    """A record renamed to another well-formed name that no record has: schema 1's hashed
    names of long records, and every schema-2 name, carry the record's name inside."""
    kr = any_keyring
    directory = kr.naming.kind_dir("aliases")
    if kr.naming.schema == 1:
        [source] = [p for p in directory.iterdir() if layout.is_hashed(p.name)]
        renamed = directory / ("=" + "0" * 64)
    else:
        source = path_of(kr, "aliases", LONG_NAME)
        renamed = directory / ("0" * 64)
    os.replace(source, renamed)
    with kr.read() as view, pytest.raises(KeyringCorruptError, match=renamed.name[:12]):
        view.list("aliases")
    assert kr.verify_all() == [f"keyring file '{where(kr, renamed)}' failed its integrity check"]


def test_record_of_another_keyring_is_detected(tmp_path: Path, any_keyring: Keyring) -> None:
    kr = any_keyring
    other = open_keyring(
        tmp_path / "other",
        root_key_file=None,
        root_key_dir=tmp_path / "cfg",
        passphrase=no_passphrase,
    )
    with other.write() as tx:
        tx.put("keys", "us-east-1/keys-record", b"other keyring")
    if kr.naming.schema == 1:
        downgrade_to_schema1(other)
        other = open_keyring(
            tmp_path / "other",
            root_key_file=None,
            root_key_dir=tmp_path / "cfg",
            passphrase=no_passphrase,
        )
    foreign = path_of(other, "keys", "us-east-1/keys-record").read_bytes()
    # Over the record of the same name ...
    ours = path_of(kr, "keys", "us-east-1/keys-record")
    ours.write_bytes(foreign)
    with kr.read() as view, pytest.raises(KeyringCorruptError, match=where(kr, ours)):
        view.get("keys", "us-east-1/keys-record")
    assert kr.verify_all() == [f"keyring file '{where(kr, ours)}' failed its integrity check"]
    # ... and beside ours, under the other keyring's file name (schema 2 names differ).
    beside = kr.naming.kind_dir("keys") / other.naming.filename("keys", "us-east-1/other")
    beside.write_bytes(foreign)
    beside.chmod(0o600)
    assert any(where(kr, beside) in p for p in kr.verify_all())


def test_unexpected_file_name_in_a_kind_is_refused(any_keyring: Keyring) -> None:
    kr = any_keyring
    upper = kr.naming.kind_dir("keys") / "UPPER"
    upper.write_bytes(b"")
    upper.chmod(0o600)
    with kr.read() as view, pytest.raises(KeyringCorruptError, match=where(kr, upper)):
        view.list("keys")
    assert kr.verify_all() == [f"keyring file '{where(kr, upper)}' is not a record file name"]


def test_schema2_file_names_reveal_no_record_name(keyring: Keyring) -> None:
    """Every schema-2 record file is named by a keyed hash: 64 hex digits, no name in it."""
    files = record_files(keyring)
    assert {p.parent.name for p in files} == set(KINDS)
    assert len(files) == len(KINDS) + 2
    for path in files:
        assert re.fullmatch(r"[0-9a-f]{64}", path.name), path
        assert "record" not in path.name and "alias" not in path.name


# -- the journal ---------------------------------------------------------------------------------


def leave_journal(kr: Keyring) -> Path:
    """A committed transaction whose writer died before applying it."""
    home = kr.info.home
    journal.stage(
        kr.naming,
        kr._keys,
        [
            journal.Op("keys", "us-east-1/keys-record", b"new"),
            journal.Op("meta", "us-east-1/meta-record", None),
        ],
    )
    journal.commit_point(home)
    return home / layout.JOURNAL


def test_every_byte_of_a_journal_is_protected(tmp_path: Path, keyring: Keyring) -> None:
    path = leave_journal(keyring)
    for position in range(len(path.read_bytes())):
        original = flipped(path, position)
        with pytest.raises(KeyringCorruptError) as caught:
            open_kf(tmp_path)
        assert "keyring file 'journal' failed its integrity check" in caught.value.message
        with pytest.raises(KeyringCorruptError, match="'journal'"), keyring.read():
            pass
        assert any("'journal'" in p for p in keyring.verify_all())
        path.write_bytes(original)
    with open_kf(tmp_path).read() as view:  # the genuine journal rolls forward
        assert view.get("keys", "us-east-1/keys-record") == b"new"
        assert view.get("meta", "us-east-1/meta-record") is None
    assert not path.exists()


def test_journal_of_another_keyring_is_refused(tmp_path: Path, keyring: Keyring) -> None:
    other = open_keyring(
        tmp_path / "other",
        root_key_file=None,
        root_key_dir=tmp_path / "cfg",
        passphrase=no_passphrase,
    )
    foreign = leave_journal(other)
    os.replace(foreign, tmp_path / "home" / layout.JOURNAL)
    with pytest.raises(KeyringCorruptError, match="'journal'"):
        open_kf(tmp_path)


# -- sealed key material -------------------------------------------------------------------------


def test_unseal_with_another_aad_fails(keyring: Keyring) -> None:
    sealed = keyring.seal(b"material", b"arn:key/1|m-1")
    with pytest.raises(KeyringCorruptError, match="material m-1 of key 1"):
        keyring.unseal(sealed, b"arn:key/2|m-1", where="material m-1 of key 1")
    with pytest.raises(KeyringCorruptError):
        keyring.unseal(sealed, b"arn:key/1|m-2", where="x")


def test_unseal_of_altered_material_fails(tmp_path: Path, keyring: Keyring) -> None:
    sealed = keyring.seal(b"material", b"aad")
    for position in range(len(sealed)):
        changed = bytearray(sealed)
        changed[position] ^= 0x01
        with pytest.raises(KeyringCorruptError):
            keyring.unseal(bytes(changed), b"aad", where="x")
    for short in [b"", sealed[:1], sealed[:-1]]:
        with pytest.raises(KeyringCorruptError):
            keyring.unseal(short, b"aad", where="x")
    other = open_keyring(
        tmp_path / "other",
        root_key_file=None,
        root_key_dir=tmp_path / "cfg",
        passphrase=no_passphrase,
    )
    with pytest.raises(KeyringError):
        other.unseal(sealed, b"aad", where="x")
