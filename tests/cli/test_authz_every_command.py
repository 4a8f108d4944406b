"""Every kmscli command that touches a key, an alias, a policy or a grant is refused to a caller
that no policy allows, and the refusal is in the audit trail.

The commands are found by walking the click tree, so a new command is covered the day it is
added: its arguments are made up from their names (KEY, FILE, PRINCIPAL, ...), and a command
whose arguments cannot be guessed fails here until it gets an entry in ARGUMENTS. Commands that
need no permission at all are listed, with the reason, in NO_PERMISSION.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import click
import pytest

from tests.cli.authz_world import ALICE, BOB, NOBODY, World
from tests.conftest import Runner

NO_PERMISSION = {
    ("inspect",): "reads a message header; no keyring",
    ("keyring", "init"): "creates the keyring",
    ("keyring", "status"): "describes the keyring itself",
    ("keyring", "backup"): "copies the keyring's files: its owner's act, not a KMS operation",
    ("keyring", "restore"): "replaces the keyring's files: its owner's act, not a KMS operation",
    ("keyring", "verify"): "checks the keyring's files",
    ("policy", "validate"): "offline check of a document",
    ("policy", "simulate"): "answers for --as without performing anything",
    ("audit",): "reads the keyring's own trail",
    ("principal", "access-key", "create"): "the keyring owner's credentials for kmscli serve",
    ("principal", "access-key", "list"): "the keyring owner's credentials for kmscli serve",
    ("principal", "access-key", "delete"): "the keyring owner's credentials for kmscli serve",
    ("serve",): "serves requests; each is authorized for the principal that signed it",
}

GLOBAL = {"home", "region", "principal", "profile", "json", "quiet", "verbose", "no_progress"}


def _commands() -> list[tuple[str, ...]]:
    from kmscli.cli.commands import cli

    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            else:
                found.append((*path, name))

    walk(cli, ())
    return found


def _command(path: tuple[str, ...]) -> click.Command:
    from kmscli.cli.commands import cli

    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


class Fixtures:
    """What the commands are pointed at, made by the account root before the denied call.

    Each is made when a command's arguments first ask for it, so every test builds only what
    its command needs."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.tmp = world.tmp
        self.key = world.create_key("--alias", "alias/existing")
        self.arn = world.arn(self.key)

    @cached_property
    def external(self) -> str:
        return self.world.create_key("--origin", "EXTERNAL")

    @cached_property
    def multi(self) -> str:
        key = self.world.create_key("--multi-region")
        self.world.ok("key", "replicate", key, "--replica-region", "eu-west-1")
        return key

    @cached_property
    def message(self) -> str:
        (self.tmp / "plain.txt").write_text("plaintext")
        self.world.ok("encrypt", "-k", self.key, "plain.txt")
        return str(self.tmp / "plain.txt.kms")

    @cached_property
    def plaintext(self) -> str:
        path = self.tmp / "plain.txt"
        path.write_text("plaintext")
        return str(path)

    @cached_property
    def blob(self) -> str:
        return self.world.blob(self.key)

    @cached_property
    def key_policy(self) -> str:
        return self.world.file(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"}
                ],
            }
        )

    @cached_property
    def policy(self) -> str:
        return self.world.file(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
            }
        )

    @cached_property
    def grant_id(self) -> str:
        created = self.world.ok(
            "policy",
            "grant",
            "create",
            self.key,
            "--grantee",
            BOB,
            "--operations",
            "Encrypt",
            "--retiring",
            ALICE,
        )
        return created.out.strip()

    @cached_property
    def identity_policy(self) -> str:
        self.world.ok("policy", "identity", "put", ALICE, "existing", self.policy)
        return "existing"

    @cached_property
    def import_dir(self) -> Path:
        directory = self.tmp / "import"
        directory.mkdir()
        self.world.ok("key", "import-parameters", self.external, "--out-dir", str(directory))
        return directory


