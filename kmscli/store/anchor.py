"""The audit anchor: the keyring's sealed record of where its audit trail had got to.

Owns the anchor record: its kind and name among the records and its content (format version 1,
JSON `{"v":1,"seq":<n>,"size":<log size after it>,"mac":"<hex>"}`, sealed like every record,
so only the root key can make or read one). Every transaction that changes records carries its
audit events and a new anchor naming the last of them (see journal): the anchor changes with
the records, atomically. So the sealed state names the audit record of the last change, and a
trail that was removed, truncated or replaced no longer holds it: verification (auditlog)
reports it. A transaction that finds the anchored record gone from the log keeps the old anchor
rather than re-anchoring on whatever chain is there now, so the loss stays reported (until the
keyring is restored from a backup).

The anchor guarantees the trail up to the last change: events of operations that change
nothing (Encrypt, Decrypt, DescribeKey, denied calls...) may follow it unanchored, protected by
the log's own MAC chain and head. A keyring made by a kmscli without anchors has no anchor
record until its first change. Removing the anchor record file itself is not detected here (the
set of record files is not sealed as a whole); removing it along with the trail makes the
keyring look as if no change had ever been anchored.

It does no I/O (the journal writes the record with the transaction) and knows nothing of events.
"""

from __future__ import annotations

import json
import re

from kmscli.errors import KeyringCorruptError, KeyringVersionError
from kmscli.store.auditlog import Position

KIND = "keyring"
NAME = "audit-anchor"
VERSION = 1
_MAC_HEX = r"[0-9a-f]{64}"
_WHERE = f"{KIND}/{NAME}"


def encode(position: Position) -> bytes:
    return json.dumps(
        {"v": VERSION, "seq": position.seq, "size": position.size, "mac": position.mac.hex()},
        separators=(",", ":"),
    ).encode()


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def decode(data: bytes) -> Position:
    """The position an (opened) anchor record holds; KeyringCorruptError if it holds none,
    KeyringVersionError if its version is newer than this build knows."""
    try:
        fields = json.loads(data)
    except ValueError:
        fields = None
    if isinstance(fields, dict) and _count(fields.get("v")) and fields["v"] > VERSION:
        raise KeyringVersionError(
            f"keyring record '{_WHERE}' has version {fields['v']}; this kmscli knows up to "
            f"{VERSION}",
            hints=["upgrade kmscli to use this keyring"],
        )
    if not (
        isinstance(fields, dict)
        and fields.get("v") == VERSION
        and _count(fields.get("seq"))
        and _count(fields.get("size"))
        and isinstance(fields.get("mac"), str)
        and re.fullmatch(_MAC_HEX, fields["mac"])
    ):
        raise KeyringCorruptError(
            f"keyring record '{_WHERE}' is not an audit anchor",
            hints=["restore the keyring directory from a backup"],
        )
    return Position(fields["seq"], fields["size"], bytes.fromhex(fields["mac"]))
