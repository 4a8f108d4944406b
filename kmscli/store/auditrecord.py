"""One line of the audit log: its formats, its MAC, and sealing the event it carries.

Owns the record line formats (kmscli.store.auditlog owns the file, the chain and the head):

    version 2 (written by this kmscli):
      {"v":2,"mac":"<hex>","seq":<n>,"prev":"<hex>","sealed":"<base64>"}
      `sealed` = AES-GCM(audit-seal subkey, event, AAD = label ‖ keyring id ‖ 0 ‖ u64 seq): the
      event is readable only with the root key and bound to its place in the chain, so the
      file shows only how many records there are and how long each is.
      MAC = HMAC-SHA256(audit subkey, "kmscli audit record v2\\0" ‖ keyring id ‖ 0 ‖ the bytes
      from `"seq"` to the closing quote of `sealed`), covering the ciphertext.
    version 1 (kmscli before sealed records; read and verified, never written):
      {"mac":"<hex>","seq":<n>,"prev":"<hex>","event":<event JSON in clear>}
      MAC label "kmscli audit record v1\\0", the bytes from `"seq"` to the end of the event.

Both versions chain alike (`prev` is the MAC of the record before, whatever its version), so a
log made by an older kmscli keeps its plain records, verifiable as they are, and goes on with
sealed ones: nothing is rewritten (rewriting would need a second, riskier format migration,
and the old records' MACs are what their chain was verified with). A line `{"v":N,...}` with N
above 2 was written by a newer kmscli: KeyringVersionError. It does no I/O.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from typing import Final

from kmscli.crypto.primitives import (
    AuthenticationError,
    aes_gcm_open,
    aes_gcm_seal,
    hmac_sha256,
    hmac_sha256_verify,
)
from kmscli.store.versions import newer

VERSION = 2
_LABELS = {1: b"kmscli audit record v1\0", 2: b"kmscli audit record v2\0"}
_SEAL_LABEL = b"kmscli audit event v2\0"
_SEQ = struct.Struct(">Q")
# Compiled on first use (the re module caches them): appending never parses a line.
_LINE_V1 = (
    rb'\{"mac":"(?P<mac>[0-9a-f]{64})",(?P<body>"seq":(?P<seq>[1-9][0-9]{0,18}),'
    rb'"prev":"(?P<prev>[0-9a-f]{64})","event":(?P<payload>.*))\}'
)
_LINE_V2 = (
    rb'\{"v":2,"mac":"(?P<mac>[0-9a-f]{64})",(?P<body>"seq":(?P<seq>[1-9][0-9]{0,18}),'
    rb'"prev":"(?P<prev>[0-9a-f]{64})","sealed":"(?P<payload>[A-Za-z0-9+/]*={0,2})")\}'
)
_VERSIONED = rb'\{"v":(?P<v>[0-9]{1,9}),'


class Parsed:
    """A line that has the shape of a record (its MAC not yet checked)."""

    __slots__ = ("body", "mac", "payload", "prev", "seq", "version")

    def __init__(
        self, version: int, seq: int, prev: bytes, mac: bytes, body: bytes, payload: bytes
    ) -> None:
        self.version: Final = version
        self.seq: Final = seq
        self.prev: Final = prev
        self.mac: Final = mac
        self.body: Final = body
        self.payload: Final = payload


class RecordCodec:
    """Makes and reads the record lines of one keyring's audit log."""

    __slots__ = ("_keyring_id", "_mac_key", "_seal_key")

    def __init__(self, mac_key: bytes, seal_key: bytes, keyring_id: bytes) -> None:
        self._mac_key = mac_key
        self._seal_key = seal_key
        self._keyring_id = keyring_id

    def __repr__(self) -> str:  # never show the keys
        return "RecordCodec(<redacted>)"

    def _mac_input(self, version: int, body: bytes) -> bytes:
        return _LABELS[version] + self._keyring_id + b"\0" + body

    def _seal_aad(self, seq: int) -> bytes:
        return _SEAL_LABEL + self._keyring_id + b"\0" + _SEQ.pack(seq)

    def line(self, seq: int, prev: bytes, event: bytes) -> tuple[bytes, bytes]:
        """The line (with its newline) of record `seq` chained to `prev`, and its MAC."""
        sealed = base64.b64encode(aes_gcm_seal(self._seal_key, event, self._seal_aad(seq)))
        body = b'"seq":%d,"prev":"%s","sealed":"%s"' % (seq, prev.hex().encode(), sealed)
        mac = hmac_sha256(self._mac_key, self._mac_input(VERSION, body))
        return b'{"v":2,"mac":"' + mac.hex().encode() + b'",' + body + b"}\n", mac

    def parse(self, raw: bytes) -> Parsed | None:
        """The record `raw` (one line, with or without its newline) has the shape of; None if
        it has none; KeyringVersionError if it is a record of a newer format."""
        raw = raw.rstrip(b"\n")
        if raw.startswith(b'{"v":'):
            match = re.fullmatch(_LINE_V2, raw)
            if match is None:
                versioned = re.match(_VERSIONED, raw)
                if versioned is not None and int(versioned["v"]) > VERSION:
                    raise newer("a record of the audit log", int(versioned["v"]), VERSION)
                return None
            version = 2
        else:
            match = re.fullmatch(_LINE_V1, raw)
            if match is None:
                return None
            version = 1
        return Parsed(
            version,
            int(match["seq"]),
            bytes.fromhex(match["prev"].decode()),
            bytes.fromhex(match["mac"].decode()),
            match["body"],
            match["payload"],
        )

    def mac_ok(self, record: Parsed) -> bool:
        return hmac_sha256_verify(
            self._mac_key, self._mac_input(record.version, record.body), record.mac
        )

    def event(self, record: Parsed) -> bytes | None:
        """The event a record carries (opened, for a sealed one); None if it does not open."""
        if record.version == 1:
            return record.payload
        try:
            sealed = base64.b64decode(record.payload, validate=True)
            return aes_gcm_open(self._seal_key, sealed, self._seal_aad(record.seq))
        except (AuthenticationError, binascii.Error, ValueError):
            return None
