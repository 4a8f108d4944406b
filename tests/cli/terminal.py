"""Run the tree's `kmscli` on a real pseudo-terminal of a given size (tests only).

The window size is set on the terminal with TIOCSWINSZ, as a terminal emulator does; COLUMNS
and LINES are removed from the environment (COLUMNS is set when the test asks for it).
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import termios
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import KMSCLI


def on_terminal(
    env: Mapping[str, str],
    *args: str,
    columns: int = 80,
    columns_variable: int | None = None,
    cwd: Path | None = None,
    stdout_file: Path | None = None,
) -> tuple[int, bytes]:
    """stdin, stdout and stderr on a new pseudo-terminal of `columns` columns (stdout to
    `stdout_file` instead when given); the exit status and everything the terminal received,
    with the terminal's CR LF turned back into LF."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
    if columns_variable is not None:
        environment["COLUMNS"] = str(columns_variable)
    stdout = stdout_file.open("wb") if stdout_file is not None else None
    try:
        process = subprocess.Popen(
            [KMSCLI, *args],
            stdin=slave,
            stdout=stdout if stdout is not None else slave,
            stderr=slave,
            env=environment,
            close_fds=True,
            cwd=cwd or Path(env["HOME"]).parent,
        )
    finally:
        os.close(slave)
        if stdout is not None:
            stdout.close()
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    status = process.wait(timeout=60)
    return status, bytes(received).replace(b"\r\n", b"\n")
