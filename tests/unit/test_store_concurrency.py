"""kmscli.store: many processes on one keyring (make -j8) lose no update and see no torn state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kmscli.store import open_keyring
from tests.keyring_files import downgrade_to_schema1, schema_of

REPO = Path(__file__).resolve().parents[2]
WORKERS = 8
INCREMENTS = 25

WORKER = """
import sys
from pathlib import Path
from kmscli.store import open_keyring

home, key_dir, me, rounds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def no_passphrase():
    raise SystemExit("asked for a passphrase")

def opened():
    return open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=no_passphrase)

keyring = opened()  # first use: every worker races to create the keyring
for number in range(rounds):
    if number % 5 == 0:
        keyring = opened()
    with keyring.write() as tx:
        count = int(tx.get("meta", "counter") or b"0") + 1
        tx.put("meta", "counter", str(count).encode())
        tx.put("aliases", "counter-copy", str(count).encode())
        tx.put("keys", f"{me}/{number}", f"{me}:{number}".encode())
    with keyring.read() as view:
        first, second = view.get("meta", "counter"), view.get("aliases", "counter-copy")
        assert first == second, (first, second)
        assert view.get("keys", f"{me}/{number}") == f"{me}:{number}".encode()
print(keyring.info.keyring_id)
"""


def run_workers(home: Path, key_dir: Path, rounds: int = INCREMENTS) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(home), str(key_dir), f"w{n}", str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        for n in range(WORKERS)
    ]
    ids = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err.decode()
        ids.append(out.decode().strip())
    return ids


def test_eight_processes_lose_no_update(tmp_path: Path) -> None:
    home, key_dir = tmp_path / "home", tmp_path / "cfg"
    ids = run_workers(home, key_dir)

    assert len(set(ids)) == 1, "the racing first uses must create exactly one keyring"
    assert [p.name for p in key_dir.iterdir()] == [f"{ids[0]}.key"]
    keyring = open_keyring(
        home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: None, create=False
    )
    with keyring.read() as view:
        assert view.get("meta", "counter") == str(WORKERS * INCREMENTS).encode()
        assert view.get("aliases", "counter-copy") == str(WORKERS * INCREMENTS).encode()
        names = view.list("keys")
        assert len(names) == WORKERS * INCREMENTS
        for worker in range(WORKERS):
            assert view.list("keys", prefix=f"w{worker}/") == sorted(
                f"w{worker}/{n}" for n in range(INCREMENTS)
            )
            for number in range(INCREMENTS):
                assert view.get("keys", f"w{worker}/{number}") == f"w{worker}:{number}".encode()
    assert keyring.verify_all() == []
    assert sorted(p.name for p in home.iterdir()) == ["header", "lock", "records.v2"]


def test_eight_processes_racing_to_migrate_a_schema1_keyring_lose_nothing(tmp_path: Path) -> None:
    """Every worker opens the schema-1 keyring before one of them migrates it at its first
    write: the others follow the new layout under the lock and neither lose nor hide a record."""
    home, key_dir = tmp_path / "home", tmp_path / "cfg"
    keyring = open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: None)
    old = {("keys", f"old/{n}"): f"old {n}".encode() for n in range(20)}
    with keyring.write() as tx:
        for (kind, name), data in old.items():
            tx.put(kind, name, data)
        tx.put("meta", "counter", b"0")
        tx.put("aliases", "counter-copy", b"0")
    downgrade_to_schema1(keyring)
    assert schema_of(home) == 1
    rounds = 3
    ids = run_workers(home, key_dir, rounds)
    assert set(ids) == {keyring.info.keyring_id}
    assert schema_of(home) == 2
    keyring = open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: None)
    with keyring.read() as view:
        assert view.get("meta", "counter") == str(WORKERS * rounds).encode()
        assert view.list("keys", prefix="old/") == sorted(name for _, name in old)
        for (kind, name), data in old.items():
            assert view.get(kind, name) == data
        assert len(view.list("keys")) == len(old) + WORKERS * rounds
    assert keyring.verify_all() == []
    assert sorted(p.name for p in home.iterdir()) == ["header", "lock", "records.v2"]
