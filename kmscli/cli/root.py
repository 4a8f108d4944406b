"""The root `kmscli` group and its command groups; command modules register on these."""

from __future__ import annotations

import click

from kmscli import __version__
from kmscli.cli.options import CONTEXT_SETTINGS, global_options, subgroup


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="kmscli", message="%(prog)s %(version)s")
@global_options
def cli() -> None:
    """Envelope encryption of files, backed by a local keyring that behaves like AWS KMS.

    Files are written in the AWS Encryption SDK message format (version 2, key-committing
    suite), their data keys wrapped by keys of an encrypted local keyring.

    \b
    Example:
      kmscli encrypt big.tar            # writes big.tar.kms
      kmscli decrypt big.tar.kms        # writes big.tar
    """


@subgroup(cli, "keyring")
def keyring_group() -> None:
    """Create and inspect the keyring.

    \b
    Example:
      kmscli keyring init --account-id 111122223333
      kmscli keyring status
    """


@subgroup(cli, "key")
def key_group() -> None:
    """Create, describe and manage KMS keys.

    \b
    Example:
      KEY=$(kmscli key create --description "backups")
      kmscli key describe "$KEY"
    """


@subgroup(cli, "alias")
def alias_group() -> None:
    """Name keys with aliases (alias/NAME), per region.

    \b
    Example:
      kmscli alias create alias/backups "$KEY"
      kmscli alias list
    """


@subgroup(cli, "policy")
def policy_group() -> None:
    """Read and write key policies.

    \b
    Example:
      kmscli policy get alias/backups
      kmscli policy put alias/backups policy.json
    """


@subgroup(cli, "datakey")
def datakey_group() -> None:
    """Generate and decrypt data keys (GenerateDataKey, Decrypt).

    \b
    Example:
      kmscli datakey generate -k alias/backups --ciphertext-out dek.blob --plaintext-out dek.bin
    """
