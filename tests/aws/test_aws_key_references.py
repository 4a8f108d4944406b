"""With the aws backend too, every KEY takes an alias: kmscli finds its key with DescribeKey
before an operation whose AWS API takes key IDs only, and a bare alias name gets a hint."""

from __future__ import annotations

import json

from tests.conftest import Runner


def test_management_commands_take_aliases_on_aws(aws_inproc: Runner) -> None:
    created = aws_inproc("key", "create", "--json")
    assert created.status == 0, created.err
    metadata = json.loads(created.out)["KeyMetadata"]
    key, arn = metadata["KeyId"], metadata["Arn"]
    assert aws_inproc("alias", "create", "alias/backups", key).status == 0
    alias_arn = arn.split(":key/")[0] + ":alias/backups"
    # moto takes a key ARN for only some operations (AWS takes it for all): the alias ARN,
    # which becomes the key ARN, is tried on those.
    for args in (
        ("key", "disable", "alias/backups"),
        ("key", "enable", "alias/backups"),
        ("policy", "get", alias_arn),
        ("key", "tag", "alias/backups", "team=storage"),
        ("key", "tags", alias_arn),
        ("key", "rotation", "enable", "alias/backups"),
        ("key", "rotation", "status", "alias/backups"),
        ("key", "disable", "alias/backups"),
    ):
        result = aws_inproc(*args)
        assert result.status == 0, f"{args}: {result.err}"
    described = json.loads(aws_inproc("key", "describe", key, "--json").out)["KeyMetadata"]
    assert described["KeyState"] == "Disabled"


def test_a_bare_alias_name_gets_a_hint_on_aws(aws_inproc: Runner) -> None:
    key = aws_inproc("key", "create").out.strip()
    assert aws_inproc("alias", "create", "alias/backups", key).status == 0
    result = aws_inproc("key", "describe", "backups")
    assert result.status == 3, result.err
    assert "kmscli: hint: did you mean 'alias/backups'?" in result.err
