"""Damaged messages always raise, with a sensible error per region, and the final frame's
plaintext never reaches the output (esdk-format.md §1.12)."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from kmscli.errors import FormatError, InvalidCiphertextException, KmsError
from kmscli.message import decoder as decoder_module
from kmscli.message.decoder import MessageDecryptor
from kmscli.message.encoder import MessageEncryptor
from kmscli.message.frames import FINAL_FRAME_MARKER
from kmscli.message.header import EncryptedDataKey, parse_header
from kmscli.message.suites import DEFAULT_SUITE, SIGNED_SUITE, AlgorithmSuite

DATA_KEY = bytes(range(32))
F = 128
REGULAR = 3
PLAINTEXT = os.urandom(REGULAR * F + 50)
EDK = EncryptedDataKey("kmscli-test", b"key-1", b"\x05" * 48)

Outcome = tuple[type[KmsError], bytes]


@dataclass(frozen=True)
class Sample:
    suite: AlgorithmSuite
    message: bytes
    header_length: int
    regular_frames: list[bytes]
    final_frame: bytes
    footer: bytes

    @property
    def body_start(self) -> int:
        return self.header_length


def _sample(suite: AlgorithmSuite) -> Sample:
    out = io.BytesIO()
    encryptor = MessageEncryptor(suite, {"purpose": "tamper", "ключ": "значение"}, F)
    encryptor.write(io.BytesIO(PLAINTEXT), out, DATA_KEY, [EDK])
    message = out.getvalue()
    stream = io.BytesIO(message)
    header = parse_header(stream)
    rest = stream.read()
    regular = [rest[i * (F + 32) : (i + 1) * (F + 32)] for i in range(REGULAR)]
    rest = rest[REGULAR * (F + 32) :]
    assert rest[:4] == FINAL_FRAME_MARKER
    final = rest[:90]
    return Sample(suite, message, header.header_length, regular, final, rest[90:])


SAMPLES = {suite.id: _sample(suite) for suite in (DEFAULT_SUITE, SIGNED_SUITE)}


@pytest.fixture(params=sorted(SAMPLES), ids=lambda i: f"0x{i:04X}")
def sample(request: pytest.FixtureRequest) -> Sample:
    return SAMPLES[request.param]


@pytest.fixture(autouse=True)
def one_frame_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    # One frame per pipeline round, so regular frames before the damage really are written and
    # the test can see that nothing after it is.
    monkeypatch.setattr(decoder_module, "CHUNK_TARGET_BYTES", F)


def attempt(message: bytes, *, threaded: bool = True) -> Outcome:
    out = io.BytesIO()
    try:
        decryptor = MessageDecryptor(io.BytesIO(message), threaded=threaded)
        decryptor.read_header()
        decryptor.decrypt(DATA_KEY, out)
    except (FormatError, InvalidCiphertextException) as error:
        return type(error), out.getvalue()
    raise AssertionError("a damaged message decrypted without an error")


def assert_released_at_most(written: bytes, frames: int) -> None:
    """Only verified regular frames, in order, and never the final frame's plaintext."""
    assert written == PLAINTEXT[: len(written)]
    assert len(written) <= frames * F
    assert len(written) % F == 0


def test_samples_decrypt_when_intact(sample: Sample) -> None:
    out = io.BytesIO()
    MessageDecryptor(io.BytesIO(sample.message)).decrypt(DATA_KEY, out)
    assert out.getvalue() == PLAINTEXT


def _header_regions(sample: Sample) -> Iterator[tuple[str, int, set[type[KmsError]]]]:
    """(region, offset, allowed error types) for every header byte."""
    header = parse_header(io.BytesIO(sample.message))
    fmt, bad = FormatError, InvalidCiphertextException
    either = {fmt, bad}
    layout: list[tuple[str, int, set[type[KmsError]]]] = [
        ("version", 1, {fmt}),
        ("suite", 2, {fmt}),
        ("message id", 32, {bad}),
        ("aad length", 2, either),
        ("encryption context", len(header.encryption_context_bytes), either),
        ("edk count", 2, either),
    ]
    for key in header.encrypted_data_keys:
        layout += [
            ("edk provider id length", 2, either),
            ("edk provider id", len(key.provider_id.encode()), either),
            ("edk provider info length", 2, either),
            ("edk provider info", len(key.provider_info), {bad}),
            ("edk ciphertext length", 2, either),
            ("edk ciphertext", len(key.ciphertext), {bad}),
        ]
    layout += [
        ("content type", 1, {fmt}),
        ("frame length", 4, either),
        ("commitment key", 32, {bad}),
        ("header tag", 16, {bad}),
    ]
    offset = 0
    for name, size, allowed in layout:
        for position in range(offset, offset + size):
            yield name, position, allowed
        offset += size
    assert offset == sample.header_length


@pytest.mark.parametrize("mask", [0x01, 0x80])
def test_every_header_byte_flip(sample: Sample, mask: int) -> None:
    seen: dict[str, set[str]] = {}
    for region, position, allowed in _header_regions(sample):
        damaged = bytearray(sample.message)
        damaged[position] ^= mask
        error, written = attempt(bytes(damaged))
        assert error in allowed, (region, position, error)
        assert written == b"", region  # the header tag is checked before any frame
        seen.setdefault(region, set()).add(error.__name__)
    assert seen["message id"] == {"InvalidCiphertextException"}
    assert seen["version"] == {"FormatError"}


