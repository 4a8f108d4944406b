"""Streaming decryption of one ESDK message (v1 or v2, framed or legacy non-framed).

Owns: `MessageDecryptor` - the header checks of esdk-format.md §1.12 steps 1-7 (`read_header`)
and steps 8-13 given the unwrapped data key (`decrypt`), with memory bounded by the frame size.

Memory rule: a header may declare frames of up to 2**31-1 bytes (anyone allowed GenerateDataKey
can make one with a valid tag), and a frame must be held whole to be authenticated. So the frame
length a header declares (or a non-framed body's length) is checked against `max_frame_length`
before any buffer is sized, and the buffers then hold about two frames whatever the stream holds.

Release rule: a regular frame's plaintext reaches `dst` once its tag verifies; the final frame's
plaintext (and a non-framed body) only after the signature, if any, verifies and the stream is
known to end right there. A damaged, truncated or extended message therefore raises before the
final frame is written.

Must not: unwrap data keys (the envelope layer does, with the header's EDKs and context), print,
or put key or plaintext bytes in error messages. Header problems raise FormatError; any failure
after the header (authentication, sequence, truncation, trailing bytes) InvalidCiphertextException.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from typing import BinaryIO, Final

from kmscli.crypto.framing import (
    AuthenticationError,
    FrameCipher,
    InvalidPublicKeyError,
    MessageVerifier,
    commitment_matches,
    derive_committing_keys,
    derive_legacy_key,
    verify_header_tag,
)
from kmscli.errors import FormatError, InvalidCiphertextException, KMSInternalException
from kmscli.message.context import PUBLIC_KEY_FIELD
from kmscli.message.frames import (
    FINAL_FRAME_MARKER,
    FINAL_FRAME_PREFIX,
    NON_FRAMED_MAX_CONTENT,
    REGULAR_FRAME_OVERHEAD,
    SINGLE_BLOCK,
    TAG_LENGTH,
    AadBuilder,
    body_aad,
    chunk_frames,
)
from kmscli.message.header import ContentType, MessageHeader, parse_header, read_exact
from kmscli.message.pipeline import BufferPool, Chunk, ChunkSink, ChunkSource, write_all
from kmscli.message.suites import AlgorithmSuite, CommitmentPolicy

__all__ = [
    "DEFAULT_MAX_ENCRYPTED_DATA_KEYS",
    "DEFAULT_MAX_FRAME_LENGTH",
    "CommitmentPolicy",
    "MessageDecryptor",
]

DEFAULT_MAX_ENCRYPTED_DATA_KEYS: Final = 64
# 16 times kmscli's default frame (256 KiB), 1024 times what the ESDKs write (4096), 4 times the
# largest frame the benchmarks try (1 MiB): real messages pass, and a hostile header costs at most
# about 8 MiB. A non-framed body is authenticated as one block, so the same limit applies to it.
DEFAULT_MAX_FRAME_LENGTH: Final = 4 * 1024 * 1024
CHUNK_TARGET_BYTES: Final = 1024 * 1024
_POOL_DEPTH: Final = 3
_FINAL_HEAD: Final = struct.Struct(">4sI12sI")
_U32: Final = struct.Struct(">I")
_FINAL_MARKER_VALUE: Final = int.from_bytes(FINAL_FRAME_MARKER, "big")
_OPENER_ROOM: Final = 15  # a frame opened in pieces needs this much room past its plaintext

Progress = Callable[[int], None]


def _damaged(detail: str) -> InvalidCiphertextException:
    return InvalidCiphertextException(f"the message is damaged or was changed: {detail}")


class MessageDecryptor:
    """One message from `src`: `read_header()`, unwrap a data key, then `decrypt()` once.

    `progress`, if given, is called in the caller's thread with the number of plaintext bytes
    just released (a delta). `unsigned_only` fails signed messages right after the header;
    `max_frame_length` (None: no limit but the format's) rejects, right after the header, frame
    lengths above it, and non-framed bodies above it before they are read.
    """

    def __init__(
        self,
        src: BinaryIO,
        commitment_policy: CommitmentPolicy = CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
        max_encrypted_data_keys: int | None = DEFAULT_MAX_ENCRYPTED_DATA_KEYS,
        *,
        max_frame_length: int | None = DEFAULT_MAX_FRAME_LENGTH,
        unsigned_only: bool = False,
        threaded: bool = True,
    ) -> None:
        self._src = src
        self.commitment_policy = commitment_policy
        self.max_encrypted_data_keys = max_encrypted_data_keys
        self.max_frame_length = max_frame_length
        self.unsigned_only = unsigned_only
        self._threaded = threaded
        self._header: MessageHeader | None = None
        self._verifier: MessageVerifier | None = None
        self._used = False

    # -- header (§1.12 steps 1-7) ----------------------------------------------------------------

    def _check_suite(self, suite: AlgorithmSuite) -> None:
        if not self.commitment_policy.allows_decrypt(suite):
            raise FormatError(
                f"algorithm suite {suite} does not commit to its key and the commitment policy "
                f"{self.commitment_policy.value} forbids decrypting it",
                hints=("decrypt it with commitment policy require-encrypt-allow-decrypt",),
            )
        if self.unsigned_only and suite.signed:
            raise FormatError(f"algorithm suite {suite} is signed and only unsigned is allowed")

    def read_header(self) -> MessageHeader:
        """Parse and check the header; idempotent. Raises FormatError."""
        if self._header is not None:
            return self._header
        header = parse_header(
            self._src,
            max_encrypted_data_keys=self.max_encrypted_data_keys,
            check_suite=self._check_suite,
        )
        check_frame_length(header.frame_length, self.max_frame_length)
        public_key = header.encryption_context.get(PUBLIC_KEY_FIELD)
        curve = header.suite.signature
        if curve is not None:
            if public_key is None:
                raise FormatError(
                    f"algorithm suite {header.suite} is signed but the message carries no "
                    f"{PUBLIC_KEY_FIELD}"
                )
            try:
                self._verifier = MessageVerifier(curve, public_key)
            except InvalidPublicKeyError as error:
                raise FormatError(f"bad {PUBLIC_KEY_FIELD}: {error}") from None
        elif public_key is not None:
            raise FormatError(
                f"algorithm suite {header.suite} is not signed but the message carries "
                f"{PUBLIC_KEY_FIELD}"
            )
        self._header = header
        return header

    def check_frame_length(self, limit: int | None) -> None:
        """FormatError if the header's frames (or a non-framed body) may exceed `limit`; for a
        non-framed body the length is only known from the body, so the limit is kept for it."""
        self.max_frame_length = limit
        check_frame_length(self.read_header().frame_length, limit)

    @property
    def header(self) -> MessageHeader:
        """The header, read on first access (same checks and errors as `read_header`)."""
        return self.read_header()

    # -- body (§1.12 steps 8-13) -----------------------------------------------------------------

    def _derive_key(self, header: MessageHeader, data_key: bytes) -> bytes:
        suite = header.suite
        if len(data_key) != suite.key_length:
            raise InvalidCiphertextException(
                f"the data key is {len(data_key)} bytes; suite {suite.id_hex} needs "
                f"{suite.key_length}"
            )
        if suite.committing:
            key, commitment = derive_committing_keys(
                bytes(data_key), suite_id=suite.id, message_id=header.message_id
            )
            if not commitment_matches(commitment, header.suite_data):
                raise _damaged("the key commitment does not match this data key")
        else:
            key = derive_legacy_key(
                bytes(data_key),
                kdf=suite.kdf or "identity",
                suite_id=suite.id,
                message_id=header.message_id,
                length=suite.key_length,
            )
        try:
            verify_header_tag(key, header.header_iv, header.body, header.header_tag)
        except AuthenticationError:
            raise _damaged("the header failed authentication") from None
        return key

    def decrypt(self, data_key: bytes, dst: BinaryIO, progress: Progress | None = None) -> int:
        """Decrypt the body into `dst`; returns the plaintext bytes written."""
        if self._used:
            raise KMSInternalException("MessageDecryptor.decrypt is single-use: one per message")
        header = self.read_header()
        self._used = True
        key = self._derive_key(header, data_key)
        if self._verifier is not None:
            self._verifier.update(header.serialize())
        if header.content_type is ContentType.NON_FRAMED:
            return self._decrypt_non_framed(header, FrameCipher(key), dst, progress)
        return _FramedBody(
            header,
            FrameCipher(key),
            self._verifier,
            src=self._src,
            dst=dst,
            progress=progress,
            threaded=self._threaded,
        ).run()

    def _decrypt_non_framed(
        self, header: MessageHeader, cipher: FrameCipher, dst: BinaryIO, progress: Progress | None
    ) -> int:
        src = self._src
        head = read_exact(src, 12 + 8)
        if len(head) != 20:
            raise _damaged("the body is truncated")
        length = int.from_bytes(head[12:], "big")
        if length > NON_FRAMED_MAX_CONTENT:
            raise FormatError(
                f"the non-framed body of {length} bytes exceeds the format's limit of "
                f"{NON_FRAMED_MAX_CONTENT}"
            )
        check_frame_length(length, self.max_frame_length, what="the non-framed body")
        sealed = read_exact(src, length + TAG_LENGTH)
        if len(sealed) != length + TAG_LENGTH:
            raise _damaged("the body is truncated")
        aad = body_aad(header.message_id, SINGLE_BLOCK, 1, length)
        try:
            plaintext = cipher.open(head[:12], sealed, aad)
        except AuthenticationError:
            raise _damaged("the body failed authentication") from None
        verifier = self._verifier
        if verifier is not None:
            verifier.update(head)
            verifier.update(sealed)
            _verify_footer(verifier, lambda n: read_exact(src, n))
        if src.read(1):
            raise _damaged("there are bytes after the end of the message")
        write_all(dst, plaintext)
        if progress is not None:
            progress(length)
        return length


def check_frame_length(length: int, limit: int | None, *, what: str = "the frame length") -> None:
    """FormatError (with a hint) if `length` bytes, held in memory twice, exceed `limit`."""
    if limit is None or length <= limit:
        return
    raise FormatError(
        f"{what} of {length} bytes exceeds the limit of {limit} bytes: decrypting holds a whole "
        "frame in memory twice",
        hints=(f"if you trust this message, allow it with --max-frame-length {length}",),
    )


def _verify_footer(verifier: MessageVerifier, take: Callable[[int], bytes]) -> None:
    raw = take(2)
    if len(raw) != 2:
        raise _damaged("the signature footer is missing")
    length = int.from_bytes(raw, "big")
    signature = take(length)
    if len(signature) != length:
        raise _damaged("the signature footer is truncated")
    try:
        verifier.verify(signature)
    except AuthenticationError:
        raise _damaged("the signature does not verify") from None


class _Cursor:
    """The bytes after the last regular frame (final frame, footer), read in place from the
    source's chunks: nothing frame-sized is copied, and bytes after the end of the message are
    detected without reading them into memory. `leave(chunk)` hands back each chunk read past."""

    def __init__(
        self, source: ChunkSource, chunk: Chunk, offset: int, leave: Callable[[Chunk], None]
    ) -> None:
        self._source = source
        self._chunk: Chunk | None = chunk
        self._offset = offset
        self._leave = leave

    def _view(self) -> memoryview | None:
        """The unread bytes of the current chunk (never empty), or None at the end of stream."""
        while self._chunk is not None:
            if self._offset < len(self._chunk.view):
                return self._chunk.view[self._offset :]
            chunk, self._chunk = self._chunk, None
            self._leave(chunk)
            self._chunk = self._source.next()
            self._offset = 0
        return None

    def pieces(self, count: int) -> Iterator[memoryview]:
        """Up to `count` bytes as views into the chunks, each valid until the next is asked for."""
        while count > 0:
            view = self._view()
            if view is None:
                return
            piece = view[:count]
            self._offset += len(piece)
            count -= len(piece)
            yield piece

    def take(self, count: int) -> bytes:
        """Up to `count` bytes (fewer at the end of stream), copied: for small fields only."""
        return b"".join(bytes(piece) for piece in self.pieces(count))

    def at_end(self) -> bool:
        return self._view() is None


class _FramedBody:
    """The framed body of one message: regular frames chunk by chunk, then the tail."""

    def __init__(
        self,
        header: MessageHeader,
        cipher: FrameCipher,
        verifier: MessageVerifier | None,
        *,
        src: BinaryIO,
        dst: BinaryIO,
        progress: Progress | None,
        threaded: bool,
    ) -> None:
        self._frame = header.frame_length
        self._cipher = cipher
        self._aad = AadBuilder(header.message_id)
        self._verifier = verifier
        self._progress = progress
        frames_per_chunk = chunk_frames(self._frame, CHUNK_TARGET_BYTES)
        # Frames above the chunk target get one buffer of each kind: about two frames in all.
        depth = _POOL_DEPTH if self._frame <= CHUNK_TARGET_BYTES else 1
        self._source = ChunkSource(
            src,
            frames_per_chunk * (self._frame + REGULAR_FRAME_OVERHEAD),
            depth=depth,
            threaded=threaded,
        )
        self._sink = ChunkSink(
            dst, hasher=None if verifier is None else verifier.update, threaded=threaded
        )
        self._plain = BufferPool(frames_per_chunk * self._frame + _OPENER_ROOM, depth)
        self._sequence = 1
        self._total = 0

    def run(self) -> int:
        try:
            chunk, offset = self._regular_frames()
            self._final_frame(_Cursor(self._source, chunk, offset, self._leave))
            self._sink.close()
        except BaseException:
            self._sink.abort()
            raise
        finally:
            self._source.close()
        return self._total

    def _give_chunk(self, chunk: Chunk) -> Callable[[], None]:
        return lambda: self._source.release(chunk)

    def _leave(self, chunk: Chunk) -> None:
        """Give back a chunk the final frame was read from (once hashed, for signed suites)."""
        if self._verifier is None:
            self._source.release(chunk)
        else:
            self._sink.submit(None, None, None, self._give_chunk(chunk))

    def _regular_frames(self) -> tuple[Chunk, int]:
        """Decrypt chunks of regular frames; returns the chunk holding the final frame marker
        and the marker's offset in it (the chunk is then the caller's to give back)."""
        frame = self._frame
        stride = frame + REGULAR_FRAME_OVERHEAD
        cipher = self._cipher
        aad = self._aad
        unpack = _U32.unpack_from
        while True:
            chunk = self._source.next()
            if chunk is None:
                raise _damaged("the message is truncated: its final frame is missing")
            view = chunk.view
            size = len(view)
            taken = self._plain.take()
            if taken is None:  # pragma: no cover - the pool is never closed while decrypting
                raise KMSInternalException("the plaintext buffer pool was closed")
            index, plain = taken
            offset = 0
            produced = 0
            seq = self._sequence
            final = False
            try:
                while offset < size:
                    if size - offset < 4:
                        raise _damaged(f"the message is truncated inside frame {seq}")
                    (number,) = unpack(view, offset)
                    if number == _FINAL_MARKER_VALUE:
                        final = True
                        break
                    if size - offset < stride:
                        raise _damaged(f"the message is truncated inside frame {seq}")
                    if number != seq:
                        raise _damaged(f"frame {seq} is out of sequence")
                    try:
                        cipher.open_into(
                            view[offset + 4 : offset + 16],
                            view[offset + 16 : offset + stride],
                            aad.regular(seq, frame),
                            plain[produced : produced + frame],
                        )
                    except AuthenticationError:
                        raise _damaged(f"frame {seq} failed authentication") from None
                    offset += stride
                    produced += frame
                    seq += 1
                if not final and not chunk.full:
                    raise _damaged("the message is truncated: its final frame is missing")
            except BaseException:
                self._plain.give(index)
                self._source.release(chunk)
                raise
            self._sequence = seq
            # The hashing thread reads the ciphertext, so a chunk is kept until it is hashed; the
            # chunk holding the final frame marker goes on to the final frame.
            keep = self._verifier is not None or final
            if not keep:
                self._source.release(chunk)
            self._sink.submit(
                plain[:produced],
                None if self._verifier is None else view[:offset],
                self._plain.giver(index),
                self._give_chunk(chunk) if keep and not final else None,
            )
            self._total += produced
            if self._progress is not None and produced:
                self._progress(produced)
            if final:
                return chunk, offset

    def _final_frame(self, cursor: _Cursor) -> None:
        """Open the final frame in place, into a plaintext buffer, and release it only once the
        signature (if any) verified and the stream ended right after the message."""
        head = cursor.take(FINAL_FRAME_PREFIX)
        if len(head) != FINAL_FRAME_PREFIX:
            raise _damaged("the message is truncated inside its final frame")
        _marker, number, iv, length = _FINAL_HEAD.unpack(head)
        seq = self._sequence
        if number != seq:
            raise _damaged(f"the final frame {number} is out of sequence")
        if length > self._frame:
            raise _damaged("the final frame is longer than the frame length")
        taken = self._plain.take()
        if taken is None:  # pragma: no cover - the pool is never closed while decrypting
            raise KMSInternalException("the plaintext buffer pool was closed")
        index, plain = taken
        hashing = self._verifier is not None
        try:
            if hashing:
                self._sink.submit(None, head)
            opener = self._cipher.opener(iv, self._aad.final(seq, length))
            done = 0
            for piece in cursor.pieces(length):
                done += opener.update_into(piece, plain[done : done + len(piece) + _OPENER_ROOM])
                if hashing:  # hashed before its chunk is given back (see `_leave`)
                    self._sink.submit(None, piece)
            tag = cursor.take(TAG_LENGTH)
            if done != length or len(tag) != TAG_LENGTH:
                raise _damaged("the message is truncated inside its final frame")
            try:
                opener.finish(tag)
            except AuthenticationError:
                raise _damaged(f"frame {seq} (the final frame) failed authentication") from None
            if self._verifier is not None:
                self._sink.submit(None, tag)
                self._sink.flush()  # every body byte is hashed before the footer is checked
                _verify_footer(self._verifier, cursor.take)
            if not cursor.at_end():
                raise _damaged("there are bytes after the end of the message")
        except BaseException:
            self._plain.give(index)
            raise
        self._sink.submit(plain[:length], None, self._plain.giver(index))
        self._total += length
        if self._progress is not None and length:
            self._progress(length)
