"""kmscli runs on POSIX systems only: elsewhere it says so at start-up (exit 2), no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.launchers import REPO

# Windows' Python has no fcntl module: this start-up of the tree's kmscli makes its import fail
# the same way, before anything of kmscli is imported.
_WITHOUT_FCNTL = (
    "import sys; sys.modules['fcntl'] = None; "
    f"sys.path.insert(0, {str(REPO)!r}); "
    "from kmscli.cli.main import main; sys.argv[0] = 'kmscli'; main()"
)


@pytest.mark.parametrize("args", [["key", "create"], ["encrypt", "notes.txt"], ["--version"]])
def test_a_system_without_posix_locks_gets_a_clear_error(
    args: list[str], kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("notes\n")
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_FCNTL, *args],
        env=kmscli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "kmscli: error: UnsupportedOperationException: kmscli needs a POSIX system (Linux, macOS)"
    ), result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "keyring").exists() and not (tmp_path / "notes.txt.kms").exists()
