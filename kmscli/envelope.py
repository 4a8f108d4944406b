"""Files and streams ⇄ AWS Encryption SDK messages whose data keys are KMS-wrapped.

Owns the envelope workflow: ask a `KeyProvider` for a data key (GenerateDataKey for the first
key, Encrypt for each further key) under the message's full encryption context, drive the message
encoder, and on decrypt pick the encrypted data keys this provider can unwrap. With a
`DataKeyCache` (optional: none means every message asks the KMS) it asks the cache first and
fills it from the provider. It depends on the `KeyProvider` protocol only, never on the local KMS,
so another backend can plug in. It does not name files or decide where output goes: that is the
CLI's job (with `kmscli.files.atomicoutput`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, BinaryIO, Final

from kmscli.errors import (
    IncorrectKeyException,
    InvalidCiphertextException,
    KmsError,
    UsageError,
)
from kmscli.keyprovider import KeyOwner, KeyProvider, UnwrappedDataKey, WrappedDataKey
from kmscli.message.header import EncryptedDataKey, MessageHeader
from kmscli.message.suites import AlgorithmSuite, CommitmentPolicy

# Encrypting needs no decoder and decrypting no encoder: each is imported where used, which
# keeps the start-up of one `kmscli encrypt` or `decrypt` small.
if TYPE_CHECKING:
    from kmscli.datakeycache import DataKeyCache
    from kmscli.message.decoder import MessageDecryptor

KMS_PROVIDER_ID = "aws-kms"

Progress = Callable[[int], None]


# The results are plain classes: far cheaper to create at import than NamedTuples or dataclasses.
# `data_key_cached`: the data key came from the cache, with no KMS call.


class EncryptResult:
    __slots__ = ("data_key_cached", "key_arns", "plaintext_bytes", "suite")

    def __init__(
        self,
        key_arns: tuple[str, ...],
        suite: AlgorithmSuite,
        plaintext_bytes: int,
        *,
        data_key_cached: bool = False,
    ) -> None:
        self.key_arns: Final = key_arns
        self.suite: Final = suite
        self.plaintext_bytes: Final = plaintext_bytes
        self.data_key_cached: Final = data_key_cached


class DecryptResult:
    __slots__ = ("data_key_cached", "header", "key_arn", "material_id", "plaintext_bytes")

    def __init__(
        self,
        key_arn: str,
        material_id: str | None,
        header: MessageHeader,
        plaintext_bytes: int,
        *,
        data_key_cached: bool = False,
    ) -> None:
        self.key_arn: Final = key_arn
        self.material_id: Final = material_id
        self.header: Final = header
        self.plaintext_bytes: Final = plaintext_bytes
        self.data_key_cached: Final = data_key_cached


def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    provider: KeyProvider,
    keys: Sequence[str],
    encryption_context: Mapping[str, str],
    suite: AlgorithmSuite,
    frame_length: int,
    progress: Progress | None = None,
    plaintext_length: int | None = None,
    cache: DataKeyCache | None = None,
) -> EncryptResult:
    """Encrypt `src` into one message on `dst`, with one encrypted data key per key.

    With `cache`, a data key cached for the same keys, suite and encryption context is reused
    while the cache's limits allow, and a new one is cached; only when `plaintext_length` (the
    bytes `src` holds) is known, as the ESDK's caching materials manager does. Not for signed
    suites: each message's signing key is in its encryption context, so no two messages could
    share an entry.
    """
    if not keys:
        raise UsageError("no key to encrypt under")
    if cache is not None and suite.signed:
        raise UsageError(
            f"data-key caching does not apply to the signed suite {suite.id_hex}: each message "
            "has its own signing key in its encryption context"
        )
    from kmscli.message.encoder import MessageEncryptor

    encryptor = MessageEncryptor(
        suite=suite, encryption_context=dict(encryption_context), frame_length=frame_length
    )
    context = encryptor.encryption_context
    hit = None
    if cache is None:
        plaintext, wrapped = _new_data_key(provider, keys, suite, context)
    else:
        from kmscli.datakeycache import encryption_entry_id

        with cache.filling(encryption_entry_id(keys, suite.id, context)):
            hit = cache.get_encryption_materials(keys, suite.id, context, plaintext_length)
            if hit is not None:
                plaintext, wrapped = hit.plaintext, hit.wrapped
            else:
                plaintext, wrapped = _new_data_key(provider, keys, suite, context)
                cache.put_encryption_materials(
                    keys, suite.id, context, plaintext_length, plaintext, wrapped
                )
    edks = [EncryptedDataKey(KMS_PROVIDER_ID, w.key_arn.encode(), w.ciphertext) for w in wrapped]
    size = encryptor.write(src, dst, plaintext, edks, progress=progress)
    if cache is not None and plaintext_length is not None and size > plaintext_length:
        # The input grew while it was read: what the data key protected is what counts.
        cache.charge_encryption(keys, suite.id, context, wrapped, size - plaintext_length)
    return EncryptResult(
        tuple(w.key_arn for w in wrapped), suite, size, data_key_cached=hit is not None
    )


def _new_data_key(
    provider: KeyProvider, keys: Sequence[str], suite: AlgorithmSuite, context: Mapping[str, str]
) -> tuple[bytes, tuple[WrappedDataKey, ...]]:
    """GenerateDataKey under the first key, Encrypt of its plaintext under each further one."""
    generated = provider.generate_data_key(keys[0], suite.key_length, context)
    wrapped: list[WrappedDataKey] = [generated]
    wrapped.extend(provider.encrypt_data_key(key, generated.plaintext, context) for key in keys[1:])
    return generated.plaintext, tuple(wrapped)


def read_header(
    src: BinaryIO,
    *,
    commitment_policy: CommitmentPolicy,
    max_encrypted_data_keys: int | None,
    max_frame_length: int | None,
) -> MessageDecryptor:
    """A decryptor whose header is read and checked, before any data key is asked for: a frame
    length above `max_frame_length` fails here, before any buffer is sized (None: no limit)."""
    from kmscli.message.decoder import MessageDecryptor

    decryptor = MessageDecryptor(
        src,
        commitment_policy=commitment_policy,
        max_encrypted_data_keys=max_encrypted_data_keys,
        max_frame_length=max_frame_length,
    )
    decryptor.read_header()
    return decryptor


def decrypt_stream(
    decryptor: MessageDecryptor,
    dst: BinaryIO,
    *,
    provider: KeyProvider,
    allowed_keys: Sequence[str] = (),
    required_context: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    message_length: int | None = None,
    cache: DataKeyCache | None = None,
) -> DecryptResult:
    """Decrypt a message whose header `decryptor` has read, onto `dst`.

    Only data keys wrapped by keys this provider holds are tried, and only those of
    `allowed_keys` when given (strict mode). `required_context` pairs must all be in the
    message's encryption context. With `cache`, an encrypted data key unwrapped before under the
    same encryption context is not sent to the KMS again while the cache's limits allow, the
    bytes limit counting `message_length` (the whole message's size; unknown: not cached).
    Suites without a key derivation function are never cached, as in the ESDK.
    """
    header = decryptor.header
    _check_required_context(header.encryption_context, required_context or {})
    if header.suite.kdf == "identity":
        cache = None
    data_key, cached = _unwrap_data_key(header, provider, allowed_keys, cache, message_length)
    size = decryptor.decrypt(data_key.plaintext, dst, progress=progress)
    return DecryptResult(
        data_key.key_arn, data_key.material_id, header, size, data_key_cached=cached
    )


def _check_required_context(actual: Mapping[str, str], required: Mapping[str, str]) -> None:
    missing = [k for k, v in required.items() if actual.get(k) != v]
    if missing:
        raise InvalidCiphertextException(
            "the message's encryption context does not hold the required pairs for: "
            + ", ".join(repr(k) for k in sorted(missing))
        )


def _unwrap_data_key(
    header: MessageHeader,
    provider: KeyProvider,
    allowed_keys: Sequence[str],
    cache: DataKeyCache | None = None,
    message_length: int | None = None,
) -> tuple[UnwrappedDataKey, bool]:
    """The message's data key from the first usable encrypted data key, and whether it came
    from `cache`. The cache is asked only about the data keys that pass the same checks."""
    kms_edks: list[tuple[str, bytes]] = []
    for edk in header.encrypted_data_keys:
        if edk.provider_id != KMS_PROVIDER_ID:
            continue
        try:
            kms_edks.append((edk.provider_info.decode(), edk.ciphertext))
        except UnicodeDecodeError:
            continue
    allowed = {provider.key_arn(key) for key in allowed_keys}
    candidates = [
        (arn, ct)
        for arn, ct in kms_edks
        if not allowed or any(same_key_arn(arn, key) for key in allowed)
    ]
    if allowed and not candidates:
        raise IncorrectKeyException(
            "the message has no data key wrapped by the key(s) given with -k",
            hints=[f"it was encrypted under: {arn}" for arn, _ in kms_edks],
        )
    usable = [(arn, ct) for arn, ct in candidates if provider.can_decrypt(arn)]
    if not usable:
        # "Wrong key" is an integrity failure (exit 7): the message may come from another
        # keyring or region, or its key ARNs were changed.
        raise _no_key_held([arn for arn, _ in candidates], provider.owner())
    context = header.encryption_context
    if cache is None:
        return _decrypt_first(provider, usable, context, None, message_length), False
    from kmscli.datakeycache import decryption_entry_id

    with cache.filling(decryption_entry_id(*usable[0], context)):
        for arn, ciphertext in usable:
            hit = cache.get_data_key(arn, ciphertext, context, message_length)
            if hit is not None:
                return hit, True
        return _decrypt_first(provider, usable, context, cache, message_length), False


def _no_key_held(needed: Sequence[str], owner: KeyOwner) -> IncorrectKeyException:
    """The error for a message none of whose data keys `owner` holds: it names the key ARNs
    the message needs, and so their accounts and regions, and what to try for each."""
    where = (
        owner.where
        + (f" (account {owner.account}," if owner.account else " (")
        + (f" region {owner.region})")
    )
    if not needed:
        return IncorrectKeyException(
            f"the message has no AWS KMS data key, so {where} cannot decrypt it"
        )
    hints: dict[str, None] = {}  # in order, without repeats
    for arn in needed:
        parts = arn.split(":")
        if len(parts) != 6:
            hints[f"'{arn}' is not a key ARN: the message's header was changed"] = None
        elif owner.account is not None and parts[4] != owner.account:
            hints[
                f"account {parts[4]} is not this keyring's: decrypt with the keyring that holds "
                "the key (--home)"
            ] = None
        elif parts[3] != owner.region:
            hints[f"the key is in region {parts[3]}: add --region {parts[3]}"] = None
        else:
            hints["this keyring does not have that key: deleted, or made elsewhere"] = None
    if len(needed) == 1:
        message = f"the message needs the key {needed[0]}, and {where} does not hold it"
    else:
        message = f"the message needs one of the keys {', '.join(needed)}, and {where} holds none"
    return IncorrectKeyException(message, hints=list(hints))


def _decrypt_first(
    provider: KeyProvider,
    usable: Sequence[tuple[str, bytes]],
    context: Mapping[str, str],
    cache: DataKeyCache | None,
    message_length: int | None,
) -> UnwrappedDataKey:
    """The data key of the first encrypted data key the provider unwraps (cached when asked)."""
    first_error: KmsError | None = None
    for arn, ciphertext in usable:
        try:
            data_key = provider.decrypt_data_key(arn, ciphertext, context)
        except KmsError as error:
            first_error = first_error or error
            continue
        if cache is not None:
            cache.put_data_key(arn, ciphertext, context, message_length, data_key)
        return data_key
    assert first_error is not None
    raise first_error


def same_key_arn(left: str, right: str) -> bool:
    """Whether two key ARNs name the same key, as the ESDK's MRK-aware keyrings decide: equal,
    or multi-Region key ARNs (key ID `mrk-...`) that differ only in their region."""
    if left == right:
        return True
    a, b = left.split(":"), right.split(":")
    if len(a) != 6 or len(b) != 6 or not a[5].startswith("key/mrk-"):
        return False
    return a[:3] == b[:3] and a[4:] == b[4:]


class ReencryptResult:
    """`rewrapped`: True if only the header was rewritten, False if decrypted and encrypted
    again."""

    __slots__ = ("header", "key_arns", "rewrapped", "source_key_arn", "source_material_id")

    def __init__(
        self,
        source_key_arn: str,
        source_material_id: str | None,
        key_arns: tuple[str, ...],
        header: MessageHeader,
        *,
        rewrapped: bool,
    ) -> None:
        self.source_key_arn: Final = source_key_arn
        self.source_material_id: Final = source_material_id
        self.key_arns: Final = key_arns
        self.header: Final = header
        self.rewrapped: Final = rewrapped


def reencrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    provider: KeyProvider,
    keys: Sequence[str],
    commitment_policy: CommitmentPolicy,
    max_encrypted_data_keys: int | None,
    max_frame_length: int | None,
    allowed_keys: Sequence[str] = (),
    required_context: Mapping[str, str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
) -> ReencryptResult:
    """Put the message on `src` under `keys`, onto `dst`.

    An unsigned message is re-wrapped: its data key is unwrapped, wrapped under each of `keys`
    with the message's encryption context, and only the header is rewritten; the body bytes are
    copied as they are (not authenticated here: a damaged body stays damaged and fails on
    decrypt). A signed message, or any message with `full`, is decrypted and encrypted again
    (a new data key, message ID and, if signed, signing key), streaming through a pipe so no
    plaintext touches a disk. `allowed_keys` and `required_context` work as in decrypt;
    `max_frame_length` only where the message is decrypted (a re-wrap holds no frame).
    """
    if not keys:
        raise UsageError("no key to re-encrypt under")
    decryptor = read_header(
        src,
        commitment_policy=commitment_policy,
        max_encrypted_data_keys=max_encrypted_data_keys,
        max_frame_length=None,
    )
    header = decryptor.header
    if header.suite.signed or full:
        decryptor.check_frame_length(max_frame_length)
    _check_required_context(header.encryption_context, required_context or {})
    data_key, _ = _unwrap_data_key(header, provider, allowed_keys)
    if not header.suite.signed and not full:
        from kmscli.message.rewrap import rewrap_header

        context = header.encryption_context
        wrapped = [provider.encrypt_data_key(key, data_key.plaintext, context) for key in keys]
        edks = [
            EncryptedDataKey(KMS_PROVIDER_ID, w.key_arn.encode(), w.ciphertext) for w in wrapped
        ]
        dst.write(rewrap_header(header, data_key.plaintext, edks))
        copy_rest(src, dst)
        return ReencryptResult(
            data_key.key_arn,
            data_key.material_id,
            tuple(w.key_arn for w in wrapped),
            header,
            rewrapped=True,
        )
    from kmscli.message.encoder import DEFAULT_FRAME_LENGTH, FRAME_LENGTH_MULTIPLE
    from kmscli.message.suites import DEFAULT_SUITE, ENCRYPT_SUITES, SIGNED_SUITE

    suite = header.suite
    if suite not in ENCRYPT_SUITES:
        suite = SIGNED_SUITE if suite.signed else DEFAULT_SUITE
    frame = header.frame_length
    if not frame or frame % FRAME_LENGTH_MULTIPLE:
        frame = DEFAULT_FRAME_LENGTH
    context = {
        k: v for k, v in header.encryption_context.items() if not k.startswith("aws-crypto-")
    }
    result = _pipe_through(
        lambda sink: decryptor.decrypt(data_key.plaintext, sink),
        lambda source: encrypt_stream(
            source,
            dst,
            provider=provider,
            keys=keys,
            encryption_context=context,
            suite=suite,
            frame_length=frame,
            progress=progress,
        ),
    )
    return ReencryptResult(
        data_key.key_arn, data_key.material_id, result.key_arns, header, rewrapped=False
    )


def _pipe_through(
    produce: Callable[[BinaryIO], object], consume: Callable[[BinaryIO], EncryptResult]
) -> EncryptResult:
    """Run `produce` (writing) in a thread and `consume` (reading) here, joined by a pipe.

    A failure of either side is raised; the producer's counts even when the consumer finished,
    since a consumer that saw the stream end early must not pass for a complete result.
    """
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    writer = os.fdopen(write_fd, "wb")
    failures: list[BaseException] = []

    def run() -> None:
        try:
            produce(writer)
        except BaseException as error:  # raised again by the consuming thread
            failures.append(error)
        finally:
            with contextlib.suppress(OSError):  # the reader is gone: the consumer failed
                writer.close()

    thread = threading.Thread(target=run, name="kmscli-reencrypt", daemon=True)
    thread.start()
    try:
        result = consume(reader)
    finally:
        reader.close()  # unblocks a producer still writing
        thread.join()
    if failures:
        raise failures[0]
    return result


def copy_rest(src: BinaryIO, dst: BinaryIO) -> int:
    """Copy everything left in `src` to `dst`; in the kernel when both are regular files."""
    try:
        in_fd, out_fd = src.fileno(), dst.fileno()
        position = src.tell()
        size = os.fstat(in_fd).st_size
        dst.flush()
    except (OSError, ValueError, AttributeError):
        return _copy_buffered(src, dst)
    copied = 0
    try:
        while position < size:
            done = os.copy_file_range(in_fd, out_fd, min(size - position, 1 << 30), position)
            if done <= 0:
                break
            position += done
            copied += done
    except (OSError, AttributeError):
        pass  # no in-kernel copy here (file system or platform): finish in user space
    src.seek(position)
    return copied + _copy_buffered(src, dst)


def _copy_buffered(src: BinaryIO, dst: BinaryIO) -> int:
    copied = 0
    while chunk := src.read(1 << 20):
        dst.write(chunk)
        copied += len(chunk)
    return copied
