"""The configuration file and profiles: precedence option > environment > profile > defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner


@pytest.fixture
def config(kmscli_env: dict[str, str]) -> Path:
    path = Path(kmscli_env["XDG_CONFIG_HOME"]) / "kmscli" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def _region_of_new_key(run: Runner, *args: str, env: dict[str, str] | None = None) -> str:
    result = run("key", "create", "--json", *args, env=env)
    assert result.status == 0, result.err
    return str(json.loads(result.out)["KeyMetadata"]["Arn"]).split(":")[3]


def test_region_precedence(run_inproc: Runner, config: Path) -> None:
    config.write_text('region = "eu-west-1"\n[profiles.work]\nregion = "ap-south-1"\n')
    assert _region_of_new_key(run_inproc) == "eu-west-1"
    assert _region_of_new_key(run_inproc, "--profile", "work") == "ap-south-1"
    assert _region_of_new_key(run_inproc, env={"KMSCLI_PROFILE": "work"}) == "ap-south-1"
    env = {"KMSCLI_PROFILE": "work", "AWS_REGION": "us-west-2"}
    assert _region_of_new_key(run_inproc, env=env) == "us-west-2"
    env["KMSCLI_REGION"] = "sa-east-1"
    assert _region_of_new_key(run_inproc, env=env) == "sa-east-1"
    assert _region_of_new_key(run_inproc, "--region", "ca-central-1", env=env) == "ca-central-1"
    config.unlink()
    assert _region_of_new_key(run_inproc) == "us-east-1"


def test_profile_home_principal_and_key(run: Runner, config: Path, tmp_path: Path) -> None:
    other_home = tmp_path / "work-keyring"
    config.write_text(
        "[profiles.work]\n"
        f'home = "{other_home}"\n'
        'principal = "arn:aws:iam::111122223333:user/alice"\n'
        'key = "alias/work"\n'
    )
    env = {"KMSCLI_HOME": ""}
    assert (
        run("keyring", "init", "--account-id", "111122223333", "--profile", "work", env=env).status
        == 0
    )
    assert (other_home / "header").exists()
    denied = run("key", "create", "--profile", "work", env=env)
    assert denied.status == 5 and "user/alice is not authorized" in denied.err
    root = "arn:aws:iam::111122223333:root"
    made = run("key", "create", "--alias", "alias/work", "--profile", "work", "--as", root, env=env)
    assert made.status == 0, made.err
    (tmp_path / "f").write_bytes(b"data")
    encrypted = run("encrypt", "f", "--profile", "work", "--as", root, env=env)
    assert encrypted.status == 0, encrypted.err
    inspected = json.loads(run("inspect", "f.kms", "--json").out)
    [edk] = inspected["EncryptedDataKeys"]
    assert edk["KeyArn"].endswith("key/" + made.out.strip())


def test_bad_configuration_is_a_usage_error(run_inproc: Runner, config: Path) -> None:
    config.write_text("region = [not toml")
    result = run_inproc("key", "list")
    assert result.status == 2 and "config.toml" in result.err
    config.write_text('colour = "red"\n')
    result = run_inproc("key", "list")
    assert result.status == 2 and "unknown setting 'colour'" in result.err
    config.write_text('region = "eu-west-1"\n[profiles.a]\n')
    result = run_inproc("key", "list", "--profile", "b")
    assert result.status == 2 and "profile 'b' is not defined" in result.err
    assert "defined profiles: a" in result.err


def test_missing_profile_without_a_file(run_inproc: Runner) -> None:
    result = run_inproc("key", "list", env={"KMSCLI_PROFILE": "ghost"})
    assert result.status == 2 and "profile 'ghost'" in result.err


def test_kmscli_config_points_elsewhere(run_inproc: Runner, tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('region = "eu-north-1"\n')
    assert _region_of_new_key(run_inproc, env={"KMSCLI_CONFIG": str(tmp_path / "mine.toml")}) == (
        "eu-north-1"
    )


def test_numbers_are_toml_integers(run_inproc: Runner, config: Path) -> None:
    config.write_text("max_concurrency = 10\n")
    result = run_inproc("key", "create")
    assert result.status == 0, result.err
    config.write_text('max_concurrency = "12"\n')  # a string of digits, as before, still works
    assert run_inproc("key", "list").status == 0
    # The range is checked where the number is used (the aws backend), before any request.
    config.write_text("[profiles.big]\nmax_concurrency = 300\n")
    result = run_inproc("key", "list", "--backend", "aws", "--profile", "big")
    assert result.status == 2
    assert "max_concurrency '300' is not a number from 1 to 256" in result.err
    for wrong in ("true", "1.5", '["1"]'):
        config.write_text(f"max_concurrency = {wrong}\n")
        result = run_inproc("key", "list")
        assert result.status == 2 and "'max_concurrency' must be a number" in result.err, wrong
    config.write_text("region = 5\n")
    result = run_inproc("key", "list")
    assert result.status == 2 and "'region' must be a string" in result.err


def test_the_settings_table_agrees_with_the_aws_client_default() -> None:
    from kmscli.aws.client import DEFAULT_MAX_ATTEMPTS
    from kmscli.cli.settings import SETTING

    assert SETTING["max_attempts"].default == DEFAULT_MAX_ATTEMPTS
