"""An in-memory cache of data keys, as the ESDK's caching materials manager keeps one.

Owns `DataKeyCache`: encryption materials (a plaintext data key and its encrypted copies, one per
requested KMS key) by requested keys, suite and encryption context, and unwrapped data keys by
key ARN, encrypted data key and encryption context, each entry used only within `CacheLimits`
(age, messages, bytes) and the whole bounded by a capacity (least recently used first out). It is
thread-safe, reads time from an injectable monotonic clock, and is provider-agnostic: the envelope
layer asks it first and fills it from whatever `KeyProvider` it holds.

Like the ESDK's, an entry is found only for a request of known length (a message of unknown
length, such as stdin, always misses and is never stored), the length counts against the bytes
limit, and the first use of a data key is exempt from the limits but a key that could never serve
a second message is not stored. One cache serves one provider and one caller (one process): the
entry identifiers do not name them.

Must not: call a KMS, import `cryptography`, print, log or put a plaintext data key in a repr.
Plaintext data keys live only in this process's memory; an evicted entry's copy is overwritten
with zeros (best effort: Python may still hold copies handed out, until they are collected).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from kmscli.errors import ValidationException
from kmscli.keyprovider import UnwrappedDataKey, WrappedDataKey

DEFAULT_MAX_MESSAGES: Final = 2**32  # the ESDK's default and upper bound
DEFAULT_MAX_BYTES: Final = 2**63 - 1  # the ESDK's default and upper bound
DEFAULT_CAPACITY: Final = 1000

Clock = Callable[[], float]


@dataclass(frozen=True)
class CacheLimits:
    """How long and how much one cached data key may be used (the ESDK's security thresholds).

    An entry serves a message only while its age is below `max_age` seconds, it has served
    fewer than `max_messages` messages, and its bytes so far plus this message's length are at
    most `max_bytes`.
    """

    max_age: float
    max_messages: int = DEFAULT_MAX_MESSAGES
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        if not (isinstance(self.max_age, int | float) and math.isfinite(self.max_age)):
            raise ValidationException(f"max_age {self.max_age!r} must be a finite number")
        if self.max_age <= 0:
            raise ValidationException(f"max_age {self.max_age!r} must be greater than 0")
        if not 1 <= self.max_messages <= DEFAULT_MAX_MESSAGES:
            raise ValidationException(
                f"max_messages {self.max_messages!r} must be 1 to {DEFAULT_MAX_MESSAGES}"
            )
        if not 0 <= self.max_bytes <= DEFAULT_MAX_BYTES:
            raise ValidationException(
                f"max_bytes {self.max_bytes!r} must be 0 to {DEFAULT_MAX_BYTES}"
            )


@dataclass(frozen=True)
class EncryptionMaterials:
    """A plaintext data key and its encrypted copies, in the order of the requested keys."""

    plaintext: bytes = field(repr=False)
    wrapped: tuple[WrappedDataKey, ...]


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    entries: int


class _Entry:
    """One cached data key and its usage; the plaintext in a bytearray so it can be wiped."""

    __slots__ = ("bytes", "created", "key_arn", "material_id", "messages", "secret", "wrapped")

    def __init__(
        self,
        created: float,
        length: int,
        secret: bytes,
        *,
        wrapped: tuple[WrappedDataKey, ...] = (),
        key_arn: str = "",
        material_id: str | None = None,
    ) -> None:
        self.created = created
        self.messages = 1
        self.bytes = length
        self.secret = bytearray(secret)
        self.wrapped = wrapped
        self.key_arn = key_arn
        self.material_id = material_id

    def wipe(self) -> None:
        self.secret[:] = bytes(len(self.secret))
        self.secret = bytearray()

    def __repr__(self) -> str:
        return f"<data key entry: {self.messages} messages, {self.bytes} bytes>"


def _ciphertexts(wrapped: Sequence[WrappedDataKey]) -> tuple[bytes, ...]:
    return tuple(w.ciphertext for w in wrapped)


def _context_items(context: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(context.items()))


def encryption_entry_id(
    keys: Sequence[str], suite_id: int, context: Mapping[str, str]
) -> tuple[Hashable, ...]:
    """Which encryption requests may share a data key: the same keys in the same order, the
    same suite and exactly the same encryption context (the one the data key is wrapped under)."""
    return ("encrypt", tuple(keys), suite_id, _context_items(context))


def decryption_entry_id(
    key_arn: str, ciphertext: bytes, context: Mapping[str, str]
) -> tuple[Hashable, ...]:
    """Which decryption requests have the same answer: the same encrypted data key (its key ARN
    and KMS ciphertext) under exactly the same encryption context."""
    return ("decrypt", key_arn, bytes(ciphertext), _context_items(context))


class DataKeyCache:
    """Thread-safe data keys by request, within `limits`, at most `capacity` entries."""

    def __init__(
        self,
        limits: CacheLimits,
        *,
        capacity: int = DEFAULT_CAPACITY,
        clock: Clock = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValidationException(f"capacity {capacity!r} must be at least 1")
        self.limits: Final = limits
        self.capacity: Final = capacity
        self._clock = clock
        self._entries: OrderedDict[tuple[Hashable, ...], _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._filling: dict[tuple[Hashable, ...], threading.Lock] = {}
        self._hits = 0
        self._misses = 0

    def filling(self, entry_id: tuple[Hashable, ...]) -> threading.Lock:
        """The lock to hold while looking up `entry_id` and, on a miss, asking the KMS and
        storing its answer: concurrent jobs with the same request then make one KMS call, and
        the others find it cached, instead of all missing at once."""
        with self._lock:
            return self._filling.setdefault(entry_id, threading.Lock())

    # -- encryption ----------------------------------------------------------------------------

    def get_encryption_materials(
        self, keys: Sequence[str], suite_id: int, context: Mapping[str, str], length: int | None
    ) -> EncryptionMaterials | None:
        """Cached materials for one more message of `length` bytes, counted as used; or None."""
        entry = self._use(encryption_entry_id(keys, suite_id, context), length)
        if entry is None:
            return None
        plaintext, found = entry
        return EncryptionMaterials(plaintext, found.wrapped)

    def put_encryption_materials(
        self,
        keys: Sequence[str],
        suite_id: int,
        context: Mapping[str, str],
        length: int | None,
        plaintext: bytes,
        wrapped: Sequence[WrappedDataKey],
    ) -> None:
        """Keep a data key and its encrypted copies just used for one message of `length`
        bytes (nothing for None)."""
        plain = tuple(
            WrappedDataKey(w.key_arn, w.ciphertext, w.material_id) for w in wrapped
        )  # plain WrappedDataKeys: a GeneratedDataKey would keep a second plaintext copy
        self._store(
            encryption_entry_id(keys, suite_id, context),
            length,
            lambda now, size: _Entry(now, size, plaintext, wrapped=plain),
        )

    def charge_encryption(
        self,
        keys: Sequence[str],
        suite_id: int,
        context: Mapping[str, str],
        wrapped: Sequence[WrappedDataKey],
        extra_bytes: int,
    ) -> None:
        """Count `extra_bytes` more against the entry of the data key `wrapped` holds (a message
        turned out longer than announced, say a file that grew); over its limit, it is evicted."""
        if extra_bytes <= 0:
            return
        entry_id = encryption_entry_id(keys, suite_id, context)
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is None or _ciphertexts(entry.wrapped) != _ciphertexts(wrapped):
                return  # gone already, or replaced by another data key
            entry.bytes += extra_bytes
            if entry.bytes > self.limits.max_bytes:
                self._evict(entry_id)

    # -- decryption ----------------------------------------------------------------------------

    def get_data_key(
        self, key_arn: str, ciphertext: bytes, context: Mapping[str, str], length: int | None
    ) -> UnwrappedDataKey | None:
        """The cached unwrapped data key for one more message of `length` bytes; or None."""
        found = self._use(decryption_entry_id(key_arn, ciphertext, context), length)
        if found is None:
            return None
        plaintext, entry = found
        return UnwrappedDataKey(entry.key_arn, plaintext, entry.material_id)

    def put_data_key(
        self,
        key_arn: str,
        ciphertext: bytes,
        context: Mapping[str, str],
        length: int | None,
        data_key: UnwrappedDataKey,
    ) -> None:
        """Keep the data key that `key_arn`'s `ciphertext` unwrapped to under `context`."""
        self._store(
            decryption_entry_id(key_arn, ciphertext, context),
            length,
            lambda now, size: _Entry(
                now,
                size,
                data_key.plaintext,
                key_arn=data_key.key_arn,
                material_id=data_key.material_id,
            ),
        )

    # -- the whole cache -----------------------------------------------------------------------

    def clear(self) -> None:
        """Evict every entry (their plaintext data keys overwritten)."""
        with self._lock:
            for entry_id in list(self._entries):
                self._evict(entry_id)
            self._filling.clear()

    @property
    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._entries))

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __repr__(self) -> str:
        stats = self.stats
        return (
            f"<DataKeyCache {stats.entries}/{self.capacity} entries, {stats.hits} hits, "
            f"{stats.misses} misses, {self.limits}>"
        )

    # -- internals -----------------------------------------------------------------------------

    def _use(
        self, entry_id: tuple[Hashable, ...], length: int | None
    ) -> tuple[bytes, _Entry] | None:
        """Atomically: a copy of the key and its entry if the entry may serve one more message
        of `length` (then counted); else None, and a spent or expired entry evicted."""
        if length is None:
            return None  # unknown length: the bytes limit could not be kept
        limits = self.limits
        with self._lock:
            entry = self._entries.get(entry_id)
            if entry is None:
                self._misses += 1
                return None
            if (
                self._clock() - entry.created >= limits.max_age
                or entry.messages >= limits.max_messages
                or entry.bytes + length > limits.max_bytes
            ):
                self._evict(entry_id)
                self._misses += 1
                return None
            entry.messages += 1
            entry.bytes += length
            self._hits += 1
            plaintext = bytes(entry.secret)  # a copy: the entry's may be wiped while in use
            if entry.messages >= limits.max_messages:
                self._evict(entry_id)  # spent: drop the key from memory now
            else:
                self._entries.move_to_end(entry_id)
            return plaintext, entry

    def _store(
        self,
        entry_id: tuple[Hashable, ...],
        length: int | None,
        make: Callable[[float, int], _Entry],
    ) -> None:
        limits = self.limits
        if length is None or length > limits.max_bytes or limits.max_messages <= 1:
            return  # unknown length, or a key no second message could use
        with self._lock:
            now = self._clock()
            self._evict_expired(now)
            if entry_id in self._entries:
                self._evict(entry_id)  # another thread's miss filled it meanwhile: keep ours
            self._entries[entry_id] = make(now, length)
            while len(self._entries) > self.capacity:
                self._evict(next(iter(self._entries)))

    def _evict_expired(self, now: float) -> None:
        expired = [i for i, e in self._entries.items() if now - e.created >= self.limits.max_age]
        for entry_id in expired:
            self._evict(entry_id)

    def _evict(self, entry_id: tuple[Hashable, ...]) -> None:
        self._entries.pop(entry_id).wipe()
