"""Test helpers for keyring files: where a record's file is, and schema-1 keyrings on demand.

`naming_of(env)` opens the keyring a test's environment points at (in-process) and returns its
`layout.Naming`, so tests find a record's file by the keyring's own naming, never by a
hard-coded layout.

`downgrade_to_schema1` turns a keyring of this tree into a schema-1 keyring (readable record
file names).

kmscli before schema 2 kept records in `<home>/records/<kind>/<reversible encoding of the
name>` and wrote `schema_version` 1 in the header. The committed vectors (tests/vectors/v1)
are real keyrings of that kind, made by that code; this helper makes more of them on demand
(any content, any kind of record) with the schema-1 code paths the product keeps for reading
and migrating old keyrings: `layout.Naming` at schema 1, `records.encode_record` with that
naming, and the header re-encoded with `schema_version` 1 under the keyring's own subkeys.

It writes the files directly, without the lock: call it only on a keyring no other process
uses, and open the keyring again afterwards (a `Keyring` object opened before still describes
the schema-2 layout).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from kmscli.store import Keyring, layout, open_keyring
from kmscli.store.header import encode_header, parse_header
from kmscli.store.records import decode_record, encode_record

SCHEMA_1 = 1  # (a literal: this module also imports on code from before schema 2)


def downgrade_to_schema1(keyring: Keyring) -> None:
    """Rewrite `keyring` (schema 2, no journal pending) as kmscli before schema 2 had it."""
    home = keyring.info.home
    keys = keyring._keys
    opaque = layout.Naming(home, layout.OPAQUE_SCHEMA, keys.names)
    named = layout.Naming(home, SCHEMA_1, keys.names)
    assert not (home / layout.JOURNAL).exists(), "recover the keyring first"
    assert opaque.records_dir.is_dir() and not named.records_dir.exists()
    named.records_dir.mkdir(mode=0o700)
    for kind in sorted(os.listdir(opaque.records_dir)):
        named.kind_dir(kind).mkdir(mode=0o700)
        for filename in sorted(os.listdir(opaque.kind_dir(kind))):
            blob = (opaque.kind_dir(kind) / filename).read_bytes()
            name, data = decode_record(keys, opaque, kind, filename, blob, where=filename)
            target = named.kind_dir(kind) / named.filename(kind, name)
            target.write_bytes(encode_record(keys, named, kind, name, data))
            target.chmod(0o600)
    shutil.rmtree(opaque.records_dir)
    header_path = home / layout.HEADER
    fields = json.loads(parse_header(header_path.read_bytes()).body)
    fields["schema_version"] = SCHEMA_1
    header_path.write_bytes(encode_header(fields, keys))
    header_path.chmod(0o600)


def naming_of(env: Mapping[str, str]) -> layout.Naming:
    """The record naming of the keyring at KMSCLI_HOME (opened with KMSCLI_ROOT_KEY_FILE)."""
    home = Path(env["KMSCLI_HOME"])
    keyring = open_keyring(
        home,
        root_key_file=Path(env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=home.parent,
        passphrase=lambda: None,
        create=False,
    )
    return keyring.naming


def record_file(env: Mapping[str, str], kind: str, name: str) -> Path:
    """The file of record `name` of `kind` in the keyring at KMSCLI_HOME."""
    naming = naming_of(env)
    return naming.kind_dir(kind) / naming.filename(kind, name)


def schema_of(home: Path) -> int:
    """The schema version the header of the keyring at `home` declares."""
    version = parse_header((home / layout.HEADER).read_bytes()).schema_version
    assert isinstance(version, int)
    return version
