"""The keyring's inter-process lock: fcntl.flock on `<home>/lock`.

Owns: taking and releasing the shared (readers) or exclusive (writers) lock, and switching
between them. It must not read or write any other keyring file, and it never times out: a
waiting process simply blocks until the holder is done.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

from kmscli.store.keyringfiles import open_regular


class FileLock:
    """One open descriptor on the lock file; `shared()`/`exclusive()` set its flock mode.

    Converting between modes is not atomic (flock releases, then re-acquires), so a caller
    that upgrades must re-check what it saw under the weaker lock.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.exclusive_held = False

    def _open(self) -> int:
        if self._fd is None:
            try:
                fd = open_regular(self.path, os.O_RDWR | os.O_CREAT)
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise
                # A read-only keyring (e.g. mounted into CI) can still be read: flock works on
                # a read-only descriptor.
                fd = open_regular(self.path, os.O_RDONLY)
            self._fd = fd
        return self._fd

    def shared(self) -> None:
        fcntl.flock(self._open(), fcntl.LOCK_SH)
        self.exclusive_held = False

    def exclusive(self) -> None:
        fcntl.flock(self._open(), fcntl.LOCK_EX)
        self.exclusive_held = True

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            self.exclusive_held = False
            os.close(fd)  # closing the only descriptor drops the flock

    def __enter__(self) -> FileLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
