"""Aliases with AWS's rules: prefix, reserved namespace, characters, length, uniqueness, targets."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Runner


def _aliases(run: Runner, *args: str) -> list[dict[str, str]]:
    result = run("alias", "list", "--json", *args)
    assert result.status == 0, result.err
    return [a for a in json.loads(result.out)["Aliases"] if "TargetKeyId" in a]


def test_create_update_delete_list(run_inproc: Runner) -> None:
    first = run_inproc("key", "create").out.strip()
    second = run_inproc("key", "create").out.strip()
    assert run_inproc("alias", "create", "alias/app/prod", first).status == 0
    [entry] = _aliases(run_inproc)
    assert entry["AliasName"] == "alias/app/prod" and entry["TargetKeyId"] == first
    assert entry["AliasArn"].endswith(":alias/app/prod")
    assert run_inproc("alias", "update", "alias/app/prod", second).status == 0
    assert _aliases(run_inproc)[0]["TargetKeyId"] == second
    assert _aliases(run_inproc, "--key", first) == []
    assert len(_aliases(run_inproc, "--key", second)) == 1
    encrypted = run_inproc("encrypt", "--direct", "-k", "alias/app/prod", "-o", "blob", input=b"x")
    assert encrypted.status == 0, encrypted.err
    assert run_inproc("alias", "delete", "alias/app/prod").status == 0
    assert _aliases(run_inproc) == []
    gone = run_inproc("alias", "delete", "alias/app/prod")
    assert gone.status == 3 and "is not found." in gone.err


@pytest.mark.parametrize(
    ("name", "code", "status"),
    [
        ("backups", "ValidationException", 2),
        ("alias/", "ValidationException", 2),
        ("alias/has space", "ValidationException", 2),
        ("alias/" + "a" * 251, "ValidationException", 2),
        ("alias/x:y", "ValidationException", 2),
        ("alias/aws/mine", "NotAuthorizedException", 5),
    ],
)
def test_invalid_names(run_inproc: Runner, name: str, code: str, status: int) -> None:
    key = run_inproc("key", "create").out.strip()
    result = run_inproc("alias", "create", name, key)
    assert result.status == status and f"error: {code}" in result.err, result.err


def test_longest_name_is_accepted(run_inproc: Runner) -> None:
    key = run_inproc("key", "create").out.strip()
    assert run_inproc("alias", "create", "alias/" + "a" * 250, key).status == 0


def test_unique_per_region_but_free_in_another(run_inproc: Runner) -> None:
    east = run_inproc("key", "create").out.strip()
    assert run_inproc("alias", "create", "alias/a", east).status == 0
    dup = run_inproc("alias", "create", "alias/a", east)
    assert dup.status == 4
    assert "An alias with the name arn:aws:kms:us-east-1:" in dup.err
    west = run_inproc("key", "create", "--region", "eu-west-1").out.strip()
    assert run_inproc("alias", "create", "alias/a", west, "--region", "eu-west-1").status == 0
    cross = run_inproc("alias", "create", "alias/b", east, "--region", "eu-west-1")
    assert cross.status == 3, "a target must be in the alias's region"


def test_a_target_named_by_its_alias_is_that_alias_key(run_inproc: Runner) -> None:
    key = run_inproc("key", "create", "--alias", "alias/first").out.strip()
    missing = run_inproc("alias", "create", "alias/second", "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert missing.status == 3
    assert run_inproc("alias", "create", "alias/second", "alias/first").status == 0
    assert [a["TargetKeyId"] for a in _aliases(run_inproc)] == [key, key]


def test_update_of_a_missing_alias(run_inproc: Runner) -> None:
    key = run_inproc("key", "create").out.strip()
    result = run_inproc("alias", "update", "alias/none", key)
    assert result.status == 3 and "NotFoundException" in result.err


def test_create_with_alias_is_atomic(run_inproc: Runner) -> None:
    key = run_inproc("key", "create", "--alias", "alias/taken").out.strip()
    clash = run_inproc("key", "create", "--alias", "alias/taken")
    assert clash.status == 4
    keys = json.loads(run_inproc("key", "list", "--json").out)["Keys"]
    assert [k["KeyId"] for k in keys] == [key], "the failed create left no key behind"


def test_fifty_aliases_per_key(run_inproc: Runner) -> None:
    key = run_inproc("key", "create").out.strip()
    for index in range(50):
        assert run_inproc("alias", "create", f"alias/n{index}", key).status == 0
    result = run_inproc("alias", "create", "alias/n50", key)
    assert result.status == 2 and "LimitExceededException" in result.err
