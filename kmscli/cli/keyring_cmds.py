"""`kmscli keyring init|status|verify|backup|restore`: the keyring as a whole.

Creating it, reporting on it, checking every file of it, and archiving it to one encrypted file
and back (the format and the checks are kmscli.store.backup's).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kmscli.cli.context import Environment, read_passphrase_file, stdin_is_terminal
from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_record, notice, verbose, warning
from kmscli.cli.root import keyring_group
from kmscli.errors import (
    InputOutputError,
    KeyringCorruptError,
    KeyringError,
    KeyringLockedError,
    UsageError,
)
from kmscli.files.atomicoutput import AtomicOutput, describe_os_error

if TYPE_CHECKING:
    from kmscli.store import Keyring


def _init_passphrase(env: Environment, passphrase_file: str | None) -> bytes:
    given = env.passphrase_from_environment()
    if passphrase_file is not None:
        secret = read_passphrase_file(Path(passphrase_file))
    elif given is not None:
        secret = given
    elif stdin_is_terminal():
        from kmscli.cli.passphrase import choose_new

        secret = choose_new()
    else:
        raise KeyringLockedError(
            "a passphrase is needed and stdin is not a terminal",
            hints=["set KMSCLI_PASSPHRASE or KMSCLI_PASSPHRASE_FILE, or --passphrase-file"],
        )
    if not secret:
        raise UsageError("the passphrase is empty")
    from kmscli.cli.passphrase import weakness

    weak = weakness(secret)
    if weak is not None:
        warning(
            env,
            f"weak passphrase: {weak} (anyone with a copy of the keyring can try "
            "passphrases offline); see 'The keyring' in README.md for the rule",
        )
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
    """Create a keyring (only key create and encrypt also create one, on first use).

    The root key is kept in a file outside the keyring directory (mode 0600), or, with
    --passphrase, wrapped under Argon2id of a passphrase and kept in the keyring header.

    \b
    Example:
      kmscli keyring init --home ~/work-keyring --account-id 111122223333
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
    env.announce_new_keyring(keyring)
    if env.json:
        emit_json(status_document(keyring))
    else:
        emit_line(keyring.info.account_id)


@command(keyring_group, "status")
def keyring_status() -> None:
    """Show where the keyring is, its account, protection, regions and schema version.

    It opens the keyring (so a passphrase may be needed) and counts the keys of each region;
    it never creates a keyring. Like every command that opens it, it first does the rotations,
    deletions and material expiries that fell due.

    \b
    Example:
      kmscli keyring status --json
    """
    env = environment()
    keyring = env.open_keyring()
    env.catch_up(keyring)
    document = status_document(keyring)
    if env.json:
        emit_json(document)
        return
    regions = document.pop("Regions")
    document["Regions"] = ", ".join(f"{r['Region']} ({r['KeyCount']})" for r in regions) or "-"
    emit_record(document)


@command(keyring_group, "verify")
def keyring_verify() -> None:
    """Check every file of the keyring and the audit trail, and report each problem found.

    Every record is decrypted and authenticated, the header's MAC and the audit trail's MAC
    chain checked (and that the trail still holds the record of the keyring's last change, so
    a removed or truncated trail is reported), and files that do not belong to a keyring,
    records renamed or moved, and
    permissions that give group or others access are reported, one per line on stdout. The
    exit status is 0 when nothing is wrong and 9 (KeyringCorruptError) otherwise. An
    interrupted write is finished first.

    \b
    Example:
      kmscli keyring verify && kmscli keyring backup -f nightly.kmsbak
      kmscli keyring verify --json
    """
    from kmscli.kms.audit import verify_trail

    env = environment()
    keyring = env.open_keyring()
    with contextlib.suppress(KeyringError):
        env.catch_up(keyring)  # a keyring that cannot do it fails below, with every problem
    problems = keyring.verify_all()
    trail = verify_trail(keyring)
    problems.extend(f"audit log: {problem}" for problem in trail.problems)
    notes = [f"audit log: {note}" for note in trail.notes]
    home = keyring.info.home
    for line in notes:
        notice(env, line)
    if env.json:
        emit_json(
            {
                "Home": str(home),
                "KeyringId": keyring.info.keyring_id,
                "Verified": not problems,
                "Problems": problems,
                "Notes": notes,
                "AuditRecords": trail.records,
            }
        )
    else:
        for problem in problems:
            emit_line(problem)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise KeyringCorruptError(
            f"the keyring at '{home}' failed verification: {count}",
            hints=["restore it from a backup: kmscli keyring restore -f FILE"],
        )
    notice(
        env,
        f"keyring at '{home}' verified: no problems ({trail.records} audit records)",
    )


def _refuse_inside_keyring(path: Path, home: Path) -> None:
    if path.resolve().is_relative_to(home.resolve()):
        raise UsageError(
            f"'{path}' is inside the keyring directory '{home}'",
            hints=["write the backup somewhere outside the keyring"],
        )


