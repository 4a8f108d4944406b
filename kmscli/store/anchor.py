"""The audit anchor: the keyring's sealed record of where its audit trail had got to.

Owns the anchor record: its kind and name among the records, its content (format version 1,
JSON `{"v":1,"seq":<n>,"mac":"<hex>"}`, sealed like every record, so only the root key can
make or read one) and writing it during a transaction's apply step. Every transaction that
changes records carries its audit events (see journal); once they are in the log, the anchor is
set to the sequence number and MAC of the last one, before any changed record becomes visible.
So the sealed state always names the audit record of the last change, and a trail that was
removed, truncated or replaced no longer contains it: verification (auditlog) reports it.

The anchor guarantees the trail up to the last change: events of operations that change
nothing (Encrypt, Decrypt, DescribeKey, denied calls...) may follow it unanchored, protected by
the log's own MAC chain and head. A keyring made by a kmscli without anchors has no anchor
record until its first change. Removing the anchor record file itself is not detected here (the
set of record files is not sealed as a whole); removing it along with the trail makes the
keyring look as if no change had ever been anchored.

It does no locking (its callers hold the keyring's exclusive lock) and knows nothing of events.
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Final

from kmscli.errors import KeyringCorruptError, KeyringVersionError
from kmscli.store import layout
from kmscli.store.atomic import fsync_dir, make_dir, temp_name, write_new
from kmscli.store.records import encode_record

if TYPE_CHECKING:
    from pathlib import Path

    from kmscli.store.subkeys import Subkeys

KIND = "keyring"
NAME = "audit-anchor"
VERSION = 1
_MAC_HEX = r"[0-9a-f]{64}"


class Anchor:
    """The audit record the keyring's last change committed with."""

    __slots__ = ("mac", "seq")

    def __init__(self, seq: int, mac: bytes) -> None:
        self.seq: Final = seq
        self.mac: Final = mac

    def __repr__(self) -> str:
        return f"Anchor(seq={self.seq}, mac={self.mac.hex()})"


def encode(anchor: Anchor) -> bytes:
    return json.dumps(
        {"v": VERSION, "seq": anchor.seq, "mac": anchor.mac.hex()}, separators=(",", ":")
    ).encode()


def decode(data: bytes) -> Anchor:
    """The anchor a (decrypted) anchor record holds; KeyringCorruptError if it holds none,
    KeyringVersionError if its version is newer than this build knows."""
    where = f"{KIND}/{NAME}"
    try:
        fields = json.loads(data)
    except ValueError:
        fields = None
    if isinstance(fields, dict) and isinstance(fields.get("v"), int) and fields["v"] > VERSION:
        raise KeyringVersionError(
            f"keyring record '{where}' has version {fields['v']}; this kmscli knows up to "
            f"{VERSION}",
            hints=["upgrade kmscli to use this keyring"],
        )
    if not (
        isinstance(fields, dict)
        and fields.get("v") == VERSION
        and isinstance(fields.get("seq"), int)
        and not isinstance(fields["seq"], bool)
        and fields["seq"] >= 1
        and isinstance(fields.get("mac"), str)
        and re.fullmatch(_MAC_HEX, fields["mac"])
    ):
        raise KeyringCorruptError(
            f"keyring record '{where}' is not an audit anchor",
            hints=["restore the keyring directory from a backup"],
        )
    return Anchor(fields["seq"], bytes.fromhex(fields["mac"]))


def write(home: Path, keys: Subkeys, anchor: Anchor) -> None:
    """Replace the anchor record durably (temporary, fsync, rename, fsync the directory)."""
    directory = layout.kind_dir(home, KIND)
    make_dir(directory)
    temp = directory / temp_name("anchor-")
    try:
        write_new(temp, encode_record(keys, KIND, NAME, encode(anchor)))
        os.replace(temp, layout.record_path(home, KIND, NAME))
    except BaseException:
        if os.path.lexists(temp):
            os.unlink(temp)
        raise
    fsync_dir(directory)
