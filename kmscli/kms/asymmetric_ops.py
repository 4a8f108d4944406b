"""The KMS operations of asymmetric and HMAC keys (kms-behaviour.md §8, §2, §3, §4.5).

Owns CreateKey's key spec and usage rules and the first material of such keys, GetPublicKey,
Sign and Verify (with the streaming helpers that hash a file of any size into a DIGEST or an
ML-DSA μ), Encrypt and Decrypt with RSA-OAEP, GenerateMac and VerifyMac, DeriveSharedSecret,
GenerateDataKeyPair(+WithoutPlaintext), and the key usage refusals of every operation
(InvalidKeyUsageException in AWS's words). Each operation follows the service's steps:
validate → resolve → authorize (with the request's condition keys: kms:SigningAlgorithm,
kms:MessageType, kms:MacAlgorithm, kms:KeyAgreementAlgorithm, kms:DataKeyPairSpec,
kms:EncryptionAlgorithm) → key state → key usage → act. Auditing is the service's: these
functions run inside its audited methods.

The cryptography lives in `kmscli.crypto.asymmetric` / `hmac_keys`, imported here only when an
operation needs it, so that symmetric commands never pay for it. `kmscli.crypto.keyspecs` is
plain data and cheap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from kmscli.crypto import keyspecs
from kmscli.crypto.keyspecs import (
    ENCRYPT_DECRYPT,
    GENERATE_VERIFY_MAC,
    HMAC,
    KEY_AGREEMENT,
    RAW,
    SIGN_VERIFY,
    SYMMETRIC,
)
from kmscli.errors import (
    InvalidKeyUsageException,
    KmsError,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    UnsupportedOperationException,
    ValidationException,
)
from kmscli.kms import validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.ids import parse_key_reference
from kmscli.kms.model import KeyRecord, KeyUsage, Material, Origin
from kmscli.kms.states import check_state
from kmscli.kmsapi import MAX_MESSAGE, SYMMETRIC_DEFAULT
from kmscli.kmsapi.streams import Readable, long_message
from kmscli.store import RecordView

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService
    from kmscli.kmsapi.shapes import (
        DecryptResponse,
        DeriveSharedSecretResponse,
        EncryptResponse,
        GenerateDataKeyPairResponse,
        GenerateMacResponse,
        GetPublicKeyResponse,
        SignResponse,
        VerifyMacResponse,
        VerifyResponse,
    )

MAX_SIGNATURE = 6144
MAX_MAC = 6144
MAX_PUBLIC_KEY = 8192
MAX_RSA_CIPHERTEXT = 6144


# -- CreateKey -----------------------------------------------------------------------------------


def check_spec_and_usage(key_spec: str, key_usage: str | None) -> str:
    """The KeyUsage a CreateKey of `key_spec` records, or AWS's ValidationException."""
    if key_spec == "SM2":
        raise UnsupportedOperationException(
            "Key spec SM2 is available only in the AWS China Regions; kmscli does not provide it."
        )
    return keyspecs.check_usage(key_spec, key_usage)


def shape_new_key(service: KmsService, record: KeyRecord, key_spec: str, key_usage: str) -> None:
    """Make a new key record one of `key_spec`: its spec, usage and (AWS_KMS) first material."""
    record.key_spec = key_spec
    record.key_usage = KeyUsage(key_usage)
    record.materials.clear()
    if record.origin == Origin.EXTERNAL:
        return
    from kmscli.crypto import asymmetric

    secret = asymmetric.generate_private_key(key_spec)
    material_id = service_random_id()
    record.materials.append(
        Material(
            material_id,
            service._seal_material(record.arn, material_id, secret),
            record.creation_date,
        )
    )


def service_random_id() -> str:
    from kmscli.crypto.primitives import random_bytes

    return random_bytes(32).hex()


def imported_material(record: KeyRecord, material: bytes) -> bytes:
    """Imported material for an asymmetric or HMAC key, checked and in canonical form."""
    from kmscli.crypto import asymmetric

    return asymmetric.load_private_key(record.key_spec, material)


# -- key usage -----------------------------------------------------------------------------------


