"""Parameters shared by commands: -c, -f and --grant-token, K=V pairs, reading FILE|- arguments,
and KEY: its parameter type, and the alias lookup for operations that take key IDs only.

Owns turning command-line text into the values the core expects, with errors in kmscli's
format (exit 2) and I/O failures as InputOutputError (exit 10).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kmscli.cli.suggest import KEYS_SEEN
from kmscli.errors import AccessDeniedException, InputOutputError, UsageError

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
        pairs.append((key, rest))
    return pairs


def parse_context(values: Sequence[str], *, option: str = "-c") -> dict[str, str]:
    context: dict[str, str] = {}
    for key, value in parse_pairs(values, option=option):
        if key in context and context[key] != value:
            raise UsageError(f"{option} gives '{key}' twice with different values")
        context[key] = value
    return context


def read_input(source: str, *, limit: int | None = None, what: str = "input") -> bytes:
    """The bytes of FILE, or of stdin for `-`; at most `limit` + 1 bytes are read."""
    try:
        if source == "-":
            stream = sys.stdin.buffer
            return stream.read() if limit is None else stream.read(limit + 1)
        with Path(source).open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit + 1)
    except IsADirectoryError:
        raise InputOutputError(f"cannot read {what} '{source}': it is a directory") from None
    except OSError as error:
        raise InputOutputError(f"cannot read {what} '{source}': {error.strerror}") from None


def read_text(source: str, *, what: str) -> str:
    data = read_input(source, what=what)
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
