"""README.md is checked against the code: the exit-status table and the commands it teaches."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from kmscli import errors
from kmscli.cli.commands import cli
from tests.conftest import Runner

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def _exit_table() -> dict[int, str]:
    section = README.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|(.*)\|(.*)\|\s*$", line)
        if match:
            rows[int(match[1])] = match[3]
    return rows


def test_the_exit_status_table_names_every_error_under_its_status() -> None:
    table = _exit_table()
    for _name, cls in inspect.getmembers(errors, inspect.isclass):
        if not issubclass(cls, errors.KmsError) or cls in (errors.KmsError, errors.KeyringError):
            continue
        assert cls.exit_status in table, f"README has no row for exit status {cls.exit_status}"
        names = table[cls.exit_status]
        if cls.exit_status == 2:
            continue  # the usage row lists the common ones and says "..."
        assert cls.code in names, f"README exit status {cls.exit_status} does not list {cls.code}"


def test_every_top_level_command_appears_in_the_readme() -> None:
    missing = [name for name in cli.commands if f"kmscli {name}" not in README]
    assert not missing, f"README.md never shows: {missing}"


def test_the_quickstart_is_two_commands() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert quickstart.splitlines() == [
        "pip install . && kmscli encrypt README.md",
        "pip install '.[test]' && python -m pytest",
    ]


def test_every_environment_variable_kmscli_reads_is_documented() -> None:
    from tests.test_docs import _variables_read

    missing = sorted(v for v in _variables_read() if not re.search(rf"`{v}\b", README))
    assert not missing, f"README.md does not name {missing}"


def test_key_rotation_list_shows_what_the_readme_says(run: Runner) -> None:
    assert 'kmscli key rotation list "$KEY"  ' in README
    said = " ".join(README.split("`key rotation list` shows", 1)[1].split(".")[0].split())
    assert said.startswith(", for each material a rotation added, its ID, its state")
    assert "`--include-key-material ALL_KEY_MATERIAL` adds the key's original material" in said
    key = run("key", "create").out.strip()
    assert run("key", "rotate", key).status == 0
    header, *rows = run("key", "rotation", "list", key).out.splitlines()
    assert header.split("\t") == [
        "KeyMaterialId",
        "KeyMaterialState",
        "RotationDate",
        "RotationType",
    ]
    assert [row.split("\t")[1::2] for row in rows] == [["CURRENT", "ON_DEMAND"]]
    _, *every = run(
        "key", "rotation", "list", key, "--include-key-material", "ALL_KEY_MATERIAL"
    ).out.splitlines()
    original = every[0].split("\t")
    assert len(every) == 2 and every[1] == rows[0]
    assert original[1:] == ["NON_CURRENT", "", ""] and original[0] != rows[0].split("\t")[0]