def usage_error(record: KeyRecord, operation: str) -> InvalidKeyUsageException:
    return InvalidKeyUsageException(
        f"{record.arn} key usage is {record.key_usage} which is not valid for {operation}."
    )


def require_usage(record: KeyRecord, usage: str, operation: str) -> None:
    if record.key_usage != usage:
        raise usage_error(record, operation)


def require_symmetric_encryption(record: KeyRecord, operation: str) -> None:
    """Symmetric-only operations (GenerateDataKey*, ReEncrypt, Encrypt without an RSA
    algorithm...) on another kind of key: AWS's refusals."""
    if record.key_spec == SYMMETRIC_DEFAULT:
        return
    if record.key_usage != ENCRYPT_DECRYPT:
        raise usage_error(record, operation)
    if operation in ("Encrypt", "Decrypt"):
        raise keyspecs.incompatible_algorithm(SYMMETRIC_DEFAULT, record.key_spec)
    raise InvalidKeyUsageException(
        f"{record.arn} key KeySpec is {record.key_spec} which is not valid for {operation}."
    )


# -- shared steps --------------------------------------------------------------------------------


def _request_alias(key: str) -> str | None:
    ref = parse_key_reference(key)
    return ref.alias_name if ref.is_alias else None


def _facts(
    key: str, extra: Mapping[str, str], grant_tokens: Sequence[str], algorithm: str | None = None
) -> RequestFacts:
    return RequestFacts(
        encryption_algorithm=algorithm,
        request_alias=_request_alias(key),
        extra=dict(extra),
        grant_tokens=tuple(grant_tokens),
    )


def _usable(
    service: KmsService, view: RecordView, key: str, action: str, facts: RequestFacts
) -> KeyRecord:
    record = service._resolve(view, key)
    service._authorize(view, action, record, facts)
    check_state(action, record)
    return record


def _secret(service: KmsService, record: KeyRecord) -> bytes:
    material = record.current_material
    if material is None or not material.present:
        raise UnsupportedOperationException(f"{record.arn} has no key material.")
    return service._material_secret(record, material)


def _check_length(value: bytes, member: str, most: int) -> None:
    if not value:
        raise validation.constraint_error(
            "<bytes>", member, "Member must have length greater than or equal to 1"
        )
    if len(value) > most:
        raise validation.constraint_error(
            "<bytes>", member, f"Member must have length less than or equal to {most}"
        )


def _check_enum(value: str | None, allowed: Sequence[str], member: str) -> None:
    if value is not None and value not in allowed:
        raise keyspecs.enum_error(value, member, allowed)


def default_signing_algorithm(spec_name: str) -> str | None:
    """The algorithm kmscli signs with when none is named: the spec's first."""
    spec = keyspecs.KEY_SPECS.get(spec_name)
    if spec is None or not spec.signing_algorithms:
        return None
    return spec.signing_algorithms[0]


def default_mac_algorithm(spec_name: str) -> str | None:
    spec = keyspecs.KEY_SPECS.get(spec_name)
    if spec is None or not spec.mac_algorithms:
        return None
    return spec.mac_algorithms[0]


def _public_der(service: KmsService, record: KeyRecord) -> bytes:
    from kmscli.crypto import asymmetric

    return asymmetric.public_key_der(record.key_spec, _secret(service, record))


# -- GetPublicKey --------------------------------------------------------------------------------


def get_public_key(
    service: KmsService, key: str, *, grant_tokens: Sequence[str] = ()
) -> GetPublicKeyResponse:
    with service.keyring.read() as view:
        record = _usable(service, view, key, "GetPublicKey", _facts(key, {}, grant_tokens))
    spec = keyspecs.key_spec(record.key_spec)
    if spec.family in (SYMMETRIC, HMAC):
        raise UnsupportedOperationException(
            f"{record.arn} is a {record.key_spec} key, which has no public key."
        )
    response: dict[str, Any] = {
        "KeyId": record.arn,
        "PublicKey": _public_der(service, record),
        "CustomerMasterKeySpec": record.key_spec,
        "KeySpec": record.key_spec,
        "KeyUsage": record.key_usage,
    }
    response.update(spec.algorithms(record.key_usage))
    return cast("GetPublicKeyResponse", response)


