"""The keyring root key: where it comes from and how it is protected.

Owns: generating the 256-bit root key, the root key file (format, 0600 creation with O_EXCL,
refusing group/other access and anything but a regular file, without blocking on a FIFO; the
"missing" and "unreadable" errors) and the passphrase mode
(Argon2id parameters and wrapping the root key under the passphrase-derived key). It does not
decide which mode a keyring uses, nor read the environment or prompt: callers hand it paths
and passphrase bytes.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import NamedTuple

from kmscli.crypto.primitives import (
    AuthenticationError,
    aes_gcm_open,
    aes_gcm_seal,
    argon2id,
    random_bytes,
)
from kmscli.errors import (
    KeyringCorruptError,
    KeyringLockedError,
    KeyringPermissionError,
)
from kmscli.files.durable import make_dirs, sync_directory, write_new
from kmscli.files.regular import open_regular
from kmscli.store.keyringfiles import io_error

ROOT_KEY_BYTES = 32

# RFC 9106's second recommended option, with the memory raised to 64 MiB.
ARGON2_MEMORY_KIB = 65536
ARGON2_ITERATIONS = 3
ARGON2_LANES = 4
ARGON2_SALT_BYTES = 16
# Sanity bounds on what a header may ask for (a tampered header must not exhaust memory).
_MAX_MEMORY_KIB = 4 * 1024 * 1024
_MAX_ITERATIONS = 64
_MAX_LANES = 64

PASSPHRASE_HINTS = (
    "set KMSCLI_PASSPHRASE or KMSCLI_PASSPHRASE_FILE, or run in a terminal to be prompted",
)

_HEX_KEY = re.compile(rb"\s*([0-9a-fA-F]{64})\s*")


def new_root_key() -> bytes:
    return random_bytes(ROOT_KEY_BYTES)


def _encode_key_file(root_key: bytes) -> bytes:
    return root_key.hex().encode("ascii") + b"\n"


def _decode_key_file(data: bytes) -> bytes | None:
    """64 hex digits (what kmscli writes, and `openssl rand -hex 32`) or 32 raw bytes."""
    match = _HEX_KEY.fullmatch(data)
    if match:
        return bytes.fromhex(match.group(1).decode("ascii"))
    if len(data) == ROOT_KEY_BYTES:
        return data
    return None


def _check_private(path: Path, mode: int) -> None:
    if mode & 0o077:
        raise KeyringPermissionError(
            f"root key file '{path}' is accessible by group or others"
            f" (mode {stat.S_IMODE(mode):04o})",
            hints=[f"chmod 600 '{path}'"],
        )


def load_key_file(path: Path, *, expected_for: str) -> bytes:
    """The root key in `path`. `expected_for` names the keyring in the "missing" hint."""

    def refuse(problem: str) -> Exception:
        return KeyringLockedError(
            f"root key file '{path}' {problem}",
            hints=["the root key file must be a regular file (64 hex digits, mode 0600)"],
        )

    try:
        fd = open_regular(path, os.O_RDONLY, 0, refuse=refuse)  # never waits on a FIFO
    except FileNotFoundError:
        raise KeyringLockedError(
            f"root key file '{path}' not found",
            hints=[
                f"{expected_for} expects its root key file at '{path}'",
                "restore it there, or set KMSCLI_ROOT_KEY_FILE to where it is",
            ],
        ) from None
    except OSError as exc:
        raise io_error(path, exc, "open root key file") from None
    try:
        _check_private(path, os.fstat(fd).st_mode)
        os.set_blocking(fd, True)
        data = os.read(fd, 4096)
    except OSError as exc:
        raise io_error(path, exc, "read root key file") from None
    finally:
        os.close(fd)
    key = _decode_key_file(data)
    if key is None:
        raise KeyringLockedError(
            f"root key file '{path}' does not hold a root key (expected 64 hex digits)"
        )
    return key


def create_key_file(path: Path, root_key: bytes) -> bytes:
    """Store `root_key` in a new 0600 file at `path`; returns the key the file holds.

    If the file already exists (provisioned beforehand, or shared by several keyrings), its
    key is adopted instead, after the same checks as when opening.
    """
    try:
        make_dirs(path.parent)
        write_new(path, _encode_key_file(root_key))
    except FileExistsError:
        return load_key_file(path, expected_for="this keyring")
    except OSError as exc:
        raise io_error(path, exc, "create root key file") from None
    sync_directory(path.parent)
    return root_key


class Argon2Params(NamedTuple):
    memory_kib: int
    iterations: int
    lanes: int
    salt: bytes

    @classmethod
    def fresh(cls) -> Argon2Params:
        return cls(
            memory_kib=ARGON2_MEMORY_KIB,
            iterations=ARGON2_ITERATIONS,
            lanes=ARGON2_LANES,
            salt=random_bytes(ARGON2_SALT_BYTES),
        )

    def check(self, where: str) -> None:
        if not (
            8 * self.lanes <= self.memory_kib <= _MAX_MEMORY_KIB
            and 1 <= self.iterations <= _MAX_ITERATIONS
            and 1 <= self.lanes <= _MAX_LANES
            and 8 <= len(self.salt) <= 64
        ):
            raise KeyringCorruptError(f"keyring file '{where}' has invalid Argon2id parameters")


def _wrap_aad(keyring_id: str) -> bytes:
    return b"kmscli root key wrap v1\0" + keyring_id.encode("ascii")


def _kek(passphrase: bytes, params: Argon2Params) -> bytes:
    return argon2id(
        passphrase,
        salt=params.salt,
        memory_kib=params.memory_kib,
        iterations=params.iterations,
        lanes=params.lanes,
    )


def wrap_root_key(
    root_key: bytes, passphrase: bytes, params: Argon2Params, keyring_id: str
) -> bytes:
    return aes_gcm_seal(_kek(passphrase, params), root_key, _wrap_aad(keyring_id))


def unwrap_root_key(
    wrapped: bytes, passphrase: bytes, params: Argon2Params, keyring_id: str
) -> bytes:
    try:
        root_key = aes_gcm_open(_kek(passphrase, params), wrapped, _wrap_aad(keyring_id))
    except AuthenticationError:
        raise KeyringLockedError(
            "wrong passphrase for the keyring", hints=PASSPHRASE_HINTS
        ) from None
    if len(root_key) != ROOT_KEY_BYTES:
        raise KeyringLockedError("wrong passphrase for the keyring")
    return root_key
