"""Errors that point the right way: did you mean, several FILEs, `-o DIR/`, cancel-deletion.

Through the tree's real entry point (`run_inproc`; a few real processes with `run`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.authz_world import NOBODY
from tests.conftest import Result, Runner


def _hints(result: Result) -> list[str]:
    return [
        line.removeprefix("kmscli: hint: ")
        for line in result.err.splitlines()
        if line.startswith("kmscli: hint: ")
    ]


def _errors(result: Result) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("kmscli: error: ")]


# -- did you mean --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"), [("encrpyt", "encrypt"), ("inpsect", "inspect"), ("aduit", "audit")]
)
def test_a_mistyped_top_level_command_gets_the_command_it_meant(
    run: Runner, typed: str, meant: str
) -> None:
    result = run(typed, "x")
    assert result.status == 2
    assert _errors(result) == [f"kmscli: error: UsageError: No such command '{typed}'."]
    assert _hints(result)[0] == f"did you mean '{meant}'?"
    assert _hints(result)[-1] == "see 'kmscli --help'"


def test_a_mistyped_subcommand_gets_a_suggestion_too(run_inproc: Runner) -> None:
    result = run_inproc("policy", "grnt", "list")
    assert result.status == 2
    assert _hints(result) == ["did you mean 'grant'?", "see 'kmscli policy --help'"]


def test_key_delete_points_to_schedule_deletion(run_inproc: Runner) -> None:
    result = run_inproc("key", "delete", "1234abcd-12ab-34cd-56ef-1234567890ab")
    assert result.status == 2
    assert "No such command 'delete'" in result.err
    assert "kmscli key schedule-deletion KEY" in _hints(result)[0]


def test_an_option_that_is_not_there_gets_the_one_meant(run_inproc: Runner) -> None:
    result = run_inproc("encrypt", "--forse", "f")
    assert result.status == 2
    assert _errors(result) == ["kmscli: error: UsageError: No such option '--forse'."]
    assert _hints(result) == ["did you mean '--force'?", "see 'kmscli encrypt --help'"]


def test_a_key_without_alias_prefix_points_to_the_alias(run_inproc: Runner, tmp_path: Path) -> None:
    run_inproc("key", "create", "--alias", "alias/backups")
    (tmp_path / "f").write_text("x")
    for args in (("encrypt", "-k", "backups", "f"), ("key", "disable", "backups")):
        result = run_inproc(*args)
        assert result.status == 3, result.err
        assert "NotFoundException" in result.err
        assert _hints(result) == ["did you mean 'alias/backups'?"]
    assert not (tmp_path / "f.kms").exists()


def test_an_alias_one_edit_away_gets_the_existing_one(run_inproc: Runner) -> None:
    run_inproc("key", "create", "--alias", "alias/backups")
    run_inproc("key", "create", "--alias", "alias/archive")
    for typo in (
        "alias/backpus",
        "alias/backup",
        "alias/backupss",
        "alias/bakcups",
        "alias/backupz",
    ):
        result = run_inproc("key", "describe", typo)
        assert result.status == 3
        assert _hints(result) == ["did you mean 'alias/backups'?"], typo
    far = run_inproc("key", "describe", "alias/photos")
    assert far.status == 3 and _hints(far) == []
    bare = run_inproc("key", "describe", "nothing-like-it")
    assert _hints(bare) == ["a KEY is a key ID, a key ARN, alias/NAME or an alias ARN"]


def test_a_caller_who_may_not_list_aliases_gets_no_alias_hint(run_inproc: Runner) -> None:
    run_inproc("keyring", "init", "--account-id", "111122223333")
    run_inproc("key", "create", "--alias", "alias/backups")
    result = run_inproc("key", "describe", "alias/backpus", "--as", NOBODY)
    assert result.status == 3
    assert _hints(result) == []
    root = run_inproc("key", "describe", "alias/backpus")
    assert _hints(root) == ["did you mean 'alias/backups'?"]


# -- several FILEs -------------------------------------------------------------------------------


def _files(tmp_path: Path, *names: str) -> list[str]:
    for name in names:
        (tmp_path / name).write_text(f"content of {name}")
    return list(names)


def test_an_unknown_key_is_reported_once_and_no_file_is_touched(
    run_inproc: Runner, tmp_path: Path
) -> None:
    run_inproc("key", "create")
    names = _files(tmp_path, "a.log", "b.log", "c.log")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_inproc("encrypt", "-k", "alias/missing", *names)
    assert result.status == 3
    assert len(_errors(result)) == 1, result.err
    assert "NotFoundException" in result.err and "alias/missing" in result.err
    assert "no FILE was written" in _hints(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_key_error_after_a_file_error_stops_the_run(run_inproc: Runner, tmp_path: Path) -> None:
    run_inproc("key", "create")
    names = _files(tmp_path, "a", "b")
    result = run_inproc("encrypt", "-k", "alias/missing", "gone1", *names, "gone2")
    assert result.status == 10
    errors = _errors(result)
    assert len(errors) == 2, result.err
    assert "gone1" in errors[0] and "NotFoundException" in errors[1]
    assert "gone2" not in result.err, "a file after the key error was touched"
    assert _hints(result) == ["no FILE was written"]


def test_a_disabled_key_is_reported_once(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    run_inproc("key", "disable", key)
    names = _files(tmp_path, "a", "b")
    result = run_inproc("encrypt", "-k", key, "--direct", *names)
    assert result.status == 6
    assert len(_errors(result)) == 1 and "DisabledException" in result.err
    assert not any(p.suffix == ".kms" for p in tmp_path.iterdir())


def test_each_per_file_error_names_its_file(run_inproc: Runner, tmp_path: Path) -> None:
    key = run_inproc("key", "create").out.strip()
    names = _files(tmp_path, "one", "two")
    assert run_inproc("encrypt", "-k", key, *names).status == 0
    (tmp_path / "bad.kms").write_bytes(b"\x02" + b"\x00" * 40)  # a cut message
    result = run_inproc("decrypt", "-o", "out/", "one.kms", "bad.kms", "gone.kms", "two.kms")
    errors = _errors(result)
    assert len(errors) == 2, result.err
    assert "bad.kms" in errors[0]
    assert "gone.kms" in errors[1]
    assert result.status == 8
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one", "two"]


def test_decrypt_reports_a_missing_key_per_file(run_inproc: Runner, tmp_path: Path) -> None:
    """For decrypt the keys come from each message: an error about one is about that file."""
    first = run_inproc("key", "create").out.strip()
    second = run_inproc("key", "create").out.strip()
    _files(tmp_path, "a", "b")
    run_inproc("encrypt", "-k", first, "a")
    run_inproc("encrypt", "-k", second, "b")
    run_inproc("key", "disable", first)
    result = run_inproc("decrypt", "-o", "out/", "a.kms", "b.kms")
    assert result.status == 6
    errors = _errors(result)
    assert len(errors) == 1 and errors[0].startswith("kmscli: error: DisabledException: 'a.kms': ")
    assert (tmp_path / "out" / "b").read_text() == "content of b"


# -- -o DIR/ -------------------------------------------------------------------------------------


def test_a_trailing_slash_makes_the_directory_never_a_file(run: Runner, tmp_path: Path) -> None:
    names = _files(tmp_path, "a.log", "b.log")
    result = run("encrypt", "-o", "vault/", *names)
    assert result.status == 0, result.err
    assert (tmp_path / "vault").is_dir()
    assert sorted(p.name for p in (tmp_path / "vault").iterdir()) == ["a.log.kms", "b.log.kms"]
    single = run("encrypt", "-o", "one/", "a.log")
    assert single.status == 0, single.err
    assert (tmp_path / "one").is_dir() and (tmp_path / "one" / "a.log.kms").is_file()
    back = run("decrypt", "-o", "plain/", "vault/a.log.kms")
    assert back.status == 0, back.err
    assert (tmp_path / "plain" / "a.log").read_text() == "content of a.log"


def test_a_trailing_slash_on_a_one_file_output_is_refused(
    run_inproc: Runner, tmp_path: Path
) -> None:
    run_inproc("keyring", "init")
    result = run_inproc("random", "--bytes", "16", "-o", "rnd/")
    assert result.status == 2
    assert "names a directory" in result.err
    assert not (tmp_path / "rnd").exists()
    stdin = run_inproc("encrypt", "-o", "dir/", "-", input=b"x")
    assert stdin.status == 2 and "stdin has no name" in stdin.err
    assert not (tmp_path / "dir").exists()


def test_a_trailing_slash_on_an_existing_file_is_refused(
    run_inproc: Runner, tmp_path: Path
) -> None:
    names = _files(tmp_path, "a")
    (tmp_path / "taken").write_text("mine")
    result = run_inproc("encrypt", "-o", "taken/", *names)
    assert result.status == 2, result.err
    assert (tmp_path / "taken").read_text() == "mine"


def test_a_directory_made_for_a_failed_run_is_removed(run_inproc: Runner, tmp_path: Path) -> None:
    run_inproc("keyring", "init")
    names = _files(tmp_path, "a", "b")
    result = run_inproc("encrypt", "-k", "alias/missing", "-o", "vault/", *names)
    assert result.status == 3
    assert not (tmp_path / "vault").exists()


def test_reencrypt_takes_a_trailing_slash_as_a_directory(
    run_inproc: Runner, tmp_path: Path
) -> None:
    key = run_inproc("key", "create").out.strip()
    _files(tmp_path, "a")
    run_inproc("encrypt", "-k", key, "a")
    result = run_inproc("reencrypt", "-k", key, "-o", "moved/", "a.kms")
    assert result.status == 0, result.err
    assert (tmp_path / "moved" / "a.kms").is_file()


# -- cancel-deletion ------------------------------------------------------------------------------


def test_cancel_deletion_says_the_key_is_disabled_and_how_to_enable_it(
    run_inproc: Runner,
) -> None:
    key = run_inproc("key", "create").out.strip()
    run_inproc("key", "schedule-deletion", key, "--yes")
    result = run_inproc("key", "cancel-deletion", key)
    assert result.status == 0
    assert result.out == ""
    assert "Disabled" in result.err and f"kmscli key enable {key}" in result.err
    run_inproc("key", "schedule-deletion", key, "--yes")
    quiet = run_inproc("key", "cancel-deletion", key, "-q")
    assert quiet.status == 0 and quiet.err == ""
    run_inproc("key", "schedule-deletion", key, "--yes")
    as_json = run_inproc("key", "cancel-deletion", key, "--json")
    assert json.loads(as_json.out)["KeyId"].endswith(key)
    assert "Disabled" in as_json.err
