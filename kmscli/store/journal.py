"""Atomic multi-record transactions: the redo journal and crash recovery.

Owns: turning one transaction's puts and deletes into files on disk so that, whatever moment
the process dies at, the records end up either all old or all new. It runs only under the
exclusive lock (the caller takes it) and knows records only as opaque encoded bytes.

Commit protocol:
  1. write `journal.pending` (the authenticated list of renames/deletes) and fsync it;
     its mere presence also marks "temporary files may be lying around";
  2. write each new record as `.tmp-<txid>-<n>` in its kind directory, fsync each, then
     fsync those directories;
  3. rename `journal.pending` → `journal` and fsync home: the commit point;
  4. rename the temporaries onto their records, unlink deleted records, fsync the directories;
  5. unlink `journal`.

Recovery (under the exclusive lock, whenever a journal file is seen): a `journal` is rolled
forward (step 4 is idempotent), then every `.tmp-*` file is swept and `journal.pending` removed.
A `journal` that fails its check is corruption; `journal.pending` is never trusted or read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

from kmscli.crypto.primitives import AuthenticationError, aes_gcm_open, aes_gcm_seal, random_bytes
from kmscli.errors import KeyringCorruptError, ValidationException
from kmscli.store import layout
from kmscli.store.atomic import fsync_dir, make_dir, write_new
from kmscli.store.records import encode_record
from kmscli.store.subkeys import Subkeys
from kmscli.store.versions import known_version

JOURNAL_MAGIC = b"KMSJ"
JOURNAL_VERSION = 1
MAGIC = JOURNAL_MAGIC + bytes([JOURNAL_VERSION])
_AAD = b"kmscli journal v1"
_TEMP_RE = r"\.tmp-[0-9a-f]{16}-[0-9]+"  # compiled on first use: only recovery reads a journal


# Plain classes rather than NamedTuples or dataclasses: far cheaper to create at import.


class Op:
    """Set record (kind, name) to `data`, or delete it when `data` is None."""

    __slots__ = ("data", "kind", "name")

    def __init__(self, kind: str, name: str, data: bytes | None) -> None:
        self.kind: Final = kind
        self.name: Final = name
        self.data: Final = data


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


def encode_journal(keys: Subkeys, entries: Sequence[Entry]) -> bytes:
    payload = json.dumps(
        {"v": 1, "ops": [[e.kind, e.name, e.temp] for e in entries]},
        separators=(",", ":"),
    ).encode()
    return MAGIC + aes_gcm_seal(keys.journal, payload, _AAD)


def decode_journal(keys: Subkeys, blob: bytes) -> list[Entry]:
    if not known_version(blob, JOURNAL_MAGIC, JOURNAL_VERSION, where="the keyring's journal"):
        raise _corrupt()
    try:
        payload = json.loads(aes_gcm_open(keys.journal, blob[len(MAGIC) :], _AAD))
    except (AuthenticationError, ValueError):
        raise _corrupt() from None
    if not isinstance(payload, dict) or payload.get("v") != 1:
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
    return entries


class Staged:
    """Steps 1-2 done: the journal's entries and the directories they touch."""

    __slots__ = ("dirs", "entries")

    def __init__(self, entries: list[Entry], dirs: frozenset[Path]) -> None:
        self.entries: Final = entries
        self.dirs: Final = dirs


def stage(naming: layout.Naming, keys: Subkeys, ops: Sequence[Op]) -> Staged:
    """Steps 1-2: the pending journal and the fsynced temporaries. Nothing is visible yet."""
    home = naming.home
    txid = random_bytes(8).hex()
    entries: list[Entry] = []
    for number, op in enumerate(ops):
        temp = None if op.data is None else f"{layout.TEMP_PREFIX}{txid}-{number}"
        entries.append(Entry(op.kind, op.name, temp))
    dirs = frozenset(naming.kind_dir(op.kind) for op in ops)
    write_new(home / layout.JOURNAL_PENDING, encode_journal(keys, entries))
    for op, entry in zip(ops, entries, strict=True):
        if op.data is None or entry.temp is None:
            continue
        directory = naming.kind_dir(op.kind)
        make_dir(directory)
        write_new(directory / entry.temp, encode_record(keys, naming, op.kind, op.name, op.data))
    for directory in dirs:
        if directory.is_dir():
            fsync_dir(directory)
    return Staged(entries, dirs)


def commit_point(home: Path) -> None:
    """Step 3: after this returns, the transaction survives any crash."""
    os.replace(home / layout.JOURNAL_PENDING, home / layout.JOURNAL)
    fsync_dir(home)


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
                os.replace(directory / entry.temp, target)
        except FileNotFoundError:
            continue  # done before the crash (or, for a delete, nothing to delete)
        dirs.add(directory)
    for directory in dirs:
        fsync_dir(directory)
    # No fsync of home after this unlink: if it is lost, replaying the journal again is
    # harmless, and the next commit point fsyncs home (and this entry) anyway.
    with contextlib.suppress(FileNotFoundError):
        os.unlink(naming.home / layout.JOURNAL)


def commit(naming: layout.Naming, keys: Subkeys, ops: Sequence[Op]) -> None:
    """Steps 1-5. An error before the commit point leaves the records untouched."""
    if not ops:
        return
    home = naming.home
    try:
        staged = stage(naming, keys, ops)
        commit_point(home)
    except BaseException:
        with contextlib.suppress(OSError):
            discard(home)
        raise
    # From here on the transaction has happened; an error in apply leaves the journal for the
    # next opener to roll forward.
    apply(naming, staged.entries)


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


def recover(naming: layout.Naming, keys: Subkeys) -> None:
    """Finish or discard whatever a crashed writer left. Caller holds the exclusive lock."""
    home = naming.home
    journal = home / layout.JOURNAL
    try:
        blob: bytes | None = journal.read_bytes()
    except FileNotFoundError:
        blob = None
    if blob is not None:
        apply(naming, decode_journal(keys, blob))
    sweep(home)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(home / layout.JOURNAL_PENDING)
    fsync_dir(home)