# Arguments by command, for those the generic rules below cannot guess.
ARGUMENTS: dict[tuple[str, ...], Callable[[Fixtures], list[str]]] = {
    ("alias", "create"): lambda f: ["alias/new", f.key],
    ("alias", "update"): lambda f: ["alias/existing", f.key],
    ("alias", "delete"): lambda f: ["alias/existing"],
    ("alias", "list"): lambda f: [],
    ("encrypt",): lambda f: [
        "-k",
        f.arn,
        "-o",
        str(f.tmp / "denied.kms"),
        f.plaintext,
    ],
    ("decrypt",): lambda f: ["-o", str(f.tmp / "denied.txt"), f.message],
    ("reencrypt",): lambda f: ["-k", f.arn, "-o", str(f.tmp / "denied.re"), f.message],
    ("datakey", "decrypt"): lambda f: [f.blob],
    ("datakey", "pair"): lambda f: ["-k", f.arn, "--key-pair-spec", "ECC_NIST_P256"],
    ("sign",): lambda f: [f.plaintext, "-k", f.arn, "-o", str(f.tmp / "denied.sig")],
    ("verify",): lambda f: [f.plaintext, "-k", f.arn, "--signature", f.plaintext],
    ("mac", "generate"): lambda f: [f.plaintext, "-k", f.arn, "-o", str(f.tmp / "denied.mac")],
    ("mac", "verify"): lambda f: [f.plaintext, "-k", f.arn, "--mac", f.plaintext],
    ("key", "derive-shared-secret"): lambda f: [
        f.arn,
        "--public-key",
        f.plaintext,
        "-o",
        str(f.tmp / "denied.secret"),
    ],
    ("random",): lambda f: ["--bytes", "16"],
    ("key", "schedule-deletion"): lambda f: [f.arn, "--yes"],
    ("key", "tag"): lambda f: [f.arn, "a=b"],
    ("key", "untag"): lambda f: [f.arn, "a"],
    ("key", "update-description"): lambda f: [f.arn, "text"],
    ("key", "replicate"): lambda f: [f.multi, "--replica-region", "ap-south-1"],
    ("key", "update-primary-region"): lambda f: [f.multi, "eu-west-1"],
    ("key", "import-parameters"): lambda f: [f.external, "--out-dir", str(f.import_dir)],
    ("key", "import-material"): lambda f: [
        f.external,
        "--material",
        str(f.import_dir / "PublicKey.bin"),
        "--token",
        str(_only(f.import_dir, "Token")),
        "--no-expiry",
    ],
    ("key", "delete-material"): lambda f: [f.external],
    ("policy", "put"): lambda f: [f.key, f.key_policy],
    ("policy", "identity", "put"): lambda f: [ALICE, "new", f.policy],
    ("policy", "identity", "get"): lambda f: [ALICE, f.identity_policy],
    ("policy", "identity", "delete"): lambda f: [ALICE, f.identity_policy],
    ("policy", "grant", "create"): lambda f: [f.key, "--grantee", BOB, "--operations", "Encrypt"],
    ("policy", "grant", "retire"): lambda f: [f.arn, f.grant_id],
    ("policy", "grant", "revoke"): lambda f: [f.key, f.grant_id],
}


def _only(directory: Path, part: str) -> Path:
    matches = [p for p in directory.iterdir() if part.lower() in p.name.lower()]
    assert len(matches) == 1, sorted(p.name for p in directory.iterdir())
    return matches[0]


def _guess(path: tuple[str, ...], fixtures: Fixtures) -> list[str]:
    """Arguments from parameter names: KEY is the key ARN, PRINCIPAL alice, -k the key."""
    if path in ARGUMENTS:
        return ARGUMENTS[path](fixtures)
    args: list[str] = []
    unknown = f"kmscli {' '.join(path)}: add its arguments to ARGUMENTS in {__file__}"
    for param in _command(path).params:
        if param.name in GLOBAL or not param.required:
            continue
        if isinstance(param, click.Argument):
            value = {"key": fixtures.arn, "principal_arn": ALICE}.get(param.name or "")
            if value is None:
                pytest.fail(unknown)
            args.append(value)
        elif param.name == "key":
            args += [param.opts[0], fixtures.arn]
        else:
            pytest.fail(unknown)
    return args


COMMANDS = [p for p in _commands() if p not in NO_PERMISSION]


def test_the_exceptions_are_real_commands() -> None:
    assert set(NO_PERMISSION) <= set(_commands())


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_denied_to_a_caller_no_policy_allows(
    run_inproc: Runner, tmp_path: Path, path: tuple[str, ...]
) -> None:
    world = World(run_inproc, tmp_path)
    fixtures = Fixtures(world)
    args = _guess(path, fixtures)
    before = len(world.audit())
    result = world.kmscli(*path, *args, caller=NOBODY, input=b"input")
    assert result.status == 5, f"kmscli {' '.join(path)} {' '.join(args)}: {result.err}"
    assert "AccessDeniedException" in result.err
    assert f"User: {NOBODY} is not authorized" in result.err
    events = world.audit()[before:]
    assert events, "the refusal left no audit record"
    assert events[-1]["errorCode"] == "AccessDeniedException"
    assert events[-1]["userIdentity"]["arn"] == NOBODY
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith("denied")]
    assert not leftovers, f"a refused command wrote {leftovers}"
