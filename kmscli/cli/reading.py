"""Bounded reads of the small inputs a command takes whole: FILE|- arguments, passphrase files,
the configuration file.

Owns the rule that no whole-input read is unbounded: at most the documented maximum plus one
byte is read, and more than the maximum is refused (exit 2) with a message naming the limit, so
that `/dev/zero` or a huge file costs nothing. Settings files (passphrase, configuration) are
opened without blocking: a FIFO nobody writes to reads as empty instead of hanging, and a
device, directory or socket is refused. Must not: read the environment or decide what a value
means (callers do).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from typing import Final

from kmscli.errors import InputOutputError, KmsError, UsageError

KIB: Final = 1024


def size_text(limit: int) -> str:
    """`32768 bytes (32 KiB)`, as the limits are named in messages."""
    if limit >= KIB and limit % KIB == 0:
        return f"{limit} bytes ({limit // KIB} KiB)"
    return f"{limit} bytes"


def too_large(what: str, source: str, limit: int, error: type[KmsError] = UsageError) -> KmsError:
    return error(f"{what} '{source}' is larger than the limit of {size_text(limit)}")


def _read_at_most(read: Callable[[int], bytes | None], limit: int) -> bytes:
    """Up to limit + 1 bytes (short reads of pipes are continued until EOF or the bound)."""
    chunks: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = read(min(remaining, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_bounded(
    source: str, *, limit: int, what: str, error: type[KmsError] = UsageError
) -> bytes:
    """The bytes of FILE, or of stdin for `-`; more than `limit` bytes raises `error` (an exit
    2 class: UsageError, or the AWS exception of the limit).

    A FILE may be a pipe or FIFO (`<(command)` works); it is read until EOF or the bound."""
    try:
        if source == "-":
            data = _read_at_most(sys.stdin.buffer.read, limit)
        else:
            with open(source, "rb", buffering=0) as handle:
                data = _read_at_most(handle.read, limit)
    except IsADirectoryError:
        raise InputOutputError(f"cannot read {what} '{source}': it is a directory") from None
    except OSError as failure:
        raise InputOutputError(f"cannot read {what} '{source}': {failure.strerror}") from None
    except ValueError:  # a path with a NUL byte
        raise UsageError(f"cannot read {what} '{source}': not a valid file name") from None
    if len(data) > limit:
        raise too_large(what, source, limit, error)
    return data


def read_settings_file(
    path: str | os.PathLike[str], *, limit: int, what: str, refuse: type[KmsError]
) -> bytes:
    """A small file of settings (passphrase, configuration) without ever blocking on open.

    Regular files and pipes (`<(pass show kmscli)`) are read, up to `limit` bytes (more is a
    UsageError); anything else (device, directory, socket) raises `refuse`. A FIFO that no one
    writes to reads as empty."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except ValueError:
        raise UsageError(f"cannot read {what} '{path}': not a valid file name") from None
    except OSError as error:
        raise InputOutputError(f"cannot read {what} '{path}': {error.strerror}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise refuse(f"{what} '{path}' is not a regular file")
        os.set_blocking(fd, True)
        data = _read_at_most(lambda size: os.read(fd, size), limit)
    except OSError as error:
        raise InputOutputError(f"cannot read {what} '{path}': {error.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise too_large(what, str(path), limit)
    return data
