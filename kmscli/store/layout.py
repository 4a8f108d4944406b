"""Where things live inside a keyring directory, and how record names become file names.

Owns: the fixed file names under `home`, validation of record kinds and names, and `Naming`:
which directory holds the records of a keyring and what each record's file is called, by the
keyring's schema version. It does no I/O and knows nothing about what records hold.

On-disk layout (every directory 0700, every file 0600):

    <home>/header            authenticated header: ids, protection mode, schema version
    <home>/lock              flock target (shared for readers, exclusive for writers)
    <home>/journal.pending   a transaction being prepared (during a write, or after a crash)
    <home>/journal           a committed transaction not yet fully applied (same)
    <home>/records.v2/<kind>/<opaque name>    schema 2
    <home>/records/<kind>/<encoded name>      schema 1 (until its first write migrates it)
    <home>/audit/log, <home>/audit/head   the audit trail (see auditlog)
    <home>/.tmp-*  and  <home>/records*/<kind>/.tmp-*   temporary files of atomic writes

Schema 2: a record's file name is the hex HMAC-SHA256, under the keyring's `names` subkey, of
its kind, a NUL and its name. The directory so shows how many records of each kind there are,
and nothing of their names (key IDs, aliases, regions, grant IDs, principals); the record file
carries its name inside (see records), which is how a listing learns the names.

Schema 1 (kmscli before the names subkey): a record name is encoded byte by byte from UTF-8:
`a-z`, `0-9`, `-` and `_` stand for themselves and every other byte becomes `%xx` (lower-case
hex). Upper case is escaped too, so two names never collide on a case-insensitive file system,
and the result never starts with a dot (temporary files do). An encoding longer than one
file-name component allows becomes `=` followed by the SHA-256 of the name.
"""

from __future__ import annotations

import re
from pathlib import Path

from kmscli.crypto.primitives import hmac_sha256, sha256
from kmscli.errors import ValidationException

HEADER = "header"
LOCK = "lock"
JOURNAL = "journal"
JOURNAL_PENDING = "journal.pending"
RECORDS = "records"  # schema 1
OPAQUE_RECORDS = "records.v2"  # schema 2
RECORD_DIRS = (RECORDS, OPAQUE_RECORDS)
NAMED_SCHEMA = 1
OPAQUE_SCHEMA = 2
AUDIT = "audit"
TEMP_PREFIX = ".tmp-"
HASHED_PREFIX = "="

MAX_KIND_CHARS = 64
MAX_NAME_CHARS = 1024
# Well under the 255-byte limit of common file systems, leaving room for nothing else.
MAX_ENCODED_CHARS = 200

# Patterns are compiled on first use (the re module caches them): a command needs few of them.
_KIND_RE = r"[a-z][a-z0-9-]*"
_SAFE = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789-_")
_HEX = "0123456789abcdef"
_HASHED_RE = r"=[0-9a-f]{64}"
_OPAQUE_RE = r"[0-9a-f]{64}"


def check_kind(kind: str) -> None:
    if not isinstance(kind, str) or len(kind) > MAX_KIND_CHARS or not re.fullmatch(_KIND_RE, kind):
        raise ValidationException(f"invalid record kind {kind!r}: expected [a-z][a-z0-9-]*")


def name_bytes(name: str) -> bytes:
    """The UTF-8 of a valid record name; ValidationException for anything else."""
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
        raise ValidationException(f"invalid record name: expected 1 to {MAX_NAME_CHARS} characters")
    try:
        return name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationException("invalid record name: not valid UTF-8") from None


def _escape(raw: bytes) -> str:
    out: list[str] = []
    for byte in raw:
        if byte in _SAFE:
            out.append(chr(byte))
        else:
            out.append("%" + _HEX[byte >> 4] + _HEX[byte & 15])
    return "".join(out)


def encode_name(name: str) -> str:
    """The file name of record `name` inside its kind directory."""
    raw = name_bytes(name)
    encoded = _escape(raw)
    if len(encoded) <= MAX_ENCODED_CHARS:
        return encoded
    return HASHED_PREFIX + sha256(raw).hex()


def is_hashed(filename: str) -> bool:
    return re.fullmatch(_HASHED_RE, filename) is not None


def decode_name(filename: str) -> str | None:
    """The record name a direct (not hashed) file name stands for; None if it is not one.

    Only the canonical encoding is accepted, so one name has exactly one file.
    """
    raw = bytearray()
    i = 0
    length = len(filename)
    if not 0 < length <= MAX_ENCODED_CHARS:
        return None
    while i < length:
        char = filename[i]
        if char == "%":
            pair = filename[i + 1 : i + 3]
            if len(pair) != 2 or any(c not in _HEX for c in pair):
                return None
            byte = int(pair, 16)
            if byte in _SAFE:
                return None
            raw.append(byte)
            i += 3
        elif ord(char) < 128 and ord(char) in _SAFE:
            raw.append(ord(char))
            i += 1
        else:
            return None
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(name) > MAX_NAME_CHARS:
        return None
    return name


class Naming:
    """The record files of one keyring: their directory and names, by its schema version.

    `names_key` (the keyring's `names` subkey) makes schema-2 names; schema 1 needs no key.
    """

    __slots__ = ("_names_key", "home", "schema")

    def __init__(self, home: Path, schema: int, names_key: bytes) -> None:
        self.home = home
        self.schema = schema
        self._names_key = names_key

    @property
    def opaque(self) -> bool:
        return self.schema >= OPAQUE_SCHEMA

    @property
    def records_dir(self) -> Path:
        return self.home / (OPAQUE_RECORDS if self.opaque else RECORDS)

    def kind_dir(self, kind: str) -> Path:
        check_kind(kind)
        return self.records_dir / kind

    def filename(self, kind: str, name: str) -> str:
        """The file name of record `name` inside its kind directory."""
        if not self.opaque:
            return encode_name(name)
        check_kind(kind)
        message = kind.encode("ascii") + b"\0" + name_bytes(name)
        return hmac_sha256(self._names_key, message).hex()

    def name_in_filename(self, filename: str) -> str | None:
        """The record name a file name spells out, where it does (schema 1 direct names);
        None where only the record file itself knows it."""
        if self.opaque or is_hashed(filename):
            return None
        return decode_name(filename)

    def is_record_filename(self, filename: str) -> bool:
        if self.opaque:
            return re.fullmatch(_OPAQUE_RE, filename) is not None
        return is_hashed(filename) or decode_name(filename) is not None


def relative(home: Path, path: Path) -> str:
    """`path` as shown in messages: relative to home when inside it."""
    try:
        return path.relative_to(home).as_posix()
    except ValueError:
        return str(path)
