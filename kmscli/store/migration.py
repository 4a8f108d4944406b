"""Moving a schema-1 keyring's records to opaque file names (schema 2), once and crash-safely.

Owns the migration and the clean-up after an interrupted one. It runs under the exclusive lock
with no journal pending (the caller recovered first), the first time a schema-1 keyring is
written to; reading never migrates, so a keyring on read-only media still opens.

  1. remove a `records.v2/` an interrupted migration left, then write every record again under
     its schema-2 name in a new `records.v2/` (each file, each directory and home fsynced);
  2. replace the header with the same header at schema 2 (temp, fsync, rename): the commit
     point: before it the keyring is schema 1 as it was, after it schema 2 with every record;
  3. remove the old `records/` directory.

A crash before 2 leaves a `records.v2/` that schema 1 ignores and the next migration (or
`sweep_leftovers`) removes; a crash after 2 leaves a `records/` that `sweep_leftovers` removes
at the next exclusive lock. It never changes a record's content, and knows nothing of what
records hold.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from kmscli.errors import KeyringCorruptError, ValidationException
from kmscli.files.durable import make_dirs, sync_directory, write_new
from kmscli.store import layout
from kmscli.store.header import encode_header, parse_header, verify_mac
from kmscli.store.keyringfiles import read_bytes, write_atomic
from kmscli.store.records import decode_record, encode_record
from kmscli.store.subkeys import Subkeys


def leftover(naming: layout.Naming) -> Path | None:
    """The records directory of the other schema, if an interrupted migration left one."""
    other = layout.RECORDS if naming.opaque else layout.OPAQUE_RECORDS
    path = naming.home / other
    return path if os.path.lexists(path) else None


def sweep_leftovers(naming: layout.Naming) -> None:
    path = leftover(naming)
    if path is not None:
        _remove(path)
        sync_directory(naming.home)


def _rmtree(path: Path, *, ignore_errors: bool = False) -> None:
    # shutil is imported here, not at the top: it imports the compression modules, and every
    # command imports this module (only a migration or its clean-up removes a tree).
    import shutil

    shutil.rmtree(path, ignore_errors=ignore_errors)


def _remove(path: Path) -> None:
    """Remove the records directory of the other schema, or whatever took its name (a file or
    a symbolic link, which rmtree refuses: the name is kmscli's own)."""
    if os.path.isdir(path) and not os.path.islink(path):
        _rmtree(path)
    else:
        os.unlink(path)


def migrate(naming: layout.Naming, keys: Subkeys) -> layout.Naming:
    """Steps 1-3 for the schema-1 keyring `naming` describes; returns its schema-2 naming.

    A damaged or unexpected file in `records/` stops it before the commit point
    (KeyringCorruptError naming the file): the keyring stays schema 1, as it was.
    """
    home = naming.home
    target = layout.Naming(home, layout.OPAQUE_SCHEMA, keys.names)
    if os.path.lexists(target.records_dir):
        _remove(target.records_dir)
    try:
        _copy_records(naming, target, keys)
    except BaseException:
        # Best effort (a disk full, a damaged record): leave nothing behind. After a crash,
        # sweep_leftovers does it at the next exclusive lock.
        _rmtree(target.records_dir, ignore_errors=True)
        raise

    header = parse_header(read_bytes(home / layout.HEADER) or b"")
    verify_mac(header, keys)
    fields = json.loads(header.body)
    fields["schema_version"] = target.schema  # 2, whatever later schemas come
    write_atomic(home / layout.HEADER, encode_header(fields, keys))

    _rmtree(naming.records_dir)
    sync_directory(home)
    return target


def _copy_records(naming: layout.Naming, target: layout.Naming, keys: Subkeys) -> None:
    """Step 1: every record of `naming` written again under `target`, all of it durable."""
    home = naming.home
    make_dirs(target.records_dir)
    for kind in sorted(_entries(naming.records_dir)):
        source_dir = naming.records_dir / kind
        if not _is_kind_dir(source_dir, kind):
            raise _unexpected(home, source_dir)
        target_dir = target.kind_dir(kind)
        make_dirs(target_dir)
        for filename in sorted(_entries(source_dir)):
            if filename.startswith(layout.TEMP_PREFIX):
                continue
            path = source_dir / filename
            if not naming.is_record_filename(filename) or not stat.S_ISREG(os.lstat(path).st_mode):
                raise _unexpected(home, path)
            blob = read_bytes(path)
            if blob is None:
                continue
            where = layout.relative(home, path)
            name, data = decode_record(keys, naming, kind, filename, blob, where=where)
            record = encode_record(keys, target, kind, name, data)
            write_new(target_dir / target.filename(kind, name), record)
        sync_directory(target_dir)
    sync_directory(target.records_dir)
    sync_directory(home)


def _is_kind_dir(path: Path, kind: str) -> bool:
    try:
        layout.check_kind(kind)
    except ValidationException:
        return False
    return stat.S_ISDIR(os.lstat(path).st_mode)


def _unexpected(home: Path, path: Path) -> KeyringCorruptError:
    return KeyringCorruptError(
        f"unexpected file '{layout.relative(home, path)}' in the keyring: not upgrading it",
        hints=["run 'kmscli keyring verify', then remove the file or restore a backup"],
    )


def _entries(directory: Path) -> list[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []
