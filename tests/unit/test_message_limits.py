"""The decoder's size limits on what a header or a non-framed body declares."""

from __future__ import annotations

import io
import os

import pytest

from kmscli.errors import FormatError
from kmscli.message.decoder import DEFAULT_MAX_FRAME_LENGTH, CommitmentPolicy, MessageDecryptor
from tests.interop.test_esdk_message_interop import LEGACY, esdk_encrypt, unwrap

POLICY = CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT


class CountingReader(io.BytesIO):
    """Remembers the largest single read asked for: what a read may allocate up front."""

    largest = 0

    def read(self, size: int | None = -1) -> bytes:
        self.largest = max(self.largest, size if size is not None and size >= 0 else 0)
        return super().read(size)


def test_a_non_framed_body_above_the_limit_fails_before_it_is_read() -> None:
    message = esdk_encrypt(os.urandom(1000), 0x0078, {"a": "b"}, frame_length=0, client=LEGACY)
    src = CountingReader(message)
    decryptor = MessageDecryptor(src, commitment_policy=POLICY, max_frame_length=999)
    with pytest.raises(FormatError, match="non-framed body of 1000 bytes") as raised:
        decryptor.decrypt(unwrap(decryptor.read_header()), io.BytesIO())
    assert raised.value.exit_status == 8
    assert raised.value.hints == (
        "if you trust this message, allow it with --max-frame-length 1000",
    )
    assert src.largest < 1000
    allowed = MessageDecryptor(io.BytesIO(message), commitment_policy=POLICY, max_frame_length=1000)
    out = io.BytesIO()
    assert allowed.decrypt(unwrap(allowed.read_header()), out) == 1000


def test_a_declared_non_framed_length_is_bounded_by_the_default_limit() -> None:
    message = bytearray(esdk_encrypt(b"x" * 10, 0x0078, {"a": "b"}, frame_length=0, client=LEGACY))
    header_length = len(
        MessageDecryptor(io.BytesIO(bytes(message)), commitment_policy=POLICY)
        .read_header()
        .serialize()
    )
    # The body: IV (12), content length (8): declare 2**35 bytes.
    message[header_length + 12 : header_length + 20] = (2**35).to_bytes(8, "big")
    src = CountingReader(bytes(message))
    decryptor = MessageDecryptor(src, commitment_policy=POLICY)
    with pytest.raises(FormatError, match=f"exceeds the limit of {DEFAULT_MAX_FRAME_LENGTH}"):
        decryptor.decrypt(unwrap(decryptor.read_header()), io.BytesIO())
    assert src.largest <= 2**16
