"""kmscli.datakeycache, and the envelope layer with a cache in front of any KeyProvider.

The cache keeps the ESDK's security thresholds (age on an injected clock, messages, bytes), never
serves a message of unknown length, evicts least recently used entries beyond its capacity,
overwrites evicted keys, keeps its counts exact under concurrent use, and shows no key in a repr.
The envelope tests use a small in-memory KeyProvider of their own (the protocol, not the local
KMS), so they also show that caching needs nothing of a particular backend.
"""

from __future__ import annotations

import base64
import io
import math
import os
import threading
from collections import Counter
from collections.abc import Mapping

import pytest

from kmscli.datakeycache import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_MESSAGES,
    CacheLimits,
    DataKeyCache,
)
from kmscli.envelope import decrypt_stream, encrypt_stream, read_header
from kmscli.errors import (
    IncorrectKeyException,
    InvalidCiphertextException,
    UsageError,
    ValidationException,
)
from kmscli.keyprovider import GeneratedDataKey, KeyOwner, UnwrappedDataKey, WrappedDataKey
from kmscli.message.suites import DEFAULT_SUITE, SIGNED_SUITE, CommitmentPolicy

KEYS = ("arn:aws:kms:us-east-1:111122223333:key/one",)
CONTEXT = {"project": "apollo", "stage": "prod"}
SUITE = DEFAULT_SUITE.id


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wrapped(tag: bytes = b"edk") -> tuple[WrappedDataKey, ...]:
    return (WrappedDataKey(KEYS[0], tag + os.urandom(8), "material-1"),)


def _cache(clock: Clock | None = None, capacity: int = 100, **limits: float) -> DataKeyCache:
    max_age = limits.pop("max_age", 60.0)
    return DataKeyCache(
        CacheLimits(max_age, **{k: int(v) for k, v in limits.items()}),
        capacity=capacity,
        clock=clock or Clock(),
    )


def _put(cache: DataKeyCache, length: int = 10, **request: object) -> bytes:
    key = os.urandom(32)
    keys = request.get("keys", KEYS)
    context = request.get("context", CONTEXT)
    assert isinstance(keys, tuple) and isinstance(context, dict)
    cache.put_encryption_materials(keys, SUITE, context, length, key, _wrapped())
    return key


def _get(cache: DataKeyCache, length: int | None = 10, **request: object) -> bytes | None:
    keys = request.get("keys", KEYS)
    context = request.get("context", CONTEXT)
    suite = request.get("suite", SUITE)
    assert isinstance(keys, tuple) and isinstance(context, dict) and isinstance(suite, int)
    found = cache.get_encryption_materials(keys, suite, context, length)
    return None if found is None else found.plaintext


# -- the limits -----------------------------------------------------------------------------------


def test_a_stored_data_key_is_found_for_the_same_request_only() -> None:
    cache = _cache()
    key = _put(cache)
    assert _get(cache) == key
    assert _get(cache, context={"stage": "prod", "project": "apollo"}) == key  # order is no matter
    assert _get(cache, context={"project": "apollo"}) is None  # a subset is another context
    assert _get(cache, context={**CONTEXT, "extra": ""}) is None
    assert _get(cache, keys=(*KEYS, "arn:aws:kms:us-east-1:111122223333:key/two")) is None
    assert _get(cache, suite=SIGNED_SUITE.id) is None
    assert cache.stats.hits == 2 and len(cache) == 1


def test_the_cached_materials_keep_every_encrypted_copy_without_a_plaintext() -> None:
    cache = _cache()
    plaintext = os.urandom(32)
    generated = GeneratedDataKey(KEYS[0], b"blob-1", "material-1", plaintext)
    other = WrappedDataKey("arn:aws:kms:us-east-1:111122223333:key/two", b"blob-2", None)
    cache.put_encryption_materials(KEYS, SUITE, CONTEXT, 5, plaintext, (generated, other))
    found = cache.get_encryption_materials(KEYS, SUITE, CONTEXT, 5)
    assert found is not None and found.plaintext == plaintext
    assert [(w.key_arn, w.ciphertext) for w in found.wrapped] == [
        (KEYS[0], b"blob-1"),
        (other.key_arn, b"blob-2"),
    ]
    assert all(type(w) is WrappedDataKey for w in found.wrapped)  # no GeneratedDataKey copy


