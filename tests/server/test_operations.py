"""boto3 against `kmscli serve`: every operation kmscli implements, its response shapes, its errors.

The mapping table must cover every public KmsService method that is a KMS operation, so a new
operation fails here until it is served; one scenario then calls each mapped operation through
boto3 (botocore parses every response with the KMS model, as it would AWS's).
"""

from __future__ import annotations

import inspect
import json
import os
from datetime import datetime
from typing import Any

import botocore.exceptions
import botocore.session
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from kmscli.errors import KmsError
from kmscli.kms.service import KmsService
from kmscli.server import protocol
from kmscli.server.operations import NOT_OPERATIONS, OPERATIONS
from tests.server.conftest import ALICE, ROOT, Server

MODEL = botocore.session.get_session().get_service_model("kms")


def test_every_service_operation_is_served() -> None:
    public = {
        name
        for name, member in inspect.getmembers(KmsService, inspect.isfunction)
        if not name.startswith("_")
    }
    served = {op.implementation for op in OPERATIONS.values()}
    missing = sorted(public - served - NOT_OPERATIONS)
    assert not missing, f"add these KmsService methods to kmscli/server/operations.py: {missing}"
    for implementation in served:
        if "." in implementation:
            module, function = implementation.split(".")
            imported = __import__(f"kmscli.kms.{module}", fromlist=[function])
            assert callable(getattr(imported, function))
        else:
            assert implementation in public, implementation


def test_served_operations_are_aws_operations() -> None:
    assert set(OPERATIONS) <= set(MODEL.operation_names)


def test_timestamp_members_are_those_of_the_model() -> None:
    found: set[str] = set()

    def walk(shape: Any, seen: set[str]) -> None:
        if shape is None or shape.name in seen:
            return
        seen.add(shape.name)
        if shape.type_name == "structure":
            for name, member in shape.members.items():
                if member.type_name == "timestamp":
                    found.add(name)
                walk(member, seen)
        elif shape.type_name == "list":
            walk(shape.member, seen)
        elif shape.type_name == "map":
            walk(shape.value, seen)

    for name in MODEL.operation_names:
        walk(MODEL.operation_model(name).output_shape, set())
    assert found <= protocol.TIMESTAMP_MEMBERS


def test_error_statuses_are_aws_statuses() -> None:
    modelled = {shape.name for shape in MODEL.error_shapes}
    codes = {cls.code: cls for cls in _subclasses(KmsError) if cls.code in modelled}
    assert len(codes) > 20
    for code, cls in codes.items():
        expected = 500 if code == "KMSInternalException" else 400
        assert protocol.error_status(cls("m")) == expected, code


