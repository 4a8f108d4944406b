"""Imported key material (kms-behaviour.md §7): Origin EXTERNAL keys.

Owns GetParametersForImport (an RSA wrapping key and an import token, valid 24 hours; only the
latest set of a key is kept, so any earlier token stops working), ImportKeyMaterial (unwrap,
check the token, the material and its expiry), DeleteImportedKeyMaterial, and the expiry of
material whose ValidTo has passed (called by `kmscli.kms.lifecycle`). The material's ID is
derived from the key ID and the material, so importing the same bytes again (after deletion or
expiry, or into a replica) gives the same KeyMaterialId and old ciphertexts decrypt again, while
different bytes are IncorrectKeyMaterialException. Deleting or expiring material removes its
sealed secret from the key record; its ID stays to recognise a re-import.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from kmscli.crypto.primitives import AuthenticationError, random_bytes, sha256
from kmscli.crypto.wrapping import ALGORITHMS, generate_wrapping_key, unwrap_key_material
from kmscli.errors import (
    ExpiredImportTokenException,
    IncorrectKeyMaterialException,
    InvalidCiphertextException,
    InvalidImportTokenException,
    KeyringCorruptError,
    UnsupportedOperationException,
    ValidationException,
)
from kmscli.kms import multiregion, validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.model import (
    PENDING_ANY_DELETION,
    SYMMETRIC_DEFAULT,
    ExpirationModel,
    ImportState,
    KeyRecord,
    KeyState,
    Material,
    MaterialState,
    format_timestamp,
    parse_timestamp,
)
from kmscli.kms.states import check_state
from kmscli.store import Keyring, RecordView, Transaction

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

KIND = "import-parameters"
WRAPPING_KEY_SPECS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}
PARAMETERS_LIFETIME = timedelta(hours=24)
MAX_VALID_TO = timedelta(days=365)
SYMMETRIC_MATERIAL_BYTES = 32
_TOKEN_AAD = b"kmscli/import-token/v1"
_PRIVATE_KEY_AAD = b"kmscli/import-wrapping-key/v1\x00"
_LEGACY_MATERIAL_ID_LABEL = b"kmscli/imported-key-material/v1\x00"
_MATERIAL_ID_LABEL = b"kmscli/imported-key-material/v2"


def material_id_for(keyring: Keyring, key_id: str, material: bytes) -> str:
    """The KeyMaterialId of imported material: the same bytes always give the same ID in this
    keyring. It is keyed with the keyring's root key because it appears in every ciphertext,
    where an unkeyed hash would let anyone test guesses of low-entropy material."""
    return keyring.fingerprint(_MATERIAL_ID_LABEL, key_id.encode() + b"\x00" + material).hex()


def legacy_material_id(key_id: str, material: bytes) -> str:
    """The unkeyed ID kmscli gave imported material before v2; material imported then keeps it
    (its ciphertexts name it), so re-importing that material must still recognise it."""
    return sha256(_LEGACY_MATERIAL_ID_LABEL + key_id.encode() + b"\x00" + material).hex()


def _check_external(key: KeyRecord) -> None:
    if not key.is_external:
        raise UnsupportedOperationException(
            f"{key.arn} origin is {key.origin} which is not valid for this operation."
        )


def _check_wrapping(algorithm: str, spec: str) -> None:
    if algorithm == "RSAES_PKCS1_V1_5":
        raise ValidationException(
            "The wrapping algorithm RSAES_PKCS1_V1_5 is no longer supported; use "
            "RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256."
        )
    if algorithm == "SM2PKE" or spec == "SM2":
        raise UnsupportedOperationException(
            "SM2 wrapping is available only in China Regions; use an RSA wrapping key."
        )
    if algorithm not in ALGORITHMS:
        raise validation.constraint_error(
            algorithm,
            "wrappingAlgorithm",
            "Member must satisfy enum value set: [" + ", ".join(ALGORITHMS) + "]",
        )
    if spec not in WRAPPING_KEY_SPECS:
        raise validation.constraint_error(
            spec,
            "wrappingKeySpec",
            "Member must satisfy enum value set: [" + ", ".join(WRAPPING_KEY_SPECS) + "]",
        )


def _params_name(key: KeyRecord) -> str:
    return f"{key.region}/{key.key_id}"


def get_parameters_for_import(
    service: KmsService, key: str, wrapping_algorithm: str, wrapping_key_spec: str
) -> dict[str, Any]:
    _check_wrapping(wrapping_algorithm, wrapping_key_spec)
    with service.keyring.read() as view:  # refuse before the slow RSA key generation
        _usable_for_parameters(service, view, key, wrapping_algorithm, wrapping_key_spec)
    private_der, public_der = generate_wrapping_key(WRAPPING_KEY_SPECS[wrapping_key_spec])
    token_id = random_bytes(16).hex()
    valid_to = format_timestamp(service.clock() + PARAMETERS_LIFETIME)
    with service.keyring.write() as tx:
        record = _usable_for_parameters(service, tx, key, wrapping_algorithm, wrapping_key_spec)
        name = _params_name(record)
        sealed_private = service.keyring.seal(private_der, _PRIVATE_KEY_AAD + name.encode())
        parameters = {
            "token_id": token_id,
            "algorithm": wrapping_algorithm,
            "spec": wrapping_key_spec,
            "valid_to": valid_to,
            "private_key": base64.b64encode(sealed_private).decode(),
        }
        tx.put(KIND, name, json.dumps(parameters, sort_keys=True).encode())
    token = service.keyring.seal(
        json.dumps({"key": record.arn, "id": token_id}, sort_keys=True).encode(), _TOKEN_AAD
    )
    return {
        "KeyId": record.arn,
        "ImportToken": token,
        "PublicKey": public_der,
        "ParametersValidTo": valid_to,
    }


def _usable_for_parameters(
    service: KmsService, view: RecordView, key: str, algorithm: str, spec: str
) -> KeyRecord:
    record = service._resolve(view, key, aliases=False)
    facts = RequestFacts(extra={"kms:WrappingAlgorithm": algorithm, "kms:WrappingKeySpec": spec})
    service._authorize(view, "GetParametersForImport", record, facts)
    check_state("GetParametersForImport", record)
    _check_external(record)
    return record


def _check_expiry_request(
    now: datetime, expiration_model: str | None, valid_to: datetime | None
) -> str:
    model = expiration_model or ExpirationModel.KEY_MATERIAL_EXPIRES
    if model not in (
        ExpirationModel.KEY_MATERIAL_EXPIRES,
        ExpirationModel.KEY_MATERIAL_DOES_NOT_EXPIRE,
    ):
        raise validation.constraint_error(
            model,
            "expirationModel",
            "Member must satisfy enum value set: "
            "[KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]",
        )
    if model == ExpirationModel.KEY_MATERIAL_EXPIRES:
        if valid_to is None:
            raise ValidationException(
                "A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES"
            )
        if valid_to <= now:
            raise ValidationException("The validTo date must be in the future.")
        if valid_to > now + MAX_VALID_TO:
            raise ValidationException(
                "The validTo date must be no more than 365 days from the current date."
            )
    elif valid_to is not None:
        raise ValidationException(
            "A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE"
        )
    return model


def _open_token(service: KmsService, tx: Transaction, record: KeyRecord, token: bytes) -> Any:
    """The stored parameters the token belongs to; the token's own errors as AWS names them."""
    try:
        payload = json.loads(service.keyring.unseal(token, _TOKEN_AAD, where="import token"))
    except (KeyringCorruptError, ValueError):
        raise InvalidImportTokenException("The import token is invalid.") from None
    raw = tx.get(KIND, _params_name(record))
    parameters = None if raw is None else json.loads(raw)
    if (
        not isinstance(payload, dict)
        or payload.get("key") != record.arn
        or parameters is None
        or parameters.get("token_id") != payload.get("id")
    ):
        raise InvalidImportTokenException(
            "The import token is not the current one of this key: it belongs to another key or "
            "to an earlier GetParametersForImport response."
        )
    if parse_timestamp(parameters["valid_to"]) <= service.clock():
        raise ExpiredImportTokenException(
            "The import token has expired; get new import parameters (GetParametersForImport) "
            "and wrap the key material again."
        )
    return parameters


