"""kmscli.store.migration: a schema-1 keyring gets opaque record names at its first write.

Reading never migrates; the first write moves every record under its schema-2 name, once,
with the header as the commit point; a process that opened the keyring before another one
migrated it follows the header, even when the migrating process died half-way through its
clean-up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kmscli.store import Keyring, layout
from tests.keyring_files import downgrade_to_schema1, schema_of
from tests.unit.keyrings import open_kf

REPO = Path(__file__).resolve().parents[2]
RECORDS = {
    ("keys", "us-east-1/0b1d5c1e-7f3a-4a8e-9d0c-3e5f7a9b1c2d"): b"key one",
    ("keys", "eu-west-1/mrk-0b1d5c1e7f3a4a8e9d0c3e5f7a9b1c2d"): b"replica",
    ("aliases", "us-east-1/alias/payroll"): b"alias",
    ("aliases", "us-east-1/alias/" + "L" * 300): b"long alias, hashed name in schema 1",
    ("grants", "us-east-1/0b1d5c1e/abcdef0123456789"): b"grant",
    ("identity-policies", "arn:aws:iam::111122223333:role/app|policy"): b"policy",
}


def contents(keyring: Keyring) -> dict[tuple[str, str], bytes]:
    found: dict[tuple[str, str], bytes] = {}
    with keyring.read() as view:
        for kind in ("keys", "aliases", "grants", "identity-policies"):
            for name in view.list(kind):
                data = view.get(kind, name)
                assert data is not None
                found[kind, name] = data
    return found


def snapshot(home: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(home).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(home.rglob("*"))
    }


@pytest.fixture
def schema1(tmp_path: Path) -> Path:
    """A schema-1 keyring holding RECORDS; returns its home."""
    keyring = open_kf(tmp_path)
    with keyring.write() as tx:
        for (kind, name), data in RECORDS.items():
            tx.put(kind, name, data)
    downgrade_to_schema1(keyring)
    home = tmp_path / "home"
    assert schema_of(home) == 1
    return home


def test_reading_never_migrates(tmp_path: Path, schema1: Path) -> None:
    before = snapshot(schema1)
    keyring = open_kf(tmp_path)
    assert keyring.info.schema_version == 1
    assert contents(keyring) == RECORDS
    assert keyring.verify_all() == []
    assert snapshot(schema1) == before


def test_the_first_write_migrates_every_record(tmp_path: Path, schema1: Path) -> None:
    keyring = open_kf(tmp_path)
    with keyring.write() as tx:
        tx.put("keys", "us-east-1/new", b"new")
    assert keyring.info.schema_version == 2 and schema_of(schema1) == 2
    assert sorted(os.listdir(schema1)) == ["header", "lock", layout.OPAQUE_RECORDS]
    expected = {**RECORDS, ("keys", "us-east-1/new"): b"new"}
    assert contents(keyring) == expected
    reopened = open_kf(tmp_path)
    assert reopened.info.schema_version == 2
    assert contents(reopened) == expected
    assert reopened.verify_all() == []
    for path in reopened.naming.records_dir.rglob("*"):
        if path.is_file():
            assert len(path.name) == 64 and set(path.name) <= set("0123456789abcdef")


def test_a_raising_first_write_still_leaves_a_sound_keyring(tmp_path: Path, schema1: Path) -> None:
    keyring = open_kf(tmp_path)
    with pytest.raises(RuntimeError), keyring.write() as tx:
        tx.put("keys", "us-east-1/never", b"x")
        raise RuntimeError("boom")
    assert contents(open_kf(tmp_path)) == RECORDS
    assert open_kf(tmp_path).verify_all() == []


def test_a_process_that_opened_the_keyring_before_another_migrated_it_sees_every_record(
    tmp_path: Path, schema1: Path
) -> None:
    early = open_kf(tmp_path)
    assert contents(early) == RECORDS  # it has read the keyring at schema 1
    other = open_kf(tmp_path)
    with other.write() as tx:  # migrates
        tx.put("grants", "us-east-1/other/1", b"from the other process")
    assert schema_of(schema1) == 2
    expected = {**RECORDS, ("grants", "us-east-1/other/1"): b"from the other process"}
    assert contents(early) == expected
    assert early.info.schema_version == 2
    with early.write() as tx:
        tx.put("keys", "us-east-1/early", b"from the early process")
    expected["keys", "us-east-1/early"] = b"from the early process"
    assert contents(other) == expected
    assert contents(early) == expected
    assert open_kf(tmp_path).verify_all() == []


def test_an_early_process_follows_a_migration_that_died_after_its_commit_point(
    tmp_path: Path, schema1: Path
) -> None:
    """The migrating process died while removing the old `records/`: the header says schema
    2, part of `records/` is still there. A process that opened the keyring at schema 1
    before must follow the header (and sweep `records/`), never take what is left of
    `records/` for the keyring and sweep `records.v2/` instead."""
    saved = tmp_path / "saved-records"
    shutil.copytree(schema1 / layout.RECORDS, saved)
    early = open_kf(tmp_path)
    assert early.info.schema_version == 1
    with open_kf(tmp_path).write():
        pass  # a first write: migrates
    assert not (schema1 / layout.RECORDS).exists()
    # What the interrupted removal of records/ left: one kind, with one of its files.
    (schema1 / layout.RECORDS).mkdir(mode=0o700)
    kept = next(p for p in saved.iterdir() if len(list(p.iterdir())) > 1)
    (schema1 / layout.RECORDS / kept.name).mkdir(mode=0o700)
    first = next(kept.iterdir())
    shutil.copy2(first, schema1 / layout.RECORDS / kept.name / first.name)

    assert contents(early) == RECORDS
    assert early.info.schema_version == 2
    assert not (schema1 / layout.RECORDS).exists()
    assert contents(open_kf(tmp_path)) == RECORDS
    assert open_kf(tmp_path).verify_all() == []


def test_an_interrupted_migration_before_its_commit_point_is_swept(
    tmp_path: Path, schema1: Path
) -> None:
    before = snapshot(schema1)
    partial = schema1 / layout.OPAQUE_RECORDS / "keys"
    partial.mkdir(parents=True, mode=0o700)
    (schema1 / layout.OPAQUE_RECORDS).chmod(0o700)
    (partial / ("ab" * 32)).write_bytes(b"half a record")
    keyring = open_kf(tmp_path)  # recovers: the keyring is schema 1 as it was
    assert keyring.info.schema_version == 1
    assert snapshot(schema1) == before
    assert contents(keyring) == RECORDS
    assert keyring.verify_all() == []


FIRST_WRITE = """
import sys
from pathlib import Path
from kmscli.store import open_keyring
{setup}
keyring = open_keyring(
    Path(sys.argv[1]), root_key_file=None, root_key_dir=Path(sys.argv[2]), passphrase=lambda: None
)
try:
    with keyring.write() as tx:
        tx.put("keys", "us-east-1/new", b"x")
