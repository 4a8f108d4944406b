"""kmscli.store: a writer killed at any moment leaves all-old or all-new records, never a mix."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kmscli.store import Keyring, journal, layout
from tests.keyring_files import downgrade_to_schema1
from tests.unit.keyrings import open_kf

REPO = Path(__file__).resolve().parents[2]
KILLS = 20

WRITER = """
import sys
from pathlib import Path
from kmscli.store import open_keyring

home, key_dir = Path(sys.argv[1]), Path(sys.argv[2])
keyring = open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: None)
print("ready", flush=True)
while True:
    with keyring.write() as tx:
        sequence = int(tx.get("keys", "pair") or b"0") + 1
        tx.put("keys", "pair", str(sequence).encode())
        tx.put("aliases", "alias/pair", str(sequence).encode())
        if sequence % 2:
            tx.put("grants", "odd", str(sequence).encode())
        else:
            tx.delete("grants", "odd")
"""


def consistent_sequence(keyring: Keyring) -> int:
    with keyring.read() as view:
        first = view.get("keys", "pair")
        second = view.get("aliases", "alias/pair")
        odd = view.get("grants", "odd")
    assert first == second, (first, second)
    sequence = int(first or b"0")
    assert odd == (str(sequence).encode() if sequence % 2 else None), (sequence, odd)
    return sequence


def leftovers(home: Path) -> list[str]:
    return sorted(
        layout.relative(home, p)
        for p in [home / layout.JOURNAL, home / layout.JOURNAL_PENDING, *journal.temp_files(home)]
        if p.exists()
    )


def test_sigkill_at_random_moments_never_tears_a_transaction(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)  # noqa: S311 (timing jitter, not a secret)
    rng = random.Random(seed)  # noqa: S311
    home = tmp_path / "home"
    open_kf(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    previous = 0
    interrupted = 0
    for attempt in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(tmp_path / "cfg")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert child.stdout is not None
        assert child.stdout.readline() == b"ready\n", child.stderr.read() if child.stderr else ""
        time.sleep(rng.uniform(0.0, 0.04))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
        if child.stderr:
            child.stderr.close()
        if leftovers(home):
            interrupted += 1

        keyring = open_kf(tmp_path)  # recovers
        assert leftovers(home) == [], f"seed {seed}, attempt {attempt}"
        assert keyring.verify_all() == [], f"seed {seed}, attempt {attempt}"
        sequence = consistent_sequence(keyring)
        assert sequence >= previous, f"seed {seed}: went back from {previous} to {sequence}"
        previous = sequence
    assert previous > 0
    print(f"{KILLS} kills, {interrupted} mid-transaction, {previous} transactions committed")


# -- each crash point, deterministically ---------------------------------------------------------


@pytest.fixture(params=[2, 1], ids=["schema2", "schema1"])
def keyring(request: pytest.FixtureRequest, tmp_path: Path) -> Keyring:
    """A keyring at sequence 1; at schema 1, the journals below are what a kmscli before
    schema 2 left when it crashed, and this kmscli must finish them the same way."""
    kr = open_kf(tmp_path)
    with kr.write() as tx:
        tx.put("keys", "pair", b"1")
        tx.put("aliases", "alias/pair", b"1")
        tx.put("grants", "odd", b"1")
    if request.param == 1:
        downgrade_to_schema1(kr)
        kr = open_kf(tmp_path)
        assert kr.naming.schema == 1
    return kr


NEXT = [
    journal.Op("keys", "pair", b"2"),
    journal.Op("aliases", "alias/pair", b"2"),
    journal.Op("grants", "odd", None),
]


def test_crash_before_the_commit_point_keeps_the_old_state(
    tmp_path: Path, keyring: Keyring
) -> None:
    journal.stage(keyring.naming, keyring._keys, NEXT)
    assert leftovers(keyring.info.home)
    # A reader sees the old state, and its lock upgrade cleans up after the dead writer.
    assert consistent_sequence(keyring) == 1
    assert leftovers(keyring.info.home) == []


def test_crash_while_writing_the_pending_journal_keeps_the_old_state(
    tmp_path: Path, keyring: Keyring
) -> None:
    home = keyring.info.home
    journal.stage(keyring.naming, keyring._keys, NEXT)
    pending = home / layout.JOURNAL_PENDING
    pending.write_bytes(pending.read_bytes()[:7])  # torn: never read, so never "corrupt"
    reopened = open_kf(tmp_path)
    assert consistent_sequence(reopened) == 1
    assert reopened.verify_all() == []
    assert leftovers(home) == []


def test_crash_after_the_commit_point_rolls_forward(tmp_path: Path, keyring: Keyring) -> None:
    home = keyring.info.home
    journal.stage(keyring.naming, keyring._keys, NEXT)
    journal.commit_point(home)
    assert consistent_sequence(open_kf(tmp_path)) == 2
    assert leftovers(home) == []


def test_crash_half_way_through_applying_rolls_forward(tmp_path: Path, keyring: Keyring) -> None:
    home = keyring.info.home
    staged = journal.stage(keyring.naming, keyring._keys, NEXT)
    journal.commit_point(home)
    first = staged.entries[0]
    directory = keyring.naming.kind_dir(first.kind)
    os.replace(
        directory / str(first.temp), directory / keyring.naming.filename(first.kind, first.name)
    )
    assert consistent_sequence(keyring) == 2  # via a reader's recovery this time
    assert leftovers(home) == []


def test_rolling_forward_twice_is_harmless(tmp_path: Path, keyring: Keyring) -> None:
    home = keyring.info.home
    staged = journal.stage(keyring.naming, keyring._keys, NEXT)
    journal.commit_point(home)
    saved = (home / layout.JOURNAL).read_bytes()
    journal.apply(keyring.naming, staged.entries)
    (home / layout.JOURNAL).write_bytes(saved)  # the journal's unlink was lost
    assert consistent_sequence(open_kf(tmp_path)) == 2
    assert open_kf(tmp_path).verify_all() == []


def test_stray_temporaries_are_removed_by_verify(tmp_path: Path, keyring: Keyring) -> None:
    home = keyring.info.home
    (keyring.naming.kind_dir("keys") / ".tmp-0123456789abcdef-0").write_bytes(b"junk")
    (home / ".tmp-header").write_bytes(b"junk")
    assert keyring.verify_all() == []
    assert leftovers(home) == []


def test_a_journal_left_at_schema_1_is_finished_before_the_migration(tmp_path: Path) -> None:
    """A kmscli before schema 2 died after its commit point; the first write of this one
    finishes that transaction in the old layout, then migrates: nothing of it is lost."""
    kr = open_kf(tmp_path)
    with kr.write() as tx:
        tx.put("keys", "pair", b"1")
        tx.put("aliases", "alias/pair", b"1")
        tx.put("grants", "odd", b"1")
    downgrade_to_schema1(kr)
    old = open_kf(tmp_path)
    assert old.naming.schema == 1
    journal.stage(old.naming, old._keys, NEXT)
    journal.commit_point(old.info.home)
    with open_kf(tmp_path).write() as tx:  # recovers (schema 1), then migrates
        assert tx.get("keys", "pair") == b"2"
        tx.put("meta", "after", b"yes")
    reopened = open_kf(tmp_path)
    assert reopened.naming.schema == 2
    assert consistent_sequence(reopened) == 2
    assert leftovers(reopened.info.home) == []
    assert reopened.verify_all() == []
