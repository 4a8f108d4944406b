"""Test harness: run the tree's kmscli and SIGKILL it at the Nth file-system step of a migration.

    python tests/killpoint.py N COUNT_FILE kmscli-args...

Inside `kmscli.store.migration.migrate` (and only there), every call of os.open, os.mkdir,
os.fsync, os.replace, os.rename, os.unlink and os.rmdir is a step; the process kills itself
with SIGKILL just before step N (N = 0: never). When it is not killed, the number of steps it
took is written to COUNT_FILE, so a test can try every N from 1 to that number.

The patching happens in this harness process only: the product has no hook for it.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
STEPS = ("open", "mkdir", "fsync", "replace", "rename", "unlink", "rmdir")


def main() -> None:
    kill_at, count_file, args = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    sys.path.insert(0, str(REPO))
    from kmscli.store import migration

    state = {"active": False, "steps": 0}

    def step() -> None:
        if state["active"]:
            state["steps"] += 1
            if state["steps"] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    def counted(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*a: Any, **k: Any) -> Any:
            step()
            return original(*a, **k)

        return call

    for name in STEPS:
        setattr(os, name, counted(getattr(os, name)))
    original_migrate = migration.migrate

    def migrate(*a: Any, **k: Any) -> Any:
        state["active"] = True
        try:
            return original_migrate(*a, **k)
        finally:
            state["active"] = False

    migration.migrate = migrate
    atexit.register(lambda: count_file.write_text(str(state["steps"])))

    from kmscli.cli.main import main as kmscli_main

    sys.argv = ["kmscli", *args]
    kmscli_main()


if __name__ == "__main__":
    main()
