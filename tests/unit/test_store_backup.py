"""kmscli.store.backup: archives of a whole keyring, and restoring them only when all is sound."""

from __future__ import annotations

import fcntl
import io
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmscli.crypto.primitives import sha256
from kmscli.errors import (
    AlreadyExistsException,
    KeyringCorruptError,
    KeyringError,
    KeyringLockedError,
)
from kmscli.store import (
    Keyring,
    audit_log,
    init_keyring,
    layout,
    open_keyring,
    rootkey,
)
from kmscli.store import backup as backup_mod
from kmscli.store.backup import create_backup, restore_backup
from tests.keyring_files import downgrade_to_schema1
from tests.unit.keyrings import no_passphrase

PASSPHRASE = b"correct horse battery staple"
LONG_NAME = "alias/" + "Q" * 300  # stored under a hashed file name
RECORDS = {
    ("keys", "us-east-1/0b1d5c1e-7f3a-4a8e-9d0c-3e5f7a9b1c2d"): b'{"Description":"payroll"}',
    ("aliases", "alias/payroll-secret-alias"): b"0b1d5c1e-7f3a-4a8e-9d0c-3e5f7a9b1c2d",
    ("aliases", LONG_NAME): b"long alias payload",
    ("grants", "us-east-1/grant-one"): b"grant payload",
}


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    # Whatever the umask, what restore writes must be private.
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


def fill(keyring: Keyring, records: dict[tuple[str, str], bytes] = RECORDS) -> None:
    with keyring.write() as tx:
        for (kind, name), data in records.items():
            tx.put(kind, name, data)


@pytest.fixture
def keyring(tmp_path: Path, key_dir: Path) -> Keyring:
    kr = open_keyring(
        tmp_path / "home", root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase
    )
    fill(kr)
    return kr


def archive_of(keyring: Keyring) -> bytes:
    out = io.BytesIO()
    create_backup(keyring, out)
    return out.getvalue()


def restore(
    data: bytes, home: Path, key_dir: Path, *, force: bool = False, **kwargs: object
) -> Keyring:
    options: dict[str, object] = {
        "root_key_file": None,
        "root_key_dir": key_dir,
        "passphrase": no_passphrase,
    }
    options.update(kwargs)
    return restore_backup(io.BytesIO(data), home, force=force, **options)  # type: ignore[arg-type]


def tree(home: Path) -> dict[str, bytes | None]:
    """Every entry under `home` but the lock file: file bytes, or None for a directory."""
    found: dict[str, bytes | None] = {}
    for path in sorted(home.rglob("*")):
        relative = path.relative_to(home).as_posix()
        if relative != layout.LOCK:
            found[relative] = None if path.is_dir() else path.read_bytes()
    return found


def contents(keyring: Keyring) -> dict[tuple[str, str], bytes]:
    found: dict[tuple[str, str], bytes] = {}
    with keyring.read() as view:
        for kind in ("keys", "aliases", "grants", "meta"):
            for name in view.list(kind):
                data = view.get(kind, name)
                assert data is not None
                found[kind, name] = data
    return found


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if "kmscli-" in p.name)


# -- round trips -----------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [2, 1])
def test_round_trip_restores_every_file_byte_for_byte(
    tmp_path: Path, key_dir: Path, keyring: Keyring, schema: int
) -> None:
    if schema == 1:  # a keyring kmscli before schema 2 made, not yet written to
        downgrade_to_schema1(keyring)
        keyring = open_keyring(
            keyring.info.home, root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase
        )
    assert keyring.naming.schema == schema
    (keyring.naming.records_dir / "empty-kind").mkdir(mode=0o700)
    data = archive_of(keyring)
    assert keyring.naming.schema == schema  # a backup only reads
    restored = restore(data, tmp_path / "elsewhere" / "copy", key_dir)
    assert restored.info.schema_version == schema
    assert restored.info.keyring_id == keyring.info.keyring_id
    assert restored.info.account_id == keyring.info.account_id
    assert tree(restored.info.home) == tree(keyring.info.home)
    assert contents(restored) == RECORDS
    assert restored.verify_all() == []
    reopened = open_keyring(
        restored.info.home, root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase
    )
    assert contents(reopened) == RECORDS
    assert leftovers(tmp_path / "elsewhere") == []
    # The restored keyring works: its first write (migrating a schema-1 one) keeps every record.
    with reopened.write() as tx:
        tx.put("keys", "us-east-1/after-restore", b"new")
    assert reopened.naming.schema == 2
    assert contents(reopened) == {**RECORDS, ("keys", "us-east-1/after-restore"): b"new"}
    assert reopened.verify_all() == []


