"""Principals: the caller of a request, and the Principal/NotPrincipal element of a policy.

Owns the grammar of principal ARNs (root, IAM user, IAM role, STS assumed-role session, STS
federated user, service principal names) and the rules for whether a policy's principal
element names a caller: directly (ARN, a role for its sessions, `*`) or only through the
caller's account (the account principal, which delegates to the account's IAM policies).

Pure: no I/O. Raises ValidationException for a caller that is not a valid principal; policy
grammar errors are reported by `document` (this module raises ValueError for them).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Final, Literal

from kmscli.errors import ValidationException

PrincipalType = Literal["root", "user", "role", "assumed-role", "federated-user", "service"]

_PARTITION = r"aws(?:-[a-z]+)*"
_NAME = r"[\w+=,.@-]+"
# Patterns are compiled on first use (the re module caches them): a command needs few of them.
_ARN = (
    rf"^arn:(?P<partition>{_PARTITION}):(?P<service>iam|sts)::"
    rf"(?P<account>\d{{12}}):(?P<resource>.+)$"
)
_IAM_ENTITY = rf"^(?P<kind>user|role)(?P<path>/(?:{_NAME}/)*)(?P<name>{_NAME})$"
_SESSION = rf"^assumed-role/(?P<role>{_NAME})/(?P<session>{_NAME})$"
_FEDERATED = rf"^federated-user/(?P<name>{_NAME})$"
_SERVICE = r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?$"
ACCOUNT_ID = re.compile(r"^\d{12}$")

_PRINCIPAL_TYPE_KEY = {
    "root": "Account",
    "user": "User",
    "role": "AssumedRole",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
}


def _parse(arn: str) -> tuple[PrincipalType, str, str, str, str, str | None] | None:
    """(type, partition, account, name, path, session_name) or None if not a principal."""
    if re.match(_SERVICE, arn):
        return "service", "", "", arn, "", None
    m = re.match(_ARN, arn)
    if m is None:
        return None
    partition, service, account, resource = m.group("partition", "service", "account", "resource")
    if service == "iam":
        if resource == "root":
            return "root", partition, account, "", "", None
        entity = re.match(_IAM_ENTITY, resource)
        if entity is None:
            return None
        kind: PrincipalType = "user" if entity.group("kind") == "user" else "role"
        return kind, partition, account, entity.group("name"), entity.group("path"), None
    session = re.match(_SESSION, resource)
    if session is not None:
        return (
            "assumed-role",
            partition,
            account,
            session.group("role"),
            "/",
            session.group("session"),
        )
    federated = re.match(_FEDERATED, resource)
    if federated is not None:
        return "federated-user", partition, account, federated.group("name"), "", None
    return None


class Principal:
    """The caller of a request, identified by its ARN (or a service principal name).

    Everything but `arn` and `user_id` is derived: `type`, `partition`, `account`, `name`
    (user, role, session's role, federated user or service name), `path` (IAM path of a user
    or role), `session_name` and `role_arn` (for assumed-role sessions, the role's ARN without
    its path, which a session ARN does not carry). `user_id` is the `aws:userid` value if the
    caller knows it (AWS's unique ID); for the root user it defaults to the account ID.

    Immutable (the attributes are Final) and compared by `arn` and `user_id`, from which the
    rest follows. A plain class rather than a dataclass: every command imports it, and a
    frozen dataclass costs most of a millisecond to create at import.
    """

    __slots__ = (
        "account",
        "arn",
        "name",
        "partition",
        "path",
        "role_arn",
        "session_name",
        "type",
        "user_id",
    )

    def __init__(self, arn: str, user_id: str | None = None) -> None:
        parsed = _parse(arn) if isinstance(arn, str) else None
        if parsed is None:
            raise ValidationException(f"Invalid principal '{arn}': not a principal ARN")
        kind, partition, account, name, path, session = parsed
        self.arn: Final = arn
        self.user_id: Final = user_id
        self.type: Final[PrincipalType] = kind
        self.partition: Final = partition
        self.account: Final = account
        self.name: Final = name
        self.path: Final = path
        self.session_name: Final = session
        self.role_arn: Final = (
            f"arn:{partition}:iam::{account}:role/{name}" if kind == "assumed-role" else None
        )

    def __repr__(self) -> str:
        return f"Principal(arn={self.arn!r}, user_id={self.user_id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return (self.arn, self.user_id) == (other.arn, other.user_id)

    def __hash__(self) -> int:
        return hash((self.arn, self.user_id))

    @classmethod
    def parse(cls, arn: str, *, user_id: str | None = None) -> Principal:
        """The principal for `arn`; ValidationException if it is not a principal ARN."""
        return cls(arn, user_id)

    @property
    def is_root(self) -> bool:
        return self.type == "root"

    @property
    def is_service(self) -> bool:
        return self.type == "service"

    @property
    def account_arn(self) -> str:
        """`arn:<partition>:iam::<account>:root`, the account principal of the caller."""
        return f"arn:{self.partition}:iam::{self.account}:root"

    @property
    def principal_arn(self) -> str:
        """The `aws:PrincipalArn` value: the role's ARN for a session, else the caller's ARN."""
        return self.role_arn if self.role_arn is not None else self.arn

    def global_condition_values(self) -> Mapping[str, str | bool]:
        """The `aws:` condition keys that follow from the principal alone."""
        if self.is_service:
            return {"aws:PrincipalIsAWSService": True, "aws:PrincipalServiceName": self.name}
        values: dict[str, str | bool] = {
            "aws:PrincipalArn": self.principal_arn,
            "aws:PrincipalAccount": self.account,
            "aws:PrincipalType": _PRINCIPAL_TYPE_KEY[self.type],
            "aws:PrincipalIsAWSService": False,
            "kms:CallerAccount": self.account,
        }
        if self.type == "user":
            values["aws:username"] = self.name
        user_id = (
            self.user_id if self.user_id is not None else (self.account if self.is_root else None)
        )
        if user_id is not None:
            values["aws:userid"] = user_id
        return values


class PrincipalMatch(enum.Enum):
    NONE = 0
    ACCOUNT = 1
    """Named only through its account principal: needs the account's IAM policies too."""
    DIRECT = 2


class PrincipalSpec:
    """A parsed Principal or NotPrincipal element: `any` (`*`), `accounts` (account IDs, from
    bare IDs and `arn:...:iam::<id>:root`), `principals` (users, roles, sessions and federated
    users, by ARN) and `services`. A plain class, like Principal."""

    __slots__ = ("accounts", "any", "principals", "services")

    def __init__(
        self,
        any: bool = False,
        accounts: frozenset[str] = frozenset(),
        principals: tuple[Principal, ...] = (),
        services: frozenset[str] = frozenset(),
    ) -> None:
        self.any: Final = any
        self.accounts: Final = accounts
        self.principals: Final = principals
        self.services: Final = services

    def names_arn(self, arn: str) -> bool:
        return any(p.arn == arn for p in self.principals)


def parse_principal_element(value: object) -> PrincipalSpec:
    """Parse a Principal/NotPrincipal value; ValueError(offending value) when invalid."""
    if value == "*":
        return PrincipalSpec(any=True)
    if not isinstance(value, dict) or not value:
        raise ValueError(_show(value))
    any_ = False
    accounts: set[str] = set()
    principals: list[Principal] = []
    services: set[str] = set()
    for kind, entries in value.items():
        if kind not in ("AWS", "Service"):
            raise ValueError(f'{{"{kind}": ...}}')
        items = [entries] if isinstance(entries, str) else entries
        if not isinstance(items, list) or not items:
            raise ValueError(_show(entries))
        for item in items:
            if not isinstance(item, str):
                raise ValueError(_show(item))
            if kind == "Service":
                if not re.match(_SERVICE, item):
                    raise ValueError(_show(item))
                services.add(item)
            elif item == "*":
                any_ = True
            elif ACCOUNT_ID.match(item):
                accounts.add(item)
            else:
                parsed = _parse(item)
                if parsed is None or parsed[0] == "service":
                    raise ValueError(_show(item))
                if parsed[0] == "root":
                    accounts.add(parsed[2])
                else:
                    principals.append(Principal(item))
    return PrincipalSpec(any_, frozenset(accounts), tuple(principals), frozenset(services))


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _names_role_of_session(spec_principal: Principal, caller: Principal) -> bool:
    # A session ARN carries the role name but not its path, so a role matches its sessions by
    # partition, account and name.
    return (
        spec_principal.type == "role"
        and caller.type == "assumed-role"
        and spec_principal.partition == caller.partition
        and spec_principal.account == caller.account
        and spec_principal.name == caller.name
    )


def match_principal(spec: PrincipalSpec, caller: Principal) -> PrincipalMatch:
    """How a positive Principal element names `caller`."""
    if spec.any:
        return PrincipalMatch.DIRECT
    if caller.is_service:
        return PrincipalMatch.DIRECT if caller.name in spec.services else PrincipalMatch.NONE
    for p in spec.principals:
        if p.arn == caller.arn or _names_role_of_session(p, caller):
            return PrincipalMatch.DIRECT
    if caller.account in spec.accounts:
        return PrincipalMatch.ACCOUNT
    return PrincipalMatch.NONE


def excluded_by(spec: PrincipalSpec, caller: Principal) -> bool:
    """Whether a NotPrincipal element exempts `caller` from its statement.

    AWS checks each identity of the caller in turn (account, then role, then session or
    user); the caller is exempt only when every one of them is listed. So a user is exempt
    only if both its ARN and its account are listed, a session only if its account and its
    role are (a role covers its sessions; a session ARN alone leaves the role identity unlisted).
    """
    if spec.any:
        return True
    if caller.is_service:
        return caller.name in spec.services
    if caller.account not in spec.accounts:
        return False
    if caller.is_root:
        return True
    if caller.type == "assumed-role":
        return any(_names_role_of_session(p, caller) for p in spec.principals)
    return spec.names_arn(caller.arn)
