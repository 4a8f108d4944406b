"""The progress bar of encrypt/decrypt: rich, on stderr, only where a person is watching.

Shown only when stderr is a terminal that may get escape sequences (no NO_COLOR, not TERM=dumb),
the input is larger than a few MB, and neither -q nor --no-progress was given. rich is imported
only then.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from kmscli.cli.context import Environment
from kmscli.cli.output import escapes_allowed

PROGRESS_THRESHOLD_BYTES = 4 * 1024 * 1024


@contextmanager
def progress_for(
    env: Environment, total: int | None, label: str
) -> Iterator[Callable[[int], None] | None]:
    if (
        env.quiet
        or env.settings.no_progress
        or total is None
        or total < PROGRESS_THRESHOLD_BYTES
        or not escapes_allowed(sys.stderr)
    ):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done: bar.advance(task, done)