# -- Sign and Verify -----------------------------------------------------------------------------


def _signing_request(
    service: KmsService,
    view: RecordView,
    key: str,
    action: str,
    signing_algorithm: str | None,
    message_type: str,
    grant_tokens: Sequence[str],
) -> tuple[KeyRecord, str]:
    """Resolve, authorize and check a Sign/Verify request; (key, algorithm)."""
    record = service._resolve(view, key)
    algorithm = signing_algorithm or default_signing_algorithm(record.key_spec)
    extra = {"kms:MessageType": message_type}
    if algorithm is not None:
        extra["kms:SigningAlgorithm"] = algorithm
    service._authorize(view, action, record, _facts(key, extra, grant_tokens))
    check_state(action, record)
    require_usage(record, SIGN_VERIFY, action)
    assert algorithm is not None  # every SIGN_VERIFY spec has signing algorithms
    keyspecs.signing_algorithm(record.key_spec, algorithm)
    return record, algorithm


def _check_signing_request(signing_algorithm: str | None, message_type: str) -> None:
    _check_enum(signing_algorithm, tuple(keyspecs.SIGNING_ALGORITHMS), "signingAlgorithm")
    _check_enum(message_type, keyspecs.MESSAGE_TYPES, "messageType")


def sign(
    service: KmsService,
    key: str,
    message: bytes,
    *,
    signing_algorithm: str | None = None,
    message_type: str = RAW,
    grant_tokens: Sequence[str] = (),
) -> SignResponse:
    _check_length(message, "message", MAX_MESSAGE)
    _check_signing_request(signing_algorithm, message_type)
    with service.keyring.read() as view:
        record, algorithm = _signing_request(
            service, view, key, "Sign", signing_algorithm, message_type, grant_tokens
        )
    from kmscli.crypto import asymmetric

    signature = asymmetric.sign(
        record.key_spec, _secret(service, record), algorithm, message, message_type
    )
    return {"KeyId": record.arn, "Signature": signature, "SigningAlgorithm": algorithm}


def verify(
    service: KmsService,
    key: str,
    message: bytes,
    signature: bytes,
    *,
    signing_algorithm: str | None = None,
    message_type: str = RAW,
    grant_tokens: Sequence[str] = (),
) -> VerifyResponse:
    _check_length(message, "message", MAX_MESSAGE)
    _check_length(signature, "signature", MAX_SIGNATURE)
    _check_signing_request(signing_algorithm, message_type)
    with service.keyring.read() as view:
        record, algorithm = _signing_request(
            service, view, key, "Verify", signing_algorithm, message_type, grant_tokens
        )
    from kmscli.crypto import asymmetric

    try:
        asymmetric.verify(
            record.key_spec,
            _public_der(service, record),
            algorithm,
            message,
            message_type,
            signature,
        )
    except KMSInvalidSignatureException as error:
        error.key_arn, error.algorithm = record.arn, algorithm  # not on the wire: for the CLI
        raise
    return {"KeyId": record.arn, "SignatureValid": True, "SigningAlgorithm": algorithm}


def stream_message(
    service: KmsService,
    key: str,
    stream: Readable,
    signing_algorithm: str | None,
    message_type: str | None,
) -> tuple[bytes, str | None, str]:
    """The (message, algorithm, MessageType) to Sign or Verify a stream of any size with.

    Up to 4096 bytes are sent as they are (RAW, unless `message_type` says what they are);
    a longer stream as `kmscli.kmsapi.streams.long_message` says, as the aws backend does.
    Looking up which algorithm applies reads the key's spec, not its material's use: the
    Sign/Verify that follows is the authorized operation.
    """
    head = stream.read(MAX_MESSAGE + 1)
    try:
        with service.keyring.read() as view:
            record = service._resolve(view, key)
    except KmsError:
        return head, signing_algorithm, message_type or RAW  # Sign/Verify says why, audited
    # The request names its algorithm, as AWS's always does (and its audit event shows it).
    algorithm = signing_algorithm or default_signing_algorithm(record.key_spec)
    if message_type is not None or len(head) <= MAX_MESSAGE:
        return head, algorithm, message_type or RAW
    _check_signing_request(signing_algorithm, RAW)
    if record.key_usage != SIGN_VERIFY or algorithm is None:
        return head, algorithm, RAW  # the operation refuses it in AWS's words
    message, kind = long_message(
        record.key_spec, algorithm, head, stream, lambda: _public_der(service, record)
    )
    return message, algorithm, kind


