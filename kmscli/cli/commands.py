"""The whole command tree, every module loaded: for help generation, docs and tests.

kmscli itself never imports this: a run loads only the module of its command.
"""

from __future__ import annotations

from kmscli.cli.root import cli, load_all_commands

load_all_commands()

__all__ = ["cli"]