@command(keyring_group, "backup")
@click.argument("file", metavar="FILE")
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing FILE.")
def keyring_backup(file: str, force: bool) -> None:
    """Write the whole keyring to one encrypted archive FILE ('-': stdout).

    The archive holds every key, alias, policy, grant and the audit trail, encrypted and
    authenticated under the keyring's root key: it shows no key ID, alias or key material.
    It is a consistent snapshot (taken under the shared lock, so other commands may run),
    written atomically with mode 0600, and an existing FILE is kept unless -f is given.

    'kmscli keyring restore' brings it back with what opens the keyring itself: the
    passphrase, or the root key file, which is not in the archive (keep a copy of it apart).
    A keyring that fails 'kmscli keyring verify' is not backed up.

    \b
    Example:
      kmscli keyring backup "keyring-$(date +%F).kmsbak"
      kmscli keyring backup - | split -b 1G - keyring.kmsbak.   # cat keyring.kmsbak.* | ...
    """
    from kmscli.store.backup import create_backup

    env = environment()
    to_stdout = file == "-"
    if to_stdout and sys.stdout.isatty():
        raise UsageError(
            "refusing to write a binary backup to a terminal",
            hints=["redirect it, or name a FILE"],
        )
    if to_stdout and env.json:
        raise UsageError("--json cannot be used with a backup written to stdout")
    if to_stdout:
        keyring = env.open_keyring()
        env.catch_up(keyring)
        try:
            info = create_backup(keyring, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            raise
        except OSError as error:
            raise InputOutputError(describe_os_error(error, "stdout")) from None
    else:
        target = Path(file)
        _refuse_inside_keyring(target, env.home)
        output = AtomicOutput(target, mode=0o600, overwrite=force)
        with output as handle:
            keyring = env.open_keyring()
            env.catch_up(keyring)
            try:
                info = create_backup(keyring, handle)
            except OSError as error:
                raise InputOutputError(describe_os_error(error, target)) from None
            output.commit()
    where = "stdout" if to_stdout else f"'{file}'"
    verbose(env, f"backed up keyring {info.keyring_id}: {info.files} files to {where}")
    if info.root_key_file is not None:
        notice(
            env,
            f"restoring this backup needs the root key file '{info.root_key_file}', "
            "which is not in it: keep a copy of that file apart from the backup",
        )
    else:
        notice(env, "restoring this backup needs the keyring passphrase")
    if env.json:
        document: dict[str, Any] = {
            "Backup": "-" if to_stdout else str(Path(file)),
            "KeyringId": info.keyring_id,
            "AccountId": info.account_id,
            "Protection": info.protection,
            "FileCount": info.files,
            "Size": info.size,
        }
        if info.root_key_file is not None:
            document["RootKeyFile"] = str(info.root_key_file)
        emit_json(document)


@command(keyring_group, "restore")
@click.argument("file", metavar="FILE")
@click.option("-f", "--force", is_flag=True, help="Replace the keyring at --home if there is one.")
def keyring_restore(file: str, force: bool) -> None:
    """Restore the keyring of a backup archive FILE ('-': stdin) into --home.

    The root key is found as when opening the keyring: its root key file (KMSCLI_ROOT_KEY_FILE,
    or the user config dir's root-keys/KEYRING_ID.key), or the passphrase the keyring had when
    the backup was made. Every byte of the archive is authenticated and the restored keyring
    verified in a temporary directory beside --home before it is moved in place: a damaged
    archive or a wrong key changes nothing (exit 9). An existing keyring at --home is replaced
    only with -f; a directory holding anything else is never replaced. Prints the account ID.

    \b
    Example:
      kmscli --home ~/restored keyring restore nightly.kmsbak
      kmscli keyring restore -f nightly.kmsbak
    """
    from kmscli.store.backup import restore_backup

    env = environment()
    if file == "-":
        if stdin_is_terminal():
            raise UsageError(
                "refusing to read a binary backup from a terminal",
                hints=["redirect it, or name a FILE"],
            )
        keyring = restore_backup(
            sys.stdin.buffer,
            env.home,
            root_key_file=env.root_key_file,
            root_key_dir=env.root_key_dir,
            passphrase=env.passphrase,
            force=force,
            source="the backup on stdin",
        )
    else:
        try:
            source = Path(file).open("rb")  # noqa: SIM115 (closed below, also on errors)
        except OSError as error:
            raise InputOutputError(f"cannot read '{file}': {error.strerror}") from None
        with source:
            keyring = restore_backup(
                source,
                env.home,
                root_key_file=env.root_key_file,
                root_key_dir=env.root_key_dir,
                passphrase=env.passphrase,
                force=force,
                source=f"backup '{file}'",
            )
    verbose(env, f"restored keyring {keyring.info.keyring_id} to '{keyring.info.home}'")
    if env.json:
        emit_json(status_document(keyring))
    else:
        emit_line(keyring.info.account_id)
