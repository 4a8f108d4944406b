"""kmscli.store.auditlog: the MAC chain catches every kind of tampering; crashes are survivable.

The log is driven through its own API (append, verify, entries) and tampered with by editing
the files directly, as an attacker with write access to the keyring directory would.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import pytest

from kmscli.errors import KeyringCorruptError, KeyringVersionError, ValidationException
from kmscli.store import AuditLog, Keyring, audit_log, open_keyring
from tests.unit.keyrings import no_passphrase, open_kf


@pytest.fixture
def keyring(tmp_path: Path) -> Keyring:
    return open_kf(tmp_path)


def _event(n: int) -> bytes:
    return json.dumps({"eventName": "Encrypt", "n": n}, separators=(",", ":")).encode()


def _filled(keyring: Keyring, count: int = 5) -> AuditLog:
    log = audit_log(keyring)
    for n in range(1, count + 1):
        assert log.append(_event(n)) == n
    return log


def _lines(log: AuditLog) -> list[bytes]:
    return log.path.read_bytes().splitlines(keepends=True)


def _write(log: AuditLog, lines: list[bytes]) -> None:
    log.path.write_bytes(b"".join(lines))


def _problems(log: AuditLog) -> str:
    report = log.verify()
    assert not report.ok, "tampering went unnoticed"
    return "\n".join(report.problems)


def _flip(line: bytes) -> bytes:
    """`line` with one character of its sealed event changed."""
    at = line.index(b'"sealed":"') + 20
    edited = line[:at] + (b"B" if line[at : at + 1] == b"A" else b"A") + line[at + 1 :]
    assert edited != line
    return edited


def test_an_untouched_log_verifies_and_lists_its_events(keyring: Keyring) -> None:
    log = _filled(keyring)
    report = log.verify()
    assert report.ok and report.records == 5 and report.head_seq == 5
    assert report.head_mac is not None and len(report.head_mac) == 64
    assert [json.loads(e.event)["n"] for e in log.entries()] == [1, 2, 3, 4, 5]
    assert all(line.startswith(b'{"v":2,"mac":"') for line in _lines(log))
    for line in _lines(log):
        json.loads(line)  # every line is a JSON document (jq-friendly)


def test_an_empty_or_missing_log_verifies(keyring: Keyring) -> None:
    report = audit_log(keyring).verify()
    assert report.ok and report.records == 0 and report.head_seq is None


def test_an_edited_record_fails_its_mac(keyring: Keyring) -> None:
    log = _filled(keyring)
    lines = _lines(log)
    lines[2] = _flip(lines[2])
    _write(log, lines)
    problems = _problems(log)
    assert "line 3: record 3 fails its MAC (edited)" in problems
    assert problems.count("\n") == 0, "one edit is one problem"


def test_an_edited_sequence_number_is_caught(keyring: Keyring) -> None:
    log = _filled(keyring)
    lines = _lines(log)
    lines[1] = lines[1].replace(b'"seq":2,', b'"seq":9,')
    _write(log, lines)
    assert "fails its MAC" in _problems(log)


def test_a_removed_record_breaks_the_chain(keyring: Keyring) -> None:
    log = _filled(keyring)
    lines = _lines(log)
    del lines[1]
    _write(log, lines)
    assert "record 2 is missing (removed)" in _problems(log)


def test_reordered_records_break_the_chain(keyring: Keyring) -> None:
    log = _filled(keyring)
    lines = _lines(log)
    lines[1], lines[2] = lines[2], lines[1]
    _write(log, lines)
    assert "out of order" in _problems(log)


def test_a_record_copied_from_another_keyring_fails(tmp_path: Path, keyring: Keyring) -> None:
    log = _filled(keyring)
    other = _filled(open_kf(tmp_path / "other"))
    lines = _lines(log)
    lines[4] = _lines(other)[4]
    _write(log, lines)
    assert "record 5 fails its MAC" in _problems(log)


def test_records_cut_off_the_end_are_caught_by_the_head(keyring: Keyring) -> None:
    log = _filled(keyring)
    _write(log, _lines(log)[:3])
    assert "ends at record 3 but its head records 5" in _problems(log)


def test_emptying_the_log_is_caught(keyring: Keyring) -> None:
    log = _filled(keyring)
    _write(log, [])
    assert "truncated" in _problems(log)


def test_a_log_cut_in_the_middle_of_a_record_is_caught(keyring: Keyring) -> None:
    log = _filled(keyring)
    data = log.path.read_bytes()
    log.path.write_bytes(data[: len(data) - 40])
    assert "record cut short" in _problems(log)


def test_appending_after_a_truncation_keeps_it_visible(keyring: Keyring) -> None:
    log = _filled(keyring)
    _write(log, _lines(log)[:3])
    assert log.append(_event(6)) == 6
    problems = _problems(log)
    assert "records 4 to 5 are missing (removed)" in problems


def test_removing_the_head_is_caught_and_appends_refuse(keyring: Keyring) -> None:
    log = _filled(keyring)
    (log.path.parent / "head").unlink()
    assert "head removed" in _problems(log)
    with pytest.raises(KeyringCorruptError, match="audit log head"):
        log.append(_event(6))


def test_a_forged_head_is_caught_and_appends_refuse(keyring: Keyring) -> None:
    log = _filled(keyring)
    head = log.path.parent / "head"
    head.write_bytes(bytes(b ^ 0x55 for b in head.read_bytes()))
    assert "fails its integrity check" in _problems(log)
    with pytest.raises(KeyringCorruptError):
        log.append(_event(6))


def test_a_torn_last_line_is_reported_benign_and_removed_by_the_next_append(
    keyring: Keyring,
) -> None:
    log = _filled(keyring, 3)
    whole = log.path.read_bytes()
    with log.path.open("ab") as handle:  # an append that died half-way through its write
        handle.write(b'{"mac":"00ff","seq":4,"prev":"')
    report = log.verify()
    assert report.ok, report.problems
    assert any("interrupted append" in note for note in report.notes)
    assert log.append(_event(4)) == 4
    assert log.path.read_bytes().startswith(whole)
    report = log.verify()
    assert report.ok and report.records == 4 and not report.notes


def test_a_crash_between_the_log_write_and_the_head_write_is_recovered(
    keyring: Keyring,
) -> None:
    log = _filled(keyring, 3)
    head = log.path.parent / "head"
    before = head.read_bytes()
    log.append(_event(4))
    head.write_bytes(before)  # the head write of record 4 never happened
    report = log.verify()
    assert report.ok and report.head_seq == 3 and report.records == 4
    assert report.notes
    assert log.append(_event(5)) == 5  # record 4 is adopted, not duplicated
    report = log.verify()
    assert report.ok and report.records == 5 and report.head_seq == 5 and not report.notes


def test_a_crash_on_the_very_first_append_is_recovered(keyring: Keyring) -> None:
    log = audit_log(keyring)
    log.append(_event(1))
    (log.path.parent / "head").write_bytes(b"")  # created, never written
    assert log.verify().ok
    assert log.append(_event(2)) == 2
    assert log.verify().ok


def test_garbage_appended_by_hand_is_reported_and_the_chain_continues(
    keyring: Keyring,
) -> None:
    log = _filled(keyring, 2)
    with log.path.open("ab") as handle:
        handle.write(b'{"note": "nothing happened here"}\n')
    assert log.append(_event(3)) == 3
    problems = _problems(log)
    assert "line 3: not an audit record" in problems
    assert "out of order" not in problems


def test_events_must_be_one_line(keyring: Keyring) -> None:
    with pytest.raises(ValidationException):
        audit_log(keyring).append(b'{"a":\n1}')


def test_the_audit_directory_is_private_and_known_to_keyring_verify(keyring: Keyring) -> None:
    log = _filled(keyring, 1)
    assert log.path.parent.stat().st_mode & 0o777 == 0o700
    assert log.path.stat().st_mode & 0o777 == 0o600
    assert (log.path.parent / "head").stat().st_mode & 0o777 == 0o600
    assert keyring.verify_all() == []


def _append_many(home: str, cfg: str, count: int) -> None:
    keyring = open_keyring(
        Path(home), root_key_file=None, root_key_dir=Path(cfg), passphrase=no_passphrase
    )
    log = audit_log(keyring)
    for n in range(count):
        log.append(_event(os.getpid() * 1000 + n))


def test_many_processes_appending_at_once_keep_one_valid_chain(
    tmp_path: Path, keyring: Keyring
) -> None:
    context = multiprocessing.get_context("fork")
    workers = [
        context.Process(
            target=_append_many, args=(str(tmp_path / "home"), str(tmp_path / "cfg"), 25)
        )
        for _ in range(6)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    report = audit_log(keyring).verify()
    assert report.ok, report.problems
    assert report.records == report.head_seq == 150
    assert len({e.event for e in audit_log(keyring).entries()}) == 150


def test_check_refuses_before_an_operation_what_append_would_refuse(keyring: Keyring) -> None:
    log = audit_log(keyring)
    log.check()  # no trail yet
    _filled(keyring, 3)
    log.check()
    head = log.path.parent / "head"
    saved = head.read_bytes()
    head.write_bytes(b"\x01" * len(saved))
    with pytest.raises(KeyringCorruptError):
        log.check()
    head.unlink()
    with pytest.raises(KeyringCorruptError):
        log.check()


def test_a_sealed_event_is_bound_to_its_sequence_number(keyring: Keyring) -> None:
    """A sealed event moved onto another record (with a MAC that holds) does not open."""
    from kmscli.store.auditrecord import RecordCodec

    log = _filled(keyring)
    keys = keyring._keys
    codec = RecordCodec(keys.audit, keys.audit_seal, keyring.info.keyring_id.encode())
    lines = _lines(log)
    third, fourth = codec.parse(lines[2]), codec.parse(lines[3])
    assert third is not None and fourth is not None
    assert codec.event(third) is not None
    # Record 4 rebuilt around record 3's sealed event, MAC and chain made right.
    body = b'"seq":4,"prev":"%s","sealed":"%s"' % (fourth.prev.hex().encode(), third.payload)
    from kmscli.crypto.primitives import hmac_sha256

    label = b"kmscli audit record v2\0" + keyring.info.keyring_id.encode() + b"\0"
    mac = hmac_sha256(keys.audit, label + body)
    moved = codec.parse(b'{"v":2,"mac":"' + mac.hex().encode() + b'",' + body + b"}")
    assert moved is not None and codec.mac_ok(moved)
    assert codec.event(moved) is None


def test_a_record_of_a_newer_format_asks_for_an_upgrade(keyring: Keyring) -> None:
    log = _filled(keyring)
    lines = _lines(log)
    lines.append(b'{"v":3,"mac":"00","whatever":true}\n')
    _write(log, lines)
    with pytest.raises(KeyringVersionError, match="newer kmscli"):
        log.verify()
    with pytest.raises(KeyringVersionError):
        log.entries()


def test_the_log_reveals_only_counts_and_sizes(keyring: Keyring) -> None:
    log = audit_log(keyring)
    log.append(json.dumps({"n": 1, "secret": "hunter2-context"}).encode())
    raw = log.path.read_bytes()
    assert b"hunter2" not in raw and b"secret" not in raw
    assert [json.loads(e.event)["secret"] for e in log.entries()] == ["hunter2-context"]
