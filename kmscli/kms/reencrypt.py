"""ReEncrypt (kms-behaviour.md §1, §2, §4.3): a ciphertext blob under another key, in one call.

Owns the operation: the source key comes from the blob (an optional SourceKeyId must name it),
the destination from DestinationKeyId, which may be the ARN of a related multi-Region key in
another region; the caller needs kms:ReEncryptFrom on the source and kms:ReEncryptTo on the
destination (kms:ReEncryptOnSameKey tells a policy when they are the same key); both keys must
be usable (the ReEncrypt row of the state table). The plaintext never leaves this function.
Re-wrapping the data keys of messages is the envelope layer's (`kmscli.envelope`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from kmscli.errors import (
    AccessDeniedException,
    IncorrectKeyException,
    InvalidCiphertextException,
    NotFoundException,
)
from kmscli.kms import blob as blob_format
from kmscli.kms import multiregion, validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.ids import parse_key_reference
from kmscli.kms.model import SYMMETRIC_DEFAULT, KeyRecord
from kmscli.kms.states import check_state
from kmscli.store import RecordView

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService
    from kmscli.kmsapi.shapes import (
        ReEncryptResponse,
    )


def resolve_destination(service: KmsService, view: RecordView, key: str) -> KeyRecord:
    """DestinationKeyId: any KEY of this region, or a multi-Region key's ARN in its region."""
    ref = parse_key_reference(key)
    if (
        ref.kind != "key-arn"
        or ref.region in (None, service.region)
        or ref.account != service.account
    ):
        return service._resolve(view, key)
    assert ref.key_id is not None and ref.region is not None
    record = multiregion.load_in(view, ref.region, ref.key_id)
    if record is None:
        if ref.key_id.startswith("mrk-"):
            raise NotFoundException(f"Key '{key}' does not exist")
        raise NotFoundException(f"Invalid arn {ref.region}")
    if not record.multi_region:
        raise NotFoundException(f"Invalid arn {ref.region}")
    return record


def re_encrypt(
    service: KmsService,
    ciphertext_blob: bytes,
    destination_key: str,
    *,
    source_encryption_context: Mapping[str, str] | None = None,
    destination_encryption_context: Mapping[str, str] | None = None,
    source_key: str | None = None,
    grant_tokens: Sequence[str] = (),
) -> ReEncryptResponse:
    if not 1 <= len(ciphertext_blob) <= blob_format.MAX_BLOB_BYTES:
        raise validation.constraint_error(
            "<ciphertext>",
            "ciphertextBlob",
            f"Member must have length between 1 and {blob_format.MAX_BLOB_BYTES}",
        )
    source_context = dict(source_encryption_context or {})
    destination_context = dict(destination_encryption_context or {})
    validation.check_encryption_context(source_context)
    validation.check_encryption_context(destination_context)
    header = blob_format.parse_blob(ciphertext_blob)
    with service.keyring.read() as view:
        if source_key is not None:
            requested = service._resolve(view, source_key)
            if requested.key_id != header.key_id:
                raise IncorrectKeyException(
                    "The key ID in the request does not identify a CMK that can perform "
                    "this operation."
                )
        source = service._load_key(view, header.key_id)
        if source is None:
            raise AccessDeniedException(
                "The ciphertext refers to a customer master key that does not exist, does "
                "not exist in this region, or you are not allowed to access."
            )
        destination = resolve_destination(service, view, destination_key)
        same = (destination.region, destination.key_id) == (source.region, source.key_id)
        extra = {"kms:ReEncryptOnSameKey": same}
        source_facts = _facts(service, source_key, source_context, extra, grant_tokens)
        destination_facts = _facts(
            service, destination_key, destination_context, extra, grant_tokens
        )
        service._authorize(view, "ReEncryptFrom", source, source_facts)
        service._authorize(view, "ReEncryptTo", destination, destination_facts)
    check_state("ReEncrypt", source)
    check_state("ReEncrypt", destination)
    if destination.key_spec != SYMMETRIC_DEFAULT:
        from kmscli.kms import asymmetric_ops

        asymmetric_ops.require_symmetric_encryption(destination, "ReEncrypt")
    material = source.material(header.material_id)
    if material is None or not material.present:
        raise InvalidCiphertextException(
            "the ciphertext names key material that this key does not have"
        )
    plaintext = blob_format.open_blob(
        service._material_secret(source, material), header, source_context
    )
    blob, destination_material = service._seal_under(destination, plaintext, destination_context)
    return {
        "CiphertextBlob": blob,
        "SourceKeyId": source.arn,
        "KeyId": destination.arn,
        "SourceEncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "DestinationEncryptionAlgorithm": SYMMETRIC_DEFAULT,
        "SourceKeyMaterialId": material.material_id,
        "DestinationKeyMaterialId": destination_material,
    }


def _facts(
    service: KmsService,
    key: str | None,
    context: Mapping[str, str],
    extra: Mapping[str, bool],
    grant_tokens: Sequence[str],
) -> RequestFacts:
    base = service._crypto_facts(key, context, via_service=False, grant_tokens=grant_tokens)
    return base._replace(extra=dict(extra))
