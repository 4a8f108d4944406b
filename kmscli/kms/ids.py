"""Key IDs, key ARNs, alias names and alias ARNs: their shapes, parsing and validation.

Owns the identifier rules of kms-behaviour.md §1 and the alias name rules of §3. It knows
nothing about which keys exist; resolving an identifier against the keyring is the service's job.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Final, Literal

from kmscli.errors import NotFoundException, ValidationException

PARTITION = "aws"
ALIAS_PREFIX = "alias/"
RESERVED_ALIAS_PREFIX = "alias/aws/"
ALIAS_MAX_LENGTH = 256

# Patterns are compiled on first use (the re module caches them): a command needs few of them.
_KEY_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
_MRK_ID = r"^mrk-[0-9a-f]{32}$"
_ALIAS_CHARS = r"^[a-zA-Z0-9:/_-]+$"
_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"
_ACCOUNT = r"^\d{12}$"
_KMS_ARN = (
    r"^arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[^:]*):(?P<account>[^:]*):"
    r"(?P<type>key|alias)/(?P<rest>.+)$"
)


def new_key_id() -> str:
    """A single-Region key ID: a lowercase UUID v4."""
    return str(uuid.uuid4())


def new_multi_region_key_id() -> str:
    """A multi-Region key ID: `mrk-` and 32 lowercase hex digits, no dashes."""
    return "mrk-" + os.urandom(16).hex()


def is_key_id(value: str) -> bool:
    return bool(re.match(_KEY_ID, value) or re.match(_MRK_ID, value))


def is_valid_region(value: str) -> bool:
    return bool(re.match(_REGION, value))


def is_valid_account_id(value: str) -> bool:
    return bool(re.match(_ACCOUNT, value))


def key_arn(region: str, account: str, key_id: str) -> str:
    return f"arn:{PARTITION}:kms:{region}:{account}:key/{key_id}"


def alias_arn(region: str, account: str, alias_name: str) -> str:
    return f"arn:{PARTITION}:kms:{region}:{account}:{alias_name}"


def account_root_arn(account: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:root"


class KeyReference:
    """A parsed KEY argument: what the caller named, before it is looked up. (A plain class:
    far cheaper to create at import than a NamedTuple or a dataclass.)"""

    __slots__ = ("account", "alias_name", "key_id", "kind", "raw", "region")

    def __init__(
        self,
        kind: Literal["key-id", "key-arn", "alias-name", "alias-arn"],
        raw: str,
        *,
        key_id: str | None = None,
        alias_name: str | None = None,
        region: str | None = None,
        account: str | None = None,
    ) -> None:
        self.kind: Final = kind
        self.raw: Final = raw
        self.key_id: Final = key_id
        self.alias_name: Final = alias_name
        self.region: Final = region
        self.account: Final = account

    @property
    def is_alias(self) -> bool:
        return self.kind in ("alias-name", "alias-arn")


def parse_key_reference(value: str) -> KeyReference:
    """Classify a KEY argument as AWS does; malformed values raise NotFoundException.

    The region and account of an ARN are returned as written; the service decides whether they
    name this keyring's account and the current region.
    """
    if not value or len(value) > 2048:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at 'keyId' failed to satisfy "
            "constraint: Member must have length between 1 and 2048"
        )
    if value.startswith("arn:"):
        match = re.match(_KMS_ARN, value)
        if not match:
            raise NotFoundException(f"Invalid arn {value}")
        region, account = match["region"], match["account"]
        if match["type"] == "key":
            key_id = match["rest"]
            if not is_key_id(key_id):
                raise NotFoundException(f"Invalid keyId '{value}'")
            return KeyReference("key-arn", value, key_id=key_id, region=region, account=account)
        name = ALIAS_PREFIX + match["rest"]
        return KeyReference("alias-arn", value, alias_name=name, region=region, account=account)
    if value.startswith(ALIAS_PREFIX):
        return KeyReference("alias-name", value, alias_name=value)
    if is_key_id(value):
        return KeyReference("key-id", value, key_id=value)
    raise NotFoundException(f"Invalid keyId '{value}'")


def validate_alias_name(name: str) -> None:
    """AWS's alias name rules: prefix, characters and length (ValidationException)."""
    if not name.startswith(ALIAS_PREFIX):
        raise ValidationException(
            'Alias must start with the prefix "alias/". Please see '
            "https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
        )
    if len(name) > ALIAS_MAX_LENGTH:
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy "
            f"constraint: Member must have length less than or equal to {ALIAS_MAX_LENGTH}"
        )
    if len(name) == len(ALIAS_PREFIX) or not re.match(_ALIAS_CHARS, name):
        raise ValidationException(
            f"1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )
    if ":" in name:
        raise ValidationException(f"{name} contains invalid characters for an alias")


def is_reserved_alias(name: str) -> bool:
    return name.startswith(RESERVED_ALIAS_PREFIX)