# -- RSA Encrypt and Decrypt ---------------------------------------------------------------------


def _rsa_request(
    service: KmsService,
    key: str,
    action: str,
    algorithm: str,
    encryption_context: Mapping[str, str] | None,
    grant_tokens: Sequence[str],
) -> KeyRecord:
    _check_enum(algorithm, keyspecs.ENCRYPTION_ALGORITHMS, "encryptionAlgorithm")
    if encryption_context:
        raise ValidationException(
            f"EncryptionContext is not supported with the {algorithm} encryption algorithm."
        )
    facts = _facts(key, {}, grant_tokens, algorithm=algorithm)
    with service.keyring.read() as view:
        record = _usable(service, view, key, action, facts)
    require_usage(record, ENCRYPT_DECRYPT, action)
    if keyspecs.key_spec(record.key_spec).family != keyspecs.RSA:
        raise keyspecs.incompatible_algorithm(algorithm, record.key_spec)
    return record


def encrypt(
    service: KmsService,
    key: str,
    plaintext: bytes,
    algorithm: str,
    encryption_context: Mapping[str, str] | None,
    grant_tokens: Sequence[str],
) -> EncryptResponse:
    validation.check_plaintext(plaintext)
    record = _rsa_request(service, key, "Encrypt", algorithm, encryption_context, grant_tokens)
    from kmscli.crypto import asymmetric

    ciphertext = asymmetric.rsa_encrypt(
        record.key_spec, _public_der(service, record), algorithm, plaintext
    )
    return {"CiphertextBlob": ciphertext, "KeyId": record.arn, "EncryptionAlgorithm": algorithm}


def decrypt(
    service: KmsService,
    ciphertext: bytes,
    key: str | None,
    algorithm: str,
    encryption_context: Mapping[str, str] | None,
    grant_tokens: Sequence[str],
) -> DecryptResponse:
    if key is None:
        raise ValidationException(
            f"KeyId is required to decrypt with the asymmetric algorithm {algorithm}."
        )
    record = _rsa_request(service, key, "Decrypt", algorithm, encryption_context, grant_tokens)
    from kmscli.crypto import asymmetric

    plaintext = asymmetric.rsa_decrypt(
        record.key_spec, _secret(service, record), algorithm, ciphertext
    )
    return {"KeyId": record.arn, "Plaintext": plaintext, "EncryptionAlgorithm": algorithm}


# -- GenerateMac and VerifyMac -------------------------------------------------------------------


def _mac_request(
    service: KmsService,
    key: str,
    action: str,
    mac_algorithm: str | None,
    grant_tokens: Sequence[str],
) -> tuple[KeyRecord, str]:
    _check_enum(mac_algorithm, tuple(keyspecs.MAC_ALGORITHMS), "macAlgorithm")
    with service.keyring.read() as view:
        record = service._resolve(view, key)
        algorithm = mac_algorithm or default_mac_algorithm(record.key_spec)
        extra = {} if algorithm is None else {"kms:MacAlgorithm": algorithm}
        service._authorize(view, action, record, _facts(key, extra, grant_tokens))
    check_state(action, record)
    require_usage(record, GENERATE_VERIFY_MAC, action)
    assert algorithm is not None
    keyspecs.mac_hash(record.key_spec, algorithm)
    return record, algorithm


def generate_mac(
    service: KmsService,
    key: str,
    message: bytes,
    *,
    mac_algorithm: str | None = None,
    grant_tokens: Sequence[str] = (),
) -> GenerateMacResponse:
    _check_length(message, "message", MAX_MESSAGE)
    record, algorithm = _mac_request(service, key, "GenerateMac", mac_algorithm, grant_tokens)
    from kmscli.crypto import hmac_keys

    mac = hmac_keys.generate_mac(record.key_spec, _secret(service, record), algorithm, message)
    return {"Mac": mac, "MacAlgorithm": algorithm, "KeyId": record.arn}


