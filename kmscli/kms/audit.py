"""The audit trail of the local KMS: one CloudTrail-like event per operation, allowed or denied.

Owns the event (eventTime, eventSource, eventName, userIdentity, awsRegion, requestParameters,
responseElements, resources with the key ARN, errorCode and errorMessage), what a request may
put in it, and the decorators that make operations append it: `audited` on a service class
wraps every public method named after a KMS API operation, `operation(name)` wraps a module
function that takes the service first. Calls nested in an operation belong to its event.
Authorization notes the keys and actions it evaluates here (`note_key`, `note_action`), so a
denied call still names its key.

Never recorded: bytes (plaintext, ciphertext blobs, data keys, messages, signatures, public
keys), grant tokens, key material, import tokens, passphrases; responses give only identifiers.
Encryption contexts are recorded, as AWS does: they are not secret.

An operation and its event commit together or not at all: the wrapper runs the operation in a
keyring `operation()` scope, which keeps its writes uncommitted under the keyring's exclusive
lock until the event (which needs the outcome) is built, then commits both through the journal
(kmscli.store.journal). If the event cannot be appended (a full disk, a file size limit), the
change is rolled back and the operation fails with an I/O error (exit 10). KMS's own events
(`service_event`: rotations, deletions, expiries performed at catch-up) go into the transaction
that performs them the same way. An operation that changed nothing appends its event after it.

Also owns reading the trail back for `kmscli audit` (filter by key and time) and verifying it
(including the anchor the keyring's sealed state keeps, kmscli.store.anchor); the file format,
chaining and locking are `kmscli.store.auditlog`'s. Nothing here prints or reads the
environment.
"""

from __future__ import annotations

import contextlib
import functools
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from kmscli.errors import KmsError
from kmscli.policy import KMS_ACTIONS, Principal
from kmscli.store import AuditReport, Keyring, audit_log

if TYPE_CHECKING:
    from typing import Protocol

    from kmscli.kms.service import KmsService

KMS_SOURCE = "kms.amazonaws.com"
IAM_SOURCE = "iam.amazonaws.com"
EVENT_VERSION = "1.08"

# KMS API operation names (the permissions, with ReEncrypt whole again).
KMS_OPERATIONS = frozenset(
    {a.removeprefix("kms:") for a in KMS_ACTIONS} - {"ReEncryptFrom", "ReEncryptTo"}
) | {"ReEncrypt"}
_METHOD_EVENTS = {"list_key_records": "ListKeys", "reencrypt": "ReEncrypt"}

# Request members never recorded, whatever their type.
_SECRET_PARAMETERS = frozenset(
    {
        "plaintext",
        "ciphertext_blob",
        "ciphertext",
        "grant_token",
        "grant_tokens",
        "token",
        "import_token",
        "material",
        "key_material",
        "encrypted_key_material",
        "passphrase",
        "message",
        "signature",
        "mac",
        "public_key",
        "via_service",
    }
)
_PARAMETER_NAMES = {
    "key": "keyId",
    "target_key": "targetKeyId",
    "alias": "aliasName",
    "destination_key": "destinationKeyId",
    "source_key": "sourceKeyId",
    "constraints_equals": "constraints.encryptionContextEquals",
    "constraints_subset": "constraints.encryptionContextSubset",
}
_RESPONSE_IDENTIFIERS = (
    "KeyId",
    "SourceKeyId",
    "GrantId",
    "KeyMaterialId",
    "KeyState",
    "DeletionDate",
    "PolicyName",
)
_IDENTITY_TYPES = {
    "root": "Root",
    "user": "IAMUser",
    "role": "Role",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
    "service": "AWSService",
}


if TYPE_CHECKING:

    class AuditSubject(Protocol):
        """What an audited operation's first argument (the service) offers."""

        keyring: Keyring
        region: str
        account: str
        principal: Principal

        def clock(self) -> datetime: ...


class _Call:
    """What authorization noted during one operation: actions, and keys as (ARN, account)."""

    __slots__ = ("actions", "resources")

    def __init__(self) -> None:
        self.actions: list[str] = []
        self.resources: list[tuple[str, str]] = []


_current: ContextVar[_Call | None] = ContextVar("kmscli_audit_call", default=None)


def note_key(action: str, arn: str, account: str) -> None:
    """Authorization is evaluating `action` on the key `arn` for the current operation."""
    call = _current.get()
    if call is not None:
        call.actions.append(action)
        if (arn, account) not in call.resources:
            call.resources.append((arn, account))


def note_action(action: str) -> None:
    """Authorization is evaluating an IAM-only `action` for the current operation."""
    call = _current.get()
    if call is not None:
        call.actions.append(action)


# -- decorators ------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)