def test_an_entry_is_used_only_while_younger_than_max_age() -> None:
    clock = Clock()
    cache = _cache(clock, max_age=10)
    key = _put(cache)
    clock.now = 1009.999
    assert _get(cache) == key
    clock.now = 1010.0  # exactly max_age old: too old
    assert _get(cache) is None
    assert len(cache) == 0  # evicted, not kept


def test_expired_entries_are_swept_when_another_is_stored() -> None:
    clock = Clock()
    cache = _cache(clock, max_age=5)
    _put(cache, context={"n": "1"})
    _put(cache, context={"n": "2"})
    clock.now += 6
    _put(cache, context={"n": "3"})
    assert len(cache) == 1


def test_max_messages_counts_the_first_use_and_drops_a_spent_key_at_once() -> None:
    cache = _cache(max_messages=3)
    key = _put(cache)  # message 1 (the GenerateDataKey)
    assert _get(cache) == key  # 2
    assert _get(cache) == key  # 3: the last one this key may encrypt
    assert len(cache) == 0
    assert _get(cache) is None


def test_max_messages_one_stores_nothing() -> None:
    cache = _cache(max_messages=1)
    _put(cache)
    assert len(cache) == 0


def test_max_bytes_counts_this_message_too() -> None:
    cache = _cache(max_bytes=100)
    key = _put(cache, length=40)
    assert _get(cache, length=60) == key  # 40 + 60 <= 100
    assert _get(cache, length=0) == key  # an empty message still fits
    assert _get(cache, length=1) is None  # 101 > 100: evicted
    assert len(cache) == 0


def test_a_message_longer_than_max_bytes_is_not_stored() -> None:
    cache = _cache(max_bytes=100)
    _put(cache, length=101)
    assert len(cache) == 0
    zero = _cache(max_bytes=0)  # as in the ESDK: only empty messages share a key
    key = _put(zero, length=0)
    assert _get(zero, length=0) == key
    assert _get(zero, length=1) is None


def test_bytes_charged_afterwards_evict_an_entry_over_its_limit() -> None:
    cache = _cache(max_bytes=100)
    key = os.urandom(32)
    wrapped = _wrapped()
    cache.put_encryption_materials(KEYS, SUITE, CONTEXT, 10, key, wrapped)
    cache.charge_encryption(KEYS, SUITE, CONTEXT, _wrapped(), 500)  # another key's: ignored
    assert _get(cache, length=90) == key
    cache.put_encryption_materials(KEYS, SUITE, CONTEXT, 10, key, wrapped)
    cache.charge_encryption(KEYS, SUITE, CONTEXT, wrapped, 91)  # the file grew to 101 bytes
    assert len(cache) == 0


def test_a_message_of_unknown_length_never_uses_nor_fills_the_cache() -> None:
    cache = _cache()
    cache.put_encryption_materials(KEYS, SUITE, CONTEXT, None, os.urandom(32), _wrapped())
    assert len(cache) == 0
    _put(cache)
    assert _get(cache, length=None) is None
    assert cache.stats.hits == 0 and cache.stats.misses == 0  # not even asked
    assert _get(cache) is not None


def test_capacity_evicts_the_least_recently_used_entry() -> None:
    cache = _cache(capacity=2)
    first = _put(cache, context={"n": "1"})
    _put(cache, context={"n": "2"})
    assert _get(cache, context={"n": "1"}) == first  # 1 is now the most recently used
    third = _put(cache, context={"n": "3"})
    assert len(cache) == 2
    assert _get(cache, context={"n": "2"}) is None
    assert _get(cache, context={"n": "1"}) == first
    assert _get(cache, context={"n": "3"}) == third


def test_decryption_entries_are_keyed_by_the_encrypted_data_key_and_its_context() -> None:
    cache = _cache(max_messages=10)
    data_key = UnwrappedDataKey(KEYS[0], os.urandom(32), "material-7")
    cache.put_data_key(KEYS[0], b"edk-1", CONTEXT, 100, data_key)
    found = cache.get_data_key(KEYS[0], b"edk-1", dict(reversed(CONTEXT.items())), 100)
    assert found is not None
    assert (found.key_arn, found.plaintext, found.material_id) == (
        data_key.key_arn,
        data_key.plaintext,
        data_key.material_id,
    )
    assert cache.get_data_key(KEYS[0], b"edk-2", CONTEXT, 100) is None
    assert cache.get_data_key(KEYS[0], b"edk-1", {"project": "apollo"}, 100) is None
    assert cache.get_data_key("arn:aws:kms:us-east-1:1:key/x", b"edk-1", CONTEXT, 100) is None
    assert cache.get_data_key(KEYS[0], b"edk-1", CONTEXT, None) is None


