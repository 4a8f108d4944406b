"""Wildcard patterns and policy variables, shared by Action, Resource and condition matching.

Owns the IAM pattern language: `*` (any run, possibly empty) and `?` (exactly one character),
policy variables `${key}` and `${key, 'default'}` resolved from the request context, and the
escapes `${*}`, `${?}`, `${$}` that stand for a literal `*`, `?`, `$`. A substituted variable
value is always literal, never a wildcard.

Pure: no I/O, no clock. Knows nothing about statements or principals.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence

Resolver = Callable[[str], "str | None"]
"""Looks a variable name up (case-insensitively) and returns its single value, or None."""

# Patterns are compiled on first use (the re module caches them): a command needs few of them.
_VARIABLE = r"\$\{([^}]*)\}"
_DEFAULT = r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$"
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


class UnresolvedVariableError(Exception):
    """A policy variable has no single value in the request and no default.

    AWS then treats the statement that uses it as not matching; callers catch this at
    statement level.
    """


class Wildcard(enum.Enum):
    STAR = "*"
    ONE = "?"


Token = str | Wildcard


def tokenize(text: str, *, wildcards: bool, resolver: Resolver | None) -> list[Token]:
    """Split `text` into literal strings and wildcards, substituting variables.

    With `resolver=None` (policy Version 2008-10-17) `${...}` is ordinary text.
    """
    tokens: list[Token] = []

    def raw(part: str) -> None:
        if not wildcards:
            if part:
                tokens.append(part)
            return
        literal: list[str] = []
        for ch in part:
            if ch in "*?":
                if literal:
                    tokens.append("".join(literal))
                    literal = []
                tokens.append(Wildcard.STAR if ch == "*" else Wildcard.ONE)
            else:
                literal.append(ch)
        if literal:
            tokens.append("".join(literal))

    if resolver is None:
        raw(text)
        return tokens
    pos = 0
    for match in re.finditer(_VARIABLE, text):
        raw(text[pos : match.start()])
        tokens.append(_substitute_one(match.group(1), resolver))
        pos = match.end()
    raw(text[pos:])
    return tokens


def _substitute_one(body: str, resolver: Resolver) -> str:
    if body in _ESCAPES:
        return _ESCAPES[body]
    default = re.match(_DEFAULT, body)
    name = default.group(1) if default else body.strip()
    value = resolver(name)
    if value is not None:
        return value
    if default:
        return default.group(2)
    raise UnresolvedVariableError(name)


def substitute(text: str, resolver: Resolver | None) -> str:
    """`text` with its variables replaced; wildcard characters stay as they are."""
    return "".join(str(t) for t in tokenize(text, wildcards=False, resolver=resolver))


def compile_tokens(tokens: Sequence[Token], *, ignore_case: bool) -> re.Pattern[str]:
    parts: list[str] = []
    for token in tokens:
        if isinstance(token, str):
            parts.append(re.escape(token))
        else:
            parts.append(".*" if token is Wildcard.STAR else ".")
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


@functools.lru_cache(maxsize=4096)
def _compile_plain(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    return compile_tokens(tokenize(pattern, wildcards=True, resolver=None), ignore_case=ignore_case)


def glob_match(
    pattern: str, value: str, *, ignore_case: bool = False, resolver: Resolver | None = None
) -> bool:
    """Whole-string IAM wildcard match of `value` against `pattern`.

    Raises UnresolvedVariableError when `pattern` uses a variable the request cannot supply.
    """
    if resolver is None or "${" not in pattern:
        return _compile_plain(pattern, ignore_case).fullmatch(value) is not None
    tokens = tokenize(pattern, wildcards=True, resolver=resolver)
    return compile_tokens(tokens, ignore_case=ignore_case).fullmatch(value) is not None


def split_tokens(tokens: Sequence[Token], sep: str, maxsplit: int) -> list[list[Token]]:
    """Split a token list on `sep` occurring in literal text (at most `maxsplit` times)."""
    parts: list[list[Token]] = [[]]
    for token in tokens:
        if isinstance(token, Wildcard):
            parts[-1].append(token)
            continue
        pieces = token.split(sep)
        for i, piece in enumerate(pieces):
            if i > 0:
                if len(parts) <= maxsplit:
                    parts.append([])
                else:
                    parts[-1].append(sep)
            if piece:
                parts[-1].append(piece)
    return parts


def arn_match(pattern: str, value: str, *, resolver: Resolver | None = None) -> bool:
    """ArnEquals/ArnLike: each of the six colon-separated parts is matched on its own, so a
    wildcard never spans a colon. A pattern of other than six parts matches nothing, except
    `*` alone, which matches any ARN.
    """
    value_parts = value.split(":", 5)
    if len(value_parts) != 6:
        return False
    if pattern == "*":
        return True
    tokens = tokenize(pattern, wildcards=True, resolver=resolver)
    pattern_parts = split_tokens(tokens, ":", 5)
    if len(pattern_parts) != 6:
        return False
    return all(
        compile_tokens(p, ignore_case=False).fullmatch(v) is not None
        for p, v in zip(pattern_parts, value_parts, strict=True)
    )


def action_match(pattern: str, action: str) -> bool:
    """Action names are case-insensitive; `*` alone matches every action of every service."""
    return glob_match(pattern, action, ignore_case=True)