def import_key_material(
    service: KmsService,
    key: str,
    import_token: bytes,
    encrypted_key_material: bytes,
    *,
    expiration_model: str | None = None,
    valid_to: datetime | None = None,
) -> dict[str, Any]:
    now = service.clock()
    model = _check_expiry_request(now, expiration_model, valid_to)
    if not 1 <= len(import_token) <= 6144:
        raise validation.constraint_error(
            "<token>", "importToken", "Member must have length between 1 and 6144"
        )
    if not 1 <= len(encrypted_key_material) <= 6144:
        raise validation.constraint_error(
            "<material>", "encryptedKeyMaterial", "Member must have length between 1 and 6144"
        )
    extra: dict[str, Any] = {"kms:ExpirationModel": model}
    if valid_to is not None:
        extra["kms:ValidTo"] = valid_to
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        service._authorize(tx, "ImportKeyMaterial", record, RequestFacts(extra=extra))
        check_state("ImportKeyMaterial", record)
        _check_external(record)
        parameters = _open_token(service, tx, record, import_token)
        private_der = service.keyring.unseal(
            base64.b64decode(parameters["private_key"]),
            _PRIVATE_KEY_AAD + _params_name(record).encode(),
            where=f"import wrapping key of {record.arn}",
        )
        try:
            material = unwrap_key_material(
                private_der, parameters["algorithm"], encrypted_key_material
            )
        except AuthenticationError:
            raise InvalidCiphertextException(
                "The key material could not be unwrapped: it was not wrapped with this import's "
                f"public key and {parameters['algorithm']}."
            ) from None
        if record.key_spec != SYMMETRIC_DEFAULT:
            from kmscli.kms import asymmetric_ops

            material = asymmetric_ops.imported_material(record, material)
        material_id = _check_material(service.keyring, tx, record, material)
        existing = record.material(material_id)
        sealed = service._seal_material(record.arn, material_id, material)
        if existing is None:
            existing = Material(material_id, sealed, format_timestamp(now))
            record.materials.append(existing)
        existing.sealed = sealed
        existing.state = MaterialState.CURRENT
        existing.import_state = ImportState.IMPORTED
        existing.expiration_model = ExpirationModel(model)
        existing.valid_to = None if valid_to is None else format_timestamp(valid_to)
        if record.state == KeyState.PENDING_IMPORT:
            record.state = KeyState.ENABLED
        service._save_key(tx, record)
    return {"KeyId": record.arn, "KeyMaterialId": material_id}


