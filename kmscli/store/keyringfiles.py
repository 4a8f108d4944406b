"""The keyring's choices for kmscli.files: its temp names, its errors, its size limit.

Owns: how the keyring names its temporaries (`.tmp-` + tag + 16 hex digits, which journal
recovery sweeps), that a keyring file which is not a regular file or is too large is corruption
(exit 9), and translating OS errors that are not the keyring's fault into InputOutputError. The
writing itself (0700 directories, 0600 files, atomic replace, fsync) is kmscli.files.durable's;
this module never calls the file system's durability primitives itself.
"""

from __future__ import annotations

from pathlib import Path

from kmscli.crypto.primitives import random_bytes
from kmscli.errors import InputOutputError, KeyringCorruptError
from kmscli.files import durable, regular
from kmscli.store.layout import TEMP_PREFIX

MAX_FILE_BYTES = 64 << 20
"""Far above any keyring file kmscli writes (a record is at most 1 MiB): what is larger was not
written by kmscli, and is refused before it is read."""


def io_error(path: Path, exc: OSError, doing: str = "access") -> InputOutputError:
    reason = exc.strerror or exc.__class__.__name__
    return InputOutputError(f"cannot {doing} '{path}': {reason}")


def temp_name(tag: str = "") -> str:
    return f"{TEMP_PREFIX}{tag}{random_bytes(8).hex()}"


def write_atomic(path: Path, data: bytes) -> None:
    """Replace the keyring file `path` by `data` atomically and durably, mode 0600."""
    durable.write_atomic(path, data, temp=temp_name(), mode=durable.PRIVATE_FILE)


def _corrupt(path: Path) -> regular.Refuse:
    def refuse(problem: str) -> Exception:
        return KeyringCorruptError(
            f"keyring file '{path}' {problem}",
            hints=["remove it, or restore the keyring directory from a backup"],
        )

    return refuse


def open_regular(path: Path, flags: int, mode: int = durable.PRIVATE_FILE) -> int:
    """`os.open` for a keyring file that must be a regular file: a FIFO, device or directory
    planted in the keyring is corruption (exit 9), never a hang."""
    return regular.open_regular(path, flags, mode, refuse=_corrupt(path))


def read_bytes(path: Path, *, limit: int | None = MAX_FILE_BYTES) -> bytes | None:
    """The keyring file's bytes, or None when it does not exist. Other OSErrors propagate.
    Not a regular file, or larger than `limit`: corruption, refused before it is read."""
    return regular.read_bytes(path, limit=limit, refuse=_corrupt(path))
