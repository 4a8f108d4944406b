"""Streaming encode/decode round trips: boundary sizes, short reads, both final-frame encodings."""

from __future__ import annotations

import io
import os
import random
import struct

import pytest

from kmscli.errors import (
    FormatError,
    InvalidCiphertextException,
    KMSInternalException,
    ValidationException,
)
from kmscli.message import decoder as decoder_module
from kmscli.message import encoder as encoder_module
from kmscli.message.context import PUBLIC_KEY_FIELD
from kmscli.message.decoder import CommitmentPolicy, MessageDecryptor
from kmscli.message.encoder import DEFAULT_FRAME_LENGTH, MessageEncryptor
from kmscli.message.frames import FINAL_FRAME_MARKER
from kmscli.message.header import EncryptedDataKey, parse_header
from kmscli.message.suites import DEFAULT_SUITE, SIGNED_SUITE, AlgorithmSuite, suite_by_id

DATA_KEY = bytes(range(32))
EDK = EncryptedDataKey("kmscli-test", b"key-1", b"\x00" * 48)
F = 128


class ShortReads(io.RawIOBase):
    """A pipe-like source: every read returns 1..`most` bytes."""

    def __init__(self, data: bytes, most: int = 97, seed: int = 0) -> None:
        self._data = io.BytesIO(data)
        self._random = random.Random(seed)  # noqa: S311 - read sizes, not secrets
        self._most = most

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self._data.read(min(len(buffer), self._random.randint(1, self._most)))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class ShortWrites(io.RawIOBase):
    """A pipe-like sink: every write takes at most `most` bytes."""

    def __init__(self, most: int = 61) -> None:
        self.data = bytearray()
        self._most = most

    def writable(self) -> bool:
        return True

    def write(self, buffer: bytes) -> int:  # type: ignore[override]
        taken = bytes(memoryview(buffer)[: self._most])
        self.data += taken
        return len(taken)


def encrypt(
    plaintext: bytes,
    suite: AlgorithmSuite = DEFAULT_SUITE,
    frame_length: int = F,
    *,
    context: dict[str, str] | None = None,
    threaded: bool = True,
) -> bytes:
    encryptor = MessageEncryptor(suite, context or {}, frame_length, threaded=threaded)
    out = io.BytesIO()
    assert encryptor.write(io.BytesIO(plaintext), out, DATA_KEY, [EDK]) == len(plaintext)
    return out.getvalue()


def decrypt(message: bytes, *, threaded: bool = True, max_frame_length: int | None = None) -> bytes:
    decryptor = MessageDecryptor(
        io.BytesIO(message), threaded=threaded, max_frame_length=max_frame_length
    )
    out = io.BytesIO()
    decryptor.read_header()
    assert decryptor.decrypt(DATA_KEY, out) == len(out.getvalue())
    return out.getvalue()


def frames_of(message: bytes) -> tuple[bytes, list[bytes], bytes, bytes]:
    """(header, regular frames, final frame, footer) of a framed message."""
    stream = io.BytesIO(message)
    header = parse_header(stream)
    rest = stream.read()
    regular = []
    frame = header.frame_length
    while rest[:4] != FINAL_FRAME_MARKER:
        regular.append(rest[: frame + 32])
        rest = rest[frame + 32 :]
    (length,) = struct.unpack(">I", rest[20:24])
    final = rest[: 40 + length]
    return header.serialize(), regular, final, rest[40 + length :]


SIZES = [0, 1, F - 1, F, F + 1, 2 * F, 2 * F + 1, 9 * F + 5]