@pytest.mark.parametrize(
    "limits",
    [
        {"max_age": 0},
        {"max_age": -1},
        {"max_age": math.nan},
        {"max_age": math.inf},
        {"max_age": 1, "max_messages": 0},
        {"max_age": 1, "max_messages": DEFAULT_MAX_MESSAGES + 1},
        {"max_age": 1, "max_bytes": -1},
        {"max_age": 1, "max_bytes": DEFAULT_MAX_BYTES + 1},
    ],
)
def test_limits_out_of_range_are_refused(limits: dict[str, float]) -> None:
    with pytest.raises(ValidationException):
        CacheLimits(**limits)  # type: ignore[arg-type]


def test_the_defaults_are_the_esdks() -> None:
    limits = CacheLimits(1)
    assert (limits.max_messages, limits.max_bytes) == (2**32, 2**63 - 1)


# -- keeping the keys secret ----------------------------------------------------------------------


def test_evicted_and_cleared_keys_are_overwritten() -> None:
    cache = _cache(max_messages=2)
    _put(cache, context={"n": "1"})
    _put(cache, context={"n": "2"})
    held = [entry.secret for entry in cache._entries.values()]  # the cache's own copies
    assert all(any(secret) for secret in held)
    assert _get(cache, context={"n": "1"}) is not None  # its second and last message: spent
    assert not any(held[0]) and any(held[1])
    cache.clear()
    assert not any(held[1]) and len(cache) == 0


def test_no_key_shows_in_a_repr() -> None:
    cache = _cache()
    key = _put(cache)
    found = cache.get_encryption_materials(KEYS, SUITE, CONTEXT, 10)
    assert found is not None
    texts = [repr(cache), str(cache), repr(found), *map(repr, cache._entries.values())]
    for text in texts:
        for form in (repr(key), key.hex(), base64.b64encode(key).decode(), repr(bytearray(key))):
            assert form not in text
    assert "1/100 entries" in repr(cache)


# -- concurrency ----------------------------------------------------------------------------------


def test_concurrent_use_never_exceeds_the_limits_and_counts_every_message() -> None:
    limit, threads, rounds = 25, 16, 200
    cache = _cache(max_messages=limit)
    used: Counter[bytes] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(rounds):
            found = _get(cache, length=1)
            if found is None:
                found = _put(cache, length=1)
            with lock:
                used[found] += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(used.values()) == threads * rounds
    assert max(used.values()) <= limit
    stats = cache.stats
    assert stats.hits + stats.misses == threads * rounds
    assert stats.hits == threads * rounds - len(used)  # every other message made a new key


# -- the envelope layer with a cache, over a KeyProvider of the test's own -----------------------


