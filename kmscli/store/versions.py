"""Format version bytes of keyring files: telling "newer than this kmscli" from "damaged".

Owns the one rule every versioned keyring file follows: a file that starts with its format's
magic but carries a version this build does not know was written by a newer kmscli, and is
refused with KeyringVersionError (exit 9, "upgrade kmscli") rather than reported as corrupt, so
a user who downgraded is told what to do instead of restoring a backup. It does no I/O and
never decides what a file's bytes mean beyond its first bytes.
"""

from __future__ import annotations

from kmscli.errors import KeyringVersionError


def known_version(blob: bytes, magic: bytes, version: int, *, where: str) -> bool:
    """Whether `blob` starts with `magic` ‖ `version`; KeyringVersionError when it starts with
    `magic` and a newer version; False for anything else (the caller reports it as corrupt)."""
    if not blob.startswith(magic) or len(blob) <= len(magic):
        return False
    found = blob[len(magic)]
    if found > version:
        raise newer(where, found, version)
    return found == version


def newer(where: str, found: int, version: int) -> KeyringVersionError:
    return KeyringVersionError(
        f"{where} has format version {found}, written by a newer kmscli; this kmscli reads "
        f"version {version}",
        hints=["upgrade kmscli to use this keyring"],
    )