def _camel(name: str) -> str:
    mapped = _PARAMETER_NAMES.get(name)
    if mapped is not None:
        return mapped
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _clean(value: object) -> object:
    """A request value as recorded: bytes dropped (None), containers cleaned recursively."""
    if isinstance(value, bytes | bytearray | memoryview):
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): c for k, v in value.items() if (c := _clean(v)) is not None}
    if isinstance(value, list | tuple | set | frozenset):
        return [c for v in value if (c := _clean(v)) is not None]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _parameters(
    positional: Sequence[str], args: Sequence[object], kwargs: Mapping[str, object]
) -> dict[str, object]:
    given = dict(zip(positional, args, strict=False))
    given.update(kwargs)
    parameters: dict[str, object] = {}
    for name, value in given.items():
        if name in _SECRET_PARAMETERS:
            continue
        cleaned = _clean(value)
        if cleaned is None or cleaned in ({}, []):
            continue
        member = _camel(name)
        if "." in member:
            outer, inner = member.split(".", 1)
            nested = parameters.setdefault(outer, {})
            if isinstance(nested, dict):
                nested[inner] = cleaned
        else:
            parameters[member] = cleaned
    return parameters


def _wrap(function: F, event_name: str, source: str) -> F:
    code = function.__code__
    positional = code.co_varnames[1 : code.co_argcount]

    @functools.wraps(function)
    def audited_call(subject: Any, *args: Any, **kwargs: Any) -> Any:
        if _current.get() is not None:
            return function(subject, *args, **kwargs)
        keyring = subject.keyring
        # A trail that cannot take the event refuses the operation before it acts.
        audit_log(keyring).check()
        call = _Call()
        parameters = _parameters(positional, args, kwargs)
        via = bool(kwargs.get("via_service"))
        # The operation's changes stay uncommitted (under the keyring's lock) until its event
        # is known: they commit together with it, or not at all.
        with keyring.operation() as pending:
            token = _current.set(call)
            try:
                result = function(subject, *args, **kwargs)
            except Exception as error:
                _current.reset(token)
                # The operation's own error is the one to report, even if its event is lost
                # (and with it whatever the operation changed before it failed).
                with contextlib.suppress(Exception):
                    pending.finish(
                        build_event(
                            subject, event_name, source, call, parameters, via=via, error=error
                        )
                    )
                raise
            except BaseException:
                _current.reset(token)
                raise
            _current.reset(token)
            pending.finish(
                build_event(subject, event_name, source, call, parameters, via=via, response=result)
            )
        return result

    return audited_call  # type: ignore[return-value]


def operation(event_name: str, source: str = KMS_SOURCE) -> Callable[[F], F]:
    """Audit a module-level operation whose first argument is the service."""

    def decorate(function: F) -> F:
        return _wrap(function, event_name, source)

    return decorate


