"""The keyring's audit log: an append-only, MAC-chained file of event records, and its head.

Owns the on-disk format of `<home>/audit/` (the record lines themselves, sealed events included,
are kmscli.store.auditrecord's), appending records safely from many processes, recovering from
a crash in the middle of an append, and verifying the chain, also against the keyring's anchor
(kmscli.store.anchor). Events are opaque one-line JSON values here (the KMS layer decides what
they say); nothing in this module knows what an operation is. It never prints, reads the
environment or exits.

Files (directory 0700, files 0600):

    <home>/audit/log    one record a line (auditrecord: version 2, the event sealed, written;
                        version 1, the event in clear, still read and verified)
    <home>/audit/head   two 128-byte slots, each: b"KMAH" ‖ version 1 ‖ u64 seq ‖ u64 log size
                        ‖ 32-byte MAC of record seq ‖ HMAC of the slot; also the flock target

Each record carries `seq` (counting from 1), `prev` (the MAC of record seq-1, 64 zeros for the
first) and its MAC under the audit subkey. So an edited record fails its MAC, and a removed,
inserted or reordered one breaks `seq`/`prev`. Records cut off the end of the log are caught by
the head: after each append it records (seq, log size, MAC) of the last record in the slot
`seq % 2`, so a torn head write leaves the other slot valid. A trail removed or cut back with
its head (what the head alone cannot see) is caught by the anchor: `verify(anchor)` requires
the record of the keyring's last change to be there.

Appending one event (under an exclusive flock on `head`, and, by the keyring's rule, its shared
lock): read the head; if the log is longer than the head says, the bytes past it are records of
an append that crashed before its head write (adopted when they chain) or a torn last line (cut
off); append the new line with one O_APPEND write, fdatasync it, then write the head slot.
Reading the log is never needed on the common path: the cost of an append is two small reads,
one write, one fdatasync and one pwrite.

A keyring transaction's events go through its journal instead (kmscli.store.journal):
`position` (where the chain ends), `prepare` (their lines after it), `append_lines` (idempotent,
for the commit and for recovery) and `restore` (cut back after a failed append).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from kmscli.crypto.primitives import constant_time_equal, hmac_sha256, hmac_sha256_verify
from kmscli.errors import (
    InputOutputError,
    KeyringCorruptError,
    KMSInternalException,
    ValidationException,
)
from kmscli.files.durable import make_dirs, sync, sync_data
from kmscli.store.auditrecord import Parsed, RecordCodec
from kmscli.store.keyringfiles import io_error, open_regular, read_bytes
from kmscli.store.layout import AUDIT

if TYPE_CHECKING:
    from kmscli.store.keyring import Keyring

AUDIT_DIR = AUDIT
LOG = "log"
HEAD = "head"

_HEAD_LABEL = b"kmscli audit head v1\0"
_HEAD_MAGIC = b"KMAH\x01"
_SLOT = struct.Struct(">5sQQ32s32s")
_SLOT_BYTES = 128
_GENESIS = bytes(32)
_MAX_EVENT_BYTES = 1 << 20
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


# The records of this module are plain classes: every command imports it, and creating a
# dataclass or a NamedTuple costs far more at import than a class with __slots__.


class AuditEntry:
    """One parsed line of the log (not verified)."""

    __slots__ = ("event", "line", "seq")

    def __init__(self, line: int, seq: int, event: bytes) -> None:
        self.line: Final = line
        self.seq: Final = seq
        self.event: Final = event


class AuditReport:
    """The result of `AuditLog.verify`: problems mean tampering; notes are benign."""

    __slots__ = ("head_mac", "head_seq", "notes", "problems", "records")

    def __init__(
        self,
        records: int,
        head_seq: int | None,
        head_mac: str | None,
        problems: tuple[str, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        self.records: Final = records
        self.head_seq: Final = head_seq
        self.head_mac: Final = head_mac
        self.problems: Final = problems
        self.notes: Final = notes

    @property
    def ok(self) -> bool:
        return not self.problems


class Position:
    """A point of the chain: a record's sequence number, the log size after it, and its MAC
    (what a head slot holds; seq 0 is the empty log)."""

    __slots__ = ("mac", "seq", "size")

    def __init__(self, seq: int, size: int, mac: bytes) -> None:
        self.seq: Final = seq
        self.size: Final = size
        self.mac: Final = mac


_EMPTY = Position(0, 0, _GENESIS)


class AuditLog:
    """The audit log of one keyring directory, keyed by the keyring's audit subkey."""

    def __init__(self, home: Path, key: bytes, keyring_id: str, seal_key: bytes) -> None:
        self._dir = Path(home) / AUDIT_DIR
        self._key = key
        self._keyring_id = keyring_id.encode("ascii")
        self._codec = RecordCodec(key, seal_key, self._keyring_id)

    def __repr__(self) -> str:  # never show the key
        return f"AuditLog({str(self._dir)!r})"

    @property
    def path(self) -> Path:
        return self._dir / LOG

    # -- MACs ------------------------------------------------------------------------------------

    def _slot_mac_input(self, seq: int, size: int, mac: bytes) -> bytes:
        fields = _HEAD_MAGIC + struct.pack(">QQ", seq, size) + mac
        return _HEAD_LABEL + self._keyring_id + b"\0" + fields

    def _slot_mac(self, seq: int, size: int, mac: bytes) -> bytes:
        return hmac_sha256(self._key, self._slot_mac_input(seq, size, mac))

    def _slot_mac_ok(self, seq: int, size: int, mac: bytes, check: bytes) -> bool:
        return hmac_sha256_verify(self._key, self._slot_mac_input(seq, size, mac), check)

    def _line(self, seq: int, prev: bytes, event: bytes) -> tuple[bytes, bytes]:
        return self._codec.line(seq, prev, event)

    def _record(self, raw: bytes) -> Parsed | None:
        """The record `raw` holds if its MAC is right, else None."""
        record = self._codec.parse(raw)
        if record is None or not self._codec.mac_ok(record):
            return None
        return record

    def _check_line(self, raw: bytes, seq: int, prev: bytes) -> bytes | None:
        """The MAC of `raw` if it is record `seq` chained to `prev`, else None."""
        record = self._record(raw)
        if record is None or record.seq != seq or record.prev != prev:
            return None
        return record.mac

    # -- the head --------------------------------------------------------------------------------

    def _read_head(self, fd: int) -> Position | None:
        """The newest valid slot; _EMPTY for an empty file; None when no slot is valid."""
        raw = os.pread(fd, 2 * _SLOT_BYTES, 0)
        if not raw.strip(b"\0"):
            return _EMPTY
        best: Position | None = None
        for offset in (0, _SLOT_BYTES):
            slot = self._slot(raw[offset : offset + _SLOT_BYTES])
            if slot is not None and (best is None or slot.seq > best.seq):
                best = slot
        return best

    def _slot(self, raw: bytes) -> Position | None:
        """The position a head slot holds, None if it holds no valid one."""
        chunk = raw[: _SLOT.size]
        if len(chunk) < _SLOT.size:
            return None
        magic, seq, size, mac, check = _SLOT.unpack(chunk)
        if magic != _HEAD_MAGIC or not self._slot_mac_ok(seq, size, mac, check):
            return None
        return Position(seq, size, mac)

    def _write_head(self, fd: int, head: Position) -> None:
        slot = _SLOT.pack(
            _HEAD_MAGIC,
            head.seq,
            head.size,
            head.mac,
            self._slot_mac(head.seq, head.size, head.mac),
        )
        os.pwrite(fd, slot.ljust(_SLOT_BYTES, b"\0"), (head.seq % 2) * _SLOT_BYTES)

    def _unwritable(self) -> InputOutputError:
        """A change needs its audit record: a trail that cannot be written refuses it (an
        operation that changes nothing goes on unaudited on a read-only keyring)."""
        return InputOutputError(
            f"cannot write the audit log in '{self._dir}' (read-only): the change is refused, "
            "as every change must be audited",
            hints=["make the keyring directory writable"],
        )

    def _corrupt_head(self) -> KeyringCorruptError:
        return KeyringCorruptError(
            f"the audit log head '{AUDIT_DIR}/{HEAD}' failed its integrity check",
            hints=[
                "run 'kmscli audit --verify' to see what changed",
                "restore the keyring from a backup (kmscli keyring restore)",
            ],
        )

    # -- appending -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[int | None]:
        """The head's descriptor under flock; None when there is no log to read (readers)
        or it cannot be written (a read-only keyring)."""
        path = self._dir / HEAD
        try:
            if exclusive:
                make_dirs(self._dir)
                fd = open_regular(path, os.O_RDWR | os.O_CREAT)
            else:
                fd = open_regular(path, os.O_RDONLY)
        except FileNotFoundError:
            if exclusive:
                raise
            yield None
            return
        except OSError as exc:
            if exc.errno in _READ_ONLY:
                yield None
                return
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield fd
        finally:
            os.close(fd)

    def check(self) -> None:
        """Raise KeyringCorruptError now if the next append would refuse (a forged or removed
        head), so that an operation is refused before it acts rather than after."""
        try:
            fd = open_regular(self._dir / HEAD, os.O_RDONLY)
        except FileNotFoundError:
            head: Position | None = _EMPTY
        except OSError:
            return  # unreadable: append reports it (or skips a read-only keyring)
        else:
            try:
                head = self._read_head(fd)
            finally:
                os.close(fd)
        if head is None:
            raise self._corrupt_head()
        if head.seq == 0:
            try:
                data = read_bytes(self._dir / LOG, limit=None) or b""
            except OSError:
                return
            if data.count(b"\n") > 1:
                raise self._corrupt_head()

    def append(self, event: bytes) -> int | None:
        """Append one event (a one-line JSON value); its sequence number.

        None when the keyring cannot be written (read-only directory or file system): such a
        keyring can still be used, unaudited. KeyringCorruptError when the head was tampered
        with, InputOutputError for other I/O failures.
        """
        _check_event(event)
        try:
            with self._locked(exclusive=True) as head_fd:
                if head_fd is None:
                    return None
                return self._append_locked(head_fd, event)
        except OSError as exc:
            if exc.errno in _READ_ONLY:
                return None
            raise io_error(self._dir, exc, "append to the audit log in") from None

    def _append_locked(self, head_fd: int, event: bytes) -> int:
        head = self._read_head(head_fd)
        if head is None:
            raise self._corrupt_head()
        log_fd = self._open_log()
        try:
            head = self._catch_up(log_fd, head)
            line, mac = self._line(head.seq + 1, head.mac, event)
            view = memoryview(line)
            while view:
                view = view[os.write(log_fd, view) :]
            sync_data(log_fd)
            size = os.fstat(log_fd).st_size
        finally:
            os.close(log_fd)
        new = Position(head.seq + 1, size, mac)
        self._write_head(head_fd, new)
        return new.seq

    def _catch_up(self, log_fd: int, head: Position, *, trusted: bool = False) -> Position:
        """Account for what an interrupted append left past the head (see the module doc).

        A log shorter than the head says lost records off its end: the next record still
        chains to the head, so the gap stays visible to verify. Bytes past the head are
        adopted when they are records chaining to it (an append that died before its head
        write), skipped when they are not (verify reports them), and cut off when they are an
        unfinished last line. An append can leave at most one record without a head, so a
        missing head with more behind it was removed: refuse rather than hide it.
        """
        size = os.fstat(log_fd).st_size
        if size <= head.size:
            return head
        extra = os.pread(log_fd, size - head.size, head.size)
        lines = extra.splitlines(keepends=True)
        if not trusted and head.seq == 0 and sum(1 for raw in lines if raw.endswith(b"\n")) > 1:
            raise self._corrupt_head()
        position, seq, mac = head.size, head.seq, head.mac
        for raw in lines:
            if not raw.endswith(b"\n"):
                os.ftruncate(log_fd, position)
                break
            position += len(raw)
            adopted = self._check_line(raw, seq + 1, mac)
            if adopted is not None:
                seq, mac = seq + 1, adopted
        return Position(seq, position, mac)

    # -- appending as part of a keyring transaction (see kmscli.store.journal) --------------------

    def position(self) -> Position:
        """Where the chain ends now, after settling what an interrupted append left (see
        `_catch_up`): the base a transaction's events are appended after. The caller holds the
        keyring's exclusive lock, so no other appender can move it until the transaction ends."""
        try:
            with self._locked(exclusive=True) as head_fd:
                if head_fd is None:
                    raise self._unwritable()
                head = self._read_head(head_fd)
                if head is None:
                    raise self._corrupt_head()
                log_fd = self._open_log()
                try:
                    return self._catch_up(log_fd, head)
                finally:
                    os.close(log_fd)
        except OSError as exc:
            raise io_error(self._dir, exc, "append to the audit log in") from None

    def _open_log(self) -> int:
        return open_regular(self._dir / LOG, os.O_RDWR | os.O_APPEND | os.O_CREAT)

    def prepare(self, base: Position, events: Sequence[bytes]) -> list[bytes]:
        """The record lines of `events` appended after `base` (no I/O): what a transaction's
        journal carries, so that appending them, even again after a crash, writes these
        bytes (sealing is randomized: the same event sealed twice differs)."""
        lines: list[bytes] = []
        seq, mac = base.seq, base.mac
        for event in events:
            _check_event(event)
            line, mac = self._line(seq + 1, mac, event)
            lines.append(line)
            seq += 1
        return lines

    def chain_end(self, base: Position, lines: Sequence[bytes]) -> Position:
        """Where the chain ends once `lines` (from `prepare`) follow `base`."""
        size = base.size + sum(len(line) for line in lines)
        last = self._codec.parse(lines[-1]) if lines else None
        return Position(base.seq + len(lines), size, base.mac if last is None else last.mac)

    def append_lines(self, base: Position, lines: Sequence[bytes]) -> Position:
        """Make sure the records `lines` (from `prepare`) are in the log after `base`, in
        order; the position of the last one. Idempotent: records an earlier, interrupted
        attempt appended are found (by their event, which carries a unique event ID) and not
        appended again, so recovery can repeat it. Lines that no longer chain (something was
        appended behind the keyring's lock) are sealed again where the chain ends. Raises
        OSError (the caller rolls back or leaves the journal)."""
        records = [self._record(line) for line in lines]
        events = [None if r is None else self._codec.event(r) for r in records]
        with self._locked(exclusive=True) as head_fd:
            if head_fd is None:
                raise self._unwritable()
            head = self._read_head(head_fd)
            if head is None:
                raise self._corrupt_head()
            log_fd = self._open_log()
            try:
                # `base` comes from the sealed journal: what follows it may be several records
                # of this transaction whose head write an interruption prevented.
                start = head if head.seq > base.seq else base
                end = self._catch_up(log_fd, start, trusted=True)
                present = self._events_after(log_fd, base, end)
                last: Position | None = None
                out: list[bytes] = []
                size = os.fstat(log_fd).st_size  # where O_APPEND writes (a cut log is shorter)
                for line, record, event in zip(lines, records, events, strict=True):
                    if record is None or event is None:
                        raise KMSInternalException("a journaled audit record does not open")
                    found = present.get(event)
                    if found is not None:
                        last = found
                        continue
                    written, mac = line, record.mac
                    if (record.seq, record.prev) != (end.seq + 1, end.mac):
                        written, mac = self._line(end.seq + 1, end.mac, event)
                    out.append(written)
                    size += len(written)
                    end = last = Position(end.seq + 1, size, mac)
                if out:
                    view = memoryview(b"".join(out))
                    while view:
                        view = view[os.write(log_fd, view) :]
                    sync_data(log_fd)
            finally:
                os.close(log_fd)
            self._write_head(head_fd, end)
            sync(head_fd)
        if last is None:  # pragma: no cover (a transaction always has an event)
            raise KMSInternalException("a transaction committed without an audit event")
        return last

    def holds(self, anchor: Position) -> bool:
        """Whether the log still holds record `anchor.seq`, with its MAC, ending at
        `anchor.size` (a cheap check: one read of the end of that line)."""
        if anchor.size < 2:
            return False
        try:
            with os.fdopen(open_regular(self._dir / LOG, os.O_RDONLY), "rb") as log:
                start = anchor.size
                while True:
                    start = max(0, start - 4096)
                    log.seek(start)
                    chunk = log.read(anchor.size - start)
                    if len(chunk) != anchor.size - start or not chunk.endswith(b"\n"):
                        return False
                    newline = chunk.rfind(b"\n", 0, len(chunk) - 1)
                    if newline >= 0 or start == 0:
                        break
                    if anchor.size - start > 2 * _MAX_EVENT_BYTES:
                        return False
        except FileNotFoundError:
            return False
        record = self._record(chunk[newline + 1 :])
        return (
            record is not None
            and record.seq == anchor.seq
            and constant_time_equal(record.mac, anchor.mac)
        )

    def _events_after(self, log_fd: int, base: Position, end: Position) -> dict[bytes, Position]:
        """The events of the records chained after `base`, up to `end`."""
        found: dict[bytes, Position] = {}
        if end.size <= base.size:
            return found
        data = os.pread(log_fd, end.size - base.size, base.size)
        seq, mac, size = base.seq, base.mac, base.size
        for raw in data.splitlines(keepends=True):
            size += len(raw)
            record = self._record(raw)
            if record is None or (record.seq, record.prev) != (seq + 1, mac):
                continue
            seq, mac = record.seq, record.mac
            event = self._codec.event(record)
            if event is not None:
                found.setdefault(event, Position(seq, size, mac))
        return found

    def restore(self, base: Position) -> None:
        """Undo `append_events` after a failure before any record changed: cut the log back to
        `base` and make the head say so. Raises OSError."""
        with self._locked(exclusive=True) as head_fd:
            if head_fd is None:
                raise self._unwritable()
            log_fd = self._open_log()
            try:
                if os.fstat(log_fd).st_size > base.size:
                    os.ftruncate(log_fd, base.size)
                    sync_data(log_fd)
            finally:
                os.close(log_fd)
            # Only a slot naming a record past the base is rewritten (the newest valid slot
            # wins): base in its own slot, zeros in the other; an empty head is all zeros.
            raw = os.pread(head_fd, 2 * _SLOT_BYTES, 0)
            changed = False
            for index in (0, 1):
                slot = self._slot(raw[index * _SLOT_BYTES : (index + 1) * _SLOT_BYTES])
                if slot is None or slot.seq <= base.seq:
                    continue
                changed = True
                if base.seq and index == base.seq % 2:
                    self._write_head(head_fd, base)
                else:
                    os.pwrite(head_fd, bytes(_SLOT_BYTES), index * _SLOT_BYTES)
            if changed:
                sync(head_fd)

    # -- reading ---------------------------------------------------------------------------------

    def _read_log(self) -> bytes:
        return read_bytes(self._dir / LOG, limit=None) or b""

    def entries(self) -> list[AuditEntry]:
        """Every line that parses as a record, in file order, with its event (opened, for a
        sealed record; one that does not open is left out). Not verified: see `verify`."""
        try:
            with self._locked(exclusive=False):
                data = self._read_log()
        except OSError as exc:
            raise io_error(self._dir, exc, "read the audit log in") from None
        found: list[AuditEntry] = []
        for number, raw in enumerate(data.splitlines(), start=1):
            record = self._codec.parse(raw)
            event = None if record is None else self._codec.event(record)
            if record is not None and event is not None:
                found.append(AuditEntry(number, record.seq, event))
        return found

    def verify(self, anchor: Position | None = None) -> AuditReport:
        """Check every record's MAC, the chain, and the end of the log against the head and
        against `anchor`, the keyring's sealed record of its last change's audit record (None:
        no change anchored yet). Read the anchor first: it never gets ahead of the log."""
        try:
            with self._locked(exclusive=False) as head_fd:
                head = _EMPTY if head_fd is None else self._read_head(head_fd)
                data = self._read_log()
        except OSError as exc:
            raise io_error(self._dir, exc, "read the audit log in") from None
        return self._verify(data, head, anchor)

    @staticmethod
    def _anchor_problems(
        macs: dict[int, bytes], last_seq: int, head: Position | None, anchor: Position
    ) -> list[str]:
        """The log must still hold record `anchor.seq` with MAC `anchor.mac`, and the head
        must not be older than it."""
        problems: list[str] = []
        mac = macs.get(anchor.seq)
        if mac is None:
            if last_seq < anchor.seq:
                problems.append(
                    f"the log ends at record {last_seq} but the keyring's last change was "
                    f"recorded as record {anchor.seq}: the audit trail was removed or truncated"
                )
            else:
                problems.append(
                    f"record {anchor.seq}, the keyring's last change, is missing (removed)"
                )
        elif not constant_time_equal(mac, anchor.mac):
            problems.append(
                f"record {anchor.seq} is not the one the keyring's last change committed with "
                "(the audit trail was replaced)"
            )
        if head is not None and head.seq < anchor.seq:
            problems.append(
                f"the head '{AUDIT_DIR}/{HEAD}' records {head.seq} but the keyring's last change "
                f"was recorded as record {anchor.seq}: the head was removed or replaced"
            )
        return problems

    def _verify(self, data: bytes, head: Position | None, anchor: Position | None) -> AuditReport:
        problems: list[str] = []
        notes: list[str] = []
        expected_seq, prev = 1, _GENESIS
        macs: dict[int, bytes] = {}
        position = 0
        last_seq = 0
        records = 0
        lines = data.splitlines(keepends=True)
        for number, raw in enumerate(lines, start=1):
            start, position = position, position + len(raw)
            if not raw.endswith(b"\n"):
                if head is not None and start >= head.size:
                    notes.append(
                        f"line {number}: an unfinished record at the end (an interrupted "
                        "append); the next append removes it"
                    )
                else:
                    problems.append(f"line {number}: record cut short (the log was truncated)")
                continue
            record = self._codec.parse(raw)
            if record is None:
                problems.append(f"line {number}: not an audit record (edited or inserted)")
                continue
            mac, seq = record.mac, record.seq
            if not self._codec.mac_ok(record):
                problems.append(f"line {number}: record {seq} fails its MAC (edited)")
                # Chain on from what the record claims, so one edit is reported once.
                expected_seq, prev = seq + 1, mac
                continue
            records += 1
            if seq != expected_seq or record.prev != prev:
                if seq > expected_seq:
                    what = f"records {expected_seq} to {seq - 1} are missing (removed)"
                    if seq == expected_seq + 1:
                        what = f"record {expected_seq} is missing (removed)"
                else:
                    what = f"expected record {expected_seq} (records removed or reordered)"
                problems.append(f"line {number}: record {seq} is out of order: {what}")
            macs[seq] = mac
            last_seq = max(last_seq, seq)
            expected_seq, prev = seq + 1, mac
        head_seq = head_mac = None
        if head is None:
            problems.append(f"the head '{AUDIT_DIR}/{HEAD}' fails its integrity check")
        elif head.seq == 0:
            if records > 1:
                problems.append(
                    f"the head '{AUDIT_DIR}/{HEAD}' is missing or empty but the log has "
                    f"{records} records (head removed)"
                )
        else:
            head_seq, head_mac = head.seq, head.mac.hex()
            if last_seq < head.seq:
                problems.append(
                    f"the log ends at record {last_seq} but its head records {head.seq}: "
                    "records were removed from the end (truncated)"
                )
            elif head.seq in macs and not constant_time_equal(macs[head.seq], head.mac):
                problems.append(f"record {head.seq} is not the one the head records (replaced)")
            elif head.seq not in macs:
                problems.append(f"record {head.seq}, recorded by the head, is missing")
            if last_seq > head.seq:
                notes.append(
                    f"records after {head.seq} were appended by an interrupted append; the "
                    "next append brings the head up to date"
                )
        if anchor is not None:
            problems.extend(self._anchor_problems(macs, last_seq, head, anchor))
        return AuditReport(records, head_seq, head_mac, tuple(problems), tuple(notes))


def _check_event(event: bytes) -> None:
    if b"\n" in event or b"\r" in event:
        raise ValidationException("an audit event must be one line")
    if len(event) > _MAX_EVENT_BYTES:
        raise ValidationException("an audit event is larger than 1 MiB")


def audit_log(keyring: Keyring) -> AuditLog:
    """The audit log of an opened keyring."""
    return AuditLog(
        keyring.info.home, keyring._keys.audit, keyring.info.keyring_id, keyring._keys.audit_seal
    )
