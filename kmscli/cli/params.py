"""Parameters shared by commands: -c, -f and --grant-token, K=V pairs, reading FILE|- arguments.

Owns turning command-line text into the values the core expects, with errors in kmscli's
format (exit 2) and I/O failures as InputOutputError (exit 10).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from kmscli.errors import InputOutputError, UsageError

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
