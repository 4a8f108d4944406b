"""`kmscli keyring init|status`: creating the keyring and reporting on it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kmscli.cli.context import Environment, read_passphrase_file, stdin_is_terminal
from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_record, verbose
from kmscli.cli.root import keyring_group
from kmscli.errors import KeyringLockedError, UsageError

if TYPE_CHECKING:
    from kmscli.store import Keyring


def _init_passphrase(env: Environment, passphrase_file: str | None) -> bytes:
    given = env.passphrase_from_environment()
    if passphrase_file is not None:
        secret = read_passphrase_file(Path(passphrase_file))
    elif given is not None:
        secret = given
    elif stdin_is_terminal():
        import getpass

        secret = getpass.getpass("kmscli: new keyring passphrase: ").encode()
        if getpass.getpass("kmscli: repeat passphrase: ").encode() != secret:
            raise UsageError("the passphrases do not match")
    else:
        raise KeyringLockedError(
            "a passphrase is needed and stdin is not a terminal",
            hints=["set KMSCLI_PASSPHRASE or KMSCLI_PASSPHRASE_FILE, or --passphrase-file"],
        )
    if not secret:
        raise UsageError("the passphrase is empty")
    return secret


def status_document(keyring: Keyring) -> dict[str, Any]:
    info = keyring.info
    regions: dict[str, int] = {}
    with keyring.read() as view:
        for name in view.list("keys"):
            region = name.split("/", 1)[0]
            regions[region] = regions.get(region, 0) + 1
    document: dict[str, Any] = {
        "Home": str(info.home),
        "AccountId": info.account_id,
        "Protection": info.protection,
        "SchemaVersion": info.schema_version,
        "KeyringId": info.keyring_id,
        "Regions": [{"Region": r, "KeyCount": n} for r, n in sorted(regions.items())],
    }
    if info.root_key_file is not None:
        document["RootKeyFile"] = str(info.root_key_file)
    return document


@command(keyring_group, "init")
@click.option(
    "--passphrase",
    "use_passphrase",
    is_flag=True,
    help="Protect the root key with a passphrase (KMSCLI_PASSPHRASE or a prompt).",
)
@click.option("--passphrase-file", metavar="FILE", help="Read the new passphrase from FILE.")
@click.option("--account-id", metavar="12DIGITS", help="Account ID (default: random).")
def keyring_init(use_passphrase: bool, passphrase_file: str | None, account_id: str | None) -> None:
    """Create a keyring explicitly (commands otherwise create one on first use).

    The root key is kept in a file outside the keyring directory (mode 0600), or, with
    --passphrase, wrapped under Argon2id of a passphrase and kept in the keyring header.

    \b
    Example:
      kmscli keyring init --account-id 111122223333
      KMSCLI_PASSPHRASE=... kmscli --home ~/vault keyring init --passphrase
    """
    from kmscli.kms.ids import is_valid_account_id
    from kmscli.store import init_keyring

    env = environment()
    if account_id is not None and not is_valid_account_id(account_id):
        raise UsageError(f"--account-id must be 12 digits, got '{account_id}'")
    secret = None
    if use_passphrase or passphrase_file is not None:
        secret = _init_passphrase(env, passphrase_file)
    keyring = init_keyring(
        env.home,
        root_key_file=env.root_key_file,
        root_key_dir=env.root_key_dir,
        account_id=account_id,
        passphrase=secret,
    )
    verbose(env, f"created keyring '{keyring.info.home}' ({keyring.info.protection})")
    if env.json:
        emit_json(status_document(keyring))
    else:
        emit_line(keyring.info.account_id)


@command(keyring_group, "status")
def keyring_status() -> None:
    """Show where the keyring is, its account, protection, regions and schema version.

    It opens the keyring (so a passphrase may be needed) and counts the keys of each region;
    it never creates a keyring.

    \b
    Example:
      kmscli keyring status --json
    """
    env = environment()
    document = status_document(env.open_keyring(create=False))
    if env.json:
        emit_json(document)
        return
    regions = document.pop("Regions")
    document["Regions"] = ", ".join(f"{r['Region']} ({r['KeyCount']})" for r in regions) or "-"
    emit_record(document)
