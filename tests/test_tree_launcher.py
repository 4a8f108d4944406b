"""The subprocess tests run the working tree's code, never a stale installed kmscli."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cheap_kdf import CHEAP_ITERATIONS, CHEAP_LANES, CHEAP_MEMORY_KIB
from tests.conftest import KMSCLI, Runner
from tests.launchers import REPO


def test_the_launcher_imports_kmscli_from_the_tree(tmp_path: Path) -> None:
    probe = (
        "import runpy, sys\n"
        "sys.argv = [sys.argv[1], '--version']\n"
        "try:\n"
        "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sys.modules['kmscli'].__file__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, KMSCLI],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert Path(done.stdout.strip().splitlines()[-1]) == REPO / "kmscli" / "__init__.py"


def test_the_launcher_refuses_a_kmscli_from_elsewhere(tmp_path: Path) -> None:
    # A launcher whose tree is not where kmscli is imported from must not run anything.
    elsewhere = tmp_path / "elsewhere" / "kmscli"
    elsewhere.mkdir(parents=True)
    (elsewhere / "__init__.py").write_text("__version__ = 'stale'\n")
    stale = Path(KMSCLI).read_text().replace(str(REPO), str(tmp_path / "elsewhere"), 1)
    copy = tmp_path / "kmscli"
    copy.write_text(stale.replace(repr(str(tmp_path / "elsewhere" / "kmscli")), repr("/nowhere")))
    done = subprocess.run(
        [sys.executable, str(copy), "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "not the tree" in done.stderr


def test_keyrings_made_by_the_tests_use_the_cheap_argon2_cost(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    # tests/cheap_kdf.py: test launchers (plain and time-travel) create cheap passphrase keyrings.
    from datetime import UTC, datetime

    env = {"KMSCLI_PASSPHRASE": "correct horse battery staple"}
    for home, now in (("plain", None), ("travelled", datetime(2030, 1, 1, tzinfo=UTC))):
        env["KMSCLI_HOME"] = str(tmp_path / home)
        made = run("keyring", "init", "--passphrase", env=env, now=now)
        assert made.status == 0, made.err
        header = (tmp_path / home / "header").read_bytes().split(b"\n")[0]
        kdf = json.loads(header)["kdf"]
        assert (kdf["memory_kib"], kdf["iterations"], kdf["lanes"]) == (
            CHEAP_MEMORY_KIB,
            CHEAP_ITERATIONS,
            CHEAP_LANES,
        )
        assert run("key", "create", env=env, now=now).status == 0
