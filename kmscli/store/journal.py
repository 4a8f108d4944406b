"""Atomic multi-record transactions, with their audit events: the redo journal and recovery.

Owns: turning one transaction's puts, deletes and audit events into files on disk so that,
whatever moment the process dies at, the records end up either all old or all new, and the
audit log holds the transaction's events exactly when its records are new. It runs only under
the keyring's exclusive lock (the caller takes it; every audit append, even of an operation that
changes nothing, happens under the keyring's lock, so nobody appends to the log while a
transaction is open) and knows records only as opaque encoded bytes, events as opaque lines.

Commit protocol:
  1. note where the audit chain ends (the base: seq, log size, MAC) and make the events' record
     lines after it; write `journal.pending` (the authenticated list of renames/deletes, the
     lines and the base) and fsync it; its
     mere presence also marks "temporary files may be lying around";
  2. write each new record as `.tmp-<txid>-<n>` in its kind directory, fsync each, then
     fsync those directories;
  3. rename `journal.pending` → `journal` and fsync home: the commit point;
  4. append the events to the audit log after the base (fdatasync, head): from here on, the
     records are meant to change and the trail says so;
  5. rename the temporaries onto their records (among them the audit anchor,
     kmscli.store.anchor, naming the last event), unlink deleted records, fsync the directories;
  6. unlink `journal`.

A failure before step 3 leaves nothing changed. A failure in step 4 (a full disk, a file size
limit) is undone by the failing process, which still holds the lock: the log is cut back to the
base, the head and `journal` removed, the temporaries swept, so the change did not happen and
was not audited. A failure in steps 5-6 leaves `journal` for the next opener.

Recovery (under the exclusive lock, whenever a journal file is seen): a `journal` is rolled
forward (steps 4-6 are idempotent: records already in the log after the base are found by their
events, which carry a unique event ID, and not appended twice), then every `.tmp-*` file is swept
and `journal.pending` removed. A `journal` that fails its check is corruption;
`journal.pending` is never trusted or read, and no event is appended before it is renamed, so
discarding it discards a transaction and its events together.

Journal format: `KMSJ` ‖ 1 ‖ AES-GCM(journal subkey, JSON) with a fixed label as associated
data. Payload version 1 (`{"v":1,"ops":[[kind,name,temp|null]...]}`, written by kmscli before
audit events were journaled) is still read; version 2 adds `"audit":{"base":[seq,size,mac],
"lines":[base64...]}` (the audit records, sealed and chained, ready to append) when the
transaction has events.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from kmscli.crypto.primitives import AuthenticationError, aes_gcm_open, aes_gcm_seal, random_bytes
from kmscli.errors import KeyringCorruptError, KMSInternalException, ValidationException
from kmscli.files.durable import make_dirs, rename, sync_directory, write_new
from kmscli.store import anchor, layout
from kmscli.store.auditlog import AuditLog, Position
from kmscli.store.keyringfiles import read_bytes, temp_name
from kmscli.store.records import encode_record
from kmscli.store.subkeys import Subkeys
from kmscli.store.versions import known_version, newer

JOURNAL_MAGIC = b"KMSJ"
JOURNAL_VERSION = 1
MAGIC = JOURNAL_MAGIC + bytes([JOURNAL_VERSION])
_AAD = b"kmscli journal v1"
_PAYLOAD_VERSION = 2  # 1: before audit events were journaled (still read)
_TEMP_RE = r"\.tmp-[0-9a-f]{16}-[0-9]+"  # compiled on first use: only recovery reads a journal


# Plain classes rather than NamedTuples or dataclasses: far cheaper to create at import.


class Op:
    """Set record (kind, name) to `data`, or delete it when `data` is None."""

    __slots__ = ("data", "kind", "name")

    def __init__(self, kind: str, name: str, data: bytes | None) -> None:
        self.kind: Final = kind
        self.name: Final = name
        self.data: Final = data


class PendingAudit:
    """A transaction's audit records (whole lines, as `AuditLog.prepare` made them) and the
    point of the chain they follow."""

    __slots__ = ("base", "lines")

    def __init__(self, base: Position, lines: Sequence[bytes]) -> None:
        self.base: Final = base
        self.lines: Final = tuple(lines)


class Entry:
    """One journal line: the record, and the temporary that replaces it (None: delete)."""

    __slots__ = ("kind", "name", "temp")

    def __init__(self, kind: str, name: str, temp: str | None) -> None:
        self.kind: Final = kind
        self.name: Final = name
        self.temp: Final = temp


def _corrupt() -> KeyringCorruptError:
    return KeyringCorruptError(
        f"keyring file '{layout.JOURNAL}' failed its integrity check",
        hints=["restore the keyring directory from a backup"],
    )


def encode_journal(
    keys: Subkeys, entries: Sequence[Entry], audit: PendingAudit | None = None
) -> bytes:
    document: dict[str, object] = {
        "v": _PAYLOAD_VERSION,
        "ops": [[e.kind, e.name, e.temp] for e in entries],
    }
    if audit is not None:
        base = audit.base
        document["audit"] = {
            "base": [base.seq, base.size, base.mac.hex()],
            "lines": [base64.b64encode(line).decode("ascii") for line in audit.lines],
        }
    payload = json.dumps(document, separators=(",", ":")).encode()
    return MAGIC + aes_gcm_seal(keys.journal, payload, _AAD)


def decode_journal(keys: Subkeys, blob: bytes) -> tuple[list[Entry], PendingAudit | None]:
    if not known_version(blob, JOURNAL_MAGIC, JOURNAL_VERSION, where="the keyring's journal"):
        raise _corrupt()
    try:
        payload = json.loads(aes_gcm_open(keys.journal, blob[len(MAGIC) :], _AAD))
    except (AuthenticationError, ValueError):
        raise _corrupt() from None
    if not isinstance(payload, dict):
        raise _corrupt()
    found = payload.get("v")
    if isinstance(found, int) and not isinstance(found, bool) and found > _PAYLOAD_VERSION:
        raise newer("the keyring's journal", found, _PAYLOAD_VERSION)
    if found not in (1, _PAYLOAD_VERSION):
        raise _corrupt()
    ops = payload.get("ops")
    if not isinstance(ops, list):
        raise _corrupt()
    entries: list[Entry] = []
    for op in ops:
        if not (isinstance(op, list) and len(op) == 3):
            raise _corrupt()
        kind, name, temp = op
        if not (isinstance(kind, str) and isinstance(name, str)):
            raise _corrupt()
        if temp is not None and not (isinstance(temp, str) and re.fullmatch(_TEMP_RE, temp)):
            raise _corrupt()
        try:
            layout.check_kind(kind)
            layout.name_bytes(name)
        except ValidationException:
            raise _corrupt() from None
        entries.append(Entry(kind, name, temp))
    raw_audit = payload.get("audit") if payload["v"] == 2 else None
    return entries, None if raw_audit is None else _decode_audit(raw_audit)


def _decode_audit(raw: object) -> PendingAudit:
    # Sealed under the journal subkey, so this only guards against a bug, never an attacker.
    if not isinstance(raw, dict):
        raise _corrupt()
    base, lines = raw.get("base"), raw.get("lines")
    if not (isinstance(base, list) and len(base) == 3 and isinstance(lines, list) and lines):
        raise _corrupt()
    seq, size, mac = base
    if not (_count(seq) and _count(size) and isinstance(mac, str)):
        raise _corrupt()
    try:
        decoded = [base64.b64decode(line, validate=True) for line in lines]
        return PendingAudit(Position(seq, size, bytes.fromhex(mac)), decoded)
    except (TypeError, ValueError):
        raise _corrupt() from None


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class Staged:
    """Steps 1-2 done: the journal's entries and the directories they touch."""

    __slots__ = ("audit", "dirs", "entries")

    def __init__(
        self, entries: list[Entry], dirs: frozenset[Path], audit: PendingAudit | None
    ) -> None:
        self.entries: Final = entries
        self.dirs: Final = dirs
        self.audit: Final = audit


