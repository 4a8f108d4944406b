"""What both backends send to Sign or Verify a stream of any size.

Owns the choice (kms-behaviour.md §8): up to `MAX_MESSAGE` bytes go as they are; a longer stream
is hashed here with the algorithm's hash and sent as a DIGEST, or, for ML-DSA, reduced to its
FIPS 204 μ and sent as EXTERNAL_MU, as AWS recommends. Must not know which backend signs, nor
authorize anything: the Sign or Verify that follows is the operation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from kmscli.crypto.keyspecs import DIGEST, EXTERNAL_MU, ML_DSA
from kmscli.errors import ValidationException
from kmscli.kmsapi import MAX_MESSAGE


class Readable(Protocol):
    """A binary stream: a file opened for reading, stdin's buffer."""

    def read(self, size: int = ..., /) -> bytes: ...


class Prefixed:
    """A stream with the bytes already read from it put back in front."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        self._chunks = itertools.chain([head], iter(lambda: rest.read(1 << 20), b""))
        self._pending = b""

    def read(self, size: int = -1, /) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        if size < 0:
            data, self._pending = self._pending, b""
        else:
            data, self._pending = self._pending[:size], self._pending[size:]
        return data


def long_message(
    spec: str, algorithm: str, head: bytes, rest: Readable, public_key: Callable[[], bytes]
) -> tuple[bytes, str]:
    """(message, MessageType) for a stream longer than `MAX_MESSAGE` bytes under a key of `spec`.

    `head` is what was read first (more than `MAX_MESSAGE` bytes), `rest` the stream it came
    from; `public_key` gives the key's DER public key, asked only for ML-DSA.
    """
    from kmscli.crypto import asymmetric, keyspecs

    whole = Prefixed(head, rest)
    if DIGEST in keyspecs.signing_algorithm(spec, algorithm).message_types:
        return asymmetric.digest_stream(algorithm, whole), DIGEST
    if keyspecs.key_spec(spec).family == ML_DSA:
        return asymmetric.external_mu_stream(spec, public_key(), whole), EXTERNAL_MU
    raise ValidationException(
        f"Algorithm {algorithm} signs messages of at most {MAX_MESSAGE} bytes (MessageType RAW "
        "only), and this message is longer."
    )
