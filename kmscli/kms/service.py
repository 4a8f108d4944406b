"""The local KMS: one method per KMS operation, answering in AWS's response shapes.

Every operation runs the same steps: validate → resolve the key → authorize → check the key
state → act → (audit). Time comes from the injected clock, the caller and region from the
constructor; nothing here prints, prompts or reads the environment. Responses are plain dicts with
AWS member names; binary members are `bytes` (the CLI encodes them).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, cast

from kmscli.crypto.primitives import AES256_KEY_BYTES, random_bytes
from kmscli.errors import (
    AccessDeniedException,
    AlreadyExistsException,
    IncorrectKeyException,
    InvalidCiphertextException,
    LimitExceededException,
    NotAuthorizedException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)
from kmscli.kms import audit, lifecycle, schedule, validation
from kmscli.kms import blob as blob_format
from kmscli.kms.authorization import Authorizer, RequestFacts
from kmscli.kms.ids import (
    alias_arn,
    is_reserved_alias,
    new_key_id,
    new_multi_region_key_id,
    parse_key_reference,
    validate_alias_name,
)
from kmscli.kms.model import (
    AWS_MANAGED,
    CUSTOMER,
    DISABLED,
    ENABLED,
    ENCRYPT_DECRYPT,
    ORIGIN_AWS_KMS,
    ORIGIN_EXTERNAL,
    PENDING_IMPORT,
    PRIMARY,
    SYMMETRIC_DEFAULT,
    KeyRecord,
    Material,
    format_timestamp,
)
from kmscli.kms.policies import aws_managed_key_policy
from kmscli.kms.states import check_state
from kmscli.policy import Principal, default_key_policy, parse_key_policy
from kmscli.policy.conditions import ConditionValue
from kmscli.store import Keyring, RecordView, Transaction

if TYPE_CHECKING:
    from kmscli.kmsapi.shapes import (
        AliasListEntry,
        DecryptResponse,
        DeriveSharedSecretResponse,
        EncryptResponse,
        GenerateDataKeyPairResponse,
        GenerateDataKeyResponse,
        GenerateMacResponse,
        GenerateRandomResponse,
        GetPublicKeyResponse,
        KeyListEntry,
        KeyMetadata,
        KeyMetadataResponse,
        ListAliasesResponse,
        ListKeysResponse,
        ReEncryptResponse,
        SignResponse,
        VerifyMacResponse,
        VerifyResponse,
    )

AWS_MANAGED_ALIAS = "alias/aws/kmscli"
AWS_MANAGED_DESCRIPTION = "Default key that protects my kmscli files when no other key is defined"
MAX_ALIASES_PER_KEY = 50

KNOWN_KEY_SPECS = frozenset(
    {
        "SYMMETRIC_DEFAULT",
        "RSA_2048",
        "RSA_3072",
        "RSA_4096",
        "ECC_NIST_P256",
        "ECC_NIST_P384",
        "ECC_NIST_P521",
        "ECC_SECG_P256K1",
        "ECC_NIST_EDWARDS25519",
        "ML_DSA_44",
        "ML_DSA_65",
        "ML_DSA_87",
        "HMAC_224",
        "HMAC_256",
        "HMAC_384",
        "HMAC_512",
        "SM2",
    }
)
KNOWN_KEY_USAGES = frozenset(
    {"ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}
)
KNOWN_ORIGINS = frozenset({"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"})

Clock = Callable[[], datetime]

KEYS = "keys"
ALIASES = "aliases"


def _material_aad(arn: str, material_id: str) -> bytes:
    return b"kmscli/key-material/v1\x00" + arn.encode() + b"\x00" + material_id.encode()


class AliasRecord:
    """An alias as kept in the keyring (the `aliases` record). A plain class: far cheaper to
    create at import than a NamedTuple or a dataclass."""

    __slots__ = ("alias_name", "creation_date", "last_updated_date", "target_key_id")

    def __init__(
        self, alias_name: str, target_key_id: str, creation_date: str, last_updated_date: str
    ) -> None:
        self.alias_name: Final = alias_name
        self.target_key_id: Final = target_key_id
        self.creation_date: Final = creation_date
        self.last_updated_date: Final = last_updated_date

    def to_json(self) -> bytes:
        fields = {name: getattr(self, name) for name in self.__slots__}
        return json.dumps(fields, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AliasRecord:
        return cls(**json.loads(raw))


@audit.audited
class KmsService:
    """The KMS operations over one keyring, in one region, for one caller.

    `audit.audited` makes every public method named after a KMS operation append its audit
    event, allowed or denied (kmscli.kms.audit). Declares `kmscli.kmsapi.protocol.KmsApi`
    (checked by mypy at the end of this module).
    """

    def __init__(
        self, keyring: Keyring, *, region: str, caller: str | None = None, clock: Clock
    ) -> None:
        self.keyring = keyring
        self.region = region
        self.account = keyring.info.account_id
        self.principal = Principal.parse(caller or f"arn:aws:iam::{self.account}:root")
        self.caller = self.principal.arn
        self.clock = clock
        # File encryption calls KMS the way an integrated AWS service does, on the caller's
        # behalf; key policies see it as kms:ViaService (the AWS managed key requires it).
        self.via_service_name = f"kmscli.{region}.amazonaws.com"
        # Nothing is read or written here: KMS's own due work is the caller's explicit
        # `catch_up()`, before the first operation.

    # -- plumbing -------------------------------------------------------------------------------

    def _now(self) -> str:
        return format_timestamp(self.clock())

    def _key_name(self, key_id: str) -> str:
        return f"{self.region}/{key_id}"

    def _alias_name(self, alias: str) -> str:
        return f"{self.region}/{alias}"

    def _load_key(self, view: RecordView, key_id: str) -> KeyRecord | None:
        raw = view.get(KEYS, self._key_name(key_id))
        return None if raw is None else KeyRecord.from_json(raw)

    def _save_key(self, tx: Transaction, key: KeyRecord) -> None:
        """Write a key record (of any region) and keep the due index current.

        An inconsistent record is refused (a bug, KMSInternalException) before anything is
        written (kmscli.kms.invariants)."""
        from kmscli.kms.invariants import check_key_record

        check_key_record(key)
        name = schedule.record_name(key)
        tx.put(KEYS, name, key.to_json())
        schedule.note(tx, name, schedule.next_event(key))

    def _load_alias(self, view: RecordView, alias: str) -> AliasRecord | None:
        raw = view.get(ALIASES, self._alias_name(alias))
        return None if raw is None else AliasRecord.from_json(raw)

    def _missing_key(self, key_id: str) -> NotFoundException:
        arn = f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}"
        return NotFoundException(f"Key '{arn}' does not exist")

    def _resolve(self, view: RecordView, key: str, *, aliases: bool = True) -> KeyRecord:
        """Find the key a KEY argument names, in this account and region."""
        ref = parse_key_reference(key)
        if ref.is_alias and not aliases:
            raise NotFoundException(f"Invalid keyId {key}")
        if ref.region is not None and ref.region != self.region:
            raise NotFoundException(f"Invalid arn {ref.region}")
        caller_account = self.principal.account or self.account
        if ref.account is None and caller_account != self.account:
            # A bare key ID or alias name names a key of the caller's own account (§1): other
            # accounts' keys are reached by ARN only. This keyring holds no other account.
            if ref.key_id is not None:
                missing = f"arn:aws:kms:{self.region}:{caller_account}:key/{ref.key_id}"
                raise NotFoundException(f"Key '{missing}' does not exist")
            assert ref.alias_name is not None
            missing = alias_arn(self.region, caller_account, ref.alias_name)
            raise NotFoundException(f"Alias {missing} is not found.")
        if ref.account is not None and ref.account != self.account:
            if ref.key_id is not None:
                raise NotFoundException(f"Key '{key}' does not exist")
            raise NotFoundException(f"Alias {key} is not found.")
        key_id = ref.key_id
        if ref.alias_name is not None:
            alias = self._load_alias(view, ref.alias_name)
            if alias is None:
                arn = alias_arn(self.region, self.account, ref.alias_name)
                raise NotFoundException(f"Alias {arn} is not found.")
            key_id = alias.target_key_id
        assert key_id is not None
        record = self._load_key(view, key_id)
        if record is None:
            raise self._missing_key(key_id)
        return record

    @contextmanager
    def _reading(self, key: str | None) -> Iterator[RecordView]:
        """A read view; creates the AWS managed key first if `key` names it and it is missing."""
        if key is not None and self._names_missing_managed_key(key):
            with self.keyring.write() as tx:
                self._ensure_aws_managed_key(tx)
        with self.keyring.read() as view:
            yield view

    def _names_missing_managed_key(self, key: str) -> bool:
        names_it = key == AWS_MANAGED_ALIAS or key == alias_arn(
            self.region, self.account, AWS_MANAGED_ALIAS
        )
        if self.principal.account not in ("", self.account):
            names_it = False  # another account's caller gets no managed key made here
        if not names_it:
            return False
        with self.keyring.read() as view:
            return self._load_alias(view, AWS_MANAGED_ALIAS) is None

    def _ensure_aws_managed_key(self, tx: Transaction) -> KeyRecord:
        existing = self._load_alias(tx, AWS_MANAGED_ALIAS)
        if existing is not None:
            record = self._load_key(tx, existing.target_key_id)
            if record is not None:
                return record
        record = self._new_key_record(
            key_id=new_key_id(),
            description=AWS_MANAGED_DESCRIPTION,
            key_manager=AWS_MANAGED,
            policy=aws_managed_key_policy(self.account, self.region),
            multi_region=False,
        )
        from kmscli.kms import rotation

        rotation.start_aws_managed_schedule(record)
        self._save_key(tx, record)
        now = self._now()
        alias = AliasRecord(AWS_MANAGED_ALIAS, record.key_id, now, now)
        tx.put(ALIASES, self._alias_name(AWS_MANAGED_ALIAS), alias.to_json())
        return record

    def _new_key_record(
        self,
        *,
        key_id: str,
        description: str,
        key_manager: str,
        policy: str,
        multi_region: bool,
        tags: Sequence[tuple[str, str]] = (),
    ) -> KeyRecord:
        now = self._now()
        record = KeyRecord(
            key_id=key_id,
            region=self.region,
            account=self.account,
            creation_date=now,
            description=description,
            key_manager=key_manager,
            policy=policy,
            multi_region=multi_region,
            tags=[{"TagKey": k, "TagValue": v} for k, v in tags],
        )
        record.materials.append(self._new_material(record.arn, now))
        return record

    def _new_material(self, arn: str, created: str) -> Material:
        material_id = random_bytes(32).hex()
        secret = random_bytes(AES256_KEY_BYTES)
        sealed = self.keyring.seal(secret, _material_aad(arn, material_id))
        return Material(material_id, base64.b64encode(sealed).decode(), created)

    def _material_secret(self, key: KeyRecord, material: Material) -> bytes:
        return self.keyring.unseal(
            base64.b64decode(material.sealed),
            _material_aad(key.arn, material.material_id),
            where=f"key material {material.material_id} of key {key.arn}",
        )

    def _authorizer(self) -> Authorizer:
        return Authorizer(self.principal, self.clock())

    def _authorize(
        self,
        view: RecordView,
        action: str,
        key: KeyRecord,
        facts: RequestFacts | None = None,
    ) -> None:
        """Refuse unless the key policy, the caller's IAM policies (or a grant) allow it."""
        self._authorizer().authorize_key(
            view,
            action,
            key,
            aliases=lambda: self._alias_names(view, key.key_id),
            facts=facts or RequestFacts(),
        )

    def _authorize_iam(
        self,
        view: RecordView,
        action: str,
        resource_arn: str = "*",
        extra: Mapping[str, ConditionValue] | None = None,
    ) -> None:
        self._authorizer().authorize_iam(view, action, resource_arn, self.account, extra)

    def _alias_names(self, view: RecordView, key_id: str) -> list[str]:
        return [a.alias_name for a in self._alias_records(view) if a.target_key_id == key_id]

    # -- keys -----------------------------------------------------------------------------------

    def create_key(
        self,
        *,
        description: str = "",
        key_spec: str = SYMMETRIC_DEFAULT,
        key_usage: str | None = None,
        origin: str = ORIGIN_AWS_KMS,
        multi_region: bool = False,
        policy: str | None = None,
        tags: Sequence[tuple[str, str]] = (),
        alias: str | None = None,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> KeyMetadataResponse:
        validation.check_description(description)
        _check_enum(key_spec, KNOWN_KEY_SPECS, "keySpec")
        if key_usage is not None:
            _check_enum(key_usage, KNOWN_KEY_USAGES, "keyUsage")
        _check_enum(origin, KNOWN_ORIGINS, "origin")
        if key_spec != SYMMETRIC_DEFAULT or key_usage not in (None, ENCRYPT_DECRYPT):
            from kmscli.kms import asymmetric_ops

            key_usage = asymmetric_ops.check_spec_and_usage(key_spec, key_usage)
        if origin not in (ORIGIN_AWS_KMS, ORIGIN_EXTERNAL):
            raise UnsupportedOperationException(
                f"kmscli does not support origin {origin}; keys are created with AWS_KMS or "
                "EXTERNAL"
            )
        validation.check_tags(tags)
        document = parse_key_policy(policy) if policy is not None else None
        if alias is not None:
            self._check_alias_name_for_create(alias)
        key_id = new_multi_region_key_id() if multi_region else new_key_id()
        record = self._new_key_record(
            key_id=key_id,
            description=description,
            key_manager=CUSTOMER,
            policy=policy if policy is not None else default_key_policy(self.account),
            multi_region=multi_region,
            tags=tags,
        )
        if origin == ORIGIN_EXTERNAL:
            record.origin = ORIGIN_EXTERNAL
            record.state = PENDING_IMPORT
            record.materials.clear()
        if key_spec != SYMMETRIC_DEFAULT:
            from kmscli.kms import asymmetric_ops

            assert key_usage is not None
            asymmetric_ops.shape_new_key(self, record, key_spec, key_usage)
        if multi_region:
            record.multi_region_type = PRIMARY
            record.primary_region = self.region
        # CreateKey's request values (defaults count) are condition keys of its IAM check.
        tag_keys: dict[str, ConditionValue] = {f"aws:RequestTag/{k}": v for k, v in tags}
        if tags:
            tag_keys["aws:TagKeys"] = [k for k, _ in tags]
        request: dict[str, ConditionValue] = {
            "kms:KeySpec": key_spec,
            "kms:CustomerMasterKeySpec": key_spec,
            "kms:KeyUsage": key_usage or ENCRYPT_DECRYPT,
            "kms:CustomerMasterKeyUsage": key_usage or ENCRYPT_DECRYPT,
            "kms:KeyOrigin": origin,
            "kms:MultiRegion": multi_region,
            "kms:BypassPolicyLockoutSafetyCheck": bypass_policy_lockout_safety_check,
            **tag_keys,
        }
        if multi_region:
            request["kms:MultiRegionKeyType"] = "PRIMARY"
        with self.keyring.write() as tx:
            self._authorize_iam(tx, "CreateKey", extra=request)
            if tags:
                self._authorize_iam(tx, "TagResource", extra=tag_keys)
            if document is not None and not bypass_policy_lockout_safety_check:
                self._authorizer().check_lockout(tx, document, record.arn, self.account)
            self._save_key(tx, record)
            if alias is not None:
                self._authorize_iam(tx, "CreateAlias", self._alias_arn(alias))
                self._authorize(tx, "CreateAlias", record)
                self._put_new_alias(tx, alias, record)
        return {"KeyMetadata": self._metadata(record)}

    def _alias_arn(self, alias: str) -> str:
        return alias_arn(self.region, self.account, alias)

    def _metadata(self, record: KeyRecord) -> KeyMetadata:
        return cast("KeyMetadata", record.metadata())

    def describe_key(self, key: str, *, grant_tokens: Sequence[str] = ()) -> KeyMetadataResponse:
        facts = _alias_facts(key)._replace(grant_tokens=tuple(grant_tokens))
        with self._reading(key) as view:
            record = self._resolve(view, key)
            self._authorize(view, "DescribeKey", record, facts)
        return {"KeyMetadata": self._metadata(record)}

    def list_keys(self) -> ListKeysResponse:
        with self.keyring.read() as view:
            self._authorize_iam(view, "ListKeys")
            names = view.list(KEYS, prefix=f"{self.region}/")
        keys: list[KeyListEntry] = []
        for name in names:
            key_id = name.split("/", 1)[1]
            keys.append(
                {
                    "KeyId": key_id,
                    "KeyArn": f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}",
                }
            )
        return {"Keys": keys, "Truncated": False}

    def list_key_records(self) -> list[KeyRecord]:
        """Every key of this region with its metadata (for `key list`)."""
        with self.keyring.read() as view:
            self._authorize_iam(view, "ListKeys")
            records = [
                KeyRecord.from_json(raw)
                for name in view.list(KEYS, prefix=f"{self.region}/")
                if (raw := view.get(KEYS, name)) is not None
            ]
        return sorted(records, key=lambda r: r.creation_date)

    def _update_key(self, key: str, action: str, change: Callable[[KeyRecord], None]) -> KeyRecord:
        with self.keyring.write() as tx:
            record = self._resolve(tx, key, aliases=False)
            self._authorize(tx, action, record)
            check_state(action, record)
            change(record)
            self._save_key(tx, record)
        return record

    def enable_key(self, key: str) -> dict[str, Any]:
        with self.keyring.write() as tx:
            record = self._resolve(tx, key, aliases=False)
            self._authorize(tx, "EnableKey", record)
            check_state("EnableKey", record)
            was_disabled = record.state == DISABLED
            record.state = ENABLED
            if was_disabled:  # a rotation that fell due while disabled happens now (§5)
                from kmscli.kms import rotation

                rotation.resume_after_enable(self, tx, record)
            self._save_key(tx, record)
        return {}

    def disable_key(self, key: str) -> dict[str, Any]:
        self._update_key(key, "DisableKey", lambda r: setattr(r, "state", DISABLED))
        return {}

    def update_key_description(self, key: str, description: str) -> dict[str, Any]:
        validation.check_description(description)
        self._update_key(
            key, "UpdateKeyDescription", lambda r: setattr(r, "description", description)
        )
        return {}

    # -- key policies ---------------------------------------------------------------------------

    def get_key_policy(self, key: str, policy_name: str = "default") -> dict[str, Any]:
        with self.keyring.read() as view:
            record = self._resolve(view, key, aliases=False)
            self._authorize(view, "GetKeyPolicy", record)
        _check_policy_name(policy_name)
        return {"Policy": record.policy, "PolicyName": "default"}

    def put_key_policy(
        self,
        key: str,
        policy: str,
        policy_name: str = "default",
        *,
        bypass_policy_lockout_safety_check: bool = False,
    ) -> dict[str, Any]:
        _check_policy_name(policy_name)
        document = parse_key_policy(policy)
        with self.keyring.write() as tx:
            record = self._resolve(tx, key, aliases=False)
            bypass = {"kms:BypassPolicyLockoutSafetyCheck": bypass_policy_lockout_safety_check}
            self._authorize(tx, "PutKeyPolicy", record, RequestFacts(extra=bypass))
            check_state("PutKeyPolicy", record)
            if not bypass_policy_lockout_safety_check:
                self._authorizer().check_lockout(tx, document, record.arn, record.account)
            record.policy = policy
            self._save_key(tx, record)
        return {}

    def list_key_policies(self, key: str) -> dict[str, Any]:
        with self.keyring.read() as view:
            record = self._resolve(view, key, aliases=False)
            self._authorize(view, "ListKeyPolicies", record)
        return {"PolicyNames": ["default"], "Truncated": False}

    # -- aliases --------------------------------------------------------------------------------

    def _check_alias_name_for_create(self, alias: str) -> None:
        validate_alias_name(alias)
        if is_reserved_alias(alias):
            raise NotAuthorizedException("")

    def _put_new_alias(self, tx: Transaction, alias: str, target: KeyRecord) -> None:
        if self._load_alias(tx, alias) is not None:
            arn = alias_arn(self.region, self.account, alias)
            raise AlreadyExistsException(f"An alias with the name {arn} already exists")
        if self._alias_count(tx, target.key_id) >= MAX_ALIASES_PER_KEY:
            raise LimitExceededException(
                f"The key {target.arn} already has {MAX_ALIASES_PER_KEY} aliases."
            )
        now = self._now()
        record = AliasRecord(alias, target.key_id, now, now)
        tx.put(ALIASES, self._alias_name(alias), record.to_json())

    def _alias_count(self, view: RecordView, key_id: str) -> int:
        return sum(1 for a in self._alias_records(view) if a.target_key_id == key_id)

    def _alias_records(self, view: RecordView) -> list[AliasRecord]:
        records = []
        for name in view.list(ALIASES, prefix=f"{self.region}/"):
            raw = view.get(ALIASES, name)
            if raw is not None:
                records.append(AliasRecord.from_json(raw))
        return records

    def create_alias(self, alias: str, target_key: str) -> dict[str, Any]:
        self._check_alias_name_for_create(alias)
        with self.keyring.write() as tx:
            target = self._resolve(tx, target_key, aliases=False)
            self._authorize_iam(tx, "CreateAlias", self._alias_arn(alias))
            self._authorize(tx, "CreateAlias", target)
            check_state("CreateAlias", target)
            self._put_new_alias(tx, alias, target)
        return {}

    def update_alias(self, alias: str, target_key: str) -> dict[str, Any]:
        validate_alias_name(alias)
        if is_reserved_alias(alias):
            raise NotAuthorizedException("")
        with self.keyring.write() as tx:
            existing = self._load_alias(tx, alias)
            if existing is None:
                arn = alias_arn(self.region, self.account, alias)
                raise NotFoundException(f"Alias {arn} is not found.")
            target = self._resolve(tx, target_key, aliases=False)
            old = self._load_key(tx, existing.target_key_id)
            self._authorize_iam(tx, "UpdateAlias", self._alias_arn(alias))
            if old is not None:
                self._authorize(tx, "UpdateAlias", old)
            self._authorize(tx, "UpdateAlias", target)
            check_state("UpdateAlias", target)
            if old is not None and (old.key_spec, old.key_usage) != (
                target.key_spec,
                target.key_usage,
            ):
                raise ValidationException(
                    f"{target.arn} key usage or key spec does not match the key the alias "
                    f"currently points to ({old.arn}); an alias keeps its key type and usage"
                )
            updated = AliasRecord(alias, target.key_id, existing.creation_date, self._now())
            tx.put(ALIASES, self._alias_name(alias), updated.to_json())
        return {}

    def delete_alias(self, alias: str) -> dict[str, Any]:
        validate_alias_name(alias)
        if is_reserved_alias(alias):
            raise NotAuthorizedException("")
        with self.keyring.write() as tx:
            existing = self._load_alias(tx, alias)
            if existing is None:
                arn = alias_arn(self.region, self.account, alias)
                raise NotFoundException(f"Alias {arn} is not found.")
            target = self._load_key(tx, existing.target_key_id)
            self._authorize_iam(tx, "DeleteAlias", self._alias_arn(alias))
            if target is not None:
                self._authorize(tx, "DeleteAlias", target)
            tx.delete(ALIASES, self._alias_name(alias))
        return {}

    def list_aliases(self, key: str | None = None) -> ListAliasesResponse:
        with self.keyring.read() as view:
            self._authorize_iam(view, "ListAliases")
            key_id = None if key is None else self._resolve(view, key, aliases=False).key_id
            records = self._alias_records(view)
        entries: list[AliasListEntry] = []
        if key_id is None and not any(r.alias_name == AWS_MANAGED_ALIAS for r in records):
            # AWS lists predefined AWS aliases even before their key exists, without a target.
            entries.append(
                {
                    "AliasName": AWS_MANAGED_ALIAS,
                    "AliasArn": alias_arn(self.region, self.account, AWS_MANAGED_ALIAS),
                }
            )
        for record in records:
            if key_id is not None and record.target_key_id != key_id:
                continue
            entries.append(
                {
                    "AliasName": record.alias_name,
                    "AliasArn": alias_arn(self.region, self.account, record.alias_name),
                    "TargetKeyId": record.target_key_id,
                    "CreationDate": record.creation_date,
                    "LastUpdatedDate": record.last_updated_date,
                }
            )
        entries.sort(key=lambda e: str(e["AliasName"]))
        return {"Aliases": entries, "Truncated": False}

    # -- cryptographic operations ---------------------------------------------------------------

    def _usable_key(
        self, view: RecordView, key: str, action: str, facts: RequestFacts
    ) -> KeyRecord:
        record = self._resolve(view, key)
        self._authorize(view, action, record, facts)
        check_state(action, record)
        if record.key_spec != SYMMETRIC_DEFAULT:
            from kmscli.kms import asymmetric_ops

            asymmetric_ops.require_symmetric_encryption(record, action)
        return record

    def _crypto_facts(
        self,
        key: str | None,
        context: Mapping[str, str],
        via_service: bool,
        grant_tokens: Sequence[str] = (),
    ) -> RequestFacts:
        return RequestFacts(
            encryption_context=context,
            encryption_algorithm=SYMMETRIC_DEFAULT,
            request_alias=_alias_facts(key).request_alias if key is not None else None,
            via_service=self.via_service_name if via_service else None,
            grant_tokens=tuple(grant_tokens),
        )

    def _seal_under(
        self, record: KeyRecord, plaintext: bytes, encryption_context: Mapping[str, str]
    ) -> tuple[bytes, str]:
        material = record.current_material
        if material is None or not material.present:
            raise InvalidCiphertextException(f"{record.arn} has no key material")
        secret = self._material_secret(record, material)
        sealed = blob_format.seal_blob(
            secret, record.key_id, material.material_id, plaintext, encryption_context
        )
        return sealed, material.material_id

    def encrypt(
        self,
        key: str,
        plaintext: bytes,
        encryption_context: Mapping[str, str] | None = None,
        *,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
        encryption_algorithm: str | None = None,
    ) -> EncryptResponse:
        if encryption_algorithm not in (None, SYMMETRIC_DEFAULT):
            from kmscli.kms import asymmetric_ops

            assert encryption_algorithm is not None
            return asymmetric_ops.encrypt(
                self, key, plaintext, encryption_algorithm, encryption_context, grant_tokens
            )
        validation.check_plaintext(plaintext)
        context = dict(encryption_context or {})
        validation.check_encryption_context(context)
        facts = self._crypto_facts(key, context, via_service, grant_tokens)
        with self._reading(key) as view:
            record = self._usable_key(view, key, "Encrypt", facts)
        blob, _material_id = self._seal_under(record, plaintext, context)
        return {
            "CiphertextBlob": blob,
            "KeyId": record.arn,
            "EncryptionAlgorithm": SYMMETRIC_DEFAULT,
        }

    def generate_data_key(
        self,
        key: str,
        *,
        key_spec: str | None = None,
        number_of_bytes: int | None = None,
        encryption_context: Mapping[str, str] | None = None,
        with_plaintext: bool = True,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateDataKeyResponse:
        length = validation.data_key_length(key_spec, number_of_bytes)
        context = dict(encryption_context or {})
        validation.check_encryption_context(context)
        action = "GenerateDataKey" if with_plaintext else "GenerateDataKeyWithoutPlaintext"
        facts = self._crypto_facts(key, context, via_service, grant_tokens)
        with self._reading(key) as view:
            record = self._usable_key(view, key, action, facts)
        plaintext = random_bytes(length)
        blob, material_id = self._seal_under(record, plaintext, context)
        response: dict[str, Any] = {"CiphertextBlob": blob}
        if with_plaintext:
            response["Plaintext"] = plaintext
        response["KeyId"] = record.arn
        response["KeyMaterialId"] = material_id
        return cast("GenerateDataKeyResponse", response)

    def decrypt(
        self,
        ciphertext_blob: bytes,
        *,
        key: str | None = None,
        encryption_context: Mapping[str, str] | None = None,
        via_service: bool = False,
        grant_tokens: Sequence[str] = (),
        encryption_algorithm: str | None = None,
    ) -> DecryptResponse:
        if not 1 <= len(ciphertext_blob) <= blob_format.MAX_BLOB_BYTES:
            raise validation.constraint_error(
                "<ciphertext>",
                "ciphertextBlob",
                f"Member must have length between 1 and {blob_format.MAX_BLOB_BYTES}",
            )
        if encryption_algorithm not in (None, SYMMETRIC_DEFAULT):
            from kmscli.kms import asymmetric_ops

            assert encryption_algorithm is not None
            return asymmetric_ops.decrypt(
                self, ciphertext_blob, key, encryption_algorithm, encryption_context, grant_tokens
            )
        context = dict(encryption_context or {})
        validation.check_encryption_context(context)
        header = blob_format.parse_blob(ciphertext_blob)
        with self._reading(key) as view:
            if key is not None:
                requested = self._resolve(view, key)
                if requested.key_id != header.key_id:
                    raise IncorrectKeyException(
                        "The key ID in the request does not identify a CMK that can perform "
                        "this operation."
                    )
            record = self._load_key(view, header.key_id)
            if record is None:
                # AWS's words (the wire keeps them); the hint, for the CLI, names the key.
                raise AccessDeniedException(
                    "The ciphertext refers to a customer master key that does not exist, does "
                    "not exist in this region, or you are not allowed to access.",
                    hints=[
                        f"it was made under key ID {header.key_id}, which the keyring at "
                        f"'{self.keyring.info.home}' (account {self.account}) does not hold in "
                        f"{self.region}: it comes from another keyring (--home) or region "
                        "(--region), or the key was deleted"
                    ],
                )
            facts = self._crypto_facts(key, context, via_service, grant_tokens)
            self._authorize(view, "Decrypt", record, facts)
        check_state("Decrypt", record)
        material = record.material(header.material_id)
        if material is None or not material.present:
            raise InvalidCiphertextException(
                "the ciphertext names key material that this key does not have"
            )
        secret = self._material_secret(record, material)
        plaintext = blob_format.open_blob(secret, header, context)
        return {
            "KeyId": record.arn,
            "Plaintext": plaintext,
            "EncryptionAlgorithm": SYMMETRIC_DEFAULT,
            "KeyMaterialId": material.material_id,
        }

    def blob_key_arn(self, ciphertext_blob: bytes) -> str:
        """The ARN, in this region, of the key a blob was made under (no keyring access)."""
        key_id = blob_format.parse_blob(ciphertext_blob).key_id
        return f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}"

    def has_key(self, arn: str) -> bool:
        """Whether this keyring holds the key ARN in the current region (for a multi-Region
        key, an ARN of any region of its set: the related key here decrypts for it)."""
        return self.local_key_arn(arn) is not None

    def local_key_arn(self, arn: str) -> str | None:
        """The ARN in this region of the key `arn` names: itself, or for a multi-Region key
        ARN of another region its related key here; None if this keyring has neither."""
        try:
            ref = parse_key_reference(arn)
        except NotFoundException:
            return None
        if ref.kind != "key-arn" or ref.account != self.account:
            return None
        assert ref.key_id is not None
        if ref.region != self.region and not ref.key_id.startswith("mrk-"):
            return None
        with self.keyring.read() as view:
            if view.get(KEYS, self._key_name(ref.key_id)) is None:
                return None
        return f"arn:aws:kms:{self.region}:{self.account}:key/{ref.key_id}"

    # -- asymmetric and HMAC keys: kmscli.kms.asymmetric_ops, imported when first used ----------

    def get_public_key(self, key: str, *, grant_tokens: Sequence[str] = ()) -> GetPublicKeyResponse:
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.get_public_key(self, key, grant_tokens=grant_tokens)

    def sign(
        self,
        key: str,
        message: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str = "RAW",
        grant_tokens: Sequence[str] = (),
    ) -> SignResponse:
        """Sign; without `signing_algorithm`, the key spec's first one (a kmscli default)."""
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.sign(
            self,
            key,
            message,
            signing_algorithm=signing_algorithm,
            message_type=message_type,
            grant_tokens=grant_tokens,
        )

    def verify(
        self,
        key: str,
        message: bytes,
        signature: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str = "RAW",
        grant_tokens: Sequence[str] = (),
    ) -> VerifyResponse:
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.verify(
            self,
            key,
            message,
            signature,
            signing_algorithm=signing_algorithm,
            message_type=message_type,
            grant_tokens=grant_tokens,
        )

    def sign_stream(
        self,
        key: str,
        stream: Any,
        *,
        signing_algorithm: str | None = None,
        message_type: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> SignResponse:
        """Sign a stream of any size: over 4096 bytes it is hashed here and signed as a DIGEST
        (ML-DSA: as EXTERNAL_MU), as AWS recommends; one Sign operation."""
        from kmscli.kms import asymmetric_ops

        message, algorithm, kind = asymmetric_ops.stream_message(
            self, key, stream, signing_algorithm, message_type
        )
        return self.sign(
            key, message, signing_algorithm=algorithm, message_type=kind, grant_tokens=grant_tokens
        )

    def verify_stream(
        self,
        key: str,
        stream: Any,
        signature: bytes,
        *,
        signing_algorithm: str | None = None,
        message_type: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> VerifyResponse:
        """Verify a signature of a stream of any size, as `sign_stream` made it."""
        from kmscli.kms import asymmetric_ops

        message, algorithm, kind = asymmetric_ops.stream_message(
            self, key, stream, signing_algorithm, message_type
        )
        return self.verify(
            key,
            message,
            signature,
            signing_algorithm=algorithm,
            message_type=kind,
            grant_tokens=grant_tokens,
        )

    def generate_mac(
        self,
        key: str,
        message: bytes,
        *,
        mac_algorithm: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateMacResponse:
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.generate_mac(
            self, key, message, mac_algorithm=mac_algorithm, grant_tokens=grant_tokens
        )

    def verify_mac(
        self,
        key: str,
        message: bytes,
        mac: bytes,
        *,
        mac_algorithm: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> VerifyMacResponse:
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.verify_mac(
            self, key, message, mac, mac_algorithm=mac_algorithm, grant_tokens=grant_tokens
        )

    def derive_shared_secret(
        self,
        key: str,
        public_key: bytes,
        *,
        key_agreement_algorithm: str = "ECDH",
        grant_tokens: Sequence[str] = (),
    ) -> DeriveSharedSecretResponse:
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.derive_shared_secret(
            self,
            key,
            public_key,
            key_agreement_algorithm=key_agreement_algorithm,
            grant_tokens=grant_tokens,
        )

    def generate_data_key_pair(
        self,
        key: str,
        key_pair_spec: str,
        *,
        encryption_context: Mapping[str, str] | None = None,
        with_plaintext: bool = True,
        grant_tokens: Sequence[str] = (),
    ) -> GenerateDataKeyPairResponse:
        from kmscli.kms import asymmetric_ops

        return asymmetric_ops.generate_data_key_pair(
            self,
            key,
            key_pair_spec,
            encryption_context=encryption_context,
            with_plaintext=with_plaintext,
            grant_tokens=grant_tokens,
        )

    def generate_random(self, number_of_bytes: int | None) -> GenerateRandomResponse:
        count = validation.check_random_size(number_of_bytes)
        with self.keyring.read() as view:
            self._authorize_iam(view, "GenerateRandom")
        return {"Plaintext": random_bytes(count)}

    # -- key lifecycle: each operation lives in its own module, imported when first used, so
    # the commands that need none of them start no slower ---------------------------------------

    def catch_up(self) -> int:
        """Perform KMS's own clock-driven work (rotations, deletions, material expiries) that
        fell due since the keyring was last used, under the lock (kmscli.kms.lifecycle).

        Constructing the service never does it: whoever makes a service for a command or a
        request calls this once, before the first operation (and again if its clock moves)."""
        return lifecycle.catch_up(self)

    def _seal_material(self, arn: str, material_id: str, secret: bytes) -> str:
        """`secret` sealed as material `material_id` of key `arn` (base64, as records keep it)."""
        sealed = self.keyring.seal(secret, _material_aad(arn, material_id))
        return base64.b64encode(sealed).decode()

    def enable_key_rotation(
        self, key: str, rotation_period_in_days: int | None = None
    ) -> dict[str, Any]:
        from kmscli.kms import rotation

        return rotation.enable_key_rotation(self, key, rotation_period_in_days)

    def disable_key_rotation(self, key: str) -> dict[str, Any]:
        from kmscli.kms import rotation

        return rotation.disable_key_rotation(self, key)

    def get_key_rotation_status(self, key: str) -> dict[str, Any]:
        from kmscli.kms import rotation

        return rotation.get_key_rotation_status(self, key)

    def list_key_rotations(
        self,
        key: str,
        *,
        include_key_material: str = "ROTATIONS_ONLY",
        limit: int | None = None,
        marker: str | None = None,
    ) -> dict[str, Any]:
        from kmscli.kms import rotation

        return rotation.list_key_rotations(
            self, key, include_key_material=include_key_material, limit=limit, marker=marker
        )

    def rotate_key_on_demand(self, key: str) -> dict[str, Any]:
        from kmscli.kms import rotation

        return rotation.rotate_key_on_demand(self, key)

    def schedule_key_deletion(
        self, key: str, pending_window_in_days: int | None = None
    ) -> dict[str, Any]:
        from kmscli.kms import deletion

        return deletion.schedule_key_deletion(self, key, pending_window_in_days)

    def cancel_key_deletion(self, key: str) -> dict[str, Any]:
        from kmscli.kms import deletion

        return deletion.cancel_key_deletion(self, key)

    def tag_resource(self, key: str, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
        from kmscli.kms import tags as key_tags

        return key_tags.tag_resource(self, key, tags)

    def untag_resource(self, key: str, tag_keys: Sequence[str]) -> dict[str, Any]:
        from kmscli.kms import tags as key_tags

        return key_tags.untag_resource(self, key, tag_keys)

    def list_resource_tags(
        self, key: str, *, limit: int | None = None, marker: str | None = None
    ) -> dict[str, Any]:
        from kmscli.kms import tags as key_tags

        return key_tags.list_resource_tags(self, key, limit=limit, marker=marker)

    def replicate_key(
        self,
        key: str,
        replica_region: str,
        *,
        policy: str | None = None,
        bypass_policy_lockout_safety_check: bool = False,
        description: str = "",
        tags: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Any]:
        from kmscli.kms import multiregion

        return multiregion.replicate_key(
            self,
            key,
            replica_region,
            policy=policy,
            bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
            description=description,
            tags=tags,
        )

    def update_primary_region(self, key: str, primary_region: str) -> dict[str, Any]:
        from kmscli.kms import multiregion

        return multiregion.update_primary_region(self, key, primary_region)

    def get_parameters_for_import(
        self, key: str, wrapping_algorithm: str, wrapping_key_spec: str
    ) -> dict[str, Any]:
        from kmscli.kms import imports

        return imports.get_parameters_for_import(self, key, wrapping_algorithm, wrapping_key_spec)

    def import_key_material(
        self,
        key: str,
        import_token: bytes,
        encrypted_key_material: bytes,
        *,
        expiration_model: str | None = None,
        valid_to: datetime | None = None,
    ) -> dict[str, Any]:
        from kmscli.kms import imports

        return imports.import_key_material(
            self,
            key,
            import_token,
            encrypted_key_material,
            expiration_model=expiration_model,
            valid_to=valid_to,
        )

    def delete_imported_key_material(
        self, key: str, key_material_id: str | None = None
    ) -> dict[str, Any]:
        from kmscli.kms import imports

        return imports.delete_imported_key_material(self, key, key_material_id)

    def re_encrypt(
        self,
        ciphertext_blob: bytes,
        destination_key: str,
        *,
        source_encryption_context: Mapping[str, str] | None = None,
        destination_encryption_context: Mapping[str, str] | None = None,
        source_key: str | None = None,
        grant_tokens: Sequence[str] = (),
    ) -> ReEncryptResponse:
        from kmscli.kms import reencrypt

        return reencrypt.re_encrypt(
            self,
            ciphertext_blob,
            destination_key,
            source_encryption_context=source_encryption_context,
            destination_encryption_context=destination_encryption_context,
            source_key=source_key,
            grant_tokens=grant_tokens,
        )


def _alias_facts(key: str) -> RequestFacts:
    """kms:RequestAlias: the alias name when the request named the key by alias (or its ARN)."""
    ref = parse_key_reference(key)
    return RequestFacts(request_alias=ref.alias_name if ref.is_alias else None)


def _check_enum(value: str, allowed: frozenset[str], member: str) -> None:
    if value not in allowed:
        raise validation.constraint_error(
            value, member, f"Member must satisfy enum value set: [{', '.join(sorted(allowed))}]"
        )


def _check_policy_name(name: str) -> None:
    if name != "default":
        raise NotFoundException(f"Policy {name} does not exist; the only key policy is default")


if TYPE_CHECKING:
    from kmscli.kmsapi.protocol import KmsApi

    def _speaks_the_kms_api(service: KmsService) -> KmsApi:
        """KmsService declares the KMS API: mypy names any method that drifts from it. Costs
        nothing at run time (the protocol is never imported)."""
        return service
