"""kmscli.store: creating and opening keyrings in both modes, and the record API."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from kmscli.errors import (
    AlreadyExistsException,
    InputOutputError,
    KeyringLockedError,
    KMSInternalException,
    NotFoundException,
    ValidationException,
)
from kmscli.store import Keyring, init_keyring, keyring_exists, layout, open_keyring
from tests.keyring_files import downgrade_to_schema1
from tests.unit.keyrings import no_passphrase

PASSPHRASE = b"correct horse battery staple"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


def open_kf(home: Path, key_dir: Path, *, create: bool = True) -> Keyring:
    return open_keyring(
        home, root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase, create=create
    )


# -- key-file mode -------------------------------------------------------------------------------


def test_first_use_creates_a_key_file_keyring(home: Path, key_dir: Path) -> None:
    assert not keyring_exists(home)
    kr = open_kf(home, key_dir)
    assert keyring_exists(home)
    info = kr.info
    assert info.home == home
    assert info.protection == "key-file"
    assert info.schema_version == 2  # opaque record file names
    assert len(info.keyring_id) == 32
    assert len(info.account_id) == 12 and info.account_id.isdigit()
    assert info.account_id[0] != "0"
    assert info.root_key_file == key_dir / f"{info.keyring_id}.key"
    assert info.root_key_file.is_file()
    assert info.created.endswith("Z")
    assert info.kdf is None

    again = open_kf(home, key_dir, create=False)
    assert again.info == info


def test_random_account_ids_never_start_with_zero(tmp_path: Path) -> None:
    for number in range(20):
        kr = open_kf(tmp_path / f"h{number}", tmp_path / "cfg")
        assert len(kr.info.account_id) == 12 and kr.info.account_id[0] != "0"


def test_init_with_account_and_explicit_root_key_file(home: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "root.key"
    kr = init_keyring(
        home, root_key_file=key_file, root_key_dir=tmp_path / "unused", account_id="111122223333"
    )
    assert kr.info.account_id == "111122223333"
    assert kr.info.root_key_file == key_file
    assert key_file.is_file()
    assert not (tmp_path / "unused").exists()
    reopened = open_keyring(
        home, root_key_file=key_file, root_key_dir=tmp_path / "unused", passphrase=no_passphrase
    )
    assert reopened.info.account_id == "111122223333"


def test_init_adopts_a_provisioned_root_key_file(home: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "root.key"
    key_file.write_text("ab" * 32 + "\n")
    key_file.chmod(0o600)
    init_keyring(home, root_key_file=key_file, root_key_dir=tmp_path)
    assert key_file.read_text() == "ab" * 32 + "\n"
    open_keyring(home, root_key_file=key_file, root_key_dir=tmp_path, passphrase=no_passphrase)


def test_init_refuses_an_existing_keyring(home: Path, key_dir: Path) -> None:
    init_keyring(home, root_key_file=None, root_key_dir=key_dir)
    with pytest.raises(AlreadyExistsException):
        init_keyring(home, root_key_file=None, root_key_dir=key_dir)


def test_init_refuses_a_directory_holding_something_else(home: Path, key_dir: Path) -> None:
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    with pytest.raises(InputOutputError):
        init_keyring(home, root_key_file=None, root_key_dir=key_dir)


@pytest.mark.parametrize(
    "account", ["12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢"]
)
def test_init_rejects_a_bad_account_id(home: Path, key_dir: Path, account: str) -> None:
    with pytest.raises(ValidationException):
        init_keyring(home, root_key_file=None, root_key_dir=key_dir, account_id=account)
    assert not keyring_exists(home)


def test_open_without_create_reports_not_found(home: Path, key_dir: Path) -> None:
    with pytest.raises(NotFoundException) as caught:
        open_kf(home, key_dir, create=False)
    assert str(home) in caught.value.message
    assert any("kmscli keyring init" in hint for hint in caught.value.hints)
    assert not home.exists()


def test_home_that_is_a_file_is_an_io_error(home: Path, key_dir: Path) -> None:
    home.write_text("not a directory")
    with pytest.raises(InputOutputError):
        open_kf(home, key_dir)
    with pytest.raises(InputOutputError):
        init_keyring(home, root_key_file=None, root_key_dir=key_dir)


def test_missing_root_key_file_locks_with_a_hint(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    assert kr.info.root_key_file is not None
    kr.info.root_key_file.unlink()
    with pytest.raises(KeyringLockedError) as caught:
        open_kf(home, key_dir)
    assert str(kr.info.root_key_file) in caught.value.message
    assert any(str(kr.info.root_key_file) in hint for hint in caught.value.hints)


def test_root_key_file_of_another_keyring_locks(tmp_path: Path, key_dir: Path) -> None:
    first = open_kf(tmp_path / "one", key_dir)
    open_kf(tmp_path / "two", key_dir)
    with pytest.raises(KeyringLockedError) as caught:
        open_keyring(
            tmp_path / "two",
            root_key_file=first.info.root_key_file,
            root_key_dir=key_dir,
            passphrase=no_passphrase,
        )
    assert "does not belong" in caught.value.message


def test_garbage_root_key_file_locks(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    assert kr.info.root_key_file is not None
    kr.info.root_key_file.write_text("not a key\n")
    with pytest.raises(KeyringLockedError):
        open_kf(home, key_dir)


def test_open_is_fast_in_key_file_mode(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    with kr.write() as tx:
        for number in range(300):
            tx.put("keys", f"key-{number}", b"x" * 500)
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        with open_kf(home, key_dir).read() as view:
            assert view.get("keys", "key-7") == b"x" * 500
        best = min(best, time.perf_counter() - start)
    assert best < 0.010, f"open + one read took {best * 1000:.1f} ms"


# -- passphrase mode -----------------------------------------------------------------------------


def test_passphrase_mode_round_trip(home: Path, key_dir: Path) -> None:
    kr = init_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=PASSPHRASE)
    assert kr.info.protection == "passphrase"
    assert kr.info.root_key_file is None
    assert not key_dir.exists()
    with kr.write() as tx:
        tx.put("keys", "k", b"material")

    calls: list[int] = []

    def give() -> bytes:
        calls.append(1)
        return PASSPHRASE

    again = open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=give)
    assert calls == [1]
    assert again.info.keyring_id == kr.info.keyring_id
    with again.read() as view:
        assert view.get("keys", "k") == b"material"
    assert again.unseal(kr.seal(b"m", b"a"), b"a", where="x") == b"m"


def test_argon2_parameters_are_recorded_and_strong(
    home: Path, key_dir: Path, real_argon2: None
) -> None:
    # Made at the product's real cost; other tests get a cheap one (tests/cheap_kdf.py).
    kr = init_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=PASSPHRASE)
    body = json.loads((home / layout.HEADER).read_bytes().split(b"\n")[0])
    kdf = body["kdf"]
    assert kdf["name"] == "argon2id"
    assert kdf["memory_kib"] >= 65536
    assert kdf["iterations"] >= 3
    assert kdf["lanes"] == 4
    assert len(bytes.fromhex(kdf["salt"])) >= 16
    assert "wrapped_root_key" in body
    assert PASSPHRASE.hex() not in (home / layout.HEADER).read_text()
    assert kr.info.kdf is not None and kr.info.kdf.memory_kib >= 65536


def test_wrong_passphrase_locks(home: Path, key_dir: Path) -> None:
    init_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=PASSPHRASE)
    with pytest.raises(KeyringLockedError):
        open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: b"wrong")


def test_missing_passphrase_locks_immediately(home: Path, key_dir: Path) -> None:
    init_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=PASSPHRASE)
    start = time.perf_counter()
    with pytest.raises(KeyringLockedError) as caught:
        open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: None)
    assert time.perf_counter() - start < 0.05  # no Argon2, no waiting for input
    assert "passphrase needed" in caught.value.message
    assert any("KMSCLI_PASSPHRASE" in hint for hint in caught.value.hints)


def test_empty_passphrase_is_refused_at_init(home: Path, key_dir: Path) -> None:
    with pytest.raises(ValidationException):
        init_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=b"")


# -- records -------------------------------------------------------------------------------------


def test_put_get_list_delete(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    with kr.write() as tx:
        tx.put("keys", "us-east-1/1", b"one")
        tx.put("keys", "us-east-1/2", b"two")
        tx.put("keys", "eu-west-1/3", b"three")
        tx.put("aliases", "alias/x", b"a")
        assert tx.get("keys", "us-east-1/1") == b"one"  # own pending writes
        assert tx.list("keys", prefix="us-east-1/") == ["us-east-1/1", "us-east-1/2"]
    with kr.read() as view:
        assert view.get("keys", "eu-west-1/3") == b"three"
        assert view.get("keys", "missing") is None
        assert view.get("nothing-here", "x") is None
        assert view.list("keys") == ["eu-west-1/3", "us-east-1/1", "us-east-1/2"]
        assert view.list("keys", prefix="us-east-1/") == ["us-east-1/1", "us-east-1/2"]
        assert view.list("aliases") == ["alias/x"]
        assert view.list("grants") == []
    with kr.write() as tx:
        tx.delete("keys", "us-east-1/1")
        tx.put("keys", "us-east-1/2", b"TWO")
        assert tx.get("keys", "us-east-1/1") is None
        assert tx.list("keys", prefix="us-") == ["us-east-1/2"]
    with kr.read() as view:
        assert view.get("keys", "us-east-1/1") is None
        assert view.get("keys", "us-east-1/2") == b"TWO"
        assert view.list("keys") == ["eu-west-1/3", "us-east-1/2"]


def test_a_raising_transaction_writes_nothing(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    with kr.write() as tx:
        tx.put("meta", "counter", b"1")
    with pytest.raises(RuntimeError), kr.write() as tx:
        tx.put("meta", "counter", b"2")
        tx.put("meta", "other", b"x")
        raise RuntimeError("boom")
    with kr.read() as view:
        assert view.get("meta", "counter") == b"1"
        assert view.list("meta") == ["counter"]
    assert sorted(p.name for p in home.iterdir()) == ["header", "lock", "records.v2"]


NAMES = [
    "a",
    "alias/MyKey",
    "Alias/mykey",
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ".hidden",
    "..",
    "%41",
    "=" + "0" * 64,
    "with space and\nnewline",
    "ünïcödé/鍵/🔑",
    "x" * 1024,
    "🔑" * 1024,
    "A" * 67,
    "A" * 68,
]


@pytest.mark.parametrize("schema", [2, 1])
def test_any_name_round_trips(home: Path, key_dir: Path, schema: int) -> None:
    kr = open_kf(home, key_dir)
    with kr.write() as tx:
        for number, name in enumerate(NAMES):
            tx.put("identity-policies", name, str(number).encode())
    if schema == 1:
        downgrade_to_schema1(kr)
    reopened = open_kf(home, key_dir)
    assert reopened.naming.schema == schema
    with reopened.read() as view:
        assert view.list("identity-policies") == sorted(NAMES)
        for number, name in enumerate(NAMES):
            assert view.get("identity-policies", name) == str(number).encode()
        assert view.list("identity-policies", prefix="🔑") == ["🔑" * 1024]
    files = list(reopened.naming.kind_dir("identity-policies").iterdir())
    assert len(files) == len(NAMES)
    for path in files:
        assert len(path.name.encode()) <= 200
        assert not path.name.startswith(".")
        if schema == 2:
            assert re.fullmatch("[0-9a-f]{64}", path.name), path.name
    assert reopened.verify_all() == []


@pytest.mark.parametrize("kind", ["", "Keys", "1keys", "keys/x", "../x", "k" * 65])
def test_bad_kinds_are_refused(home: Path, key_dir: Path, kind: str) -> None:
    kr = open_kf(home, key_dir)
    with pytest.raises(ValidationException), kr.write() as tx:
        tx.put(kind, "n", b"")


@pytest.mark.parametrize("name", ["", "x" * 1025, "\udc80"])
def test_bad_names_are_refused(home: Path, key_dir: Path, name: str) -> None:
    kr = open_kf(home, key_dir)
    with pytest.raises(ValidationException), kr.write() as tx:
        tx.put("keys", name, b"")
    with pytest.raises(ValidationException), kr.read() as view:
        view.get("keys", name)


def test_nested_locking_is_a_bug_not_a_deadlock(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    with kr.write(), pytest.raises(KMSInternalException):
        kr.read().__enter__()
    with kr.read(), pytest.raises(KMSInternalException):
        kr.write().__enter__()
    with kr.read() as view:
        pass
    with pytest.raises(KMSInternalException):
        view.get("keys", "k")


def test_seal_binds_the_aad(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    sealed = kr.seal(b"key material", b"arn:...:key/1|material-1")
    assert b"key material" not in sealed
    assert kr.unseal(sealed, b"arn:...:key/1|material-1", where="key 1") == b"key material"
    assert kr.seal(b"key material", b"a") != kr.seal(b"key material", b"a")  # fresh nonces


def test_records_are_encrypted_at_rest(home: Path, key_dir: Path) -> None:
    kr = open_kf(home, key_dir)
    with kr.write() as tx:
        tx.put("keys", "k", b"a very recognisable plaintext")
    for path in home.rglob("*"):
        if path.is_file():
            assert b"recognisable" not in path.read_bytes()


def test_a_listing_then_reading_what_it_found_opens_each_record_once(
    home: Path, key_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 2 names say nothing, so a listing opens every record of the kind; the gets that
    follow it in the same view (`key list`, a key's grants) must not open them all again."""
    kr = open_kf(home, key_dir)
    with kr.write() as tx:
        for number in range(20):
            tx.put("grants", f"us-east-1/key/{number:02}", b"grant %d" % number)
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(kr.naming.records_dir) in str(path):
            opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting_open)
    with kr.read() as view:
        names = view.list("grants", prefix="us-east-1/key/")
        assert [view.get("grants", name) for name in names] == [b"grant %d" % n for n in range(20)]
        assert view.list("grants") == names  # listed once per view
    assert len(opened) == 20 and len(set(opened)) == 20, opened
