"""Output paths: nothing appears under the final name until the whole write succeeded, nothing
is left behind when it does not, and nothing but a regular file is ever replaced.

Owns how a command's output path is opened, committed and cleaned up:

- A new name, or an existing regular file, is written to a temp file in the same directory:
  on Linux an unnamed one (`O_TMPFILE`, which vanishes with the process, so a SIGKILL leaves no
  plaintext behind), elsewhere, or where the file system has no `O_TMPFILE`, a named
  `.NAME.PID.RAND.kmscli-tmp`. It is flushed, given its mode, fsynced, then linked under its
  final name (an existing one refused) or, when overwriting, renamed over it; then the
  directory is fsynced. Any failure (write, flush, fsync, close, link, rename) removes it.
  Named temp files that a killed kmscli left behind are swept by a later run (`sweep`).
- A symbolic link is followed: the file it names is replaced and the link stays. A dangling
  link is refused (as `cp` does), never used to create the file it names.
- A character device (`/dev/null`, a terminal) or a FIFO is written to as a stream, with or
  without overwrite (there is no file to overwrite); a block device only with overwrite. None
  is ever chmod-ed or replaced. A socket or a directory is refused.
- The mode of a new file is its permission bits only (never setuid, setgid or sticky) minus
  the umask, as `cp` without `-p` gives.

Named temp files' names and their sweep are `kmscli.files.temps`'s; creating, fsyncing,
linking and renaming are `kmscli.files.durable`'s, which the keyring writes through too (with
its private modes where outputs get cp-like ones).

Must not: decide output names (kmscli.cli.files does), or write keyring files.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from kmscli.errors import AlreadyExistsException, InputOutputError, UsageError
from kmscli.files import durable
from kmscli.files.temps import sweep, temp_name

_O_PATH: int = getattr(os, "O_PATH", os.O_RDONLY)
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_O_NOCTTY: int = getattr(os, "O_NOCTTY", 0)


def describe_os_error(error: OSError, path: Path | str | None = None) -> str:
    where = path if path is not None else error.filename
    reason = error.strerror or str(error)
    if error.errno == errno.EFBIG:
        reason = "file too large (the file size limit was reached)"
    return f"cannot write '{where}': {reason}" if where else reason


_umask_lock = threading.Lock()
_umask_fallback: list[int] = []  # the umask, once read by setting it


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux 4.7+)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        if not _umask_fallback:
            # Set and restore, once: a file another thread created meanwhile gets 0o077, never
            # more than the user allowed. Callers read it before starting threads.
            _umask_fallback.append(os.umask(0o077))
            os.umask(_umask_fallback[0])
        return _umask_fallback[0]


def output_mode(bits: int) -> int:
    """The mode a new output gets from `bits` (an input's mode, or a default): the permission
    bits only, minus the umask, as `cp` without `-p` gives."""
    return stat.S_IMODE(bits) & 0o777 & ~current_umask()


class AtomicOutput:
    """A context manager yielding a binary file that becomes `final` only on `commit()`.

    Leaving the `with` block without committing (an exception, an interrupt) removes the temp
    file. `mode` (an input's mode, or a default such as 0o600) gives the new file's permission
    bits, through `output_mode`; `in_place` (a file replaced by its own new version, as
    reencrypt does) keeps the replaced file's permission bits and owner instead. A device or
    FIFO at `final` is written to directly (see the module docstring); `commit()` then only
    flushes.
    """

    def __init__(
        self, final: Path, *, mode: int = 0o600, overwrite: bool = False, in_place: bool = False
    ) -> None:
        self.final = final
        self.mode = mode
        self.overwrite = overwrite or in_place
        self.in_place = in_place
        self._replaced: os.stat_result | None = None  # the file being replaced, in place
        self._file: BinaryIO | None = None
        self._stream = False
        self._block_device = False
        self._name = final.name  # the name in `_dir_fd` that the output replaces or creates
        self._dir_fd: int | None = None
        self._unnamed = False
        self._temp: str | None = None  # a named temp file in `_dir_fd`, removed on failure

    def __enter__(self) -> BinaryIO:
        target = self._target()
        try:
            if self._stream:
                self._file = _open_stream(self.final)
                return self._file
            self._dir_fd = os.open(target.parent, _O_PATH | _O_DIRECTORY | _O_CLOEXEC)
            self._name = target.name
            sweep(self._dir_fd)
            fd = self._open_unnamed()
            if fd is None:
                fd = self._open_named()
            self._file = os.fdopen(fd, "wb")
            return self._file
        except OSError as error:
            self._discard()
            raise InputOutputError(describe_os_error(error, self.final)) from None
        except BaseException:
            self._discard()
            raise

    def _target(self) -> Path:
        """The regular file to create or replace; sets `_stream` for a device or FIFO."""
        final = self.final
        try:
            info = os.stat(final)
        except FileNotFoundError:
            if os.path.islink(final):
                raise InputOutputError(
                    f"cannot write '{final}': it is a symbolic link to a missing file",
                    hints=[
                        "kmscli does not create the file a dangling link names; "
                        "name the file itself, or remove the link"
                    ],
                ) from None
            return final
        except OSError as error:
            raise InputOutputError(describe_os_error(error, final)) from None
        kind = info.st_mode
        if stat.S_ISREG(kind):
            if not self.overwrite:
                raise self._exists_error()
            self._replaced = info
            return Path(os.path.realpath(final)) if os.path.islink(final) else final
        if stat.S_ISDIR(kind):
            raise InputOutputError(f"cannot write '{final}': it is a directory")
        if stat.S_ISSOCK(kind):
            raise UsageError(
                f"cannot write '{final}': it is a socket",
                hints=["name a file, a FIFO or a device, or use -o - and redirect stdout"],
            )
        if stat.S_ISBLK(kind):
            if not self.overwrite:
                raise AlreadyExistsException(
                    f"output '{final}' is a block device", hints=["use -f to write into it"]
                )
            self._block_device = True
        self._stream = True  # a character device or FIFO (or a block device, with -f)
        return final

    def _open_unnamed(self) -> int | None:
        """An unnamed temp file in the output's directory, or None where there is none."""
        assert self._dir_fd is not None
        fd = durable.open_unnamed(self._dir_fd)
        self._unnamed = fd is not None
        return fd

    def _open_named(self) -> int:
        assert self._dir_fd is not None
        name = temp_name(self._name)
        fd = durable.create_new(name, 0o600, dir_fd=self._dir_fd)
        self._temp = name
        return fd

    def _exists_error(self) -> AlreadyExistsException:
        return AlreadyExistsException(
            f"output '{self.final}' already exists", hints=["use -f to overwrite it"]
        )

    def commit(self) -> None:
        assert self._file is not None
        try:
            self._file.flush()
            if self._stream:
                if self._block_device:
                    durable.sync(self._file.fileno())
                self._file.close()
                return
            assert self._dir_fd is not None
            fd = self._file.fileno()
            os.fchmod(fd, self._mode(fd))
            durable.sync(fd)
            if self._unnamed:
                self._publish_unnamed(fd)
                self._file.close()
            else:
                self._file.close()
                self._publish_named()
            durable.sync_directory_at(self._dir_fd)
        except OSError as error:
            raise InputOutputError(describe_os_error(error, self.final)) from None

    def _mode(self, fd: int) -> int:
        """The new file's mode; in place, the replaced file's permission bits (its owner and
        group too, where this process may give them), as `sed -i` keeps them."""
        if not self.in_place or self._replaced is None:
            return output_mode(self.mode)
        with contextlib.suppress(PermissionError):
            os.fchown(fd, self._replaced.st_uid, self._replaced.st_gid)
        return stat.S_IMODE(self._replaced.st_mode) & 0o777

    def _publish_unnamed(self, fd: int) -> None:
        assert self._dir_fd is not None
        folder = self._dir_fd
        if not self.overwrite:
            try:
                durable.link_unnamed(fd, self._name, dir_fd=folder)
            except FileExistsError:
                raise self._exists_error() from None
            return
        # rename(2) is the only way to replace a name atomically: link under a temp name first.
        name = temp_name(self._name)
        durable.link_unnamed(fd, name, dir_fd=folder)
        self._temp = name
        durable.rename(name, self._name, src_dir_fd=folder, dst_dir_fd=folder)
        self._temp = None

    def _publish_named(self) -> None:
        assert self._dir_fd is not None and self._temp is not None
        folder = self._dir_fd
        if self.overwrite:
            durable.rename(self._temp, self._name, src_dir_fd=folder, dst_dir_fd=folder)
            self._temp = None
            return
        try:
            durable.link(self._temp, self._name, src_dir_fd=folder, dst_dir_fd=folder)
        except FileExistsError:
            raise self._exists_error() from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # No hard links on this file system: check, then rename (a small race remains).
            if _exists(self._name, self._dir_fd):
                raise self._exists_error() from None
            durable.rename(self._temp, self._name, src_dir_fd=folder, dst_dir_fd=folder)
            self._temp = None
            return
        os.unlink(self._temp, dir_fd=self._dir_fd)
        self._temp = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._discard()

    def _discard(self) -> None:
        """Close and remove whatever is not committed; never raises (the first error counts)."""
        if self._file is not None and not self._file.closed:
            # A failed flush (ENOSPC again) still closes the descriptor; an unnamed temp file
            # is gone with it.
            with contextlib.suppress(OSError):
                self._file.close()
        if self._temp is not None and self._dir_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temp, dir_fd=self._dir_fd)
            self._temp = None
        if self._dir_fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._dir_fd)
            self._dir_fd = None


def _open_stream(path: Path) -> BinaryIO:
    """A device or FIFO, opened for writing as it is: not created, truncated or chmod-ed."""
    fd = os.open(path, os.O_WRONLY | _O_NOCTTY | _O_CLOEXEC)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        # Replaced by a file between the check and the open: never write into it in place.
        os.close(fd)
        raise InputOutputError(f"cannot write '{path}': it changed while being opened")
    return os.fdopen(fd, "wb")


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True
