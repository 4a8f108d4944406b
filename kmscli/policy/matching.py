"""Wildcard patterns and policy variables, shared by Action, Resource and condition matching.

Owns the IAM pattern language: `*` (any run, possibly empty) and `?` (exactly one character),
policy variables `${key}` and `${key, 'default'}` resolved from the request context, and the
escapes `${*}`, `${?}`, `${$}` that stand for a literal `*`, `?`, `$`. A substituted variable
value is always literal, never a wildcard.

Matching never backtracks: texts come from requests (any caller's encryption context, through
`serve`) and patterns from policies, and the backtracking regex `.*-.*-.*-x` takes cubic time on
a long run of dashes. A pattern is cut at its stars into segments of fixed length (literal text
and `?`); the first segment must match at the start, the last at the end, and each middle one at
its leftmost place after the previous one (greedy leftmost is exact for fixed-length segments),
so the text is searched once from left to right. Segments are found by `str.find` (or, with
`?`, a regex without quantifiers): linear in practice, O(len(pattern) x len(text)) at worst.

Pure: no I/O, no clock. Knows nothing about statements or principals.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from typing import Final

Resolver = Callable[[str], "str | None"]
"""Looks a variable name up (case-insensitively) and returns its single value, or None."""

# Compiled on first use (the re module caches it): only `${name, 'default'}` needs it. It is
# anchored and each part's character class excludes the next part's, so it cannot backtrack
# more than linearly.
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

    With `resolver=None` (policy Version 2008-10-17) `${...}` is ordinary text. A variable is
    `${` up to the first `}` after it; a `${` with no `}` after it is ordinary text.
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
    while True:
        start = text.find("${", pos)
        if start < 0:
            break
        end = text.find("}", start + 2)
        if end < 0:
            break
        raw(text[pos:start])
        tokens.append(_substitute_one(text[start + 2 : end], resolver))
        pos = end + 1
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


# -- compiled patterns -----------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case-folds each character on its own, so that lengths (and `?`) are kept.

    Only action names are matched without case, and they are ASCII; the rest is for safety.
    """
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(ch) for ch in text)


def _fold_char(ch: str) -> str:
    folded = ch.casefold()
    if len(folded) == 1:
        return folded
    lowered = ch.lower()
    return lowered if len(lowered) == 1 else ch


class _Segment:
    """A stretch of pattern between stars: literal text and `?`, matching `length` characters.

    A segment of literal text alone is found with `str.find`. One with `?` is found with a
    regular expression of literal characters and `.` only: with no quantifier and no
    alternation it has nothing to backtrack over, and its search is the plain O(len(text) x
    length) string search, done in C.
    """

    __slots__ = ("length", "literal", "regex")

    def __init__(self, tokens: Sequence[Token]) -> None:
        parts = [token if isinstance(token, str) else None for token in tokens]
        self.length: Final = sum(1 if part is None else len(part) for part in parts)
        has_one = None in parts
        self.literal: Final = None if has_one else "".join(p for p in parts if p is not None)
        self.regex: Final = (
            re.compile("".join("." if p is None else re.escape(p) for p in parts), re.DOTALL)
            if has_one and any(parts)
            else None
        )

    def matches_at(self, text: str, pos: int) -> bool:
        """Whether the segment matches `text` at `pos` (the caller checks that it fits)."""
        if self.literal is not None:
            return text.startswith(self.literal, pos)
        return self.regex is None or self.regex.match(text, pos) is not None

    def find(self, text: str, pos: int, end: int) -> int:
        """The leftmost p >= pos where the segment matches within text[:end], or -1."""
        if self.literal is not None:
            return text.find(self.literal, pos, end)
        if self.regex is None:
            return pos if pos + self.length <= end else -1
        found = self.regex.search(text, pos, end)
        return -1 if found is None else found.start()


class _Glob:
    """A compiled wildcard pattern: whole-string match in linear time in practice."""

    __slots__ = ("fold", "head", "middle", "minimum", "tail")

    def __init__(self, tokens: Sequence[Token], *, ignore_case: bool) -> None:
        self.fold: Final = ignore_case
        pieces: list[list[Token]] = [[]]
        for token in tokens:
            if token is Wildcard.STAR:
                pieces.append([])
            elif isinstance(token, str) and ignore_case:
                pieces[-1].append(_fold(token))
            else:
                pieces[-1].append(token)
        segments = [_Segment(piece) for piece in pieces]
        self.head: Final = segments[0]
        self.tail: Final = segments[-1] if len(segments) > 1 else None
        self.middle: Final = tuple(s for s in segments[1:-1] if s.length)
        self.minimum: Final = sum(s.length for s in segments)

    def fullmatch(self, text: str) -> bool:
        if self.fold:
            text = _fold(text)
        size = len(text)
        head, tail = self.head, self.tail
        if tail is None:
            return size == head.length and head.matches_at(text, 0)
        if size < self.minimum or not head.matches_at(text, 0):
            return False
        end = size - tail.length
        if not tail.matches_at(text, end):
            return False
        pos = head.length
        for segment in self.middle:
            found = segment.find(text, pos, end)
            if found < 0:
                return False
            pos = found + segment.length
        return True


@functools.lru_cache(maxsize=4096)
def _compile_plain(pattern: str, ignore_case: bool) -> _Glob:
    return _Glob(tokenize(pattern, wildcards=True, resolver=None), ignore_case=ignore_case)


def glob_match(
    pattern: str, value: str, *, ignore_case: bool = False, resolver: Resolver | None = None
) -> bool:
    """Whole-string IAM wildcard match of `value` against `pattern`.

    Raises UnresolvedVariableError when `pattern` uses a variable the request cannot supply.
    """
    if resolver is None or "${" not in pattern:
        return _compile_plain(pattern, ignore_case).fullmatch(value)
    tokens = tokenize(pattern, wildcards=True, resolver=resolver)
    return _Glob(tokens, ignore_case=ignore_case).fullmatch(value)


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
        _Glob(p, ignore_case=False).fullmatch(v)
        for p, v in zip(pattern_parts, value_parts, strict=True)
    )


def action_match(pattern: str, action: str) -> bool:
    """Action names are case-insensitive; `*` alone matches every action of every service."""
    return glob_match(pattern, action, ignore_case=True)
