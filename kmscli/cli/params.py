"""Parameters shared by commands: -c, -f and --grant-token, K=V pairs, reading FILE|- arguments,
and KEY: its parameter type, and the alias lookup for operations that take key IDs only.

Owns turning command-line text into the values the core expects, with errors in kmscli's
format (exit 2) and I/O failures as InputOutputError (exit 10): K=V pairs must be valid UTF-8,
and every FILE|- read whole has a limit (below; more is exit 2, see kmscli.cli.reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from kmscli.cli.suggest import KEYS_SEEN
from kmscli.errors import AccessDeniedException, KmsError, LimitExceededException, UsageError

if TYPE_CHECKING:
    from kmscli.cli.context import Environment

context_option = click.option(
    "-c",
    "--context",
    "context",
    multiple=True,
    metavar="K=V",
    help="Encryption context pair (repeatable).",
)
force_option = click.option("-f", "--force", is_flag=True, help="Overwrite existing outputs.")
grant_token_option = click.option(
    "--grant-token",
    "grant_tokens",
    multiple=True,
    metavar="TOKEN",
    help="A grant token from 'policy grant create' (repeatable, at most 10).",
)


def parse_pairs(values: Sequence[str], *, option: str) -> list[tuple[str, str]]:
    """`K=V` strings into pairs; the value may be empty and may contain `=`."""
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} takes K=V, got '{value}'")
        require_unicode(value, what=option)
        pairs.append((key, rest))
    return pairs


def require_unicode(value: str, *, what: str) -> str:
    """`value` if it is valid UTF-8 text. An argument with bytes that are not UTF-8 reaches
    Python as lone surrogates, which nothing can encode: refused here (exit 2) for arguments
    that are data (contexts, tags, descriptions), never for file names."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # (the error line shows each undecodable byte as \xNN)
        raise UsageError(f"{what} '{value}' is not valid UTF-8 text") from None
    return value


def parse_context(values: Sequence[str], *, option: str = "-c") -> dict[str, str]:
    context: dict[str, str] = {}
    for key, value in parse_pairs(values, option=option):
        if key in context and context[key] != value:
            raise UsageError(f"{option} gives '{key}' twice with different values")
        context[key] = value
    return context


# Limits on what is read whole (at most the limit plus one byte is ever read; more is exit 2).
KEY_POLICY_LIMIT = 32768
"""AWS KMS's key policy quota, in bytes."""
IDENTITY_POLICY_LIMIT = 131072
"""IAM's PolicyDocument length (its 6,144-character quota does not count whitespace)."""
BLOB_LIMIT = 6144
"""A CiphertextBlob, an import token, wrapped key material, a signature, a MAC."""
PUBLIC_KEY_LIMIT = 8192
"""A DER, PEM or Base64 public key (AWS's PublicKey member)."""


def read_input(
    source: str, *, limit: int, what: str = "input", error: type[KmsError] = UsageError
) -> bytes:
    """The bytes of FILE, or of stdin for `-`: at most `limit` (exit 2 beyond, naming it)."""
    from kmscli.cli.reading import read_bounded

    return read_bounded(source, limit=limit, what=what, error=error)


def read_policy(source: str, *, limit: int) -> str:
    """A policy document from FILE or `-`: UTF-8 text, larger than `limit` bytes is AWS's
    LimitExceededException (exit 2)."""
    return read_text(source, limit=limit, what="policy file", error=LimitExceededException)


def read_text(source: str, *, limit: int, what: str, error: type[KmsError] = UsageError) -> str:
    data = read_input(source, limit=limit, what=what, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what} '{source}' is not UTF-8 text") from None


# click.ParamType is generic from click 8.2 on, and not subscriptable before it.
class KeyReference(click.ParamType):  # type: ignore[type-arg,unused-ignore]
    """A KEY: key ID, key ARN, alias name or alias ARN, passed on as given.

    Conversion only notes the value (for the did-you-mean hints of kmscli.cli.suggest); it
    never looks anything up, so completion and --help stay offline."""

    name = "key"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if ctx is not None and isinstance(value, str):
            ctx.meta.setdefault(KEYS_SEEN, []).append(value)
        return value


KEY = KeyReference()

# AWS commercial Regions (a keyring's partition is `aws`), offered by shell completion; any
# valid region name is accepted.
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
)


def is_alias_reference(key: str) -> bool:
    """Whether KEY is an alias name (alias/NAME) or an alias ARN."""
    if key.startswith("alias/"):
        return True
    parts = key.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[5].startswith("alias/")


def key_id_or_arn(env: Environment, key: str, *, arn: bool = False) -> str:
    """KEY for an operation whose AWS API takes a key ID or key ARN only (DisableKey,
    GetKeyPolicy, CreateGrant, ...): an alias name becomes its key's ID, an alias ARN its key's
    ARN.

    The alias is resolved with DescribeKey as the caller, on either backend: the lookup needs
    kms:DescribeKey on the key, is in the audit trail, and tells nothing `kmscli key describe`
    would not. Anything else is passed on as given, for the operation to judge; `kmscli serve`
    does not come through here, so AWS's rules stay on the wire."""
    if not is_alias_reference(key):
        return key
    try:
        metadata = env.service.describe_key(key)["KeyMetadata"]
    except AccessDeniedException as error:
        error.hints = (
            *error.hints,
            f"kmscli finds the key of {key} with kms:DescribeKey; give the key ID or key ARN "
            "instead",
        )
        raise
    # An alias name, like a bare key ID, names a key of the caller's own account and region;
    # an alias ARN names its account, and so does the key ARN it becomes.
    # `arn`: the operation takes key ARNs only (RetireGrant).
    found: str = metadata["KeyId"] if key.startswith("alias/") and not arn else metadata["Arn"]
    return found
