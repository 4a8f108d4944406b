"""A small tmpfs in a private mount namespace, for tests that need a full disk or a device node.

A sleeping `unshare -m` process holds the namespace: the tmpfs (and any device node made on it)
exists only there, never in the real /dev or on the real disk. Commands run inside it through
`nsenter`; the test reads and writes its files through `/proc/PID/root`. Needs root (as the
test machine is); without it, or without unshare/nsenter, the tests skip saying why.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


class PrivateTmpfs:
    """A tmpfs of `size` at `mountpoint`, seen only by the commands this object runs."""

    def __init__(self, holder: subprocess.Popen[bytes], mountpoint: Path) -> None:
        self.holder = holder
        self.mountpoint = mountpoint

    def view(self, inside: Path | str = "") -> Path:
        """Where this process reaches a path of the namespace (under the mount point)."""
        path = self.mountpoint / inside
        return Path(f"/proc/{self.holder.pid}/root") / path.relative_to("/")

    def command(self, args: Sequence[str], cwd: Path) -> list[str]:
        return ["nsenter", "-t", str(self.holder.pid), "-m", f"--wd={cwd}", "--", *args]

    def run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        input: bytes = b"",
        **options: Any,
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            self.command(args, cwd),
            env=dict(env),
            input=input,
            capture_output=True,
            timeout=120,
            check=False,
            **options,
        )

    def listing(self) -> list[str]:
        return sorted(os.listdir(self.view()))

    def fill(self, name: str = "filler") -> None:
        """Take every free block of the tmpfs, so that any further write fails (ENOSPC)."""
        chunk = b"\0" * 65536
        with open(self.view(name), "wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error

    def files_holding(self, marker: bytes) -> list[str]:
        """Names of the regular files on the tmpfs whose bytes contain `marker`."""
        found = []
        for name in self.listing():
            path = self.view(name)
            if path.is_file() and marker in path.read_bytes():
                found.append(name)
        return found


@contextmanager
def private_tmpfs(
    mountpoint: Path, size: str, *, without_proc: bool = False
) -> Iterator[PrivateTmpfs]:
    """Mount it, yield it, and end the namespace (and the tmpfs with it) afterwards.

    `without_proc` also unmounts /proc inside the namespace, as on a system without it: kmscli
    then cannot link an unnamed temp file and falls back to named ones."""
    if os.geteuid() != 0:
        pytest.skip("a private tmpfs needs root (unshare -m, mount)")
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            pytest.skip(f"a private tmpfs needs {tool} (util-linux)")
    mountpoint.mkdir(parents=True, exist_ok=True)
    script = 'mount -t tmpfs -o "size=$2,mode=0755" kmscli-test "$1" || exit 1\n'
    if without_proc:
        script += "umount -l /proc || exit 1\n"
    script += "echo ready\nexec sleep 600\n"
    holder = subprocess.Popen(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
            str(mountpoint),
            size,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        if holder.stdout.readline() != b"ready\n":
            holder.wait(timeout=10)
            assert holder.stderr is not None
            pytest.skip(f"cannot mount a private tmpfs: {holder.stderr.read().decode().strip()}")
        yield PrivateTmpfs(holder, mountpoint)
    finally:
        holder.kill()
        holder.wait()
        for pipe in (holder.stdout, holder.stderr):
            if pipe is not None:
                pipe.close()
