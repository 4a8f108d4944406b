"""`--help` of a subcommand and KMSCLI_DEBUG=1, through the real `kmscli`.

A subcommand's help lists what the command itself takes first ("Options"), then the options
every command accepts ("Global options"); KMSCLI_DEBUG=1 prints the traceback of the error that
ended the run, for a bug (exit 1) and for any other error.
"""

from __future__ import annotations

import pytest

from tests.conftest import Runner


@pytest.mark.parametrize(
    ("args", "own"),
    [
        (("sign",), "--key"),
        (("encrypt",), "--output"),
        (("key", "create"), "--description"),
        (("key", "rotation", "enable"), "--period-days"),
        (("mac", "generate"), "--key"),
    ],
)
def test_help_lists_the_commands_own_options_before_the_global_ones(
    run: Runner, args: tuple[str, ...], own: str
) -> None:
    result = run(*args, "--help")
    assert result.status == 0, result.err
    text = result.out
    options = text.index("\nOptions:\n")
    shared = text.index("\nGlobal options:\n")
    assert options < shared
    assert f"{own} " in text[options:shared]
    for name in ("--home", "--region", "--json", "--quiet", "--help"):
        assert text.index(name, shared) > shared
        assert name not in text[options:shared]


def test_group_help_keeps_its_commands(run: Runner) -> None:
    result = run("key", "--help")
    assert result.status == 0, result.err
    assert "\nGlobal options:\n" in result.out
    assert result.out.index("Global options:") < result.out.index("Commands:")
    assert "  describe " in result.out


def test_debug_prints_the_traceback_of_an_error(run: Runner) -> None:
    assert run("keyring", "init").status == 0
    plain = run("key", "describe", "alias/missing")
    assert plain.status == 3 and "Traceback" not in plain.err
    result = run("key", "describe", "alias/missing", env={"KMSCLI_DEBUG": "1"})
    assert result.status == 3
    assert "Traceback (most recent call last):" in result.err, result.err
    assert "NoneType: None" not in result.err
    assert "kmscli.errors.NotFoundException" in result.err
    # The traceback comes first, the one-line error stays the last thing said.
    assert result.err.rstrip().splitlines()[-1].startswith("kmscli: error: NotFoundException")


def test_debug_traceback_of_a_usage_error_is_the_real_one(run: Runner) -> None:
    result = run("key", "create", "--no-such-option", env={"KMSCLI_DEBUG": "1"})
    assert result.status == 2
    assert "NoneType: None" not in result.err
    assert "Traceback (most recent call last):" in result.err
    assert "click.exceptions.NoSuchOption" in result.err