def stage(
    naming: layout.Naming, keys: Subkeys, ops: Sequence[Op], audit: PendingAudit | None = None
) -> Staged:
    """Steps 1-2: the pending journal and the fsynced temporaries. Nothing is visible yet."""
    home = naming.home
    txid = random_bytes(8).hex()
    entries: list[Entry] = []
    for number, op in enumerate(ops):
        temp = None if op.data is None else f"{layout.TEMP_PREFIX}{txid}-{number}"
        entries.append(Entry(op.kind, op.name, temp))
    dirs = frozenset(naming.kind_dir(op.kind) for op in ops)
    write_new(home / layout.JOURNAL_PENDING, encode_journal(keys, entries, audit))
    for op, entry in zip(ops, entries, strict=True):
        if op.data is None or entry.temp is None:
            continue
        directory = naming.kind_dir(op.kind)
        make_dirs(directory)
        write_new(directory / entry.temp, encode_record(keys, naming, op.kind, op.name, op.data))
    for directory in dirs:
        if directory.is_dir():
            sync_directory(directory)
    return Staged(entries, dirs, audit)


def commit_point(home: Path) -> None:
    """Step 3: after this returns, the transaction survives any crash."""
    rename(home / layout.JOURNAL_PENDING, home / layout.JOURNAL)
    sync_directory(home)


def apply(naming: layout.Naming, entries: Iterable[Entry]) -> None:
    """Step 4-5, idempotent: safe to repeat after a crash in the middle of it."""
    dirs: set[Path] = set()
    for entry in entries:
        directory = naming.kind_dir(entry.kind)
        target = directory / naming.filename(entry.kind, entry.name)
        try:
            if entry.temp is None:
                os.unlink(target)
            else:
                rename(directory / entry.temp, target)
        except FileNotFoundError:
            continue  # done before the crash (or, for a delete, nothing to delete)
        dirs.add(directory)
    for directory in dirs:
        sync_directory(directory)
    # No fsync of home after this unlink: if it is lost, replaying the journal again is
    # harmless, and the next commit point fsyncs home (and this entry) anyway.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(naming.home / layout.JOURNAL)


