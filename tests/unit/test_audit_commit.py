"""kmscli.store: a transaction's audit events and its records happen together, whenever the
writer dies, and the keyring's sealed anchor follows the last change's audit record."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from kmscli.errors import KeyringCorruptError
from kmscli.store import Keyring, audit_log, journal, layout
from tests.unit.keyrings import open_kf

REPO = Path(__file__).resolve().parents[2]
KILLS = 20

WRITER = """
import json, sys, uuid
from pathlib import Path
from kmscli.store import open_keyring

home, key_dir = Path(sys.argv[1]), Path(sys.argv[2])
keyring = open_keyring(home, root_key_file=None, root_key_dir=key_dir, passphrase=lambda: None)
print("ready", flush=True)
while True:
    with keyring.write() as tx:
        n = int(tx.get("keys", "pair") or b"0") + 1
        tx.put("keys", "pair", str(n).encode())
        tx.put("aliases", "alias/pair", str(n).encode())
        tx.audit(json.dumps({"n": n, "eventID": str(uuid.uuid4())}).encode())
        tx.audit(json.dumps({"n2": n, "eventID": str(uuid.uuid4())}).encode())
"""


def _event(n: int) -> bytes:
    return json.dumps({"n": n, "eventID": str(uuid.uuid4())}).encode()


def _numbers(keyring: Keyring) -> list[int]:
    return [json.loads(e.event)["n"] for e in audit_log(keyring).entries()]


def _state(keyring: Keyring) -> int:
    """The committed sequence number; asserts that the trail holds exactly its events."""
    with keyring.read() as view:
        first = view.get("keys", "pair")
        second = view.get("aliases", "alias/pair")
    assert first == second, (first, second)
    n = int(first or b"0")
    events = [json.loads(e.event) for e in audit_log(keyring).entries()]
    expected = []
    for i in range(1, n + 1):
        expected.extend([("n", i), ("n2", i)])
    assert [next(iter(e.items())) for e in events] == expected
    report = keyring.verify_audit()
    assert report.ok, report.problems
    return n


def test_sigkill_at_random_moments_keeps_changes_and_their_events_together(
    tmp_path: Path,
) -> None:
    seed = random.randrange(1 << 30)  # noqa: S311 (timing jitter, not a secret)
    rng = random.Random(seed)  # noqa: S311
    home = tmp_path / "home"
    open_kf(tmp_path)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    previous = 0
    for _ in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), str(tmp_path / "cfg")],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.0, 0.05))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        writer.stdout.close()
        keyring = open_kf(tmp_path)  # recovers
        n = _state(keyring)
        assert n >= previous, f"seed {seed}"
        previous = n
    assert previous > 0, f"seed {seed}: no transaction ever committed"


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    keyring = open_kf(tmp_path)
    with keyring.write() as tx:
        tx.put("keys", "pair", b"1")
        tx.put("aliases", "alias/pair", b"1")
        tx.audit(_event(1))
        tx.audit(json.dumps({"n2": 1, "eventID": str(uuid.uuid4())}).encode())
    return keyring


NEXT = [journal.Op("keys", "pair", b"2"), journal.Op("aliases", "alias/pair", b"2")]


def _pending(keyring: Keyring) -> journal.PendingAudit:
    log = audit_log(keyring)
    base = log.position()
    events = [_event(2), json.dumps({"n2": 2, "eventID": str(uuid.uuid4())}).encode()]
    return journal.PendingAudit(base, log.prepare(base, events))


def test_a_crash_before_the_commit_point_keeps_neither(tmp_path: Path, keyring: Keyring) -> None:
    journal.stage(keyring.naming, keyring._keys, NEXT, _pending(keyring))
    assert _state(open_kf(tmp_path)) == 1


def test_a_crash_after_the_commit_point_rolls_both_forward(
    tmp_path: Path, keyring: Keyring
) -> None:
    home = keyring.info.home
    journal.stage(keyring.naming, keyring._keys, NEXT, _pending(keyring))
    journal.commit_point(home)
    assert _state(open_kf(tmp_path)) == 2


def test_a_crash_after_the_events_were_appended_does_not_repeat_them(
    tmp_path: Path, keyring: Keyring
) -> None:
    home = keyring.info.home
    pending = _pending(keyring)
    journal.stage(keyring.naming, keyring._keys, NEXT, pending)
    journal.commit_point(home)
    audit_log(keyring).append_lines(pending.base, pending.lines)
    assert (home / layout.JOURNAL).exists()
    assert _state(open_kf(tmp_path)) == 2


def test_a_crash_before_the_head_write_does_not_repeat_the_events(
    tmp_path: Path, keyring: Keyring
) -> None:
    home = keyring.info.home
    head = (home / "audit" / "head").read_bytes()
    pending = _pending(keyring)
    journal.stage(keyring.naming, keyring._keys, NEXT, pending)
    journal.commit_point(home)
    audit_log(keyring).append_lines(pending.base, pending.lines)
    (home / "audit" / "head").write_bytes(head)  # as if the head write never happened
    assert _state(open_kf(tmp_path)) == 2


def test_an_event_appended_by_hand_after_the_journal_does_not_break_recovery(
    tmp_path: Path, keyring: Keyring
) -> None:
    home = keyring.info.home
    pending = _pending(keyring)
    journal.stage(keyring.naming, keyring._keys, NEXT, pending)
    journal.commit_point(home)
    audit_log(keyring).append(json.dumps({"x": 1}).encode())  # bypasses the keyring's lock
    reopened = open_kf(tmp_path)
    with reopened.read() as view:
        assert view.get("keys", "pair") == b"2"
    events = [json.loads(e.event) for e in audit_log(reopened).entries()]
    assert [next(iter(e)) for e in events][-3:] == ["x", "n", "n2"]
    assert reopened.verify_audit().ok


def test_the_anchor_names_the_last_changes_record_and_reads_leave_it_behind(
    keyring: Keyring,
) -> None:
    log = audit_log(keyring)
    with keyring.read() as view:
        anchor = keyring.audit_anchor(view)
    assert anchor is not None
    assert anchor.seq == 2
    log.append(_event(99))  # what an operation that changes nothing does
    with keyring.read() as view:
        assert keyring.audit_anchor(view).seq == 2  # type: ignore[union-attr]
    assert keyring.verify_audit().ok


def _problems(keyring: Keyring) -> str:
    report = keyring.verify_audit()
    assert not report.ok
    return " | ".join(report.problems)


def test_a_removed_audit_directory_is_reported(keyring: Keyring) -> None:
    import shutil

    shutil.rmtree(keyring.info.home / "audit")
    assert "removed or truncated" in _problems(keyring)
    # Appending starts a new chain at 1: still reported.
    audit_log(keyring).append(_event(3))
    audit_log(keyring).append(_event(4))
    assert "not the one the keyring's last change" in _problems(keyring)


def test_a_removed_head_is_reported(keyring: Keyring) -> None:
    log = audit_log(keyring)
    (keyring.info.home / "audit" / "head").unlink()
    assert "the head was removed or replaced" in _problems(keyring)
    with pytest.raises(KeyringCorruptError):
        log.append(_event(3))  # refused, as before: a missing head with records behind it


def test_a_removed_head_of_a_one_record_log_is_reported(tmp_path: Path) -> None:
    keyring = open_kf(tmp_path)
    with keyring.write() as tx:
        tx.put("keys", "pair", b"1")
        tx.audit(_event(1))
    (keyring.info.home / "audit" / "head").unlink()
    assert "the head was removed or replaced" in _problems(keyring)


def test_a_log_cut_back_is_reported(keyring: Keyring) -> None:
    log_path = keyring.info.home / "audit" / "log"
    log_path.write_bytes(log_path.read_bytes().splitlines(keepends=True)[0])
    assert "removed or truncated" in _problems(keyring)
