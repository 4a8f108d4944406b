"""Grants (kms-behaviour.md §4.6): CreateGrant, ListGrants, ListRetirableGrants, RetireGrant,
RevokeGrant, grant tokens, and the grants the authorizer weighs on every key operation.

Owns the grant record (kind "grants", named "<region>/<key id>/<grant id>", so the grants of
a key go with it when it is destroyed), the validation of a CreateGrant request with AWS's
limits, Name idempotency, who may retire a grant, and grant tokens. A grant token is opaque to
callers: version ‖ nonce ‖ tag ‖ "<region>/<key id>/<grant id>", the tag an HMAC under a random
secret kept in the (encrypted) grant record, so every CreateGrant returns a new token, all of
them work, and none survives its grant.

The decision is still `kmscli.policy.evaluate`'s, reached through the service's `_authorize`
like every other operation: this module only supplies the request facts (kms:GrantOperations,
kms:GranteePrincipal, kms:RetiringPrincipal, kms:GrantConstraintType, the constraint pairs) and
the grants. It never prints, reads the environment or the clock itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kmscli.crypto.primitives import constant_time_equal, hmac_sha256, random_bytes
from kmscli.errors import (
    InvalidArnException,
    InvalidGrantIdException,
    InvalidGrantTokenException,
    InvalidMarkerException,
    LimitExceededException,
    NotFoundException,
    ValidationException,
)
from kmscli.kms import audit, validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.ids import parse_key_reference
from kmscli.kms.model import KeyRecord
from kmscli.kms.states import check_state
from kmscli.policy import GRANT_OPERATIONS, GrantView, Principal
from kmscli.store import RecordView

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

GRANTS = "grants"
MAX_GRANTS_PER_KEY = 50_000
MAX_GRANT_TOKENS = 10
MAX_GRANT_TOKEN_CHARS = 8192
MAX_CONSTRAINT_PAIRS = 8
MAX_CONSTRAINT_VALUE_CHARS = 384
MAX_NAME_CHARS = 256
MAX_PRINCIPAL_CHARS = 256
DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 100
EQUALS = "EncryptionContextEquals"
SUBSET = "EncryptionContextSubset"

_GRANT_ID = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-zA-Z0-9:/_-]+$")
_PRINCIPAL_CHARS = re.compile(r"^[\w+=,.@:/-]+$")
_TOKEN_VERSION = b"\x01"
_TOKEN_LABEL = b"kmscli grant token v1\0"
_NONCE_BYTES = 16
_TAG_BYTES = 16

_COMMON_OPERATIONS = frozenset({"CreateGrant", "RetireGrant", "DescribeKey"})
_OPERATIONS_BY_USAGE: Mapping[str, frozenset[str]] = {
    "ENCRYPT_DECRYPT": frozenset({"Encrypt", "Decrypt", "ReEncryptFrom", "ReEncryptTo"}),
    "SIGN_VERIFY": frozenset({"Sign", "Verify", "GetPublicKey"}),
    "GENERATE_VERIFY_MAC": frozenset({"GenerateMac", "VerifyMac"}),
    "KEY_AGREEMENT": frozenset({"DeriveSharedSecret", "GetPublicKey"}),
    "KEY_ENCAPSULATION": frozenset({"Encapsulate", "Decapsulate", "GetPublicKey"}),
}
_SYMMETRIC_ONLY = frozenset(
    {
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)


@dataclass
class GrantRecord:
    grant_id: str
    key_arn: str
    creation_date: str
    grantee_principal: str
    issuing_account: str
    operations: list[str]
    name: str | None = None
    retiring_principal: str | None = None
    constraints: dict[str, dict[str, str]] | None = None
    token_secret: str = field(default="", repr=False)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> GrantRecord:
        return cls(**json.loads(raw))

    def entry(self) -> dict[str, Any]:
        """The `GrantListEntry` of ListGrants and ListRetirableGrants."""
        entry: dict[str, Any] = {
            "KeyId": self.key_arn,
            "GrantId": self.grant_id,
        }
        if self.name is not None:
            entry["Name"] = self.name
        entry["CreationDate"] = self.creation_date
        entry["GranteePrincipal"] = self.grantee_principal
        if self.retiring_principal is not None:
            entry["RetiringPrincipal"] = self.retiring_principal
        entry["IssuingAccount"] = self.issuing_account
        entry["Operations"] = list(self.operations)
        if self.constraints:
            entry["Constraints"] = {k: dict(v) for k, v in self.constraints.items()}
        return entry

    def view(self) -> GrantView:
        constraints = self.constraints or {}
        return GrantView(
            grantee_principal=self.grantee_principal,
            operations=frozenset(self.operations),
            constraints_equals=constraints.get(EQUALS),
            constraints_subset=constraints.get(SUBSET),
            grant_id=self.grant_id,
        )

    def same_request(self, other: GrantRecord) -> bool:
        """Whether a CreateGrant with `other`'s parameters is a retry of this grant's."""
        return (
            self.key_arn == other.key_arn
            and self.name == other.name
            and self.grantee_principal == other.grantee_principal
            and self.retiring_principal == other.retiring_principal
            and sorted(self.operations) == sorted(other.operations)
            and (self.constraints or None) == (other.constraints or None)
        )


# -- records ---------------------------------------------------------------------------------------


def record_name(region: str, key_id: str, grant_id: str) -> str:
    return f"{region}/{key_id}/{grant_id}"


def key_grants(view: RecordView, key: KeyRecord) -> list[GrantRecord]:
    """The grants on `key`, oldest first (a read of nothing when the key has none)."""
    records = []
    for name in view.list(GRANTS, prefix=f"{key.region}/{key.key_id}/"):
        raw = view.get(GRANTS, name)
        if raw is not None:
            records.append(GrantRecord.from_json(raw))
    records.sort(key=lambda g: (g.creation_date, g.grant_id))
    return records


def grant_views(view: RecordView, key: KeyRecord) -> list[GrantView]:
    """What the evaluator weighs: every grant on `key` (it picks the caller's)."""
    return [grant.view() for grant in key_grants(view, key)]


def _load(view: RecordView, region: str, key_id: str, grant_id: str) -> GrantRecord | None:
    raw = view.get(GRANTS, record_name(region, key_id, grant_id))
    return None if raw is None else GrantRecord.from_json(raw)


# -- tokens ----------------------------------------------------------------------------------------


def _token_tag(secret: bytes, nonce: bytes, locator: bytes) -> bytes:
    return hmac_sha256(secret, _TOKEN_LABEL + nonce + locator)[:_TAG_BYTES]


def issue_token(grant: GrantRecord, region: str, key_id: str) -> str:
    nonce = random_bytes(_NONCE_BYTES)
    locator = record_name(region, key_id, grant.grant_id).encode()
    tag = _token_tag(bytes.fromhex(grant.token_secret), nonce, locator)
    raw = _TOKEN_VERSION + nonce + tag + locator
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_token() -> InvalidGrantTokenException:
    return InvalidGrantTokenException("The grant token is not valid.")


def grant_for_token(view: RecordView, token: str) -> tuple[str, str, GrantRecord]:
    """(region, key id, grant) of a grant token; InvalidGrantTokenException if it is not one
    kmscli issued for a grant that still exists."""
    if not 1 <= len(token) <= MAX_GRANT_TOKEN_CHARS:
        raise validation.constraint_error(
            "<token>",
            "grantToken",
            f"Member must have length between 1 and {MAX_GRANT_TOKEN_CHARS}",
        )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid_token() from None
    head = len(_TOKEN_VERSION) + _NONCE_BYTES + _TAG_BYTES
    if len(raw) <= head or raw[:1] != _TOKEN_VERSION:
        raise _invalid_token()
    nonce = raw[1 : 1 + _NONCE_BYTES]
    tag = raw[1 + _NONCE_BYTES : head]
    locator = raw[head:]
    try:
        region, key_id, grant_id = locator.decode("ascii").split("/")
    except (UnicodeDecodeError, ValueError):
        raise _invalid_token() from None
    if not _GRANT_ID.match(grant_id) or not region or not key_id:
        raise _invalid_token()
    try:
        grant = _load(view, region, key_id, grant_id)
    except ValidationException:
        raise _invalid_token() from None
    if grant is None or not constant_time_equal(
        _token_tag(bytes.fromhex(grant.token_secret), nonce, locator), tag
    ):
        raise _invalid_token()
    return region, key_id, grant


def check_grant_tokens(view: RecordView, tokens: Sequence[str]) -> None:
    """GrantTokens of a request: at most 10, each one that kmscli issued for a live grant."""
    if len(tokens) > MAX_GRANT_TOKENS:
        raise validation.constraint_error(
            "<tokens>",
            "grantTokens",
            f"Member must have length less than or equal to {MAX_GRANT_TOKENS}",
        )
    for token in tokens:
        grant_for_token(view, token)


# -- validation ------------------------------------------------------------------------------------


def check_principal(value: str, member: str) -> str:
    if not 1 <= len(value) <= MAX_PRINCIPAL_CHARS:
        raise validation.constraint_error(
            value, member, f"Member must have length between 1 and {MAX_PRINCIPAL_CHARS}"
        )
    if not _PRINCIPAL_CHARS.match(value):
        raise validation.constraint_error(
            value, member, "Member must satisfy regular expression pattern: ^[\\w+=,.@:/-]+$"
        )
    try:
        principal = Principal.parse(value)
    except ValidationException:
        raise ValidationException(f"{value} is not a valid principal for {member}") from None
    if principal.is_service:
        raise ValidationException(
            f"{value} is a service principal; kmscli grants name IAM principals (accounts, "
            "users, roles, federated users and assumed-role sessions)"
        )
    return value


def check_grant_id(grant_id: str) -> str:
    if not 1 <= len(grant_id) <= 128:
        raise validation.constraint_error(
            grant_id, "grantId", "Member must have length between 1 and 128"
        )
    if not _GRANT_ID.match(grant_id):
        raise InvalidGrantIdException(f"Invalid grant ID {grant_id}")
    return grant_id


def check_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise validation.constraint_error(
            name, "name", f"Member must have length between 1 and {MAX_NAME_CHARS}"
        )
    if not _NAME.match(name):
        raise validation.constraint_error(
            name, "name", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )


def check_operations(operations: Sequence[str], key: KeyRecord) -> list[str]:
    """The grant's operations: each of the GrantOperation enum and supported by the key."""
    if not operations:
        raise validation.constraint_error(
            "[]", "operations", "Member must have length greater than or equal to 1"
        )
    unknown = [op for op in operations if op not in GRANT_OPERATIONS]
    if unknown:
        allowed = ", ".join(sorted(GRANT_OPERATIONS))
        raise validation.constraint_error(
            unknown[0],
            "operations",
            f"Member must satisfy constraint: [Member must satisfy enum value set: [{allowed}]]",
        )
    supported = _COMMON_OPERATIONS | _OPERATIONS_BY_USAGE.get(key.key_usage, frozenset())
    if key.key_spec == "SYMMETRIC_DEFAULT":
        supported |= _SYMMETRIC_ONLY
    elif key.key_usage == "ENCRYPT_DECRYPT":
        supported |= {"GetPublicKey"}  # an asymmetric encryption key has a public half
    invalid = [op for op in operations if op not in supported]
    if invalid:
        raise ValidationException(
            f"Grant operations {', '.join(invalid)} are not valid for {key.arn}, whose key "
            f"spec is {key.key_spec} and key usage {key.key_usage}"
        )
    ordered: list[str] = []
    for op in operations:
        if op not in ordered:
            ordered.append(op)
    return ordered


def check_constraints(
    key: KeyRecord,
    equals: Mapping[str, str] | None,
    subset: Mapping[str, str] | None,
) -> dict[str, dict[str, str]] | None:
    constraints: dict[str, dict[str, str]] = {}
    for member, pairs in ((EQUALS, equals), (SUBSET, subset)):
        if pairs is None:
            continue
        if len(pairs) > MAX_CONSTRAINT_PAIRS:
            raise ValidationException(
                f"{member} has {len(pairs)} pairs; a grant constraint holds at most "
                f"{MAX_CONSTRAINT_PAIRS}"
            )
        for k, v in pairs.items():
            if not k:
                raise ValidationException(f"{member} keys must not be empty")
            if len(v) > MAX_CONSTRAINT_VALUE_CHARS or len(k) > MAX_CONSTRAINT_VALUE_CHARS:
                raise ValidationException(
                    f"{member} pairs must be at most {MAX_CONSTRAINT_VALUE_CHARS} characters"
                )
        constraints[member] = dict(pairs)
    if constraints and key.key_spec != "SYMMETRIC_DEFAULT":
        raise ValidationException(
            "Encryption context grant constraints apply only to symmetric encryption KMS keys; "
            f"{key.arn} has key spec {key.key_spec}"
        )
    return constraints or None


def _check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIST_LIMIT
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise validation.constraint_error(
            limit, "limit", f"Member must have value between 1 and {MAX_LIST_LIMIT}"
        )
    return limit


def _page(grants: Sequence[GrantRecord], limit: int | None, marker: str | None) -> dict[str, Any]:
    size = _check_limit(limit)
    start = 0
    if marker is not None:
        ids = [g.grant_id for g in grants]
        if marker not in ids:
            raise InvalidMarkerException("Marker is not valid.")
        start = ids.index(marker)
    page = grants[start : start + size]
    response: dict[str, Any] = {"Grants": [g.entry() for g in page]}
    rest = grants[start + size :]
    if rest:
        response["NextMarker"] = rest[0].grant_id
    response["Truncated"] = bool(rest)
    return response


# -- the operations --------------------------------------------------------------------------------


# No AWS service calls through kmscli on a caller's behalf for its grants.
_NOT_FOR_AWS_RESOURCE = RequestFacts(extra={"kms:GrantIsForAWSResource": False})


@audit.operation("CreateGrant")
def create_grant(
    service: KmsService,
    key: str,
    grantee_principal: str,
    operations: Sequence[str],
    *,
    retiring_principal: str | None = None,
    constraints_equals: Mapping[str, str] | None = None,
    constraints_subset: Mapping[str, str] | None = None,
    name: str | None = None,
    grant_tokens: Sequence[str] = (),
) -> dict[str, Any]:
    check_principal(grantee_principal, "granteePrincipal")
    if retiring_principal is not None:
        check_principal(retiring_principal, "retiringPrincipal")
    if name is not None:
        check_name(name)
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        ops = check_operations(operations, record)
        constraints = check_constraints(record, constraints_equals, constraints_subset)
        pairs = None
        extra: dict[str, Any] = {
            "kms:GrantOperations": list(ops),
            "kms:GranteePrincipal": grantee_principal,
            "kms:GrantIsForAWSResource": False,
        }
        if retiring_principal is not None:
            extra["kms:RetiringPrincipal"] = retiring_principal
        if constraints:
            constraint_type = EQUALS if EQUALS in constraints else SUBSET
            extra["kms:GrantConstraintType"] = constraint_type
            pairs = constraints[constraint_type]
        facts = RequestFacts(encryption_context=pairs, extra=extra, grant_tokens=grant_tokens)
        service._authorize(tx, "CreateGrant", record, facts)
        check_state("CreateGrant", record)
        candidate = GrantRecord(
            grant_id=random_bytes(32).hex(),
            key_arn=record.arn,
            creation_date=service._now(),
            grantee_principal=grantee_principal,
            issuing_account=f"arn:aws:iam::{service.principal.account}:root",
            operations=ops,
            name=name,
            retiring_principal=retiring_principal,
            constraints=constraints,
            token_secret=random_bytes(32).hex(),
        )
        existing = key_grants(tx, record)
        if name is not None:
            for grant in existing:
                if grant.same_request(candidate):
                    return {
                        "GrantToken": issue_token(grant, record.region, record.key_id),
                        "GrantId": grant.grant_id,
                    }
        if len(existing) >= MAX_GRANTS_PER_KEY:
            raise LimitExceededException(
                f"The key {record.arn} already has {MAX_GRANTS_PER_KEY} grants."
            )
        tx.put(
            GRANTS,
            record_name(record.region, record.key_id, candidate.grant_id),
            candidate.to_json(),
        )
    return {
        "GrantToken": issue_token(candidate, record.region, record.key_id),
        "GrantId": candidate.grant_id,
    }


@audit.operation("ListGrants")
def list_grants(
    service: KmsService,
    key: str,
    *,
    grant_id: str | None = None,
    grantee_principal: str | None = None,
    limit: int | None = None,
    marker: str | None = None,
) -> dict[str, Any]:
    _check_limit(limit)
    if grant_id is not None:
        check_grant_id(grant_id)
    if grantee_principal is not None:
        check_principal(grantee_principal, "granteePrincipal")
    with service.keyring.read() as view:
        record = service._resolve(view, key, aliases=False)
        service._authorize(view, "ListGrants", record, _NOT_FOR_AWS_RESOURCE)
        check_state("ListGrants", record)
        grants = key_grants(view, record)
    grants = [
        g
        for g in grants
        if (grant_id is None or g.grant_id == grant_id)
        and (grantee_principal is None or g.grantee_principal == grantee_principal)
    ]
    return _page(grants, limit, marker)


@audit.operation("ListRetirableGrants")
def list_retirable_grants(
    service: KmsService,
    retiring_principal: str,
    *,
    limit: int | None = None,
    marker: str | None = None,
) -> dict[str, Any]:
    check_principal(retiring_principal, "retiringPrincipal")
    _check_limit(limit)
    principal = Principal.parse(retiring_principal)
    found: list[GrantRecord] = []
    with service.keyring.read() as view:
        # IAM authorizes this on the retiring principal, which must be of the caller's account.
        service._authorizer().authorize_iam(
            view, "ListRetirableGrants", retiring_principal, principal.account
        )
        for name in view.list(GRANTS, prefix=f"{service.region}/"):
            raw = view.get(GRANTS, name)
            if raw is None:
                continue
            grant = GrantRecord.from_json(raw)
            if grant.retiring_principal == retiring_principal:
                found.append(grant)
    found.sort(key=lambda g: (g.creation_date, g.grant_id))
    return _page(found, limit, marker)


def _retire_views(grant: GrantRecord) -> list[GrantView]:
    """Who may retire `grant` beyond the key policy and IAM: its retiring principal, its
    grantee when it allows RetireGrant (the grant itself, weighed with the others), and the
    account that issued it (its root user, or its principals that IAM allows)."""
    views = [
        GrantView(
            grantee_principal=grant.issuing_account,
            operations=frozenset({"RetireGrant"}),
            grant_id=f"{grant.grant_id} (issuing account)",
        )
    ]
    if grant.retiring_principal is not None:
        views.append(
            GrantView(
                grantee_principal=grant.retiring_principal,
                operations=frozenset({"RetireGrant"}),
                grant_id=f"{grant.grant_id} (retiring principal)",
            )
        )
    return views


@audit.operation("RetireGrant")
def retire_grant(
    service: KmsService,
    *,
    grant_token: str | None = None,
    key: str | None = None,
    grant_id: str | None = None,
) -> dict[str, Any]:
    """RetireGrant by token alone, or by key ARN and grant ID."""
    if grant_token is None and (key is None or grant_id is None):
        raise ValidationException(
            "Identify the grant to retire with a grant token, or with a key ARN and a grant ID."
        )
    if grant_id is not None:
        check_grant_id(grant_id)
    if key is not None and parse_key_reference(key).kind != "key-arn":
        raise InvalidArnException(
            f"RetireGrant identifies the key by its key ARN, not '{key}'",
            hints=["give the key ARN (see 'kmscli key describe KEY')"],
        )
    with service.keyring.write() as tx:
        if grant_token is not None:
            region, key_id, grant = grant_for_token(tx, grant_token)
            if grant_id is not None and grant_id != grant.grant_id:
                raise InvalidGrantIdException(
                    f"Grant ID {grant_id} is not the grant of the grant token"
                )
            record = service._resolve(tx, grant.key_arn, aliases=False)
            if key is not None and service._resolve(tx, key, aliases=False).arn != record.arn:
                raise ValidationException("The key ARN is not the key of the grant token")
        else:
            assert key is not None and grant_id is not None
            record = service._resolve(tx, key, aliases=False)
            found = _load(tx, record.region, record.key_id, grant_id)
            if found is None:
                raise NotFoundException(f"Grant ID {grant_id} not found for key {record.arn}")
            grant = found
            region, key_id = record.region, record.key_id
        facts = RequestFacts(extra_grants=tuple(_retire_views(grant)))
        service._authorize(tx, "RetireGrant", record, facts)
        check_state("RetireGrant", record)
        tx.delete(GRANTS, record_name(region, key_id, grant.grant_id))
    return {}


@audit.operation("RevokeGrant")
def revoke_grant(service: KmsService, key: str, grant_id: str) -> dict[str, Any]:
    check_grant_id(grant_id)
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        service._authorize(tx, "RevokeGrant", record, _NOT_FOR_AWS_RESOURCE)
        check_state("RevokeGrant", record)
        if _load(tx, record.region, record.key_id, grant_id) is None:
            raise NotFoundException(f"Grant ID {grant_id} not found for key {record.arn}")
        tx.delete(GRANTS, record_name(record.region, record.key_id, grant_id))
    return {}
