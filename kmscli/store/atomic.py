"""Durable file-system primitives for the keyring: private directories, atomic replace, fsync.

Owns: creating 0700 directories and 0600 files whatever the umask, writing a file through a
temporary in the same directory (write, fsync, rename, fsync the directory), and translating
OS errors that are not the keyring's fault into InputOutputError. It knows nothing about
records, journals or keys, and never decides what a file's bytes mean.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from kmscli.crypto.primitives import random_bytes
from kmscli.errors import InputOutputError, KeyringCorruptError
from kmscli.store.layout import TEMP_PREFIX

DIR_MODE = 0o700
FILE_MODE = 0o600


def io_error(path: Path, exc: OSError, doing: str = "access") -> InputOutputError:
    reason = exc.strerror or exc.__class__.__name__
    return InputOutputError(f"cannot {doing} '{path}': {reason}")


def temp_name(tag: str = "") -> str:
    return f"{TEMP_PREFIX}{tag}{random_bytes(8).hex()}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dir(path: Path) -> bool:
    """Create `path` (and missing parents) as 0700 directories; True if `path` was created.

    A created directory's entry is made durable by fsyncing its parent.
    """
    if path.is_dir():
        return False
    parent = path.parent
    if parent != path:
        make_dir(parent)
    try:
        os.mkdir(path, DIR_MODE)
    except FileExistsError:
        if path.is_dir():
            return False
        raise NotADirectoryError(20, "Not a directory", str(path)) from None
    os.chmod(path, DIR_MODE)  # the umask may have removed bits we need
    fsync_dir(parent)
    return True


def write_new(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write `data` to a file that must not exist yet (O_EXCL), mode 0600, fsynced.

    The directory entry is not fsynced here: callers batch that per directory.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` by `data` atomically and durably: temp, fsync, rename, fsync dir."""
    temp = path.parent / temp_name()
    try:
        write_new(temp, data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_dir(path.parent)


MAX_FILE_BYTES = 64 << 20
"""Far above any keyring file kmscli writes (a record is at most 1 MiB): what is larger was not
written by kmscli, and is refused before it is read."""


def open_regular(path: Path, flags: int, mode: int = FILE_MODE) -> int:
    """`os.open` for a keyring file that must be a regular file: opened without blocking and
    checked, so a FIFO, device or directory planted in the keyring is corruption (exit 9),
    never a hang."""
    fd = os.open(path, flags | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise KeyringCorruptError(
                f"keyring file '{path}' is not a regular file",
                hints=["remove it, or restore the keyring directory from a backup"],
            )
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path, *, limit: int | None = MAX_FILE_BYTES) -> bytes | None:
    """The file's bytes, or None when it does not exist. Other OSErrors propagate.

    Only a regular file is read (see `open_regular`), and one larger than `limit` is
    corruption, refused before it is read."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if limit is not None and os.fstat(fd).st_size > limit:
            raise KeyringCorruptError(
                f"keyring file '{path}' is too large to be one kmscli wrote",
                hints=["remove it, or restore the keyring directory from a backup"],
            )
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
