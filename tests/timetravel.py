"""Time travel for tests only: kmscli itself always reads the real clock.

The product has no way to move "now" (no variable, option or setting: a user could otherwise
destroy keys before their waiting period ends). Tests that need a schedule to fall due move the
clock here, in the test harness, by replacing `Environment.now`, the one place the CLI reads
the time:

- in-process, `run_inproc(..., now=instant)` (tests/conftest.py) patches it for that call;
- in a real process, `run(..., now=instant)` starts `launcher()`, a test-only launcher that
  patches it before calling kmscli's entry point. It takes the instant from
  `TEST_NOW_VARIABLE`, which only this module reads; kmscli never does.

Prefer the in-process form; use the launcher only where a test needs a process.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import UTC, datetime

from kmscli.cli.context import Environment
from tests.launchers import write_launcher

TEST_NOW_VARIABLE = "KMSCLI_TEST_NOW"


def instant(text: str) -> datetime:
    """An ISO-8601 instant (`Z` or an offset; naive means UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def fixed_clock(moment: datetime) -> Callable[[Environment], datetime]:
    """A replacement for `Environment.now` that always answers `moment`."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")

    def now(_self: Environment) -> datetime:
        return moment

    return now


def install_from_test_variable() -> None:
    """In the test launcher's process: move kmscli's clock to $KMSCLI_TEST_NOW, if set."""
    text = os.environ.get(TEST_NOW_VARIABLE)
    if not text:
        return
    # Replacing the method is the point; and mypy types `now` as callable with `self` by name,
    # which a Callable[[Environment], datetime] does not promise.
    Environment.now = fixed_clock(instant(text))  # type: ignore[method-assign,assignment]


@functools.cache
def launcher() -> str:
    """An executable that runs this tree's kmscli with the clock of $KMSCLI_TEST_NOW."""
    return write_launcher(
        "kmscli-timetravel-",
        "from tests.timetravel import install_from_test_variable",
        "install_from_test_variable()",
    )