def _frame_of(sample: Sample, position: int) -> int:
    """Index of the frame holding body byte `position` (REGULAR = the final frame, +1 footer)."""
    offset = position - sample.body_start
    if offset < REGULAR * (F + 32):
        return offset // (F + 32)
    return REGULAR if offset < REGULAR * (F + 32) + len(sample.final_frame) else REGULAR + 1


@pytest.mark.parametrize("mask", [0x01, 0x40])
def test_every_body_byte_flip(sample: Sample, mask: int) -> None:
    for position in range(sample.body_start, len(sample.message)):
        damaged = bytearray(sample.message)
        damaged[position] ^= mask
        error, written = attempt(bytes(damaged))
        assert error is InvalidCiphertextException, position
        assert_released_at_most(written, min(_frame_of(sample, position), REGULAR))


@pytest.mark.parametrize("threaded", [True, False], ids=["threads", "inline"])
def test_truncation_at_every_offset(sample: Sample, threaded: bool) -> None:
    for cut in range(len(sample.message)):
        error, written = attempt(sample.message[:cut], threaded=threaded)
        if cut < sample.header_length:
            assert error is FormatError, cut
            assert written == b""
        else:
            assert error is InvalidCiphertextException, cut
            assert_released_at_most(written, REGULAR)
            if not threaded:  # inline, releases are exact: every complete regular frame
                complete = (cut - sample.header_length) // (F + 32)
                assert len(written) == min(complete, REGULAR) * F, cut


@pytest.mark.parametrize(
    "extra", [b"\x00", b"\xff", os.urandom(1000), FINAL_FRAME_MARKER, b"\x00" * 200_000]
)
def test_trailing_bytes(sample: Sample, extra: bytes) -> None:
    error, written = attempt(sample.message + extra)
    assert error is InvalidCiphertextException
    assert_released_at_most(written, REGULAR)


def _rebuild(sample: Sample, frames: list[bytes], final: bytes | None = None) -> bytes:
    final_frame = sample.final_frame if final is None else final
    return sample.message[: sample.header_length] + b"".join(frames) + final_frame + sample.footer


def test_frame_reordering(sample: Sample) -> None:
    f = sample.regular_frames
    variants = {
        "swap 1 and 2": [f[1], f[0], f[2]],
        "swap 2 and 3": [f[0], f[2], f[1]],
        "drop 2": [f[0], f[2]],
        "drop 3": [f[0], f[1]],
        "duplicate 1": [f[0], f[0], f[1], f[2]],
        "duplicate 3": [f[0], f[1], f[2], f[2]],
    }
    for name, frames in variants.items():
        error, written = attempt(_rebuild(sample, frames))
        assert error is InvalidCiphertextException, name
        assert_released_at_most(written, REGULAR)
    for name, message in {
        "no final frame": sample.message[: sample.header_length] + b"".join(f) + sample.footer,
        "final frame twice": _rebuild(sample, f, sample.final_frame * 2),
        "final frame first": _rebuild(sample, [], sample.final_frame + b"".join(f)),
        "no regular frames": _rebuild(sample, []),
    }.items():
        error, written = attempt(message)
        assert error is InvalidCiphertextException, name
        assert_released_at_most(written, REGULAR)


def test_final_frame_with_a_wrong_sequence_number(sample: Sample) -> None:
    final = bytearray(sample.final_frame)
    struct.pack_into(">I", final, 4, REGULAR + 2)
    error, written = attempt(_rebuild(sample, sample.regular_frames, bytes(final)))
    assert error is InvalidCiphertextException
    assert_released_at_most(written, REGULAR)


def test_final_frame_longer_than_the_frame_length(sample: Sample) -> None:
    final = bytearray(sample.final_frame)
    struct.pack_into(">I", final, 20, F + 1)
    error, _ = attempt(_rebuild(sample, sample.regular_frames, bytes(final)))
    assert error is InvalidCiphertextException


def test_signature_footer_damage() -> None:
    sample = SAMPLES[SIGNED_SUITE.id]
    body_end = len(sample.message) - len(sample.footer)
    for message in (
        sample.message[:body_end],  # no footer
        sample.message[:body_end] + b"\x00\x00",  # empty signature
        sample.message[:body_end] + b"\x00\x67" + bytes(103),  # zero signature
        sample.message[:-1],  # short signature
    ):
        error, written = attempt(message)
        assert error is InvalidCiphertextException
        assert_released_at_most(written, REGULAR)


def test_messages_are_bound_to_their_own_header() -> None:
    """A body grafted onto another message's header fails, even with the same data key."""
    other = _sample(DEFAULT_SUITE)
    sample = SAMPLES[DEFAULT_SUITE.id]
    grafted = sample.message[: sample.header_length] + other.message[other.header_length :]
    error, written = attempt(grafted)
    assert error is InvalidCiphertextException
    assert written == b""