def verify_mac(
    service: KmsService,
    key: str,
    message: bytes,
    mac: bytes,
    *,
    mac_algorithm: str | None = None,
    grant_tokens: Sequence[str] = (),
) -> VerifyMacResponse:
    _check_length(message, "message", MAX_MESSAGE)
    _check_length(mac, "mac", MAX_MAC)
    record, algorithm = _mac_request(service, key, "VerifyMac", mac_algorithm, grant_tokens)
    from kmscli.crypto import hmac_keys

    try:
        hmac_keys.verify_mac(record.key_spec, _secret(service, record), algorithm, message, mac)
    except KMSInvalidMacException as error:
        error.key_arn, error.algorithm = record.arn, algorithm  # not on the wire: for the CLI
        raise
    return {"KeyId": record.arn, "MacValid": True, "MacAlgorithm": algorithm}


# -- DeriveSharedSecret --------------------------------------------------------------------------


def derive_shared_secret(
    service: KmsService,
    key: str,
    public_key: bytes,
    *,
    key_agreement_algorithm: str = keyspecs.ECDH,
    grant_tokens: Sequence[str] = (),
) -> DeriveSharedSecretResponse:
    _check_enum(key_agreement_algorithm, (keyspecs.ECDH,), "keyAgreementAlgorithm")
    _check_length(public_key, "publicKey", MAX_PUBLIC_KEY)
    extra = {"kms:KeyAgreementAlgorithm": key_agreement_algorithm}
    with service.keyring.read() as view:
        record = _usable(service, view, key, "DeriveSharedSecret", _facts(key, extra, grant_tokens))
    require_usage(record, KEY_AGREEMENT, "DeriveSharedSecret")
    from kmscli.crypto import asymmetric

    secret = asymmetric.derive_shared_secret(
        record.key_spec, _secret(service, record), public_key, key_agreement_algorithm
    )
    return {
        "KeyId": record.arn,
        "SharedSecret": secret,
        "KeyAgreementAlgorithm": key_agreement_algorithm,
        "KeyOrigin": record.origin,
    }


# -- GenerateDataKeyPair -------------------------------------------------------------------------


def generate_data_key_pair(
    service: KmsService,
    key: str,
    key_pair_spec: str,
    *,
    encryption_context: Mapping[str, str] | None = None,
    with_plaintext: bool = True,
    grant_tokens: Sequence[str] = (),
) -> GenerateDataKeyPairResponse:
    if key_pair_spec == "SM2":
        raise UnsupportedOperationException(
            "Key pair spec SM2 is available only in the AWS China Regions; kmscli does not "
            "provide it."
        )
    _check_enum(key_pair_spec, keyspecs.KEY_PAIR_SPECS, "keyPairSpec")
    context = dict(encryption_context or {})
    validation.check_encryption_context(context)
    action = "GenerateDataKeyPair" if with_plaintext else "GenerateDataKeyPairWithoutPlaintext"
    facts = service._crypto_facts(
        key, context, via_service=False, grant_tokens=grant_tokens
    )._replace(extra={"kms:DataKeyPairSpec": key_pair_spec})
    with service._reading(key) as view:
        record = _usable(service, view, key, action, facts)
    require_symmetric_encryption(record, action)
    from kmscli.crypto import asymmetric

    private, public = asymmetric.generate_data_key_pair(key_pair_spec)
    blob, material_id = service._seal_under(record, private, context)
    response: dict[str, Any] = {"PrivateKeyCiphertextBlob": blob}
    if with_plaintext:
        response["PrivateKeyPlaintext"] = private
    response.update(
        {
            "PublicKey": public,
            "KeyId": record.arn,
            "KeyPairSpec": key_pair_spec,
            "KeyMaterialId": material_id,
        }
    )
    return cast("GenerateDataKeyPairResponse", response)
