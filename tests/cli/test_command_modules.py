"""The root group's table of command modules matches the tree, and a run loads only its module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from kmscli.cli.commands import cli
from kmscli.cli.root import COMMAND_MODULES

CLI_DIR = Path(__file__).resolve().parents[2] / "kmscli" / "cli"


def _modules_of(command: click.Command) -> set[str]:
    found = set()
    if command.callback is not None:
        found.add(command.callback.__module__.rsplit(".", 1)[-1])
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found |= _modules_of(sub)
    found.discard("root")
    return found


def test_every_top_level_command_is_in_the_table() -> None:
    assert set(cli.commands) == set(COMMAND_MODULES)
    for name, command in cli.commands.items():
        assert _modules_of(command) == set(COMMAND_MODULES[name]), name


def test_every_command_module_is_in_the_table() -> None:
    modules = {p.stem for p in CLI_DIR.glob("*_cmds.py")}
    listed = {m for group in COMMAND_MODULES.values() for m in group}
    assert modules == listed


def test_a_run_imports_only_the_module_of_its_command() -> None:
    probe = (
        "import sys\n"
        "from kmscli.cli.main import run\n"
        "run(['keyring', 'status', '--help'])\n"
        "loaded = sorted(m for m in sys.modules if m.endswith('_cmds'))\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "kmscli.cli.keyring_cmds"