def test_restored_files_are_private_whatever_the_umask(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    os.umask(0)
    home = restore(archive_of(keyring), tmp_path / "copy", key_dir).info.home
    for path in [home, *home.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.lstat().st_mode) == expected, path


def test_passphrase_mode_restores_with_the_passphrase_alone(tmp_path: Path) -> None:
    kr = init_keyring(
        tmp_path / "home", root_key_file=None, root_key_dir=tmp_path, passphrase=PASSPHRASE
    )
    fill(kr)
    data = archive_of(kr)
    assert PASSPHRASE not in data
    # Another machine: no root key directory, nothing but the archive and the passphrase.
    restored = restore(data, tmp_path / "new", tmp_path / "nowhere", passphrase=lambda: PASSPHRASE)
    assert restored.info.protection == "passphrase" and restored.info.root_key_file is None
    assert contents(restored) == RECORDS
    with pytest.raises(KeyringLockedError, match="wrong passphrase"):
        restore(data, tmp_path / "other", tmp_path, passphrase=lambda: b"wrong")
    with pytest.raises(KeyringLockedError, match="passphrase needed"):
        restore(data, tmp_path / "other", tmp_path, passphrase=lambda: None)
    assert not (tmp_path / "other").exists()


def test_a_keyring_bigger_than_one_chunk(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    big = {("keys", f"us-east-1/big-{i}"): os.urandom(900_000) for i in range(3)}
    fill(keyring, big)
    data = archive_of(keyring)
    assert len(data) > 2 * backup_mod.CHUNK_BYTES
    restored = restore(data, tmp_path / "copy", key_dir)
    assert contents(restored) == {**RECORDS, **big}


def test_the_archive_shows_no_name_or_payload(keyring: Keyring, key_dir: Path) -> None:
    data = archive_of(keyring)
    home = keyring.info.home
    root_key = rootkey.load_key_file(key_dir / f"{keyring.info.keyring_id}.key", expected_for="")
    secrets = [root_key, root_key.hex().encode(), b"records", b"keys/", b"Q" * 20]
    for (kind, name), payload in RECORDS.items():
        filename = keyring.naming.filename(kind, name)
        secrets += [name.encode(), layout.encode_name(name).encode(), payload, kind.encode()]
        secrets += [filename.encode(), bytes.fromhex(filename)]
    records = keyring.naming.records_dir
    secrets += [p.read_bytes()[5:40] for p in records.rglob("*") if p.is_file()]
    for secret in secrets:
        assert secret not in data, secret
    # What is in clear is the header, as it is in the keyring (no secret in it).
    assert (home / layout.HEADER).read_bytes() in data


def test_the_audit_trail_comes_back_intact(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    trail = audit_log(keyring)
    for number in range(5):
        trail.append(b'{"eventName":"Event%d"}' % number)
    restored = restore(archive_of(keyring), tmp_path / "copy", key_dir)
    assert tree(restored.info.home) == tree(keyring.info.home)
    report = audit_log(restored).verify()
    assert report.ok and report.records == 5 and not report.notes
    assert audit_log(restored).append(b'{"eventName":"AfterRestore"}') == 6


def test_backup_is_a_snapshot_under_the_shared_locks(keyring: Keyring) -> None:
    """No record writer and no audit append can get in while the archive is written."""
    audit_log(keyring).append(b'{"eventName":"First"}')
    home = keyring.info.home
    attempts: list[tuple[str, bool]] = []

    class Probe(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            for lock in (home / layout.LOCK, home / "audit" / "head"):
                fd = os.open(lock, os.O_RDWR)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    attempts.append((lock.name, True))
                except BlockingIOError:
                    attempts.append((lock.name, False))
                finally:
                    os.close(fd)
            return super().write(data)

    create_backup(keyring, Probe())
    assert attempts and not any(got for _, got in attempts), attempts


def test_a_corrupt_keyring_is_not_backed_up(keyring: Keyring) -> None:
    record = next(keyring.naming.kind_dir("keys").iterdir())
    raw = bytearray(record.read_bytes())
    raw[-1] ^= 1
    record.write_bytes(bytes(raw))
    with pytest.raises(KeyringCorruptError, match="not backing up") as caught:
        archive_of(keyring)
    assert "keyring verify" in " ".join(caught.value.hints)


# -- what restore refuses --------------------------------------------------------------------------


def test_every_changed_byte_is_refused_and_nothing_written(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    data = archive_of(keyring)
    target = tmp_path / "target"
    for position in range(len(data)):
        for mask in (0x01, 0x80):
            changed = bytearray(data)
            changed[position] ^= mask
            with pytest.raises(KeyringError) as caught:
                restore(bytes(changed), target, key_dir)
            assert caught.value.exit_status == 9, position
            assert not target.exists(), position
    assert leftovers(tmp_path) == []
    restore(data, target, key_dir)


def test_truncated_or_extended_archives_are_refused(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    data = archive_of(keyring)
    target = tmp_path / "target"
    for size in range(len(data)):
        with pytest.raises(KeyringCorruptError):
            restore(data[:size], target, key_dir)
    for extra in (b"\0", b"x" * 100, data):
        with pytest.raises(KeyringCorruptError, match="after its end"):
            restore(data + extra, target, key_dir)
    assert not target.exists() and leftovers(tmp_path) == []


def _split_chunks(data: bytes) -> tuple[bytes, list[bytes]]:
    """The preamble and the framed chunks of an archive."""
    (length,) = struct.unpack_from(">I", data, 8)
    offset = 12 + length + backup_mod.ARCHIVE_ID_BYTES
    preamble, chunks = data[:offset], []
    while offset < len(data):
        (size,) = struct.unpack_from(">I", data, offset + 1)
        chunks.append(data[offset : offset + 5 + size])
        offset += 5 + size
    return preamble, chunks


def test_chunks_dropped_reordered_or_spliced_are_refused(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    fill(keyring, {("keys", f"us-east-1/big-{i}"): os.urandom(700_000) for i in range(3)})
    preamble, chunks = _split_chunks(archive_of(keyring))
    other_preamble, other_chunks = _split_chunks(archive_of(keyring))  # same keyring, new id
    assert len(chunks) == 3
    first, middle, last = chunks
    for forged in (
        [first, last],
        [middle, first, last],
        [first, middle],
        [first, middle, middle, last],
        [first, other_chunks[1], last],
    ):
        with pytest.raises(KeyringCorruptError):
            restore(preamble + b"".join(forged), tmp_path / "t", key_dir)
    with pytest.raises(KeyringCorruptError):
        restore(other_preamble + b"".join(chunks), tmp_path / "t", key_dir)
    assert not (tmp_path / "t").exists() and leftovers(tmp_path) == []


def test_wrong_or_missing_root_key(tmp_path: Path, key_dir: Path, keyring: Keyring) -> None:
    data = archive_of(keyring)
    other = tmp_path / "other.key"
    other.write_text(os.urandom(32).hex())
    other.chmod(0o600)
    with pytest.raises(KeyringLockedError, match="does not belong") as caught:
        restore(data, tmp_path / "t", key_dir, root_key_file=other)
    assert f"{keyring.info.keyring_id}.key" in " ".join(caught.value.hints)
    expected = key_dir / f"{keyring.info.keyring_id}.key"
    with pytest.raises(KeyringLockedError, match="not found") as caught:
        restore(data, tmp_path / "t", tmp_path / "empty-config")
    assert str(tmp_path / "empty-config" / expected.name) in " ".join(caught.value.hints)
    assert not (tmp_path / "t").exists()


def test_not_an_archive(tmp_path: Path, key_dir: Path) -> None:
    for data in (b"", b"KMSBK", b"PK\x03\x04 a zip file", b"KMSBKUP"):
        with pytest.raises(KeyringCorruptError, match="not a kmscli keyring backup"):
            restore(data, tmp_path / "t", key_dir)


def test_an_existing_keyring_is_replaced_only_with_force(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    data = archive_of(keyring)
    target = open_keyring(
        tmp_path / "live", root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase
    )
    fill(target, {("keys", "us-east-1/only-in-live"): b"live"})
    before = tree(target.info.home)
    with pytest.raises(AlreadyExistsException, match="already exists") as caught:
        restore(data, target.info.home, key_dir)
    assert "-f" in " ".join(caught.value.hints)
    assert tree(target.info.home) == before
    # A damaged archive changes nothing, even with force.
    damaged = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(KeyringCorruptError):
        restore(damaged, target.info.home, key_dir, force=True)
    assert tree(target.info.home) == before
    restored = restore(data, target.info.home, key_dir, force=True)
    assert tree(restored.info.home) == tree(keyring.info.home)
    assert contents(restored) == RECORDS
    assert leftovers(tmp_path) == []


def test_an_empty_directory_is_a_fine_target(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    assert contents(restore(archive_of(keyring), target, key_dir)) == RECORDS


def test_a_directory_that_is_not_a_keyring_is_never_replaced(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    data = archive_of(keyring)
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    # A keyring with something else beside it counts as "something else".
    mixed = tmp_path / "mixed"
    open_keyring(mixed, root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase)
    (mixed / "notes.txt").write_text("mine")
    for target in (precious, mixed):
        for force in (False, True):
            with pytest.raises(AlreadyExistsException, match="holds no keyring"):
                restore(data, target, key_dir, force=force)
    assert (precious / "thesis.tex").read_text() == "years of work"
    assert (mixed / "notes.txt").read_text() == "mine"


def test_restore_through_a_symlink_replaces_its_target(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    real = tmp_path / "real"
    open_keyring(real, root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase)
    link = tmp_path / "link"
    link.symlink_to(real)
    restore(archive_of(keyring), link, key_dir, force=True)
    assert link.is_symlink()
    assert tree(real) == tree(keyring.info.home)


# -- archives made with the right key but the wrong content ----------------------------------------


def forge(keyring: Keyring, entries: list[tuple[int, str, bytes | None]]) -> bytes:
    """An archive of `entries` (kind, path, file data) sealed under the keyring's real key:
    what only someone holding the root key could make."""
    header = (keyring.info.home / layout.HEADER).read_bytes()
    archive_id = os.urandom(backup_mod.ARCHIVE_ID_BYTES)
    preamble = b"KMSBKUP\x01" + struct.pack(">I", len(header)) + header + archive_id
    out = io.BytesIO()
    key = backup_mod._chunk_key(keyring._keys.backup, archive_id)
    writer = backup_mod._ChunkWriter(out, key, sha256(preamble))
    writer.raw(preamble)
    for kind, path, data in entries:
        writer.write(backup_mod._path_entry(kind, path))
        if data is not None:
            writer.write(struct.pack(">Q", len(data)) + data)
    writer.write(b"\0")
    writer.close()
    return out.getvalue()


def test_forged_archives_stay_inside_the_target(
    tmp_path: Path, key_dir: Path, keyring: Keyring
) -> None:
    records = layout.relative(keyring.info.home, keyring.naming.records_dir)
    record = next(keyring.naming.kind_dir("grants").iterdir())
    good = [(1, records, None), (1, f"{records}/grants", None)]
    grant = (2, f"{records}/grants/{record.name}", record.read_bytes())
    assert restore(forge(keyring, [*good, grant]), tmp_path / "ok", key_dir).verify_all() == []
    for bad in (
        [(2, "../escaped", b"x")],
        [(1, f"{records}/..", None)],
        [(2, "/etc/passwd", b"x")],
        [(2, f"{records}//x", b"x")],
        [(2, "header", b"x")],
        [(2, "lock", b"x")],
        [(2, ".tmp-abc", b"x")],
        [(2, f"{records}/grants/nested/x", b"x")],  # parent not created first
        [grant],  # the same file twice
        [(1, records, None)],  # the same directory twice
        [(3, f"{records}/x", None)],  # no such entry type
    ):
        with pytest.raises(KeyringCorruptError):
            restore(forge(keyring, [*good, grant, *bad]), tmp_path / "t", key_dir)
    # Sound archive, unsound keyring: a stray file fails verification and is not restored.
    stray = [(2, f"{records}/grants/NOT-A-RECORD", b"?")]
    with pytest.raises(KeyringCorruptError, match="does not restore to a sound keyring"):
        restore(forge(keyring, [*good, grant, *stray]), tmp_path / "t", key_dir)
    assert not (tmp_path / "t").exists()
    assert not (tmp_path / "escaped").exists()
    assert leftovers(tmp_path) == []
