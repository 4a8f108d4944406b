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

    The keyring is the directory that holds keys, aliases and policies, encrypted at rest
    under a root key kept outside it (or wrapped under a passphrase).

    \b
    Example:
      kmscli keyring init --account-id 111122223333
      kmscli keyring status
    """


@subgroup(cli, "key")
def key_group() -> None:
    """Create, describe and manage KMS keys.

    KEY arguments take a key ID, key ARN, alias name or alias ARN wherever AWS KMS accepts
    them; management commands take a key ID or key ARN only, as AWS does.

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
      kmscli alias create alias/backups "$KEY"
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
      kmscli policy get alias/backups
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
