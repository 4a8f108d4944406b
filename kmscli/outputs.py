"""Atomic output files: nothing appears under the final name until the whole write succeeded.

Owns the temp-file-in-the-same-directory → fsync → rename (or link, when overwriting is not
allowed) → fsync-the-directory sequence, and removing the temp file on any failure, so a failed
run leaves no partial output and never an existing file half-overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from kmscli.errors import AlreadyExistsException, InputOutputError


def describe_os_error(error: OSError, path: Path | str | None = None) -> str:
    where = path if path is not None else error.filename
    reason = error.strerror or str(error)
    if error.errno == errno.EFBIG:
        reason = "file too large (the file size limit was reached)"
    return f"cannot write '{where}': {reason}" if where else reason


class AtomicOutput:
    """A context manager yielding a binary file that becomes `final` only on `commit()`.

    Leaving the `with` block without committing (an exception, an interrupt) removes the temp
    file. `mode` is applied to the finished file (the input's permission bits, for instance).
    """

    def __init__(self, final: Path, *, mode: int = 0o600, overwrite: bool = False) -> None:
        self.final = final
        self.mode = mode
        self.overwrite = overwrite
        self._temp: Path | None = None
        self._file: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if not self.overwrite and self.final.exists():
            raise self._exists_error()
        directory = self.final.parent
        name = f".{self.final.name}.{os.urandom(4).hex()}.kmscli-tmp"
        self._temp = directory / name
        try:
            fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as error:
            self._temp = None
            raise InputOutputError(describe_os_error(error, self.final)) from None
        self._file = os.fdopen(fd, "wb")
        return self._file

    def _exists_error(self) -> AlreadyExistsException:
        return AlreadyExistsException(
            f"output '{self.final}' already exists", hints=["use -f to overwrite it"]
        )

    def commit(self) -> None:
        assert self._file is not None and self._temp is not None
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            os.fchmod(self._file.fileno(), self.mode)
            self._file.close()
            if self.overwrite:
                os.replace(self._temp, self.final)
            else:
                self._link_without_overwrite()
            self._temp = None
            _fsync_directory(self.final.parent)
        except OSError as error:
            raise InputOutputError(describe_os_error(error, self.final)) from None

    def _link_without_overwrite(self) -> None:
        assert self._temp is not None
        try:
            os.link(self._temp, self.final)
        except FileExistsError:
            raise self._exists_error() from None
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                raise
            # No hard links on this file system: check, then rename (a small race remains).
            if self.final.exists():
                raise self._exists_error() from None
            os.rename(self._temp, self.final)
            return
        os.unlink(self._temp)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None and not self._file.closed:
            self._file.close()
        if self._temp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._temp)
            self._temp = None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
