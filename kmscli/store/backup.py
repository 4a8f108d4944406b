"""Backups of a whole keyring: one self-contained, encrypted and authenticated archive.

Owns the archive format, making an archive from a consistent snapshot (under the keyring's
shared lock) and restoring one: checked completely (the root key, every byte of the archive,
then `verify_all` on the restored keyring) before it is put in place, and never over a live
keyring unless asked. It never prints, prompts, reads the environment or exits.

The archive (integers big-endian):

    magic       b"KMSBKUP" ‖ version 0x01                                      8 bytes
    n           u32: length of the header                                      4 bytes
    header      the keyring's `header` file, byte for byte                     n bytes
    archive id  random                                                        16 bytes
    chunks      final flag (u8 0 or 1) ‖ u32 length m ‖ m bytes of AES-256-GCM
                (nonce ‖ ciphertext ‖ tag), repeated up to the one final chunk; nothing after

The header holds no secret in clear (ids, account, protection, the key-check value and, in
passphrase mode, the Argon2id-wrapped root key), so it is stored as it is and the archive
restores with what opens the keyring itself: its root key file, or its passphrase. Chunks are
sealed under HKDF(the keyring's backup subkey, salt = archive id) with the associated data
label ‖ SHA-256(magic … archive id) ‖ u64 chunk index ‖ final flag: an edited preamble, or a
chunk changed, moved, dropped, added or cut off, fails to open.

The plaintext, split into chunks of at most 1 MiB, is a list of entries and an end mark:

    u8 1 ‖ u16 length ‖ path                   a directory (created before what it holds)
    u8 2 ‖ u16 length ‖ path ‖ u64 size ‖ data  a file
    u8 0                                       the end; the last byte of the final chunk

Paths are relative to the keyring directory, `/`-separated, ASCII. Everything of the keyring
is in it (records, the audit trail, ...) except the header (in the preamble), the lock file,
journals and temporary files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kmscli.crypto.primitives import (
    GCM_NONCE_BYTES,
    GCM_TAG_BYTES,
    AuthenticationError,
    aes_gcm_open,
    aes_gcm_seal,
    hkdf_sha256,
    random_bytes,
    sha256,
)
from kmscli.errors import (
    AlreadyExistsException,
    InputOutputError,
    KeyringCorruptError,
    KeyringError,
    KeyringVersionError,
)
from kmscli.files.durable import (
    create_new,
    make_dir,
    make_dirs,
    rename,
    sync,
    sync_directory,
    write_all,
    write_new,
)
from kmscli.store import layout
from kmscli.store.auditlog import audit_log
from kmscli.store.header import parse_header
from kmscli.store.keyring import (
    _KNOWN_HOME_ENTRIES,
    Keyring,
    keyring_exists,
    unlock,
    unlocked_keyring,
)
from kmscli.store.keyringfiles import io_error, open_regular, read_bytes
from kmscli.store.lock import FileLock

MAGIC = b"KMSBKUP"
VERSION = 1
ARCHIVE_ID_BYTES = 16
CHUNK_BYTES = 1 << 20
MAX_HEADER_BYTES = 1 << 16
MAX_PATH_BYTES = 1024
MAX_DEPTH = 8

_KEY_LABEL = b"kmscli/backup/v1/chunk-key"
_AAD_LABEL = b"kmscli backup chunk v1\0"
_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_END, _DIRECTORY, _FILE = 0, 1, 2
_SEAL_OVERHEAD = GCM_NONCE_BYTES + GCM_TAG_BYTES
# What never goes into an archive: the header travels in the preamble, the rest is transient.
_NOT_ARCHIVED = frozenset({layout.HEADER, layout.LOCK, layout.JOURNAL, layout.JOURNAL_PENDING})
_COMPONENT = re.compile(r"[A-Za-z0-9_%=-][A-Za-z0-9._%=-]{0,254}")
_CORRUPT_HINTS = ("the backup was altered, cut short or damaged: restore from another copy",)


@dataclass(frozen=True)
class BackupInfo:
    """What `create_backup` wrote. `root_key_file` is None in passphrase mode."""

    keyring_id: str
    account_id: str
    protection: str
    root_key_file: Path | None
    directories: int
    files: int
    size: int


# -- chunks ----------------------------------------------------------------------------------------


def _chunk_key(keyring_backup_key: bytes, archive_id: bytes) -> bytes:
    return hkdf_sha256(keyring_backup_key, info=_KEY_LABEL, salt=archive_id)


def _chunk_aad(preamble_digest: bytes, index: int, final: bool) -> bytes:
    return _AAD_LABEL + preamble_digest + _U64.pack(index) + _U8.pack(int(final))


class _ChunkWriter:
    """Plaintext in, sealed chunks out; `close()` seals the final chunk."""

    def __init__(self, dst: BinaryIO, key: bytes, preamble_digest: bytes) -> None:
        self._dst = dst
        self._key = key
        self._digest = preamble_digest
        self._buffer = bytearray()
        self._index = 0
        self.written = 0

    def raw(self, data: bytes) -> None:
        self._dst.write(data)
        self.written += len(data)

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) > CHUNK_BYTES:
            self._seal(bytes(self._buffer[:CHUNK_BYTES]), final=False)
            del self._buffer[:CHUNK_BYTES]

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        sealed = aes_gcm_seal(self._key, plaintext, _chunk_aad(self._digest, self._index, final))
        self.raw(_U8.pack(int(final)) + _U32.pack(len(sealed)) + sealed)
        self._index += 1

    def close(self) -> None:
        self._seal(bytes(self._buffer), final=True)
        self._buffer.clear()


def _corrupt(source: str, detail: str = "failed its integrity check") -> KeyringCorruptError:
    return KeyringCorruptError(f"{source} {detail}", hints=_CORRUPT_HINTS)


def _read_exact(src: BinaryIO, count: int, source: str) -> bytes:
    data = bytearray()
    while len(data) < count:
        piece = src.read(count - len(data))
        if not piece:
            raise _corrupt(source, "is cut short (truncated)")
        data += piece
    return bytes(data)


class _ChunkReader:
    """Sealed chunks in, authenticated plaintext out, read exactly as asked."""

    def __init__(self, src: BinaryIO, key: bytes, preamble_digest: bytes, source: str) -> None:
        self._src = src
        self._key = key
        self._digest = preamble_digest
        self._source = source
        self._plain = b""
        self._offset = 0
        self._index = 0
        self._final = False

    def _next_chunk(self) -> None:
        if self._final:
            raise _corrupt(self._source, "is damaged: an entry runs past its end")
        flag, length = struct.unpack(">BI", _read_exact(self._src, 5, self._source))
        if flag not in (0, 1) or not _SEAL_OVERHEAD <= length <= CHUNK_BYTES + _SEAL_OVERHEAD:
            raise _corrupt(self._source)
        sealed = _read_exact(self._src, length, self._source)
        final = flag == 1
        try:
            self._plain = aes_gcm_open(
                self._key, sealed, _chunk_aad(self._digest, self._index, final)
            )
        except AuthenticationError:
            raise _corrupt(self._source) from None
        self._offset = 0
        self._index += 1
        self._final = final

    def read(self, count: int) -> bytes:
        """At most `count` bytes (at least one), without crossing more than one chunk."""
        while self._offset >= len(self._plain):
            self._next_chunk()
        piece = self._plain[self._offset : self._offset + count]
        self._offset += len(piece)
        return piece

    def read_exact(self, count: int) -> bytes:
        parts: list[bytes] = []
        remaining = count
        while remaining:
            piece = self.read(remaining)
            parts.append(piece)
            remaining -= len(piece)
        return b"".join(parts)

    def finish(self) -> None:
        """After the end mark: it must be the last byte of the final chunk, and of the input."""
        if not self._final or self._offset != len(self._plain) or self._src.read(1):
            raise _corrupt(self._source, "is damaged: data after its end")


# -- making a backup -------------------------------------------------------------------------------


def _valid_path(relative: str) -> bool:
    """A path an archive may hold: inside the keyring, plain names, nothing transient."""
    parts = relative.split("/")
    return (
        len(parts) <= MAX_DEPTH
        and all(_COMPONENT.fullmatch(part) for part in parts)
        and parts[0] not in _NOT_ARCHIVED
    )


def _raise(exc: OSError) -> None:
    raise exc


def _snapshot(home: Path) -> Iterator[tuple[str, Path, bool]]:
    """(archive path, file, is a directory) of everything archived, parents first, sorted."""
    for directory, subdirs, files in os.walk(home, onerror=_raise):
        top = Path(directory)
        names = sorted(subdirs) + sorted(files)
        subdirs.clear()
        for name in names:
            path = top / name
            relative = path.relative_to(home).as_posix()
            if name.startswith(layout.TEMP_PREFIX) or relative in _NOT_ARCHIVED:
                continue
            mode = os.lstat(path).st_mode
            if not _valid_path(relative) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise KeyringCorruptError(
                    f"not backing up the keyring at '{home}': '{relative}' is not a keyring "
                    "file (or not a regular file or directory)",
                    hints=["run 'kmscli keyring verify' to see what is wrong"],
                )
            if stat.S_ISDIR(mode):
                subdirs.append(name)
            yield relative, path, stat.S_ISDIR(mode)


def _copy_file(path: Path, out: _ChunkWriter) -> None:
    """The u64 size and the bytes of one file. Reading errors are InputOutputError; writing
    errors (the archive's) propagate as OSError."""

    def failed(exc: OSError) -> InputOutputError:
        return io_error(path, exc, "read keyring file")

    try:
        fd = open_regular(path, os.O_RDONLY)
    except OSError as exc:
        raise failed(exc) from None
    try:
        try:
            size = os.fstat(fd).st_size
        except OSError as exc:
            raise failed(exc) from None
        out.write(_U64.pack(size))
        offset = 0
        while offset < size:
            try:
                piece = os.pread(fd, min(CHUNK_BYTES, size - offset), offset)
            except OSError as exc:
                raise failed(exc) from None
            if not piece:
                raise InputOutputError(f"keyring file '{path}' shrank while it was read")
            out.write(piece)
            offset += len(piece)
    finally:
        os.close(fd)


def _path_entry(kind: int, relative: str) -> bytes:
    raw = relative.encode("ascii")
    return _U8.pack(kind) + _U16.pack(len(raw)) + raw


def create_backup(keyring: Keyring, dst: BinaryIO) -> BackupInfo:
    """Write an archive of the whole keyring to `dst`: a consistent snapshot, taken under the
    shared lock. A keyring that fails its checks (see `Keyring.verify_all`) is refused with
    KeyringCorruptError, as its archive would not restore. Errors writing `dst` propagate as
    OSError; a partial archive never restores, but the caller should remove it."""
    info = keyring.info
    home = info.home
    directories = files = 0
    # The audit trail is appended to under its own lock (its head's), not the records' one:
    # holding both keeps the log and its head in step in the snapshot.
    with keyring.read(), audit_log(keyring)._locked(exclusive=False):
        problems = keyring._verify_content()
        if problems:
            count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
            raise KeyringCorruptError(
                f"not backing up the keyring at '{home}': it has {count}, so its backup "
                f"would not restore ({problems[0]})",
                hints=["run 'kmscli keyring verify' to see every problem"],
            )
        try:
            header = read_bytes(home / layout.HEADER) or b""
            entries = list(_snapshot(home))
        except OSError as exc:
            raise io_error(Path(exc.filename or home), exc, "read keyring files in") from None
        archive_id = random_bytes(ARCHIVE_ID_BYTES)
        preamble = MAGIC + bytes([VERSION]) + _U32.pack(len(header)) + header + archive_id
        out = _ChunkWriter(dst, _chunk_key(keyring._keys.backup, archive_id), sha256(preamble))
        out.raw(preamble)
        for relative, path, is_dir in entries:
            if is_dir:
                out.write(_path_entry(_DIRECTORY, relative))
                directories += 1
            else:
                out.write(_path_entry(_FILE, relative))
                _copy_file(path, out)
                files += 1
        out.write(_U8.pack(_END))
        out.close()
    return BackupInfo(
        keyring_id=info.keyring_id,
        account_id=info.account_id,
        protection=info.protection,
        root_key_file=info.root_key_file,
        directories=directories,
        files=files,
        size=out.written,
    )


# -- restoring -------------------------------------------------------------------------------------


def _target_state(home: Path) -> str:
    """What is at `home`: missing, empty, keyring (a header and keyring entries only), other."""
    try:
        mode = os.stat(home).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise io_error(home, exc, "access keyring directory") from None
    if not stat.S_ISDIR(mode):
        raise InputOutputError(f"keyring location '{home}' exists and is not a directory")
    try:
        entries = os.listdir(home)
    except OSError as exc:
        raise io_error(home, exc, "list keyring directory") from None
    if not entries:
        return "empty"
    known = all(e in _KNOWN_HOME_ENTRIES or e.startswith(layout.TEMP_PREFIX) for e in entries)
    return "keyring" if known and keyring_exists(home) else "other"


def _check_target(home: Path, *, force: bool) -> None:
    state = _target_state(home)
    if state == "keyring" and not force:
        raise AlreadyExistsException(
            f"a keyring already exists at '{home}'",
            hints=[
                "use -f to replace it (the keyring there is then deleted)",
                "or restore somewhere else with --home DIR",
            ],
        )
    if state == "other":
        raise AlreadyExistsException(
            f"'{home}' is not empty and holds no keyring (or other files beside one); "
            "refusing to restore there, even with -f",
            hints=["restore to a new or empty directory with --home DIR"],
        )


def _write_file(path: Path, size: int, reader: _ChunkReader) -> None:
    fd = create_new(path)
    try:
        remaining = size
        while remaining:
            chunk = reader.read(min(remaining, CHUNK_BYTES))
            remaining -= len(chunk)
            write_all(fd, chunk)
        sync(fd)
    finally:
        os.close(fd)


def _unpack(reader: _ChunkReader, staged: Path, source: str) -> None:
    """Write the entries into the (empty) directory `staged`."""
    directories = [staged]
    while True:
        (kind,) = _U8.unpack(reader.read_exact(1))
        if kind == _END:
            reader.finish()
            break
        if kind not in (_DIRECTORY, _FILE):
            raise _corrupt(source)
        (length,) = _U16.unpack(reader.read_exact(2))
        raw = reader.read_exact(length)
        if not 0 < length <= MAX_PATH_BYTES or not raw.isascii():
            raise _corrupt(source, "is damaged: it holds an invalid path")
        relative = raw.decode("ascii")
        if not _valid_path(relative):
            raise _corrupt(source, f"is damaged: it holds an invalid path {relative!r}")
        path = staged / relative
        if not path.parent.is_dir() or os.path.lexists(path):
            raise _corrupt(source, f"is damaged: misplaced or repeated entry {relative!r}")
        if kind == _DIRECTORY:
            make_dir(path)
            directories.append(path)
        else:
            (size,) = _U64.unpack(reader.read_exact(8))
            _write_file(path, size, reader)
    for directory in reversed(directories):
        sync_directory(directory)


def _place(staged: Path, home: Path, *, force: bool) -> None:
    """Move the checked keyring `staged` to `home`, replacing a keyring there only with
    `force` (under its exclusive lock; the old one is put back if the swap fails)."""
    _check_target(home, force=force)
    parent = home.parent
    if not os.path.lexists(home):
        rename(staged, home)  # rename(2) onto a missing name
        sync_directory(parent)
        return
    if not os.listdir(home):
        rename(staged, home)  # rename(2) replaces an empty directory atomically
        sync_directory(parent)
        return
    aside = parent / f".{home.name}.kmscli-replaced-{random_bytes(8).hex()}"
    with FileLock(home / layout.LOCK) as lock:
        lock.exclusive()
        _check_target(home, force=force)  # what was there may have changed while we waited
        rename(home, aside)
        try:
            rename(staged, home)
        except BaseException:
            rename(aside, home)
            raise
        sync_directory(parent)
    shutil.rmtree(aside, ignore_errors=True)


def restore_backup(
    src: BinaryIO,
    home: Path,
    *,
    root_key_file: Path | None,
    root_key_dir: Path,
    passphrase: Callable[[], bytes | None],
    force: bool = False,
    source: str = "the backup",
) -> Keyring:
    """Restore the archive read from `src` as the keyring at `home`; the restored Keyring.

    The root key is found as when opening the keyring (its root key file, or the passphrase
    the archive's header was made with). Every byte is authenticated and the unpacked keyring
    passes `verify_all` in a temporary directory beside `home` before it is moved in place;
    until then `home` is untouched. KeyringCorruptError / KeyringLockedError (nothing written)
    for a damaged archive or a wrong key; AlreadyExistsException when `home` holds a keyring
    and not `force`, or holds anything else. `source` names the archive in messages.
    """
    given, home = Path(home), Path(os.path.realpath(home))  # replace a symlink's target
    _check_target(home, force=force)
    try:
        magic = _read_exact(src, len(MAGIC) + 1, source)
    except KeyringCorruptError:
        magic = b""
    if magic[: len(MAGIC)] != MAGIC:
        raise KeyringCorruptError(
            f"{source} is not a kmscli keyring backup",
            hints=["a backup is made by 'kmscli keyring backup FILE'"],
        )
    if magic[len(MAGIC)] != VERSION:
        raise KeyringVersionError(
            f"{source} has backup format version {magic[len(MAGIC)]}; this kmscli knows "
            f"version {VERSION}",
            hints=["restore it with the kmscli that made it, or a newer one"],
        )
    (length,) = _U32.unpack(_read_exact(src, 4, source))
    if length > MAX_HEADER_BYTES:
        raise _corrupt(source)
    header_bytes = _read_exact(src, length, source)
    archive_id = _read_exact(src, ARCHIVE_ID_BYTES, source)
    try:
        header = parse_header(header_bytes)
    except KeyringVersionError:
        raise
    except KeyringError:
        raise _corrupt(
            source, "is damaged: its keyring header failed its integrity check"
        ) from None
    try:
        keys, key_path = unlock(
            header,
            f"the keyring in {source}",
            root_key_file=root_key_file,
            root_key_dir=root_key_dir,
            passphrase=passphrase,
        )
    except KeyringCorruptError:  # the header MAC: the root key is right, the header is not
        raise _corrupt(
            source, "is damaged: its keyring header failed its integrity check"
        ) from None
    preamble = magic + _U32.pack(length) + header_bytes + archive_id
    reader = _ChunkReader(src, _chunk_key(keys.backup, archive_id), sha256(preamble), source)
    parent = home.parent
    staged = parent / f".{home.name}.kmscli-restore-{random_bytes(8).hex()}"
    try:
        make_dirs(parent)
        make_dir(staged)
    except OSError as exc:
        raise io_error(parent, exc, "restore the keyring in") from None
    try:
        try:
            _unpack(reader, staged, source)
            # The header goes last: its presence is what makes the directory a keyring.
            write_new(staged / layout.HEADER, header_bytes)
            sync_directory(staged)
        except OSError as exc:
            raise io_error(home, exc, "restore the keyring to") from None
        problems = unlocked_keyring(staged, header, keys, key_path).verify_all()
        if problems:
            raise _corrupt(
                source, "does not restore to a sound keyring: " + "; ".join(problems[:5])
            )
        try:
            _place(staged, home, force=force)
        except OSError as exc:
            raise io_error(home, exc, "restore the keyring to") from None
    finally:
        with contextlib.suppress(OSError):
            if staged.exists():
                shutil.rmtree(staged)
    return unlocked_keyring(given, header, keys, key_path)
