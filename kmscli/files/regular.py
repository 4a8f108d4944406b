"""Files that must be regular files, opened without ever blocking.

Owns: opening a path non-blocking and checking, on the open descriptor, that it is a regular
file (so a FIFO, device or directory planted in its place is refused, never a hang), and
reading such a file whole under a size limit checked before reading.

Must not: decide what a refused file means: the caller's `refuse(problem)` builds the error
(the keyring calls it corruption), given a phrase such as "is not a regular file".
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

Refuse = Callable[[str], Exception]


def open_regular(path: Path, flags: int, mode: int, *, refuse: Refuse) -> int:
    """`os.open(path, flags, mode)` of a file that must be a regular file: opened with
    O_NONBLOCK and checked; `refuse("is not a regular file")` is raised otherwise."""
    fd = os.open(path, flags | os.O_CLOEXEC | os.O_NONBLOCK, mode)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise refuse("is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes(path: Path, *, limit: int | None, refuse: Refuse) -> bytes | None:
    """The file's bytes, or None when it does not exist. Other OSErrors propagate.

    Only a regular file is read (see `open_regular`); one larger than `limit` is refused
    (`refuse("is too large to be one kmscli wrote")`) before it is read."""
    try:
        fd = open_regular(path, os.O_RDONLY, 0o600, refuse=refuse)
    except FileNotFoundError:
        return None
    try:
        if limit is not None and os.fstat(fd).st_size > limit:
            raise refuse("is too large to be one kmscli wrote")
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
