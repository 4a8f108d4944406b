"""Did you mean: suggestions for a mistyped command, option or key reference.

Owns the groups that answer an unknown command with the closest names (from a table of names,
so the root group suggests without importing a command module), the commands people expect
that kmscli names otherwise (`key delete` is `key schedule-deletion`), and the hints added to a
NotFoundException about a KEY: `backups` when `alias/backups` exists, an alias one edit away
from an existing one. Alias names come from ListAliases as the caller: a caller who may not list
aliases gets no hint, so a hint tells nothing the caller could not learn otherwise. It must not
resolve, create or change anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import click

from kmscli.errors import KmsError, UsageError

if TYPE_CHECKING:
    from kmscli.cli.context import Environment

# Where a KEY parameter records what it was given (see kmscli.cli.params.KEY), for the hints.
KEYS_SEEN = "kmscli.keys"

# Commands people reach for that kmscli (like AWS KMS) names otherwise: path → the hint.
EXPECTED_ELSEWHERE: dict[tuple[str, ...], str] = {
    ("key", "delete"): (
        "a key is deleted after a waiting period: kmscli key schedule-deletion KEY "
        "(--days 7..30; kmscli key cancel-deletion KEY stops it)"
    ),
    ("key", "remove"): "a key is deleted after a waiting period: kmscli key schedule-deletion KEY",
    ("key", "rm"): "a key is deleted after a waiting period: kmscli key schedule-deletion KEY",
    ("alias", "rm"): "kmscli alias delete alias/NAME",
    ("alias", "remove"): "kmscli alias delete alias/NAME",
    ("key", "get"): "kmscli key describe KEY",
    ("key", "show"): "kmscli key describe KEY",
}


def close_matches(word: str, choices: Iterable[str]) -> list[str]:
    """The choices closest to `word`: those one edit away, else difflib's best (as click's own
    option suggestions)."""
    import difflib

    names = sorted(set(choices))
    return [n for n in names if within_one_edit(word, n)] or difflib.get_close_matches(
        word, names, n=3, cutoff=0.6
    )


def did_you_mean(matches: Sequence[str]) -> str:
    quoted = [f"'{m}'" for m in matches]
    if len(quoted) == 1:
        return f"did you mean {quoted[0]}?"
    return f"did you mean one of {', '.join(quoted[:-1])} or {quoted[-1]}?"


class SuggestingGroup(click.Group):
    """A group whose unknown command gets the closest names and the group's --help as hints."""

    def command_names(self, ctx: click.Context) -> Iterable[str]:
        return self.commands

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if (
            not ctx.resilient_parsing
            and name
            and not name.startswith("-")
            and name not in self.command_names(ctx)
        ):
            raise unknown_command(ctx, name, self.command_names(ctx))
        return super().resolve_command(ctx, args)


def unknown_command(ctx: click.Context, name: str, known: Iterable[str]) -> UsageError:
    path = tuple(ctx.command_path.split()[1:])
    hints = []
    elsewhere = EXPECTED_ELSEWHERE.get((*path, name))
    if elsewhere is not None:
        hints.append(elsewhere)
    else:
        matches = close_matches(name, known)
        if matches:
            hints.append(did_you_mean(matches))
    hints.append(f"see '{ctx.command_path} --help'")
    return UsageError(f"No such command '{name}'.", hints=hints)


# -- key references ------------------------------------------------------------------------------


def within_one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` differ by exactly one insertion, deletion, substitution or swap of
    two adjacent characters (Damerau-Levenshtein distance 1), in linear time."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    if len(a) != len(b):
        shorter, longer = (a, b) if len(a) < len(b) else (b, a)
        return shorter[start:] == longer[start + 1 :]
    if a[start + 1 :] == b[start + 1 :]:
        return True  # one substitution
    return (
        start + 1 < len(a)
        and a[start] == b[start + 1]
        and a[start + 1] == b[start]
        and a[start + 2 :] == b[start + 2 :]
    )


def _alias_of(reference: str) -> str | None:
    """The alias name a KEY names (alias name or alias ARN), else None."""
    if reference.startswith("alias/"):
        return reference
    parts = reference.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[5].startswith("alias/"):
        return parts[5]
    return None


def _is_bare_name(reference: str) -> bool:
    """A KEY that is neither a key ID, an ARN nor an alias: what a forgotten `alias/` gives."""
    from kmscli.kms.ids import is_key_id

    return bool(reference) and not reference.startswith("arn:") and not is_key_id(reference)


def key_hints(env: Environment, references: Sequence[str]) -> list[str]:
    """Hints for a NotFoundException about one of these KEY references."""
    bare = [r for r in references if _alias_of(r) is None and _is_bare_name(r)]
    named = [a for r in references if (a := _alias_of(r)) is not None]
    if not bare and not named:
        return []
    hints = []
    aliases = _alias_names(env)
    for reference in bare:
        if f"alias/{reference}" in aliases:
            hints.append(did_you_mean([f"alias/{reference}"]))
        else:
            matches = sorted(a for a in aliases if within_one_edit(a, f"alias/{reference}"))
            if matches:
                hints.append(did_you_mean(matches))
            hints.append("a KEY is a key ID, a key ARN, alias/NAME or an alias ARN")
    for alias in named:
        if alias not in aliases:
            matches = sorted(a for a in aliases if within_one_edit(a, alias))
            if matches:
                hints.append(did_you_mean(matches))
    return hints


def _alias_names(env: Environment) -> set[str]:
    """The alias names of the region as the caller may list them; none if it may not."""
    try:
        response = env.service.list_aliases()
    except (KmsError, OSError):
        return set()
    return {entry["AliasName"] for entry in response.get("Aliases", ())}