class MemoryProvider:
    """A KeyProvider in a dict: data keys under random ciphertexts, bound to their context."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._keys: dict[bytes, tuple[str, bytes, dict[str, str]]] = {}

    def generate_data_key(
        self, key: str, number_of_bytes: int, encryption_context: Mapping[str, str]
    ) -> GeneratedDataKey:
        self.calls["GenerateDataKey"] += 1
        plaintext = os.urandom(number_of_bytes)
        wrapped = self._wrap(key, plaintext, encryption_context)
        return GeneratedDataKey(wrapped.key_arn, wrapped.ciphertext, None, plaintext)

    def encrypt_data_key(
        self, key: str, plaintext: bytes, encryption_context: Mapping[str, str]
    ) -> WrappedDataKey:
        self.calls["Encrypt"] += 1
        return self._wrap(key, plaintext, encryption_context)

    def decrypt_data_key(
        self, key_arn: str, ciphertext: bytes, encryption_context: Mapping[str, str]
    ) -> UnwrappedDataKey:
        self.calls["Decrypt"] += 1
        arn, plaintext, context = self._keys[ciphertext]
        if arn != key_arn or context != dict(encryption_context):
            raise InvalidCiphertextException("wrong key or context")
        return UnwrappedDataKey(arn, plaintext, None)

    def can_decrypt(self, key_arn: str) -> bool:
        return True

    def key_arn(self, key: str) -> str:
        return key if key.startswith("arn:") else f"arn:aws:kms:us-east-1:111122223333:key/{key}"

    def owner(self) -> KeyOwner:
        return KeyOwner("memory", "111122223333", "us-east-1")

    def _wrap(self, key: str, plaintext: bytes, context: Mapping[str, str]) -> WrappedDataKey:
        ciphertext = os.urandom(48)
        self._keys[ciphertext] = (self.key_arn(key), plaintext, dict(context))
        return WrappedDataKey(self.key_arn(key), ciphertext, None)


def _encrypt(
    provider: MemoryProvider,
    data: bytes,
    cache: DataKeyCache | None,
    *,
    keys: tuple[str, ...] = ("one",),
    length: int | None = -1,
) -> tuple[bytes, bool]:
    out = io.BytesIO()
    result = encrypt_stream(
        io.BytesIO(data),
        out,
        provider=provider,
        keys=keys,
        encryption_context=CONTEXT,
        suite=DEFAULT_SUITE,
        frame_length=1024,
        plaintext_length=len(data) if length == -1 else length,
        cache=cache,
    )
    return out.getvalue(), result.data_key_cached


def _decrypt(
    provider: MemoryProvider,
    message: bytes,
    cache: DataKeyCache | None,
    allowed_keys: tuple[str, ...] = (),
) -> tuple[bytes, bool]:
    decryptor = read_header(
        io.BytesIO(message),
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
        max_encrypted_data_keys=None,
        max_frame_length=None,
    )
    out = io.BytesIO()
    result = decrypt_stream(
        decryptor,
        out,
        provider=provider,
        allowed_keys=allowed_keys,
        message_length=len(message),
        cache=cache,
    )
    return out.getvalue(), result.data_key_cached


def test_envelope_one_data_key_for_many_messages_and_one_unwrap_for_all() -> None:
    provider = MemoryProvider()
    cache = _cache(max_messages=1000)
    files = [os.urandom(n) for n in (0, 1, 1023, 1024, 5000)]
    messages = [_encrypt(provider, data, cache, keys=("one", "two")) for data in files]
    assert provider.calls == Counter({"GenerateDataKey": 1, "Encrypt": 1})
    assert [cached for _, cached in messages] == [False, True, True, True, True]
    assert len({m[:200] for m, _ in messages}) == len(files)  # each has its own message ID

    fresh = DataKeyCache(CacheLimits(60))
    decrypted = [_decrypt(provider, message, fresh) for message, _ in messages]
    assert [plain for plain, _ in decrypted] == files
    assert [cached for _, cached in decrypted] == [False, True, True, True, True]
    assert provider.calls["Decrypt"] == 1
    assert [_decrypt(provider, m, None)[0] for m, _ in messages] == files  # no cache needed
    assert provider.calls["Decrypt"] == 1 + len(files)


def test_envelope_without_a_cache_or_a_length_asks_the_provider_every_time() -> None:
    provider = MemoryProvider()
    for _ in range(3):
        _encrypt(provider, b"data", None)
    cache = _cache()
    for _ in range(3):
        _encrypt(provider, b"data", cache, length=None)  # stdin: length unknown
    assert provider.calls["GenerateDataKey"] == 6
    assert len(cache) == 0


def test_envelope_charges_what_a_growing_input_really_held() -> None:
    provider = MemoryProvider()
    cache = _cache(max_bytes=100)
    _encrypt(provider, b"x" * 150, cache, length=10)  # announced 10, read 150
    _encrypt(provider, b"y" * 10, cache)
    assert provider.calls["GenerateDataKey"] == 2  # the first key had already protected 150


def test_envelope_a_cached_data_key_still_obeys_the_allowed_keys() -> None:
    provider = MemoryProvider()
    message, _ = _encrypt(provider, b"secret", None)
    cache = _cache()
    assert _decrypt(provider, message, cache) == (b"secret", False)
    with pytest.raises(IncorrectKeyException):
        _decrypt(provider, message, cache, allowed_keys=("two",))
    assert _decrypt(provider, message, cache, allowed_keys=("one",)) == (b"secret", True)


def test_envelope_refuses_a_cache_for_the_signed_suite() -> None:
    with pytest.raises(UsageError, match="signed suite"):
        encrypt_stream(
            io.BytesIO(b"x"),
            io.BytesIO(),
            provider=MemoryProvider(),
            keys=["one"],
            encryption_context={},
            suite=SIGNED_SUITE,
            frame_length=1024,
            plaintext_length=1,
            cache=_cache(),
        )
