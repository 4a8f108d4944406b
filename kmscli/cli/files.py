"""Which input goes to which output for `encrypt` and `decrypt`, and how streams are opened.

Owns the naming rules of CLI.md: `FILE` → `FILE.kms` beside it (or in `-o DIR`), `FILE.kms` →
`FILE`, stdin → stdout for no FILE or `-`, `-o -` for stdout, several FILEs only with `-o DIR`,
`-o DIR/` (a trailing slash) always a directory, made if missing, never a file named DIR,
input == output refused, binary output to a terminal refused unless `-o -` says so.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, Final

from kmscli.errors import InputOutputError, UsageError

STDIO = "-"


class Job:
    """One input and where its result goes; None means stdin / stdout. (A plain class: far
    cheaper to create at import than a NamedTuple or a dataclass.)"""

    __slots__ = ("source", "target")

    def __init__(self, source: Path | None, target: Path | None) -> None:
        self.source: Final = source
        self.target: Final = target

    @property
    def source_label(self) -> str:
        return str(self.source) if self.source is not None else "<stdin>"

    @property
    def target_label(self) -> str:
        return str(self.target) if self.target is not None else "<stdout>"


def plan(files: Sequence[str], output: str | None, *, suffix: str, decrypting: bool) -> list[Job]:
    sources = [None if f == STDIO else Path(f) for f in files] or [None]
    if sources.count(None) > 1:
        raise UsageError("stdin ('-') can be read only once")
    if output is not None and names_directory(output):
        if None in sources:
            raise UsageError(
                f"stdin has no name to write into the directory '{output}'",
                hints=["name the output file with -o FILE, or use -o - for stdout"],
            )
        jobs = [_beside(s, Path(output), suffix, decrypting) for s in sources]
    elif len(sources) > 1:
        if output is None or output == STDIO:
            jobs = [_beside(s, None, suffix, decrypting) for s in sources]
        else:
            directory = Path(output)
            if not directory.is_dir():
                raise UsageError(
                    f"with several FILEs, -o must be a directory: '{output}'",
                    hints=[f"-o {output}/ (with a slash) creates the directory if it is missing"],
                )
            jobs = [_beside(s, directory, suffix, decrypting) for s in sources]
    else:
        jobs = [_single(sources[0], output, suffix, decrypting)]
    for job in jobs:
        _refuse_same_file(job)
    if output is not None and names_directory(output):
        make_output_directory(output)
    return jobs


def names_directory(output: str) -> bool:
    """Whether -o OUT names a directory by its spelling: a trailing slash, as `cp f dir/`."""
    return output.endswith("/") or (os.altsep is not None and output.endswith(os.altsep))


# Output directories this run made (-o DIR/), removed again if nothing was written into them.
_made_directories: list[Path] = []


def make_output_directory(output: str) -> None:
    """The directory -o DIR/ names, made (as `mkdir DIR` would: 0777 less the umask, its parent
    must exist) when it is missing, so that a trailing slash never gives a file named DIR."""
    directory = Path(output)
    try:
        directory.mkdir()
        _made_directories.append(directory)
    except FileExistsError:
        if not directory.is_dir():
            raise UsageError(
                f"-o '{output}' names a directory, and '{directory}' is not one"
            ) from None
    except OSError as error:
        raise InputOutputError(
            f"cannot create the output directory '{directory}': {error.strerror}"
        ) from None


def remove_unused_directories() -> None:
    """After a run that wrote nothing: the output directories it made go, if still empty."""
    while _made_directories:
        with suppress(OSError):
            _made_directories.pop().rmdir()


def refuse_directory_name(output: str) -> None:
    """For an option that names one output file: a trailing slash names a directory instead."""
    if output != STDIO and names_directory(output):
        raise UsageError(
            f"'{output}' names a directory (a trailing slash), and this writes one file",
            hints=[f"name the file, e.g. '{output}NAME'"],
        )


def _single(source: Path | None, output: str | None, suffix: str, decrypting: bool) -> Job:
    if output == STDIO:
        return Job(source, None)
    if output is not None:
        target = Path(output)
        if target.is_dir() and source is not None:
            return _beside(source, target, suffix, decrypting)
        return Job(source, target)
    if source is None:
        return Job(None, None)
    return _beside(source, None, suffix, decrypting)


def _beside(source: Path | None, directory: Path | None, suffix: str, decrypting: bool) -> Job:
    if source is None:
        raise UsageError("stdin cannot be mixed with files; name the output with -o")
    if decrypting:
        if not suffix or not source.name.endswith(suffix) or source.name == suffix:
            raise UsageError(
                f"'{source}' does not end in '{suffix}', so its output name is unknown",
                hints=["name the output with -o FILE, or give --suffix"],
            )
        name = source.name[: -len(suffix)]
    else:
        name = source.name + suffix
    return Job(source, (directory or source.parent) / name)


def _refuse_same_file(job: Job) -> None:
    if job.source is None or job.target is None:
        return
    same = job.source.resolve() == job.target.resolve()
    if not same and job.target.exists():
        try:
            same = os.path.samefile(job.source, job.target)
        except OSError:
            same = False
    if same:
        raise UsageError(f"input and output are the same file: '{job.source}'")


def refuse_binary_to_terminal(jobs: Sequence[Job], output: str | None) -> None:
    if output == STDIO:
        return
    if any(job.target is None for job in jobs) and sys.stdout.isatty():
        raise UsageError(
            "refusing to write binary output to a terminal",
            hints=["redirect it, name a file with -o FILE, or force it with -o -"],
        )


@contextmanager
def open_source(job: Job) -> Iterator[tuple[BinaryIO, int | None, int]]:
    """The input stream, its size when known, and the permission bits for the output: the
    input's (never setuid, setgid or sticky), or a new file's 0o666 for stdin; the output
    takes the umask off (see `kmscli.files.atomicoutput.output_mode`), as `cp` does."""
    if job.source is None:
        yield sys.stdin.buffer, None, 0o666
        return
    try:
        info = os.stat(job.source)
        if stat.S_ISDIR(info.st_mode):
            raise InputOutputError(f"cannot read '{job.source}': it is a directory")
        handle = job.source.open("rb")
    except OSError as error:
        raise InputOutputError(f"cannot read '{job.source}': {error.strerror}") from None
    with handle:
        size = info.st_size if stat.S_ISREG(info.st_mode) else None
        yield handle, size, stat.S_IMODE(info.st_mode) & 0o777
