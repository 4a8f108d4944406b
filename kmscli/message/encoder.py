"""Streaming encryption of one stream into one ESDK v2 framed message.

Owns: `MessageEncryptor` - building the v2 header, the framed body and, for signed suites, the
footer, with memory bounded by the frame size (reused buffers, `readinto`, `encrypt_into`) and
reading, sealing and writing overlapped on two cores (see `pipeline`).

Must not: wrap or choose data keys (the envelope layer does, with `encryption_context`), print,
or write anything but the message to `dst`.

Final-frame convention: when the plaintext is an exact, non-zero multiple of the frame length,
the last frame is written as a full-length final frame (the spec's SHOULD). Empty plaintext is a
single empty final frame.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import BinaryIO, Final

from kmscli.crypto.framing import (
    FrameCipher,
    MessageSigner,
    compute_header_tag,
    derive_committing_keys,
)
from kmscli.crypto.primitives import random_bytes
from kmscli.errors import KMSInternalException, ValidationException
from kmscli.message.context import (
    PUBLIC_KEY_FIELD,
    check_no_reserved_keys,
    serialize_encryption_context,
)
from kmscli.message.frames import (
    FINAL_FRAME_MARKER,
    FINAL_FRAME_OVERHEAD,
    MAX_FRAME_COUNT,
    REGULAR_FRAME_OVERHEAD,
    AadBuilder,
    chunk_frames,
    frame_iv,
)
from kmscli.message.header import (
    HEADER_IV_V2,
    MAX_FRAME_LENGTH,
    VERSION_2,
    ContentType,
    EncryptedDataKey,
    MessageHeader,
    serialize_header_body_v2,
)
from kmscli.message.pipeline import BufferPool, ChunkSink, ChunkSource
from kmscli.message.suites import DEFAULT_SUITE, ENCRYPT_SUITES, AlgorithmSuite

DEFAULT_FRAME_LENGTH: Final = 256 * 1024
FRAME_LENGTH_MULTIPLE: Final = 128  # Python ESDK accepts only multiples of 128 on encrypt
CHUNK_TARGET_BYTES: Final = 1024 * 1024  # bytes of plaintext per read/seal/write round
_POOL_DEPTH: Final = 3  # chunks in flight per pool: one being read, one sealed, one written
_U32: Final = struct.Struct(">I")
_FINAL_HEAD: Final = struct.Struct(">4sI12sI")

Progress = Callable[[int], None]


def check_frame_length(frame_length: int) -> None:
    if (
        isinstance(frame_length, bool)
        or not isinstance(frame_length, int)
        or frame_length <= 0
        or frame_length % FRAME_LENGTH_MULTIPLE
        or frame_length > MAX_FRAME_LENGTH
    ):
        raise ValidationException(
            f"frame length {frame_length!r} must be a positive multiple of "
            f"{FRAME_LENGTH_MULTIPLE} and at most {MAX_FRAME_LENGTH}"
        )


class MessageEncryptor:
    """One message: construct, wrap the data key under `encryption_context`, then `write` once.

    For signed suites the ECDSA key is generated here and `encryption_context` already holds
    `aws-crypto-public-key`; the data key must be wrapped under exactly that context.
    `progress`, if given, is called in the caller's thread with the number of plaintext bytes
    just sealed (a delta).
    """

    def __init__(
        self,
        suite: AlgorithmSuite = DEFAULT_SUITE,
        encryption_context: Mapping[str, str] | None = None,
        frame_length: int = DEFAULT_FRAME_LENGTH,
        *,
        max_encrypted_data_keys: int | None = None,
        threaded: bool = True,
    ) -> None:
        if suite not in ENCRYPT_SUITES:
            raise ValidationException(
                f"algorithm suite {suite} cannot be used to encrypt; use "
                + " or ".join(str(s) for s in ENCRYPT_SUITES)
            )
        check_frame_length(frame_length)
        context = dict(encryption_context or {})
        check_no_reserved_keys(context)
        self._signer: MessageSigner | None = None
        if suite.signature is not None:
            self._signer = MessageSigner(suite.signature)
            context[PUBLIC_KEY_FIELD] = self._signer.public_key_b64
        self._context_bytes = serialize_encryption_context(context)  # validates the limits
        self.suite: Final = suite
        self.frame_length: Final = frame_length
        self.encryption_context: Final[Mapping[str, str]] = context
        self.max_encrypted_data_keys = max_encrypted_data_keys
        self.header: MessageHeader | None = None  # set by `write`
        self._threaded = threaded

    def _build_header(
        self, data_key: bytes, encrypted_data_keys: Sequence[EncryptedDataKey]
    ) -> tuple[MessageHeader, bytes]:
        if len(data_key) != self.suite.key_length:
            raise ValidationException(
                f"the data key is {len(data_key)} bytes; suite {self.suite.id_hex} needs "
                f"{self.suite.key_length}"
            )
        if not encrypted_data_keys:
            raise ValidationException("a message needs at least one encrypted data key")
        limit = self.max_encrypted_data_keys
        if limit is not None and len(encrypted_data_keys) > limit:
            raise ValidationException(
                f"{len(encrypted_data_keys)} encrypted data keys exceed the limit of {limit}"
            )
        message_id = random_bytes(32)
        key, commitment = derive_committing_keys(
            bytes(data_key), suite_id=self.suite.id, message_id=message_id
        )
        body = serialize_header_body_v2(
            suite=self.suite,
            message_id=message_id,
            encryption_context_bytes=self._context_bytes,
            encrypted_data_keys=encrypted_data_keys,
            frame_length=self.frame_length,
            commitment_key=commitment,
        )
        header = MessageHeader(
            version=VERSION_2,
            suite=self.suite,
            message_id=message_id,
            encryption_context=self.encryption_context,
            encryption_context_bytes=self._context_bytes,
            encrypted_data_keys=tuple(encrypted_data_keys),
            content_type=ContentType.FRAMED,
            frame_length=self.frame_length,
            suite_data=commitment,
            header_iv=HEADER_IV_V2,
            header_tag=compute_header_tag(key, HEADER_IV_V2, body),
            body=body,
        )
        return header, key

    def write(
        self,
        src: BinaryIO,
        dst: BinaryIO,
        data_key: bytes,
        encrypted_data_keys: Sequence[EncryptedDataKey],
        progress: Progress | None = None,
    ) -> int:
        """Encrypt all of `src` into `dst` as one message; returns the plaintext bytes read."""
        if self.header is not None:
            raise KMSInternalException("MessageEncryptor.write is single-use: one per message")
        header, key = self._build_header(data_key, encrypted_data_keys)
        self.header = header
        frame = self.frame_length
        frames_per_chunk = chunk_frames(frame, CHUNK_TARGET_BYTES)
        chunk_size = frames_per_chunk * frame
        out_size = frames_per_chunk * (frame + REGULAR_FRAME_OVERHEAD) + (
            FINAL_FRAME_OVERHEAD - REGULAR_FRAME_OVERHEAD
        )
        signer = self._signer
        source = ChunkSource(src, chunk_size, depth=_POOL_DEPTH, threaded=self._threaded)
        sink = ChunkSink(
            dst, hasher=None if signer is None else signer.update, threaded=self._threaded
        )
        sealer = _Sealer(FrameCipher(key), AadBuilder(header.message_id), frame, out_size, sink)
        total = 0
        try:
            header_bytes = header.serialize()
            sink.submit(header_bytes, header_bytes)
            current = source.next()
            while True:
                if current is None:  # empty plaintext
                    sealer.seal(memoryview(b""), last=True)
                    break
                following = source.next() if current.full else None
                sealer.seal(current.view, last=following is None)
                size = len(current.view)
                source.release(current)
                total += size
                if progress is not None:
                    progress(size)
                if following is None:
                    break
                current = following
            if signer is not None:
                sink.flush()  # everything before the footer is hashed
                signature = signer.finalize()
                sink.submit(len(signature).to_bytes(2, "big") + signature)
            sink.close()
        except BaseException:
            sink.abort()
            raise
        finally:
            source.close()
        return total


class _Sealer:
    """Seals chunks of plaintext into frames in a small pool of reused output buffers."""

    def __init__(
        self, cipher: FrameCipher, aad: AadBuilder, frame: int, out_size: int, sink: ChunkSink
    ) -> None:
        self._cipher = cipher
        self._aad = aad
        self._frame = frame
        self._sink = sink
        self._pool = BufferPool(out_size, _POOL_DEPTH)
        self.sequence = 1

    def seal(self, plaintext: memoryview, *, last: bool) -> None:
        frame = self._frame
        size = len(plaintext)
        regular, rest = divmod(size, frame)
        final_length = 0
        if last:
            if rest == 0 and regular > 0:
                regular -= 1
                final_length = frame
            else:
                final_length = rest
        seq = self.sequence
        if seq + regular - (0 if last else 1) > MAX_FRAME_COUNT:
            raise ValidationException(
                f"the input is too large for frame length {frame}: a message holds at most "
                f"{MAX_FRAME_COUNT} frames"
            )
        taken = self._pool.take()
        if taken is None:  # pragma: no cover - the pool is never closed while sealing
            raise KMSInternalException("the frame buffer pool was closed")
        index, out = taken
        cipher = self._cipher
        aad = self._aad
        pack = _U32.pack_into
        stride = frame + REGULAR_FRAME_OVERHEAD
        offset = 0
        start = 0
        try:
            for _ in range(regular):
                iv = frame_iv(seq)
                pack(out, offset, seq)
                out[offset + 4 : offset + 16] = iv
                cipher.seal_into(
                    iv,
                    plaintext[start : start + frame],
                    aad.regular(seq, frame),
                    out[offset + 16 : offset + stride],
                )
                offset += stride
                start += frame
                seq += 1
            if last:
                iv = frame_iv(seq)
                _FINAL_HEAD.pack_into(out, offset, FINAL_FRAME_MARKER, seq, iv, final_length)
                head = offset + _FINAL_HEAD.size
                cipher.seal_into(
                    iv,
                    plaintext[start : start + final_length],
                    aad.final(seq, final_length),
                    out[head : head + final_length + 16],
                )
                offset = head + final_length + 16
        except BaseException:
            self._pool.give(index)
            raise
        self.sequence = seq
        written = out[:offset]
        self._sink.submit(written, written, self._pool.giver(index))


__all__ = [
    "CHUNK_TARGET_BYTES",
    "DEFAULT_FRAME_LENGTH",
    "MessageEncryptor",
    "check_frame_length",
]