except Exception as exc:
    print(type(exc).__name__, exc.exit_status, exc.message)
else:
    print("migrated")
"""


def first_write(tmp_path: Path, setup: str = "") -> list[str]:
    """A first write in another process (a hang fails the test instead of stopping it)."""
    script = FIRST_WRITE.format(setup=setup)
    home, key_dir = tmp_path / "home", tmp_path / "cfg"
    done = subprocess.run(
        [sys.executable, "-c", script, str(home), str(key_dir)],
        capture_output=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode().split(maxsplit=2)


def snapshot_names(home: Path) -> list[str]:
    return sorted(p.relative_to(home).as_posix() for p in home.rglob("*"))


@pytest.mark.parametrize(
    "stray",
    [
        "records/notes.txt",  # not a kind
        "records/keys2",  # a kind's name, but a file
        "records/keys/UPPER",  # not a record file name
        "records/keys/us-east-1%2ffifo",  # a record's name, not a regular file (never opened)
    ],
)
def test_a_stray_file_in_records_stops_the_migration_before_its_commit_point(
    tmp_path: Path, schema1: Path, stray: str
) -> None:
    path = schema1 / stray
    if path.name.endswith("fifo"):
        os.mkfifo(path, 0o600)
    else:
        path.write_bytes(b"?")
        path.chmod(0o600)
    before = snapshot_names(schema1)
    name, status, message = first_write(tmp_path)
    assert (name, status) == ("KeyringCorruptError", "9")
    assert stray in message
    assert schema_of(schema1) == 1
    assert snapshot_names(schema1) == before  # no records.v2 left behind
    assert open_kf(tmp_path).info.schema_version == 1


def test_a_migration_that_fails_for_want_of_space_leaves_nothing_behind(tmp_path: Path) -> None:
    keyring = open_kf(tmp_path)
    with keyring.write() as tx:
        tx.put("keys", "us-east-1/small", b"s")
        tx.put("keys", "us-east-1/big", os.urandom(4096))  # over the limit below
    downgrade_to_schema1(keyring)
    home = tmp_path / "home"
    before = snapshot(home)
    limit = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))"
    assert first_write(tmp_path, limit)[:2] == ["InputOutputError", "10"]
    assert snapshot(home) == before


@pytest.mark.parametrize("what", ["file", "symlink"])
def test_something_else_under_the_other_schemas_name_is_swept(
    tmp_path: Path, schema1: Path, what: str
) -> None:
    """`records.v2` in a schema-1 keyring (and `records` in a schema-2 one) is kmscli's own
    name: whatever holds it is swept, never an open that fails for ever."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_bytes(b"not the keyring's")
    for home_name in (layout.OPAQUE_RECORDS, layout.RECORDS):
        path = schema1 / home_name
        if what == "file":
            path.write_bytes(b"?")
        else:
            path.symlink_to(elsewhere)
        keyring = open_kf(tmp_path)
        assert not os.path.lexists(path)
        assert contents(keyring) == RECORDS
        assert keyring.verify_all() == []
        with keyring.write():
            pass  # migrates: the next round plants `records` beside `records.v2`
    assert (elsewhere / "keep").read_bytes() == b"not the keyring's"
