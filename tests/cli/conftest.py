"""Fixtures shared by the CLI tests (tests/conftest.py has the runners and the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.authz_world import World
from tests.conftest import Runner


@pytest.fixture
def world(run_inproc: Runner, tmp_path: Path) -> World:
    """The two-account world of tests/cli/authz_world.py, in this test's keyring."""
    return World(run_inproc, tmp_path)
