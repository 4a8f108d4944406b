"""Body layout constants and the per-frame IV and AAD (esdk-format.md §1.8, §1.9).

Owns: frame overheads, the final-frame marker, deterministic IVs and the body AAD. Must not: do
crypto or I/O; the encoder and decoder drive the streams.
"""

from __future__ import annotations

import struct
from typing import Final

FINAL_FRAME_MARKER: Final = b"\xff\xff\xff\xff"
REGULAR_FRAME_OVERHEAD: Final = 4 + 12 + 16  # seq, IV, tag
FINAL_FRAME_OVERHEAD: Final = 4 + 4 + 12 + 4 + 16  # marker, seq, IV, content length, tag
FINAL_FRAME_PREFIX: Final = 4 + 4 + 12 + 4  # bytes before the ciphertext of a final frame
MAX_FRAME_COUNT: Final = 2**32 - 1
NON_FRAMED_MAX_CONTENT: Final = 2**36 - 32  # the GCM limit
IV_LENGTH: Final = 12
TAG_LENGTH: Final = 16

REGULAR_FRAME: Final = b"AWSKMSEncryptionClient Frame"
FINAL_FRAME: Final = b"AWSKMSEncryptionClient Final Frame"
SINGLE_BLOCK: Final = b"AWSKMSEncryptionClient Single Block"

_IV_PREFIX: Final = bytes(8)
_SEQ_LEN: Final = struct.Struct(">IQ")


def frame_iv(sequence_number: int) -> bytes:
    """The deterministic IV: 8 zero bytes then the 4-byte sequence number."""
    return _IV_PREFIX + sequence_number.to_bytes(4, "big")


def body_aad(message_id: bytes, content: bytes, sequence_number: int, length: int) -> bytes:
    """message ID ‖ content string ‖ seq (4) ‖ plaintext length (8)."""
    return message_id + content + _SEQ_LEN.pack(sequence_number, length)


class AadBuilder:
    """Precomputes the per-message prefixes so each frame's AAD costs one pack and one concat."""

    __slots__ = ("_final", "_regular")

    def __init__(self, message_id: bytes) -> None:
        self._regular = message_id + REGULAR_FRAME
        self._final = message_id + FINAL_FRAME

    def regular(self, sequence_number: int, length: int) -> bytes:
        return self._regular + _SEQ_LEN.pack(sequence_number, length)

    def final(self, sequence_number: int, length: int) -> bytes:
        return self._final + _SEQ_LEN.pack(sequence_number, length)


def chunk_frames(frame_length: int, target_bytes: int) -> int:
    """How many frames one I/O chunk holds: about `target_bytes`, at least one frame."""
    return max(1, target_bytes // frame_length)
