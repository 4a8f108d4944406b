"""Executable `kmscli` launchers that run this working tree's code, never an installed copy.

A launcher puts the tree first on sys.path, refuses to run if `kmscli` still resolves anywhere
else, installs the test-only cheap Argon2id cost (tests/cheap_kdf.py) and then runs any extra
test-only set-up lines before kmscli's own entry point. tests/conftest.py makes the plain one,
tests/timetravel.py the one whose clock a test moves.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_launcher(prefix: str, *setup: str) -> str:
    """The path of a new launcher in a temporary folder (removed at exit); `setup` are Python
    lines run after the cheap Argon2id cost is installed and before kmscli starts."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    path = folder / "kmscli"
    path.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "import kmscli\n"
        f"if not kmscli.__file__.startswith({str(REPO / 'kmscli')!r}):\n"
        "    sys.exit(f'kmscli test launcher: imported {kmscli.__file__}, not the tree')\n"
        "from tests.cheap_kdf import install_on_import\n"
        "install_on_import()\n"
        + "".join(f"{line}\n" for line in setup)
        + "from kmscli.cli.main import main\n"
        "main()\n"
    )
    path.chmod(0o755)
    return str(path)
