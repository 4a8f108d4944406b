"""Shared fixtures: an isolated keyring per test and runners for the real `kmscli`.

`kmscli_env` points KMSCLI_HOME, the root key file and every platformdirs location into the
test's tmp_path and removes any KMSCLI_* / AWS_* variables of the outer environment, so tests
never touch the user's keyring. `run` starts `kmscli` as a real process from this working tree
(see `_tree_launcher`); `run_inproc` calls the same entry point in-process (faster, same code).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from tests.launchers import write_launcher


def _tree_launcher() -> str:
    """An executable `kmscli` that runs the code of this working tree, never an installed copy.

    Subprocess tests, Makefiles and shell snippets in tests call this file, so a stale
    `pip install .` cannot hide a regression in the tree: the launcher puts the tree first on
    sys.path and refuses to run if `kmscli` still resolves anywhere else.
    """
    return write_launcher("kmscli-tree-")


KMSCLI = _tree_launcher()
TREE_BIN = str(Path(KMSCLI).parent)


@dataclass
class Result:
    status: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode()

    @property
    def err(self) -> str:
        return self.stderr.decode()


def isolated_environment(base: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KMSCLI_", "AWS_")) and k not in ("NO_COLOR",)
    }
    env.update(
        {
            "KMSCLI_HOME": str(base / "keyring"),
            "KMSCLI_ROOT_KEY_FILE": str(base / "secrets" / "root.key"),
            "HOME": str(base / "userhome"),
            "XDG_CONFIG_HOME": str(base / "userhome" / ".config"),
            "XDG_DATA_HOME": str(base / "userhome" / ".local" / "share"),
            # A bare `kmscli` in a test's shell snippet is the tree's, never an installed one.
            "PATH": f"{TREE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


@pytest.fixture
def real_argon2() -> None:
    """Ask for this to create passphrase keyrings in-process at the product's real Argon2id cost."""


@pytest.fixture(autouse=True)
def cheap_argon2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyrings created in this process use a cheap Argon2id cost (tests/cheap_kdf.py)."""
    if "real_argon2" in request.fixturenames:
        return
    from kmscli.store import rootkey
    from tests.cheap_kdf import cheap_fresh

    monkeypatch.setattr(rootkey.Argon2Params, "fresh", cheap_fresh(rootkey))


@pytest.fixture
def kmscli_env(tmp_path: Path) -> dict[str, str]:
    return isolated_environment(tmp_path)


Runner = Callable[..., Result]


@pytest.fixture
def run(kmscli_env: dict[str, str], tmp_path: Path) -> Runner:
    """Run the tree's kmscli: run("key", "create", input=b"", env={...}, cwd=...).

    `now=` (tests only) runs it through the time-travel launcher of tests/timetravel.py."""

    def runner(
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 60,
        now: datetime | None = None,
    ) -> Result:
        full_env = dict(kmscli_env)
        full_env.update(env or {})
        program = KMSCLI
        if now is not None:
            from tests import timetravel

            program = timetravel.launcher()
            full_env[timetravel.TEST_NOW_VARIABLE] = timetravel.iso(now)
        done = subprocess.run(
            [program, *args],
            input=input if input is not None else b"",
            capture_output=True,
            env=full_env,
            cwd=cwd or tmp_path,
            timeout=timeout,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return runner


@pytest.fixture
def run_inproc(
    kmscli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfdbinary: pytest.CaptureFixture[bytes],
) -> Iterator[Runner]:
    """The same entry point in this process (stdin is empty unless `input` is given).

    `now=instant` moves kmscli's clock to that instant for the call (tests/timetravel.py)."""
    import io

    from kmscli.cli.context import Environment
    from kmscli.cli.main import run as main_run
    from tests.timetravel import fixed_clock

    for key in list(os.environ):
        if key.startswith(("KMSCLI_", "AWS_")):
            monkeypatch.delenv(key)
    for key, value in kmscli_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)

    def runner(
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        now: datetime | None = None,
        **_: object,
    ) -> Result:
        with monkeypatch.context() as patch:
            for key, value in (env or {}).items():
                patch.setenv(key, value)
            if now is not None:
                patch.setattr(Environment, "now", fixed_clock(now))
            stdin = io.TextIOWrapper(io.BytesIO(input or b""))
            patch.setattr(sys, "stdin", stdin)
            capfdbinary.readouterr()
            status = main_run(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
            captured = capfdbinary.readouterr()
        return Result(status, captured.out, captured.err)

    yield runner