@pytest.mark.parametrize("threaded", [True, False], ids=["threads", "inline"])
@pytest.mark.parametrize("suite", [DEFAULT_SUITE, SIGNED_SUITE], ids=lambda s: s.id_hex)
@pytest.mark.parametrize("size", SIZES)
def test_boundary_sizes_through_short_reads(
    size: int, suite: AlgorithmSuite, threaded: bool
) -> None:
    plaintext = os.urandom(size)
    encryptor = MessageEncryptor(suite, {"size": str(size)}, F, threaded=threaded)
    sink = ShortWrites()
    seen: list[int] = []
    read = encryptor.write(ShortReads(plaintext), sink, DATA_KEY, [EDK], progress=seen.append)  # type: ignore[arg-type]
    assert read == size == sum(seen)
    message = bytes(sink.data)

    _, regular, final, footer = frames_of(message)
    # Exact multiples end with a full-length final frame; empty plaintext is one empty final frame.
    assert len(regular) == max(0, (size - 1) // F)
    (final_length,) = struct.unpack(">I", final[20:24])
    assert final_length == (size - len(regular) * F)
    assert (len(footer) > 0) is suite.signed

    decryptor = MessageDecryptor(ShortReads(message, seed=1), threaded=threaded)  # type: ignore[arg-type]
    out = ShortWrites()
    released: list[int] = []
    assert decryptor.decrypt(DATA_KEY, out, progress=released.append) == size  # type: ignore[arg-type]
    assert bytes(out.data) == plaintext and sum(released) == size


def _reencode_with_empty_final_frame(message: bytes) -> bytes:
    """Rewrite a message whose plaintext is a multiple of F so it ends with regular frames and an
    empty final frame (the ESDK's encoding), re-sealing with our own key derivation."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from kmscli.crypto.framing import derive_committing_keys
    from kmscli.message.frames import body_aad, frame_iv

    header_bytes, regular, final, footer = frames_of(message)
    assert not footer
    header = parse_header(io.BytesIO(header_bytes))
    key, _ = derive_committing_keys(
        DATA_KEY, suite_id=header.suite.id, message_id=header.message_id
    )
    aead = AESGCM(key)
    mid = header.message_id
    seq = len(regular) + 1
    plain = aead.decrypt(
        final[8:20], final[24:], body_aad(mid, b"AWSKMSEncryptionClient Final Frame", seq, F)
    )
    as_regular = (
        struct.pack(">I", seq)
        + frame_iv(seq)
        + aead.encrypt(frame_iv(seq), plain, body_aad(mid, b"AWSKMSEncryptionClient Frame", seq, F))
    )
    empty = (
        FINAL_FRAME_MARKER
        + struct.pack(">I", seq + 1)
        + frame_iv(seq + 1)
        + struct.pack(">I", 0)
        + aead.encrypt(
            frame_iv(seq + 1), b"", body_aad(mid, b"AWSKMSEncryptionClient Final Frame", seq + 1, 0)
        )
    )
    return header_bytes + b"".join(regular) + as_regular + empty


@pytest.mark.parametrize("threaded", [True, False], ids=["threads", "inline"])
@pytest.mark.parametrize("frames", [1, 2, 5])
def test_decrypts_the_empty_final_frame_encoding(frames: int, threaded: bool) -> None:
    plaintext = os.urandom(frames * F)
    message = _reencode_with_empty_final_frame(encrypt(plaintext))
    _, regular, final, _ = frames_of(message)
    assert len(regular) == frames and final[20:24] == b"\x00\x00\x00\x00"
    assert decrypt(message, threaded=threaded) == plaintext


@pytest.mark.parametrize("frame_length", [128, 4096, 65536, DEFAULT_FRAME_LENGTH, 1 << 20])
def test_many_chunks(frame_length: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small chunks force many pipeline rounds, and frames that are not a divisor of the chunk.
    monkeypatch.setattr(encoder_module, "CHUNK_TARGET_BYTES", 3 * frame_length)
    plaintext = os.urandom(10 * frame_length + 17)
    message = encrypt(plaintext, frame_length=frame_length)
    assert decrypt(message) == plaintext
    assert decrypt(message, threaded=False) == plaintext


def test_signed_context_holds_the_public_key() -> None:
    encryptor = MessageEncryptor(SIGNED_SUITE, {"a": "b"}, F)
    assert set(encryptor.encryption_context) == {"a", PUBLIC_KEY_FIELD}
    assert len(encryptor.encryption_context[PUBLIC_KEY_FIELD]) == 68
    assert MessageEncryptor(DEFAULT_SUITE, {"a": "b"}, F).encryption_context == {"a": "b"}
    out = io.BytesIO()
    encryptor.write(io.BytesIO(b"x"), out, DATA_KEY, [EDK])
    header = MessageDecryptor(io.BytesIO(out.getvalue())).read_header()
    assert header.encryption_context == encryptor.encryption_context
    assert encryptor.header is not None and encryptor.header.message_id == header.message_id


def test_fresh_message_id_and_ciphertext_every_time() -> None:
    assert encrypt(b"same") != encrypt(b"same")


@pytest.mark.parametrize("frame_length", [0, -128, 100, 129, 2**31, 2**32, True, 1.5])
def test_frame_length_validation(frame_length: object) -> None:
    with pytest.raises(ValidationException):
        MessageEncryptor(DEFAULT_SUITE, {}, frame_length)  # type: ignore[arg-type]


def test_largest_frame_length_is_accepted() -> None:
    MessageEncryptor(DEFAULT_SUITE, {}, 2**31 - 128)


@pytest.mark.parametrize("suite_id", [0x0078, 0x0178, 0x0378, 0x0214])
def test_encrypt_writes_v2_suites_only(suite_id: int) -> None:
    with pytest.raises(ValidationException):
        MessageEncryptor(suite_by_id(suite_id), {}, F)


def test_encrypt_validation() -> None:
    with pytest.raises(ValidationException, match="reserved"):
        MessageEncryptor(DEFAULT_SUITE, {"aws-crypto-public-key": "x"}, F)
    with pytest.raises(ValidationException):
        MessageEncryptor(DEFAULT_SUITE, {"k": "v" * 70000}, F)
    encryptor = MessageEncryptor(DEFAULT_SUITE, {}, F)
    with pytest.raises(ValidationException, match="data key"):
        encryptor.write(io.BytesIO(b""), io.BytesIO(), DATA_KEY[:16], [EDK])
    with pytest.raises(ValidationException, match="at least one"):
        encryptor.write(io.BytesIO(b""), io.BytesIO(), DATA_KEY, [])
    limited = MessageEncryptor(DEFAULT_SUITE, {}, F, max_encrypted_data_keys=1)
    with pytest.raises(ValidationException, match="limit"):
        limited.write(io.BytesIO(b""), io.BytesIO(), DATA_KEY, [EDK, EDK])
    # The signed suite's public key counts toward the 65535-byte context limit.
    MessageEncryptor(DEFAULT_SUITE, {"k": "v" * 65500}, F)
    with pytest.raises(ValidationException):
        MessageEncryptor(SIGNED_SUITE, {"k": "v" * 65500}, F)


def test_write_is_single_use() -> None:
    encryptor = MessageEncryptor(DEFAULT_SUITE, {}, F)
    encryptor.write(io.BytesIO(b"a"), io.BytesIO(), DATA_KEY, [EDK])
    with pytest.raises(KMSInternalException):
        encryptor.write(io.BytesIO(b"a"), io.BytesIO(), DATA_KEY, [EDK])


def test_decrypt_is_single_use_and_header_is_idempotent() -> None:
    decryptor = MessageDecryptor(io.BytesIO(encrypt(b"abc")))
    assert decryptor.read_header() is decryptor.read_header() is decryptor.header
    decryptor.decrypt(DATA_KEY, io.BytesIO())
    with pytest.raises(KMSInternalException):
        decryptor.decrypt(DATA_KEY, io.BytesIO())


def test_wrong_data_key() -> None:
    message = encrypt(b"secret")
    with pytest.raises(InvalidCiphertextException, match="commitment"):
        MessageDecryptor(io.BytesIO(message)).decrypt(bytes(32), io.BytesIO())
    with pytest.raises(InvalidCiphertextException, match="32"):
        MessageDecryptor(io.BytesIO(message)).decrypt(DATA_KEY[:16], io.BytesIO())


def test_decrypt_guards() -> None:
    message = encrypt(b"x" * 1000, frame_length=256)
    with pytest.raises(FormatError, match="limit"):
        MessageDecryptor(io.BytesIO(message), max_frame_length=128).read_header()
    MessageDecryptor(io.BytesIO(message), max_frame_length=256).read_header()
    signed = encrypt(b"x", SIGNED_SUITE)
    with pytest.raises(FormatError, match="signed"):
        MessageDecryptor(io.BytesIO(signed), unsigned_only=True).read_header()
    MessageDecryptor(io.BytesIO(message), unsigned_only=True).read_header()
    assert (
        CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT.value == "require-encrypt-require-decrypt"
    )


def test_errors_in_the_writer_thread_reach_the_caller() -> None:
    class Full(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def write(self, buffer: bytes) -> int:  # type: ignore[override]
            raise OSError(28, "No space left on device")

    encryptor = MessageEncryptor(DEFAULT_SUITE, {}, F)
    with pytest.raises(OSError, match="No space"):
        encryptor.write(io.BytesIO(os.urandom(10 * F)), Full(), DATA_KEY, [EDK])  # type: ignore[arg-type]
    message = encrypt(os.urandom(10 * F))
    with pytest.raises(OSError, match="No space"):
        MessageDecryptor(io.BytesIO(message)).decrypt(DATA_KEY, Full())  # type: ignore[arg-type]


def test_errors_in_the_reader_thread_reach_the_caller() -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            self.calls += 1
            if self.calls > 3:
                raise OSError(5, "Input/output error")
            buffer[:10] = bytes(10)
            return 10

    encryptor = MessageEncryptor(DEFAULT_SUITE, {}, F)
    with pytest.raises(OSError, match="Input/output"):
        encryptor.write(Broken(), io.BytesIO(), DATA_KEY, [EDK])  # type: ignore[arg-type]


def test_source_without_readinto() -> None:
    class ReadOnly:
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def read(self, count: int = -1) -> bytes:
            return self._data.read(min(count, 50))

    plaintext = os.urandom(5 * F + 3)
    out = io.BytesIO()
    MessageEncryptor(DEFAULT_SUITE, {}, F).write(ReadOnly(plaintext), out, DATA_KEY, [EDK])  # type: ignore[arg-type]
    decryptor = MessageDecryptor(ReadOnly(out.getvalue()))  # type: ignore[arg-type]
    result = io.BytesIO()
    decryptor.decrypt(DATA_KEY, result)
    assert result.getvalue() == plaintext


_RSS_CHILD = """
import io, os, sys, threading
from kmscli.message.decoder import MessageDecryptor
from kmscli.message.encoder import MessageEncryptor
from kmscli.message.header import EncryptedDataKey

class Zeros(io.RawIOBase):
    def __init__(self, size): self.left = size
    def readable(self): return True
    def readinto(self, buffer):
        count = min(len(buffer), self.left)
        memoryview(buffer)[:count] = bytes(count)
        self.left -= count
        return count

size, frame = int(sys.argv[1]), int(sys.argv[2])
key = bytes(32)
read_end, write_end = os.pipe()
result = {}

def decrypt():
    with open(read_end, "rb") as src, open(os.devnull, "wb") as dst:
        result["n"] = MessageDecryptor(src).decrypt(key, dst)

thread = threading.Thread(target=decrypt)
thread.start()
with open(write_end, "wb") as dst:
    MessageEncryptor(frame_length=frame).write(
        Zeros(size), dst, key, [EncryptedDataKey("p", b"i", bytes(48))]
    )
thread.join()
assert result["n"] == size, result
# VmHWM is this process image's own peak (ru_maxrss would include the forking parent's).
with open("/proc/self/status") as status:
    print(next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) // 1024)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("frame_length", [4096, DEFAULT_FRAME_LENGTH, 1 << 20])
def test_peak_memory_is_bounded_by_the_frame_not_the_stream(frame_length: int) -> None:
    """256 MiB encrypted and decrypted in one process (through a pipe): peak RSS stays flat."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(256 << 20), str(frame_length)],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
    )
    peak_mib = int(done.stdout.strip())
    assert peak_mib < 80, f"peak RSS {peak_mib} MiB"


def test_no_threads_are_left_behind() -> None:
    import threading
    import time

    before = threading.active_count()
    message = encrypt(os.urandom(20 * F), SIGNED_SUITE)
    for _ in range(20):
        assert decrypt(message) is not None
        with pytest.raises(InvalidCiphertextException):
            decrypt(message[:-1])
        with pytest.raises(InvalidCiphertextException):
            decrypt(message[: len(message) // 2])
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize("threaded", [True, False], ids=["threads", "inline"])
def test_a_huge_declared_frame_length_costs_only_the_bytes_used(threaded: bool) -> None:
    frame_length = 2**31 - 128
    before = _rss_mib()
    message = encrypt(b"tiny" * 100, frame_length=frame_length, threaded=threaded)
    assert decrypt(message, threaded=threaded) == b"tiny" * 100
    with pytest.raises(InvalidCiphertextException):
        decrypt(message[:-1], threaded=threaded)
    assert _rss_mib() - before < 20


@pytest.mark.parametrize("threaded", [True, False], ids=["threads", "inline"])
@pytest.mark.parametrize("suite", [DEFAULT_SUITE, SIGNED_SUITE], ids=lambda s: s.id_hex)
@pytest.mark.parametrize("target", [F // 2, 3 * F], ids=["frame-per-chunk", "frames-per-chunk"])
def test_the_final_frame_is_opened_in_place_across_chunks(
    target: int, suite: AlgorithmSuite, threaded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Frames above the chunk target get one buffer of each kind, and the final frame is opened
    in pieces straight from the chunks it spans: every size still round-trips, and a change
    anywhere in the final frame, its tag, the footer or after the end is caught."""
    monkeypatch.setattr(decoder_module, "CHUNK_TARGET_BYTES", target)
    for size in SIZES:
        plaintext = os.urandom(size)
        message = encrypt(plaintext, suite, frame_length=F)
        assert decrypt(message, threaded=threaded) == plaintext
        header, regular, final, footer = frames_of(message)
        start = len(header) + sum(len(frame) for frame in regular)
        for index in (start + 3, start + 23, start + 24, start + len(final) - 1):
            damaged = bytearray(message)
            damaged[index] ^= 0x01
            with pytest.raises(InvalidCiphertextException):
                decrypt(bytes(damaged), threaded=threaded)
        if footer:
            with pytest.raises(InvalidCiphertextException):
                decrypt(message[:-1] + bytes([message[-1] ^ 1]), threaded=threaded)
        for broken in (message + b"\x00", message[:-1]):
            with pytest.raises(InvalidCiphertextException):
                decrypt(broken, threaded=threaded)