def _check_material(keyring: Keyring, tx: Transaction, record: KeyRecord, material: bytes) -> str:
    if record.key_spec == SYMMETRIC_DEFAULT and len(material) != SYMMETRIC_MATERIAL_BYTES:
        raise IncorrectKeyMaterialException(
            f"The key material is {len(material)} bytes; a SYMMETRIC_DEFAULT key takes "
            f"{SYMMETRIC_MATERIAL_BYTES} bytes (256 bits)."
        )
    known = {m.material_id for m in record.materials}
    for other in multiregion.related(tx, record):
        known.update(m.material_id for m in other.materials)
    legacy = legacy_material_id(record.key_id, material)
    material_id = legacy if legacy in known else material_id_for(keyring, record.key_id, material)
    if known and material_id not in known:
        raise IncorrectKeyMaterialException(
            "The key material being imported is not the same as the key material previously "
            f"imported into {record.arn} (or into the other keys of its multi-Region set)."
        )
    return material_id


def _remove_secret(material: Material) -> None:
    material.sealed = ""
    material.import_state = ImportState.PENDING_IMPORT
    material.expiration_model = None
    material.valid_to = None


def _after_material_loss(record: KeyRecord) -> None:
    if record.state not in PENDING_ANY_DELETION:
        record.state = KeyState.PENDING_IMPORT


def delete_imported_key_material(
    service: KmsService, key: str, key_material_id: str | None = None
) -> dict[str, Any]:
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        service._authorize(tx, "DeleteImportedKeyMaterial", record)
        check_state("DeleteImportedKeyMaterial", record)
        _check_external(record)
        if key_material_id is None:
            material = record.current_material
        else:
            material = record.material(key_material_id)
            if material is None:
                raise validation.constraint_error(
                    key_material_id, "keyMaterialId", "the key has no key material with this ID"
                )
        response: dict[str, Any] = {"KeyId": record.arn}
        if material is None:
            return response  # nothing was ever imported: no effect
        response["KeyMaterialId"] = material.material_id
        if material.present:
            _remove_secret(material)
            _after_material_loss(record)
            service._save_key(tx, record)
    return response


def expire_due_material(
    service: KmsService, tx: Transaction, key: KeyRecord, instant: datetime
) -> bool:
    """Delete the material whose ValidTo is at or before `instant` (the caller saves `key`)."""
    expired = [
        m
        for m in key.materials
        if m.present and m.valid_to is not None and parse_timestamp(m.valid_to) <= instant
    ]
    for material in expired:
        _remove_secret(material)
    if expired:
        _after_material_loss(key)
    return bool(expired)