def _subclasses(cls: type[KmsError]) -> set[type[KmsError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def _wrap_for_import(parameters: dict[str, Any], material: bytes) -> bytes:
    public = serialization.load_der_public_key(parameters["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    return public.encrypt(material, oaep)  # type: ignore[union-attr]


def test_every_operation_through_boto3(kms_server: Server) -> None:
    kms = kms_server.client()
    called: set[str] = set()
    kms.meta.events.register("after-call.kms", lambda model, **_: called.add(model.name))
    # keys
    created = kms.create_key(Description="one", Tags=[{"TagKey": "team", "TagValue": "a"}])
    meta = created["KeyMetadata"]
    key, arn = meta["KeyId"], meta["Arn"]
    assert isinstance(meta["CreationDate"], datetime) and meta["KeyState"] == "Enabled"
    other = kms.create_key()["KeyMetadata"]["KeyId"]
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["Description"] == "one"
    assert {k["KeyId"] for k in kms.list_keys()["Keys"]} >= {key, other}
    kms.update_key_description(KeyId=key, Description="renamed")
    kms.disable_key(KeyId=key)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=key)
    # key policies
    policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=policy)
    assert kms.list_key_policies(KeyId=key)["PolicyNames"] == ["default"]
    # aliases
    kms.create_alias(AliasName="alias/served", TargetKeyId=key)
    assert [a["AliasName"] for a in kms.list_aliases(KeyId=key)["Aliases"]] == ["alias/served"]
    # cryptographic operations
    context = {"purpose": "test", "ключ": "значение"}
    sealed = kms.encrypt(KeyId="alias/served", Plaintext=b"x" * 1024, EncryptionContext=context)
    assert sealed["KeyId"] == arn and isinstance(sealed["CiphertextBlob"], bytes)
    opened = kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == b"x" * 1024 and opened["KeyId"] == arn
    data_key = kms.generate_data_key(KeyId=key, KeySpec="AES_256")
    assert len(data_key["Plaintext"]) == 32
    assert (
        kms.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"] == data_key["Plaintext"]
    )
    bare = kms.generate_data_key_without_plaintext(KeyId=key, NumberOfBytes=16)
    assert "Plaintext" not in bare
    moved = kms.re_encrypt(
        CiphertextBlob=sealed["CiphertextBlob"],
        SourceEncryptionContext=context,
        DestinationKeyId=other,
    )
    assert moved["SourceKeyId"] == arn
    assert kms.decrypt(CiphertextBlob=moved["CiphertextBlob"])["Plaintext"] == b"x" * 1024
    assert len(kms.generate_random(NumberOfBytes=16)["Plaintext"]) == 16
    kms.update_alias(AliasName="alias/served", TargetKeyId=other)
    kms.delete_alias(AliasName="alias/served")
    # rotation
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    status = kms.get_key_rotation_status(KeyId=key)
    assert status["KeyRotationEnabled"] is True
    assert isinstance(status["NextRotationDate"], datetime)
    kms.rotate_key_on_demand(KeyId=key)
    rotations = kms.list_key_rotations(KeyId=key)["Rotations"]
    assert rotations and isinstance(rotations[0]["RotationDate"], datetime)
    kms.disable_key_rotation(KeyId=key)
    # tags
    kms.tag_resource(KeyId=key, Tags=[{"TagKey": "env", "TagValue": "dev"}])
    tags = kms.list_resource_tags(KeyId=key)["Tags"]
    assert {t["TagKey"] for t in tags} == {"team", "env"}
    kms.untag_resource(KeyId=key, TagKeys=["env"])
    # multi-Region keys
    primary = kms.create_key(MultiRegion=True)["KeyMetadata"]
    replica = kms.replicate_key(KeyId=primary["KeyId"], ReplicaRegion="eu-west-1")
    assert replica["ReplicaKeyMetadata"]["Arn"].startswith("arn:aws:kms:eu-west-1:")
    kms.update_primary_region(KeyId=primary["Arn"], PrimaryRegion="eu-west-1")
    west = kms_server.client(region="eu-west-1")
    west.meta.events.register("after-call.kms", lambda model, **_: called.add(model.name))
    assert (
        west.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]["MultiRegionConfiguration"][
            "MultiRegionKeyType"
        ]
        == "PRIMARY"
    )
    # imported key material
    external = kms.create_key(Origin="EXTERNAL")["KeyMetadata"]["KeyId"]
    parameters = kms.get_parameters_for_import(
        KeyId=external, WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    assert isinstance(parameters["ParametersValidTo"], datetime)
    kms.import_key_material(
        KeyId=external,
        ImportToken=parameters["ImportToken"],
        EncryptedKeyMaterial=_wrap_for_import(parameters, os.urandom(32)),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    assert kms.describe_key(KeyId=external)["KeyMetadata"]["KeyState"] == "Enabled"
    kms.delete_imported_key_material(KeyId=external)
    # grants
    grant = kms.create_grant(
        KeyId=key,
        GranteePrincipal=ALICE,
        Operations=["Encrypt", "Decrypt"],
        RetiringPrincipal=ROOT,
        Constraints={"EncryptionContextSubset": {"purpose": "test"}},
    )
    listed = kms.list_grants(KeyId=key)["Grants"]
    assert [g["GrantId"] for g in listed] == [grant["GrantId"]]
    assert isinstance(listed[0]["CreationDate"], datetime)
    assert kms.list_retirable_grants(RetiringPrincipal=ROOT)["Grants"]
    kms.retire_grant(KeyId=arn, GrantId=grant["GrantId"])
    second = kms.create_grant(KeyId=key, GranteePrincipal=ALICE, Operations=["Decrypt"])
    kms.revoke_grant(KeyId=key, GrantId=second["GrantId"])
    assert kms.list_grants(KeyId=key)["Grants"] == []
    # asymmetric and HMAC keys
    signer = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    public = kms.get_public_key(KeyId=signer["KeyId"])
    assert public["KeySpec"] == "ECC_NIST_P256"
    serialization.load_der_public_key(public["PublicKey"])
    signed = kms.sign(KeyId=signer["KeyId"], Message=b"release", SigningAlgorithm="ECDSA_SHA_256")
    assert kms.verify(
        KeyId=signer["KeyId"],
        Message=b"release",
        Signature=signed["Signature"],
        SigningAlgorithm="ECDSA_SHA_256",
    )["SignatureValid"]
    maker = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]
    mac = kms.generate_mac(KeyId=maker["KeyId"], Message=b"m", MacAlgorithm="HMAC_SHA_256")
    assert kms.verify_mac(
        KeyId=maker["KeyId"], Message=b"m", Mac=mac["Mac"], MacAlgorithm="HMAC_SHA_256"
    )["MacValid"]
    agreeing = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="KEY_AGREEMENT")["KeyMetadata"]
    from cryptography.hazmat.primitives.asymmetric import ec

    peer = ec.generate_private_key(ec.SECP256R1())
    peer_der = peer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    shared = kms.derive_shared_secret(
        KeyId=agreeing["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=peer_der
    )
    theirs = serialization.load_der_public_key(
        kms.get_public_key(KeyId=agreeing["KeyId"])["PublicKey"]
    )
    assert shared["SharedSecret"] == peer.exchange(ec.ECDH(), theirs)  # type: ignore[arg-type]
    pair = kms.generate_data_key_pair(KeyId=other, KeyPairSpec="ECC_NIST_P256")
    assert pair["PrivateKeyPlaintext"] and pair["PublicKey"]
    bare_pair = kms.generate_data_key_pair_without_plaintext(KeyId=other, KeyPairSpec="RSA_2048")
    assert "PrivateKeyPlaintext" not in bare_pair
    rsa = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
    sealed_rsa = kms.encrypt(KeyId=rsa, Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    assert (
        kms.decrypt(
            KeyId=rsa,
            CiphertextBlob=sealed_rsa["CiphertextBlob"],
            EncryptionAlgorithm="RSAES_OAEP_SHA_256",
        )["Plaintext"]
        == b"p"
    )
    # deletion
    scheduled = kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert isinstance(scheduled["DeletionDate"], datetime)
    kms.cancel_key_deletion(KeyId=key)
    assert called >= set(OPERATIONS), sorted(set(OPERATIONS) - called)


def _error(call: Any) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    return caught.value


def test_errors_have_aws_types_and_statuses(kms_server: Server) -> None:
    kms = kms_server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"p")["CiphertextBlob"]
    missing = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000"
    kms.create_alias(AliasName="alias/taken", TargetKeyId=key)
    cases = [
        (
            lambda: kms.describe_key(KeyId=missing),
            "NotFoundException",
            kms.exceptions.NotFoundException,
        ),
        (
            lambda: kms.generate_random(NumberOfBytes=5000),
            "ValidationException",
            None,
        ),
        (
            lambda: kms.create_alias(AliasName="alias/taken", TargetKeyId=key),
            "AlreadyExistsException",
            kms.exceptions.AlreadyExistsException,
        ),
        (
            lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={"wrong": "context"}),
            "InvalidCiphertextException",
            kms.exceptions.InvalidCiphertextException,
        ),
        (
            lambda: kms.decrypt(
                CiphertextBlob=blob, KeyId=kms.create_key()["KeyMetadata"]["KeyId"]
            ),
            "IncorrectKeyException",
            kms.exceptions.IncorrectKeyException,
        ),
        (
            lambda: kms.cancel_key_deletion(KeyId=key),
            "KMSInvalidStateException",
            kms.exceptions.KMSInvalidStateException,
        ),
        (
            lambda: kms.create_alias(AliasName="alias/aws/mine", TargetKeyId=key),
            "NotAuthorizedException",
            None,
        ),
        (lambda: kms.create_key(CustomKeyStoreId="cks-1"), "UnsupportedOperationException", None),
    ]
    for call, code, modelled in cases:
        error = _error(call)
        assert error.response["Error"]["Code"] == code, (code, error.response)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        if modelled is not None:
            assert isinstance(error, modelled)
    kms.disable_key(KeyId=key)
    error = _error(lambda: kms.encrypt(KeyId=key, Plaintext=b"p"))
    assert isinstance(error, kms.exceptions.DisabledException)


def test_unknown_operation_and_bad_bodies(kms_server: Server) -> None:
    from tests.server.test_authentication import signed_post

    key_id, secret = kms_server.access_key()
    status, body = signed_post(kms_server, key_id, secret, "TrentService.FlyToTheMoon", b"{}")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, body = signed_post(kms_server, key_id, secret, "TrentService.ListKeys", b"[1, 2")
    assert (status, body["__type"]) == (400, "SerializationException")
    status, body = signed_post(
        kms_server, key_id, secret, "TrentService.DescribeKey", json.dumps({}).encode()
    )
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must not be null" in body["message"]
    status, body = signed_post(
        kms_server, key_id, secret, "TrentService.Encrypt", b'{"KeyId": "k", "Plaintext": "!!"}'
    )
    assert (status, body["__type"]) == (400, "SerializationException")


def test_denied_for_a_principal_no_policy_allows(kms_server: Server) -> None:
    key = kms_server.client().create_key()["KeyMetadata"]["Arn"]
    alice = kms_server.client(ALICE)
    for call in (
        lambda: alice.encrypt(KeyId=key, Plaintext=b"secret"),
        lambda: alice.describe_key(KeyId=key),
        alice.create_key,
    ):
        error = _error(call)
        assert error.response["Error"]["Code"] == "AccessDeniedException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert ALICE in error.response["Error"]["Message"]


def test_the_signer_is_the_caller_in_policies_and_the_audit_trail(
    kms_server: Server, run: Any
) -> None:
    root = kms_server.client()
    key = root.create_key()["KeyMetadata"]["Arn"]
    policy = json.loads(root.get_key_policy(KeyId=key)["Policy"])
    policy["Statement"].append(
        {
            "Sid": "alice encrypts",
            "Effect": "Allow",
            "Principal": {"AWS": ALICE},
            "Action": "kms:Encrypt",
            "Resource": "*",
        }
    )
    root.put_key_policy(KeyId=key, Policy=json.dumps(policy))
    alice = kms_server.client(ALICE)
    alice.encrypt(KeyId=key, Plaintext=b"allowed")
    assert (
        _error(lambda: alice.generate_data_key(KeyId=key, KeySpec="AES_256")).response["Error"][
            "Code"
        ]
        == "AccessDeniedException"
    )
    result = run("audit", "--key", key, "--json")
    assert result.status == 0, result.err
    events = json.loads(result.out)["Records"]
    mine = [e for e in events if e["userIdentity"]["arn"] == ALICE]
    assert [(e["eventName"], e.get("errorCode")) for e in mine] == [
        ("Encrypt", None),
        ("GenerateDataKey", "AccessDeniedException"),
    ]
