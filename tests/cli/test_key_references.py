"""Every command that takes a KEY takes what `key describe` takes: key ID, key ARN, alias name,
alias ARN; an alias given to an operation whose AWS API takes key IDs only is found with
DescribeKey, as the caller; `kmscli serve` keeps AWS's rules on the wire.

The commands are found by walking the click tree (every parameter named key, keys or
source_keys), their arguments made as tests/cli/test_authz_every_command.py makes them, and
each is run once per form of its keys, in a keyring of its own: every form must end as the key
ARN form does (the key ID is the ARN's but for RetireGrant, which takes ARNs only, as AWS).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import botocore.exceptions
import pytest

from tests.cli.authz_world import ALICE, DEFAULT_STATEMENT, A, World, allow, key_policy
from tests.cli.test_authz_every_command import (
    GLOBAL,
    Fixtures,
    _command,
    _commands,
    _guess,
)
from tests.conftest import Result, Runner
from tests.server.conftest import Server, serving

KEY_PARAMETERS = {"key", "keys", "source_keys"}
FORMS = ("key-arn", "alias-name", "alias-arn")

# Commands whose KEY is optional, so the generic arguments leave it out: how to give one.
OPTIONAL_KEY = {
    ("alias", "list"): lambda f: ["--key", f.key],
    ("audit",): lambda f: ["--key", f.key],
    ("policy", "simulate"): lambda f: ["--key", f.key, "--action", "kms:Encrypt"],
    ("decrypt",): lambda f: ["-k", f.key, "-o", str(f.tmp / "out.txt"), f.message],
    ("datakey", "decrypt"): lambda f: ["-k", f.key, "-o", str(f.tmp / "dek.bin"), f.blob],
    ("reencrypt",): lambda f: [
        "-k",
        f.key,
        "--source-key",
        f.key,
        "-o",
        str(f.tmp / "re.kms"),
        f.message,
    ],
}


def _takes_a_key(path: tuple[str, ...]) -> bool:
    return any(p.name in KEY_PARAMETERS and p.name not in GLOBAL for p in _command(path).params)


KEY_COMMANDS = [p for p in _commands() if _takes_a_key(p)]


def test_the_walk_finds_the_commands_that_refused_aliases() -> None:
    found = set(KEY_COMMANDS)
    for path in [
        ("policy", "get"),
        ("policy", "put"),
        ("key", "disable"),
        ("key", "enable"),
        ("key", "rotate"),
        ("key", "rotation", "list"),
        ("key", "tags"),
        ("policy", "grant", "create"),
        ("key", "import-parameters"),
        ("alias", "create"),
        ("encrypt",),
    ]:
        assert path in found, path


def _fresh_keyring(monkeypatch: pytest.MonkeyPatch, base: Path) -> None:
    """Point the following runs at a keyring of their own under `base`."""
    base.mkdir()
    monkeypatch.setenv("KMSCLI_HOME", str(base / "keyring"))
    monkeypatch.setenv("KMSCLI_ROOT_KEY_FILE", str(base / "root.key"))
    monkeypatch.chdir(base)


def _run_in_form(
    run: Runner, base: Path, path: tuple[str, ...], form: str, monkeypatch: pytest.MonkeyPatch
) -> Result:
    _fresh_keyring(monkeypatch, base)
    world = World(run, base)
    fixtures = Fixtures(world)
    args = OPTIONAL_KEY[path](fixtures) if path in OPTIONAL_KEY else _guess(path, fixtures)
    keys = {fixtures.key: "alias/existing"}
    for name in ("multi", "external"):
        if name in vars(fixtures):  # made for this command's arguments
            keys[vars(fixtures)[name]] = f"alias/{name}"
            world.ok("alias", "create", f"alias/{name}", vars(fixtures)[name])
    forms = {}
    for key_id, alias in keys.items():
        forms[key_id] = forms[world.arn(key_id)] = {
            "key-arn": world.arn(key_id),
            "alias-name": alias,
            "alias-arn": f"arn:aws:kms:{world.region}:{A}:{alias}",
        }[form]
    return world.kmscli(*path, *[forms.get(a, a) for a in args], input=b"input")


def _summary(result: Result) -> tuple[int, str]:
    lines = result.err.splitlines()
    first = lines[0].split(":")[2].strip() if lines and ": error: " in lines[0] else ""
    return result.status, first


@pytest.mark.parametrize("path", KEY_COMMANDS, ids=" ".join)
def test_every_form_of_key_does_what_the_key_arn_does(
    run_inproc: Runner, tmp_path: Path, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = {
        form: _run_in_form(run_inproc, tmp_path / form, path, form, monkeypatch) for form in FORMS
    }
    expected = _summary(outcomes["key-arn"])
    for form in FORMS[1:]:
        assert _summary(outcomes[form]) == expected, (
            f"kmscli {' '.join(path)} with {form}: {outcomes[form].err}\n"
            f"with the key ARN: {outcomes['key-arn'].err}"
        )
    assert "NotFoundException" not in outcomes["alias-name"].err


def test_management_by_alias_acts_on_the_aliased_key(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)
    key = world.create_key("--alias", "alias/backups")
    alias_arn = f"arn:aws:kms:{world.region}:{A}:alias/backups"
    world.ok("key", "disable", "alias/backups")
    assert world.ok("key", "describe", key, "--json").out.count('"Disabled"') == 1
    world.ok("key", "enable", alias_arn)
    assert '"Enabled"' in world.ok("key", "describe", key, "--json").out
    assert "kms:*" in world.ok("policy", "get", "alias/backups").out
    world.ok("key", "tag", alias_arn, "team=storage")
    assert "team\tstorage" in world.ok("key", "tags", "alias/backups").out
    world.ok("key", "rotate", "alias/backups")
    assert "ON_DEMAND" in world.ok("key", "rotation", "list", alias_arn).out
    listed = world.ok("alias", "list", "--key", "alias/backups").out
    assert "alias/backups" in listed


def test_the_alias_lookup_needs_describe_key_and_tells_nothing_more(
    run_inproc: Runner, tmp_path: Path
) -> None:
    world = World(run_inproc, tmp_path)
    key = world.create_key("--alias", "alias/backups")
    world.put_key_policy(key, key_policy(DEFAULT_STATEMENT, allow(ALICE, "kms:DisableKey")))
    denied = world.kmscli("key", "disable", "alias/backups", caller=ALICE)
    assert denied.status == 5, denied.err
    events = world.audit()
    assert events[-1]["eventName"] == "DescribeKey"
    assert events[-1]["errorCode"] == "AccessDeniedException"
    described = world.kmscli("key", "describe", "alias/backups", caller=ALICE)
    assert denied.err.splitlines()[0] == described.err.splitlines()[0]
    assert "kms:DescribeKey" in denied.err and "give the key ID or key ARN" in denied.err
    assert '"Enabled"' in world.ok("key", "describe", key, "--json").out, "nothing was done"
    # The key ID needs no lookup: what the policy allows is done.
    world.ok("key", "disable", key, caller=ALICE)
    missing = world.kmscli("key", "disable", "alias/none", caller=ALICE)
    missing_described = world.kmscli("key", "describe", "alias/none", caller=ALICE)
    assert missing.status == 3
    assert missing.err.splitlines()[0] == missing_described.err.splitlines()[0]


@pytest.fixture
def kms_server(kmscli_env: dict[str, str]) -> Iterator[Server]:
    with serving(kmscli_env) as server:
        yield server


def test_serve_keeps_aws_rules_for_aliases(kms_server: Server) -> None:
    """Guard: the CLI's convenience stays off the wire (DisableKey, GetKeyPolicy and
    ListKeyRotations refuse an alias in AWS, and so through kmscli serve)."""
    kms = kms_server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/served", TargetKeyId=key)
    calls: tuple[Callable[[], object], ...] = (
        lambda: kms.disable_key(KeyId="alias/served"),
        lambda: kms.get_key_policy(KeyId="alias/served", PolicyName="default"),
        lambda: kms.list_key_rotations(KeyId="alias/served"),
    )
    for call in calls:
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            call()
        assert raised.value.response["Error"]["Code"] == "NotFoundException"
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"
    assert kms.describe_key(KeyId="alias/served")["KeyMetadata"]["KeyId"] == key
