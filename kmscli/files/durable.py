"""Durable file-system primitives: kmscli's only calls of fsync, rename, link, O_EXCL, O_TMPFILE.

Owns: creating a file that must not exist yet (O_EXCL) with an exact mode, writing all of a
buffer, fsyncing a file or a directory, renaming or linking a name into place, creating
directories with an exact mode whatever the umask, opening an unnamed temp file (O_TMPFILE), and
the durable atomic replace built from them (temp in the same directory, fsync, rename, fsync
the directory, the temp removed on any failure).

Must not: choose modes or temp names (callers pass them: the keyring's private 0600/0700 and
`.tmp-*`, the outputs' cp-like modes and `.NAME.PID.RAND.kmscli-tmp`), translate errors (OSError
propagates), or know what a file holds.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

_O_TMPFILE: int = getattr(os, "O_TMPFILE", 0)
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
# What open(O_TMPFILE) answers where the kernel or the file system lacks it.
_NO_TMPFILE = frozenset({errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOTSUP})

StrPath = str | Path


def sync(fd: int) -> None:
    """Make a file's data and metadata durable."""
    os.fsync(fd)


def sync_data(fd: int) -> None:
    """Make a file's data durable (and the metadata needed to read it back: its size)."""
    os.fdatasync(fd)


def sync_directory(path: StrPath) -> None:
    """Make the entries of the directory `path` durable (after a create, rename or unlink)."""
    fd = os.open(path, os.O_RDONLY | _O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_directory_at(dir_fd: int) -> None:
    """`sync_directory` of the directory `dir_fd` (an O_PATH descriptor will do); a directory
    this process may write but not read is left as it is: the rename is all it can have."""
    try:
        fd = os.open(".", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC, dir_fd=dir_fd)
    except PermissionError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rename(
    src: StrPath, dst: StrPath, *, src_dir_fd: int | None = None, dst_dir_fd: int | None = None
) -> None:
    """rename(2): `dst` (a file, or an empty directory for a directory) replaced atomically.
    Not durable until the directory is synced."""
    os.replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


def link(
    src: StrPath,
    dst: StrPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
    follow_symlinks: bool = False,
) -> None:
    """link(2): `src` also named `dst`; FileExistsError if `dst` exists."""
    os.link(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd, follow_symlinks=follow_symlinks)


def create_new(path: StrPath, mode: int = PRIVATE_FILE, *, dir_fd: int | None = None) -> int:
    """A write-only descriptor of a new file (FileExistsError if the name is taken) with exactly
    `mode`, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_unnamed(dir_fd: int) -> int | None:
    """A write-only unnamed temp file (mode 0600) in the directory `dir_fd`, which vanishes with
    the process unless linked; None where there is none: no O_TMPFILE in the kernel or the file
    system, or no /proc/self/fd to link it through (see `link_unnamed`)."""
    if not _O_TMPFILE or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(".", _O_TMPFILE | os.O_WRONLY | _O_CLOEXEC, 0o600, dir_fd=dir_fd)
    except OSError as error:
        if error.errno in _NO_TMPFILE:
            return None
        raise


def link_unnamed(fd: int, name: str, *, dir_fd: int) -> None:
    """Give the unnamed temp file `fd` the name `name` in `dir_fd` (FileExistsError if taken)."""
    link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_new(path: StrPath, data: bytes, *, mode: int = PRIVATE_FILE, sync: bool = True) -> None:
    """Write `data` to a file that must not exist yet, with exactly `mode`, fsynced unless not
    `sync`. The directory entry is not synced here: callers batch that per directory."""
    fd = create_new(path, mode)
    try:
        write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, temp: str, mode: int = PRIVATE_FILE) -> None:
    """Replace `path` by `data` atomically and durably: the temp file `temp` (a name in the
    same directory), fsync, rename, fsync the directory. The temp file is removed on failure."""
    staged = path.parent / temp
    try:
        write_new(staged, data, mode=mode)
        rename(staged, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(staged)
        raise
    sync_directory(path.parent)


def make_dir(path: Path, mode: int = PRIVATE_DIR) -> None:
    """Create the directory `path` (FileExistsError if it exists) with exactly `mode`. Its entry
    is not synced: callers sync the parent."""
    os.mkdir(path, mode)
    os.chmod(path, mode)  # the umask may have removed bits we need


def make_dirs(path: Path, mode: int = PRIVATE_DIR) -> bool:
    """Create `path` and its missing parents, each with exactly `mode`; True if `path` was
    created. A created directory's entry is made durable by syncing its parent."""
    if path.is_dir():
        return False
    parent = path.parent
    if parent != path:
        make_dirs(parent, mode)
    try:
        make_dir(path, mode)
    except FileExistsError:
        if path.is_dir():
            return False
        raise NotADirectoryError(20, "Not a directory", str(path)) from None
    sync_directory(parent)
    return True