def apply_audit(
    naming: layout.Naming,
    keys: Subkeys,
    log: AuditLog,
    audit: PendingAudit,
    entries: Sequence[Entry],
) -> None:
    """Step 4, idempotent: the events in the log after their base. The anchor staged with them
    names where they were expected to end; should they end elsewhere (only when something
    appended to the log behind the keyring's lock), its temporary is rewritten to match."""
    last = log.append_lines(audit.base, audit.lines)
    expected = log.chain_end(audit.base, audit.lines)
    if (last.seq, last.size, last.mac) == (expected.seq, expected.size, expected.mac):
        return
    for entry in entries:
        if (entry.kind, entry.name) == (anchor.KIND, anchor.NAME) and entry.temp is not None:
            directory = naming.kind_dir(entry.kind)
            fresh = directory / temp_name("anchor-")
            record = encode_record(keys, naming, entry.kind, entry.name, anchor.encode(last))
            write_new(fresh, record)
            rename(fresh, directory / entry.temp)
            sync_directory(directory)


def commit(
    naming: layout.Naming,
    keys: Subkeys,
    ops: Sequence[Op],
    events: Sequence[bytes] = (),
    log: AuditLog | None = None,
    anchored: Position | None = None,
) -> None:
    """Steps 1-6. An error before step 5 leaves the records and the audit log untouched.

    With `events`, the anchor moves to the last of them, unless the log no longer holds the
    record `anchored` (the current anchor) names: then the anchor stays, and keeps the loss
    visible to verification."""
    if not ops:
        if events:
            raise KMSInternalException("audit events without a change are appended, not committed")
        return
    home = naming.home
    audit: PendingAudit | None = None
    if events:
        if log is None:
            raise KMSInternalException("a transaction with audit events needs the audit log")
        base = log.position()
        audit = PendingAudit(base, log.prepare(base, events))
        if anchored is None or log.holds(anchored):
            expected = log.chain_end(audit.base, audit.lines)
            ops = [*ops, Op(anchor.KIND, anchor.NAME, anchor.encode(expected))]
    try:
        staged = stage(naming, keys, ops, audit)
        commit_point(home)
    except BaseException:
        with contextlib.suppress(OSError):
            discard(home)
        raise
    if audit is not None and log is not None:
        try:
            apply_audit(naming, keys, log, audit, staged.entries)
        except BaseException:
            _undo(home, log, audit.base)
            raise
    # From here on the transaction has happened; an error in apply leaves the journal for the
    # next opener to roll forward.
    apply(naming, staged.entries)


def _undo(home: Path, log: AuditLog, base: Position) -> None:
    """Take back a committed transaction whose audit events did not get into the log: no
    record was renamed yet. The log goes back first, so a crash in between leaves a journal
    that recovery completes (events and records together)."""
    with contextlib.suppress(Exception):  # what cannot be undone, recovery completes
        log.restore(base)
        os.unlink(home / layout.JOURNAL)
        sync_directory(home)
        discard(home)


def discard(home: Path) -> None:
    """Undo steps 1-2 after a failure (same as recovery without a journal)."""
    if not os.path.lexists(home / layout.JOURNAL):
        sweep(home)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(home / layout.JOURNAL_PENDING)


def needs_recovery(home: Path) -> bool:
    return os.path.lexists(home / layout.JOURNAL) or os.path.lexists(home / layout.JOURNAL_PENDING)


def temp_files(home: Path) -> list[Path]:
    """Every temporary file in the keyring (leftovers, when no writer holds the lock)."""
    found = [home / n for n in os.listdir(home) if n.startswith(layout.TEMP_PREFIX)]
    for records_name in layout.RECORD_DIRS:
        records = home / records_name
        try:
            kinds = os.listdir(records)
        except FileNotFoundError:
            continue
        for kind in kinds:
            directory = records / kind
            if not directory.is_dir():
                continue
            found.extend(
                directory / n for n in os.listdir(directory) if n.startswith(layout.TEMP_PREFIX)
            )
    return found


def sweep(home: Path) -> None:
    for path in temp_files(home):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def recover(naming: layout.Naming, keys: Subkeys, log: AuditLog | None = None) -> None:
    """Finish or discard whatever a crashed writer left. Caller holds the exclusive lock."""
    home = naming.home
    journal = home / layout.JOURNAL
    blob = read_bytes(journal)
    if blob is not None:
        entries, audit = decode_journal(keys, blob)
        if audit is not None:
            if log is None:
                raise KMSInternalException("recovering audit events needs the audit log")
            apply_audit(naming, keys, log, audit, entries)
        apply(naming, entries)
    sweep(home)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(home / layout.JOURNAL_PENDING)
    sync_directory(home)
