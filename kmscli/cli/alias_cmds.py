"""`kmscli alias ...`: CreateAlias, UpdateAlias, DeleteAlias, ListAliases."""

from __future__ import annotations

import click

from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_table
from kmscli.cli.params import KEY, key_id_or_arn
from kmscli.cli.root import alias_group


@command(alias_group, "create")
@click.argument("alias")
@click.argument("key", type=KEY)
def alias_create(alias: str, key: str) -> None:
    """Point a new alias at a key (CreateAlias).

    KEY is a key ID, key ARN or alias of a customer managed key in the same region. Names start
    with alias/ and may not use the reserved alias/aws/ prefix.

    \b
    Example:
      kmscli alias create alias/nightly "$KEY"
    """
    env = environment()
    env.service.create_alias(alias, key_id_or_arn(env, key))


@command(alias_group, "update")
@click.argument("alias", type=KEY)
@click.argument("key", type=KEY)
def alias_update(alias: str, key: str) -> None:
    """Point an existing alias at another key of the same type and usage (UpdateAlias).

    The alias keeps its name and creation date; encryption through it uses the new key from
    now on, and ciphertexts made through it still decrypt with the old key.

    \b
    Example:
      kmscli alias update alias/backups "$NEWKEY"
    """
    env = environment()
    env.service.update_alias(alias, key_id_or_arn(env, key))


@command(alias_group, "delete")
@click.argument("alias", type=KEY)
def alias_delete(alias: str) -> None:
    """Delete an alias; the key is untouched (DeleteAlias).

    Commands that named the key by this alias fail with NotFoundException afterwards; the key
    itself and everything encrypted under it are unaffected.

    \b
    Example:
      kmscli alias delete alias/backups
    """
    environment().service.delete_alias(alias)


@command(alias_group, "list")
@click.option(
    "--key", type=KEY, metavar="KEY", help="Only the aliases of this key (ID, ARN or alias)."
)
def alias_list(key: str | None) -> None:
    """List the aliases of the current region (ListAliases).

    The AWS managed alias alias/aws/kmscli is listed even before its key exists, without a
    target, as AWS lists predefined aliases.

    \b
    Example:
      kmscli alias list --key "$KEY"
    """
    env = environment()
    response = env.service.list_aliases(None if key is None else key_id_or_arn(env, key))
    if env.json:
        emit_json(response)
        return
    rows = [
        (a["AliasName"], a.get("TargetKeyId", ""), a.get("CreationDate", ""))
        for a in response["Aliases"]
    ]
    emit_table(["AliasName", "TargetKeyId", "CreationDate"], rows)