def audited(cls: C) -> C:
    """Audit every public method of a service class that is named after a KMS operation."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        member = getattr(cls, name)
        if not callable(member) or not hasattr(member, "__code__"):
            continue
        event = _METHOD_EVENTS.get(name) or _pascal(name)
        if event in KMS_OPERATIONS:
            setattr(cls, name, _wrap(member, event, KMS_SOURCE))
    return cls


# -- the event -------------------------------------------------------------------------------------


def _identity(principal: Principal) -> dict[str, object]:
    identity: dict[str, object] = {"type": _IDENTITY_TYPES[principal.type], "arn": principal.arn}
    if principal.is_service:
        identity["invokedBy"] = principal.name
        return identity
    identity["accountId"] = principal.account
    if principal.type in ("user", "role", "federated-user"):
        identity["userName"] = principal.name
    if principal.role_arn is not None:
        identity["sessionContext"] = {
            "sessionIssuer": {
                "type": "Role",
                "arn": principal.role_arn,
                "accountId": principal.account,
                "userName": principal.name,
            }
        }
    return identity


def _event_name(default: str, actions: Sequence[str]) -> str:
    """The operation's name, refined by what it authorized (GenerateDataKeyWithoutPlaintext,
    PutRolePolicy...)."""
    for action in actions:
        name = action.split(":", 1)[-1]
        if name.lower() == default.lower():
            return name
        if name.startswith(default) and name.endswith("WithoutPlaintext"):
            return name
        if action.startswith("iam:"):
            return name
    return default


def _response_elements(response: object) -> dict[str, object] | None:
    if not isinstance(response, Mapping):
        return None
    elements: dict[str, object] = {}
    for member in _RESPONSE_IDENTIFIERS:
        value = response.get(member)
        if isinstance(value, str):
            elements[member[0].lower() + member[1:]] = value
    metadata = response.get("KeyMetadata")
    if isinstance(metadata, Mapping):
        elements["keyMetadata"] = {
            "keyId": metadata.get("KeyId"),
            "arn": metadata.get("Arn"),
            "keyState": metadata.get("KeyState"),
        }
    return elements or None


def _response_resources(response: object) -> list[str]:
    if not isinstance(response, Mapping):
        return []
    found = [
        v
        for member in ("KeyId", "SourceKeyId")
        if isinstance(v := response.get(member), str) and v.startswith("arn:")
    ]
    metadata = response.get("KeyMetadata")
    if isinstance(metadata, Mapping) and isinstance(metadata.get("Arn"), str):
        found.append(str(metadata["Arn"]))
    return found


def format_event_time(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_event(
    subject: AuditSubject,
    event_name: str,
    source: str,
    call: _Call,
    parameters: Mapping[str, object],
    *,
    via: bool = False,
    response: object = None,
    error: BaseException | None = None,
) -> bytes:
    """The event of one finished operation (one line of JSON)."""
    principal = subject.principal
    identity = _identity(principal)
    if via:
        identity["invokedBy"] = getattr(subject, "via_service_name", "kmscli.amazonaws.com")
    resources = list(call.resources)
    for arn in _response_resources(response):
        if all(arn != known for known, _ in resources):
            resources.append((arn, arn.split(":")[4]))
    event: dict[str, object] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": identity,
        "eventTime": format_event_time(subject.clock()),
        "eventSource": source,
        "eventName": _event_name(event_name, call.actions),
        "awsRegion": subject.region,
        "userAgent": "kmscli",
        "requestParameters": dict(parameters) or None,
        "responseElements": None if error is not None else _response_elements(response),
    }
    if error is not None:
        event["errorCode"] = error.code if isinstance(error, KmsError) else "KMSInternalException"
        event["errorMessage"] = error.message if isinstance(error, KmsError) else str(error)
    event.update(
        {
            "eventID": str(uuid.uuid4()),
            "readOnly": event_name.startswith(("Describe", "Get", "List")),
            "resources": [
                {"accountId": account, "type": "AWS::KMS::Key", "ARN": arn}
                for arn, account in resources
            ],
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": subject.account,
            "eventCategory": "Management",
        }
    )
    return json.dumps(event, separators=(",", ":"), ensure_ascii=True).encode()


def service_event(subject: AuditSubject, event_name: str, key_arn: str, instant: datetime) -> bytes:
    """The event of something KMS performed by itself (automatic rotation, key deletion,
    expiry), for the transaction that performs it (`Transaction.audit`).

    Shaped as CloudTrail shows them: eventType AwsServiceEvent, the KMS service as the identity,
    the event time the instant it fell due.
    """
    event: dict[str, object] = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": {"accountId": subject.account, "invokedBy": "kms.amazonaws.com"},
        "eventTime": format_event_time(instant),
        "eventSource": KMS_SOURCE,
        "eventName": event_name,
        "awsRegion": key_arn.split(":")[3],
        "sourceIPAddress": "kms.amazonaws.com",
        "userAgent": "kms.amazonaws.com",
        "requestParameters": None,
        "responseElements": None,
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "resources": [{"accountId": subject.account, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsServiceEvent",
        "managementEvent": True,
        "recipientAccountId": subject.account,
        "serviceEventDetails": {"keyId": key_arn.rsplit("/", 1)[1]},
        "eventCategory": "Management",
    }
    return json.dumps(event, separators=(",", ":"), ensure_ascii=True).encode()


# -- reading the trail -----------------------------------------------------------------------------


def parse_since(text: str) -> datetime:
    from kmscli.errors import ValidationException

    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationException(
            f"'{text}' is not an ISO 8601 instant (for example 2027-01-01T00:00:00Z)"
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _key_matcher(service: KmsService, key: str) -> Callable[[Mapping[str, Any]], bool]:
    from kmscli.kms.ids import parse_key_reference

    ref = parse_key_reference(key)
    arns: set[str] = set()
    names = {key}
    if ref.kind == "key-arn":
        arns.add(key)
    elif ref.kind == "key-id":
        arns.add(f"arn:aws:kms:{service.region}:{service.account}:key/{key}")
    else:
        assert ref.alias_name is not None
        names.add(ref.alias_name)
        with service.keyring.read() as view:
            alias = service._load_alias(view, ref.alias_name)
        if alias is not None:
            arns.add(f"arn:aws:kms:{service.region}:{service.account}:key/{alias.target_key_id}")

    def matches(event: Mapping[str, Any]) -> bool:
        for resource in event.get("resources") or ():
            if isinstance(resource, Mapping) and resource.get("ARN") in arns:
                return True
        parameters = event.get("requestParameters") or {}
        return isinstance(parameters, Mapping) and any(
            parameters.get(member) in names for member in ("keyId", "aliasName", "targetKeyId")
        )

    return matches


def read_events(
    service: KmsService, *, key: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """The recorded events, oldest first, optionally only those about `key` or from `since`."""
    matches = _key_matcher(service, key) if key is not None else None
    events: list[dict[str, Any]] = []
    for entry in audit_log(service.keyring).entries():
        try:
            event = json.loads(entry.event)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        if since is not None:
            try:
                when = parse_since(str(event.get("eventTime", "")))
            except KmsError:
                continue
            if when < since:
                continue
        if matches is not None and not matches(event):
            continue
        events.append(event)
    return events


def verify_trail(keyring: Keyring) -> AuditReport:
    """The trail's own checks, and that it still holds the record of the keyring's last change
    (the anchor in the keyring's sealed state)."""
    return keyring.verify_audit()
