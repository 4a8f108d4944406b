"""The named temp files of outputs, and the sweep of those a killed kmscli left behind.

Owns: the name `.NAME.PID.RAND.kmscli-tmp` of an output's named temp file (used where there is
no unnamed one, and briefly to replace an existing file), and `sweep`, which removes such files
once their writer is gone and they have not changed for `STALE_AFTER` (names of earlier
versions, without a PID, after `LEGACY_STALE_AFTER`).

Must not: touch the keyring's temporaries (`.tmp-*`, swept by its journal recovery) or any file
that is not this user's regular file.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import threading
import time

TEMP_SUFFIX = ".kmscli-tmp"
# A named temp file is swept once its writer is gone and it has not changed for this long (a
# writer in another PID namespace looks dead but keeps writing, which keeps its mtime fresh).
STALE_AFTER = 15 * 60
# Names of earlier versions carry no PID: swept only when much older.
LEGACY_STALE_AFTER = 24 * 60 * 60
_TEMP_NAME = re.compile(r"\..+\.(?P<pid>[0-9]{1,10})\.[0-9a-f]{8}\.kmscli-tmp\Z", re.DOTALL)
_LEGACY_TEMP_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.kmscli-tmp\Z", re.DOTALL)
_NAME_KEPT = 100  # of the final name in a temp name, so that it stays within NAME_MAX

_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)


def temp_name(final_name: str) -> str:
    """A fresh temp name for the output `final_name`, in the same directory."""
    return f".{final_name[:_NAME_KEPT]}.{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}"


_swept: set[tuple[int, int]] = set()
_swept_lock = threading.Lock()


def sweep(dir_fd: int) -> None:
    """Remove kmscli's stale named temp files from a directory, once per process: those of this
    user whose writer is no longer running and that have not changed for `STALE_AFTER`."""
    info = os.fstat(dir_fd)
    with _swept_lock:
        if (info.st_dev, info.st_ino) in _swept:
            return
        _swept.add((info.st_dev, info.st_ino))
    try:
        listing = os.open(".", os.O_RDONLY | _O_DIRECTORY | _O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return  # an unreadable directory cannot be listed: nothing to sweep
    try:
        names = [name for name in os.listdir(listing) if name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    finally:
        os.close(listing)
    now = time.time()
    for name in names:
        with contextlib.suppress(OSError):
            if _stale(name, dir_fd, now):
                os.unlink(name, dir_fd=dir_fd)


def _stale(name: str, dir_fd: int, now: float) -> bool:
    info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        return False
    age = now - info.st_mtime
    match = _TEMP_NAME.match(name)
    if match is not None:
        return age > STALE_AFTER and not _running(int(match["pid"]))
    return _LEGACY_TEMP_NAME.match(name) is not None and age > LEGACY_STALE_AFTER


def _running(pid: int) -> bool:
    if pid <= 0 or pid == os.getpid():
        return True  # this process, or a PID no kmscli writes: not to be judged dead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
