"""The `kmscli` entry point: the one place where errors become messages and exit statuses.

Owns running the click tree without click's own error handling, so that every failure is
printed as `kmscli: error: <Code>: <message>` (plus hints, plus a JSON object with `--json`) and
exits with the documented status; interrupts exit 130; anything unexpected is a bug (exit 1,
traceback only with KMSCLI_DEBUG=1). The command modules are imported lazily by the root group
(see `kmscli.cli.root.COMMAND_MODULES`, where a new command module is registered).
"""

from __future__ import annotations

import io
import signal
import sys
from typing import NoReturn

import click

from kmscli.cli.context import Environment
from kmscli.cli.output import report_error
from kmscli.cli.root import cli
from kmscli.errors import (
    InputOutputError,
    Interrupted,
    KmsError,
    KMSInternalException,
    UnsupportedOperationException,
    UsageError,
)
from kmscli.files.atomicoutput import describe_os_error


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _print_traceback(error: BaseException) -> None:
    """The traceback of `error` on stderr (KMSCLI_DEBUG=1): where a bug or an error came from."""
    import traceback

    traceback.print_exception(error)


def _usage_error(error: click.UsageError) -> UsageError:
    hints = []
    message = error.format_message()
    if isinstance(error, click.NoSuchOption):
        from kmscli.cli.suggest import close_matches, did_you_mean

        message = f"No such option '{error.option_name}'."
        matches = close_matches(error.option_name, error.possibilities or ())
        if matches:
            hints.append(did_you_mean(matches))
    if error.ctx is not None:
        hints.append(f"see '{error.ctx.command_path} --help'")
    return UsageError(message, hints=hints)


def _platform_error() -> KmsError | None:
    """kmscli's keyring needs POSIX file locks (fcntl), which Windows' Python lacks."""
    try:
        import fcntl  # noqa: F401
    except ImportError:
        return UnsupportedOperationException(
            f"kmscli needs a POSIX system (Linux, macOS), not {sys.platform}",
            hints=["on Windows, run kmscli in WSL"],
        )
    return None


def run(argv: list[str] | None = None) -> int:
    """Run kmscli and return its exit status."""
    unsupported = _platform_error()
    if unsupported is not None:
        report_error(unsupported, as_json=False)
        return unsupported.exit_status
    env = Environment()
    cause: BaseException | None = None
    failure: KmsError
    try:
        result = cli.main(args=argv, prog_name="kmscli", standalone_mode=False, obj=env)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except click.UsageError as error:
        cause, failure = error, _usage_error(error)
    except (click.Abort, KeyboardInterrupt) as error:
        cause, failure = error, Interrupted("interrupted")
    except KmsError as error:
        cause, failure = error, error
    except BrokenPipeError:
        return 141
    except OSError as error:
        cause, failure = error, InputOutputError(describe_os_error(error))
    except Exception as error:
        cause = error
        failure = KMSInternalException(
            f"internal error: {type(error).__name__}: {error}",
            hints=[
                "this is a bug in kmscli; please report it with the command you ran",
                "run with KMSCLI_DEBUG=1 for a traceback",
            ],
        )
    if env.debug and cause is not None:
        _print_traceback(cause)
    report_error(failure, as_json=env.json)
    return failure.exit_status


def main() -> NoReturn:
    # A write past RLIMIT_FSIZE must fail with EFBIG (exit 10, temp file removed), not kill us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate)
    # Text the terminal's encoding cannot show (a description in a latin-1 locale) is written
    # as \uNNNN, never a UnicodeEncodeError; in JSON that is the same string.
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    status = run(sys.argv[1:])
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        status = status or 141
    sys.exit(status)
