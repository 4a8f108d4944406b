"""The root `kmscli` group and its command groups; command modules register on these.

Owns which module registers which top-level command (`COMMAND_MODULES`), so that one run of
kmscli imports only the module of the command it runs: start-up stays close to Python's own.
Help, completion and docs generation load every module (`load_all_commands`).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

import click

from kmscli import __version__
from kmscli.cli.options import CONTEXT_SETTINGS, environment, global_options, subgroup
from kmscli.cli.suggest import KEYS_SEEN, SuggestingGroup
from kmscli.errors import NotFoundException

# Top-level command (or group) name → the modules that register it or its subcommands.
# tests/cli/test_command_modules.py checks this table against the loaded tree.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "alias": ("alias_cmds",),
    "audit": ("audit_cmds",),
    "datakey": ("datakey_cmds",),
    "decrypt": ("crypto_cmds",),
    "encrypt": ("crypto_cmds",),
    "inspect": ("crypto_cmds",),
    "key": ("key_cmds", "key_rotation_cmds", "key_import_cmds"),
    "keyring": ("keyring_cmds",),
    "mac": ("mac_cmds",),
    "policy": ("policy_cmds",),
    "principal": ("principal_cmds",),
    "random": ("datakey_cmds",),
    "reencrypt": ("reencrypt_cmds",),
    "serve": ("serve_cmds",),
    "sign": ("sign_cmds",),
    "verify": ("sign_cmds",),
}


def _load(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(f"kmscli.cli.{module}")


def load_all_commands() -> None:
    """Import every command module, so the whole tree is registered (help, docs, completion)."""
    for modules in COMMAND_MODULES.values():
        _load(modules)


class LazyGroup(SuggestingGroup):
    """The root group: a command's module is imported only when that command is looked up.

    An unknown command is answered from the table, without importing any module; a
    NotFoundException about a KEY of the command gets did-you-mean hints (kmscli.cli.suggest).
    """

    def command_names(self, ctx: click.Context) -> Iterable[str]:
        return COMMAND_MODULES

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NotFoundException as error:
            from kmscli.cli.suggest import key_hints

            error.hints = (*error.hints, *key_hints(environment(ctx), ctx.meta.get(KEYS_SEEN, ())))
            raise

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _load(COMMAND_MODULES.get(cmd_name, ()))
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_all_commands()
        return super().list_commands(ctx)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="kmscli", message="%(prog)s %(version)s")
@global_options
def cli() -> None:
    """Envelope encryption of files, backed by a local keyring that behaves like AWS KMS.

    Files are written in the AWS Encryption SDK message format (version 2, key-committing
    suite), their data keys wrapped by keys of an encrypted local keyring.

    \b
    Example:
      kmscli encrypt backup.tar         # writes backup.tar.kms
      kmscli decrypt big.tar.kms        # writes big.tar
    """


@subgroup(cli, "keyring")
def keyring_group() -> None:
    """Create and inspect the keyring.

    The keyring is the directory that holds keys, aliases and policies, encrypted at rest
    under a root key kept outside it (or wrapped under a passphrase).

    \b
    Example:
      kmscli keyring init --home ~/work-keyring --account-id 111122223333
      kmscli keyring status --home ~/work-keyring
    """


@subgroup(cli, "key")
def key_group() -> None:
    """Create, describe and manage KMS keys.

    KEY arguments take a key ID, key ARN, alias name or alias ARN. Where AWS KMS takes a key
    ID or key ARN only (DisableKey, GetKeyPolicy, ...), kmscli finds an alias's key first with
    DescribeKey, as the caller: that needs kms:DescribeKey on the key.

    \b
    Example:
      KEY=$(kmscli key create --description "backups")
      kmscli key describe "$KEY"
    """


@subgroup(cli, "alias")
def alias_group() -> None:
    """Name keys with aliases (alias/NAME), per region.

    An alias is unique in its region, points at one customer managed key of that region, and
    can be used instead of the key ID with the cryptographic commands.

    \b
    Example:
      kmscli alias create alias/nightly "$KEY"
      kmscli alias list
    """


@subgroup(cli, "policy")
def policy_group() -> None:
    """Key policies, identity policies and grants: who may do what with a key.

    Every key has one key policy, named default, evaluated with AWS semantics on every
    operation together with the caller's identity policies (policy identity) and the key's
    grants (policy grant). policy validate checks a document offline; policy simulate shows a
    decision and why, without performing the operation.

    \b
    Example:
      kmscli policy get alias/backups > policy.json
      kmscli policy put alias/backups policy.json
      kmscli policy simulate --key alias/backups --action kms:Decrypt --as "$ALICE"
    """


@subgroup(cli, "datakey")
def datakey_group() -> None:
    """Generate and decrypt data keys (GenerateDataKey, Decrypt).

    A data key is returned in plaintext, to use and discard, and wrapped under a KMS key, to
    keep with the data it protects.

    \b
    Example:
      kmscli datakey generate -k alias/backups --ciphertext-out dek.blob --plaintext-out dek.bin
    """
