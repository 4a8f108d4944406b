"""Files and streams ⇄ AWS Encryption SDK messages whose data keys are KMS-wrapped.

Owns the envelope workflow: ask a `KeyProvider` for a data key (GenerateDataKey for the first
key, Encrypt for each further key) under the message's full encryption context, drive the message
encoder, and on decrypt pick the encrypted data keys this provider can unwrap. It depends on the
`KeyProvider` protocol only, never on the local KMS, so another backend can plug in. It does not
name files or decide where output goes: that is the CLI's job (with `kmscli.outputs`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from kmscli.errors import (
    IncorrectKeyException,
    InvalidCiphertextException,
    KmsError,
    UsageError,
)
from kmscli.keyprovider import KeyProvider, UnwrappedDataKey, WrappedDataKey
from kmscli.message.header import EncryptedDataKey, MessageHeader
from kmscli.message.suites import AlgorithmSuite, CommitmentPolicy

# Encrypting needs no decoder and decrypting no encoder: each is imported where used, which
# keeps the start-up of one `kmscli encrypt` or `decrypt` small.
if TYPE_CHECKING:
    from kmscli.message.decoder import MessageDecryptor

KMS_PROVIDER_ID = "aws-kms"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class EncryptResult:
    key_arns: tuple[str, ...]
    suite: AlgorithmSuite
    plaintext_bytes: int


@dataclass(frozen=True)
class DecryptResult:
    key_arn: str
    material_id: str | None
    header: MessageHeader
    plaintext_bytes: int


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
) -> EncryptResult:
    """Encrypt `src` into one message on `dst`, with one encrypted data key per key."""
    if not keys:
        raise UsageError("no key to encrypt under")
    from kmscli.message.encoder import MessageEncryptor

    encryptor = MessageEncryptor(
        suite=suite, encryption_context=dict(encryption_context), frame_length=frame_length
    )
    context = encryptor.encryption_context
    generated = provider.generate_data_key(keys[0], suite.key_length, context)
    wrapped: list[WrappedDataKey] = [generated]
    wrapped.extend(provider.encrypt_data_key(key, generated.plaintext, context) for key in keys[1:])
    edks = [EncryptedDataKey(KMS_PROVIDER_ID, w.key_arn.encode(), w.ciphertext) for w in wrapped]
    size = encryptor.write(src, dst, generated.plaintext, edks, progress=progress)
    return EncryptResult(tuple(w.key_arn for w in wrapped), suite, size)


def read_header(
    src: BinaryIO, *, commitment_policy: CommitmentPolicy, max_encrypted_data_keys: int | None
) -> MessageDecryptor:
    from kmscli.message.decoder import MessageDecryptor

    decryptor = MessageDecryptor(
        src,
        commitment_policy=commitment_policy,
        max_encrypted_data_keys=max_encrypted_data_keys,
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
) -> DecryptResult:
    """Decrypt a message whose header `decryptor` has read, onto `dst`.

    Only data keys wrapped by keys this provider holds are tried, and only those of
    `allowed_keys` when given (strict mode). `required_context` pairs must all be in the
    message's encryption context.
    """
    header = decryptor.header
    _check_required_context(header.encryption_context, required_context or {})
    data_key = _unwrap_data_key(header, provider, allowed_keys)
    size = decryptor.decrypt(data_key.plaintext, dst, progress=progress)
    return DecryptResult(data_key.key_arn, data_key.material_id, header, size)


def _check_required_context(actual: Mapping[str, str], required: Mapping[str, str]) -> None:
    missing = [k for k, v in required.items() if actual.get(k) != v]
    if missing:
        raise InvalidCiphertextException(
            "the message's encryption context does not hold the required pairs for: "
            + ", ".join(repr(k) for k in sorted(missing))
        )


def _unwrap_data_key(
    header: MessageHeader, provider: KeyProvider, allowed_keys: Sequence[str]
) -> UnwrappedDataKey:
    kms_edks: list[tuple[str, bytes]] = []
    for edk in header.encrypted_data_keys:
        if edk.provider_id != KMS_PROVIDER_ID:
            continue
        try:
            kms_edks.append((edk.provider_info.decode(), edk.ciphertext))
        except UnicodeDecodeError:
            continue
    allowed = {provider.key_arn(key) for key in allowed_keys}
    candidates = [(arn, ct) for arn, ct in kms_edks if not allowed or arn in allowed]
    if allowed and not candidates:
        raise IncorrectKeyException(
            "the message has no data key wrapped by the key(s) given with -k",
            hints=[f"it was encrypted under: {arn}" for arn, _ in kms_edks],
        )
    usable = [(arn, ct) for arn, ct in candidates if provider.can_decrypt(arn)]
    if not usable:
        # "Wrong key" is an integrity failure (exit 7): the message may come from another
        # keyring or region, or its key ARNs were changed.
        raise IncorrectKeyException(
            "none of the message's data keys is wrapped by a key this keyring holds in the "
            "current region",
            hints=[f"it was encrypted under: {arn}" for arn, _ in kms_edks]
            or ["it has no AWS KMS data keys"],
        )
    first_error: KmsError | None = None
    for arn, ciphertext in usable:
        try:
            return provider.decrypt_data_key(arn, ciphertext, header.encryption_context)
        except KmsError as error:
            first_error = first_error or error
    assert first_error is not None
    raise first_error
