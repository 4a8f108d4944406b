"""Running encrypt, decrypt and reencrypt jobs: outputs, I/O errors, format sniffing, reports.

Also the options that decrypt and reencrypt share for reading messages.

Owns what the file commands share once `kmscli.cli.files` has planned the jobs: where an output
goes (an atomic file, a device or FIFO written as a stream, both by `kmscli.files.atomicoutput`, or
stdout) and the commit that makes it appear, turning OSError into InputOutputError, telling a
message from a blob by its first byte, and running several jobs so that every failure is
reported and the first one sets the exit status.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

import click

from kmscli.cli.context import Environment
from kmscli.cli.files import Job, remove_unused_directories
from kmscli.cli.output import emit_json, report_error
from kmscli.errors import (
    AccessDeniedException,
    BackendUnavailableError,
    DisabledException,
    FormatError,
    InputOutputError,
    InvalidKeyUsageException,
    KeyringError,
    KmsError,
    KMSInvalidStateException,
    NotFoundException,
)
from kmscli.files.atomicoutput import AtomicOutput, current_umask, describe_os_error

BLOB_LIMIT = 6144

commitment_policy_option = click.option(
    "--commitment-policy",
    type=click.Choice(
        [
            "require-encrypt-require-decrypt",
            "require-encrypt-allow-decrypt",
            "forbid-encrypt-allow-decrypt",
        ]
    ),
    default="require-encrypt-require-decrypt",
    show_default=True,
    help="Which algorithm suites may be read (the ESDK's policies).",
)
max_encrypted_data_keys_option = click.option(
    "--max-encrypted-data-keys",
    type=click.IntRange(1, 65535),
    default=64,
    show_default=True,
    help="Refuse messages with more data keys than this.",
)
# 4 MiB: kmscli.message.decoder.DEFAULT_MAX_FRAME_LENGTH (not imported: it would load the decoder
# on every start); a test holds the two equal.
DEFAULT_MAX_FRAME_LENGTH = 4 * 1024 * 1024
max_frame_length_option = click.option(
    "--max-frame-length",
    type=click.IntRange(1, 2**36),
    default=DEFAULT_MAX_FRAME_LENGTH,
    show_default=True,
    metavar="BYTES",
    help="Refuse messages whose frames (or non-framed body) are larger: each frame is held in "
    "memory twice while it is decrypted.",
)


# Errors about what every job of a command shares (the keyring, the backend, and for encrypt the
# keys and context), not about one file: reported once, and no further file is touched.
SHARED_ERRORS: tuple[type[KmsError], ...] = (KeyringError, BackendUnavailableError)
KEY_ERRORS: tuple[type[KmsError], ...] = (
    NotFoundException,
    AccessDeniedException,
    DisabledException,
    KMSInvalidStateException,
    InvalidKeyUsageException,
)


def run_jobs(
    jobs: Sequence[Job],
    env: Environment,
    one: Callable[[Job], dict[str, Any]],
    *,
    shared_errors: tuple[type[KmsError], ...] = (),
) -> None:
    """Run each job; with several, report each failure, go on, exit with the first's status.

    With several FILEs, an error about one file names it; an error about what all jobs share
    (SHARED_ERRORS, and `shared_errors`: KEY_ERRORS for encrypt, whose keys are the same for
    every file) is reported once, and no further file is touched. The first job runs alone, so
    such an error is met before any other file is. With a backend that takes concurrent calls
    (aws), up to `env.concurrency` jobs then run at once on threads, so that thousands of small
    files keep the network busy rather than waiting on one KMS call after another; reports
    still come in the order of the files."""
    if len(jobs) == 1:
        try:
            _report([one(jobs[0])], jobs, env)  # a single job's failure propagates as it is
        except BaseException:
            remove_unused_directories()
            raise
        return
    shared = (*SHARED_ERRORS, *shared_errors)
    outcomes: list[Outcome] = [_outcome(one, jobs[0])]
    if isinstance(outcomes[0], shared):
        outcomes += [None] * (len(jobs) - 1)
    elif env.concurrency > 1:
        env.settings.no_progress = True  # one bar per concurrent file would be noise
        _ = env.service, env.provider  # made once here, not raced for by the threads
        current_umask()  # where it cannot be read without setting it, read before the threads
        outcomes += _run_concurrently(jobs[1:], one, env.concurrency, shared)
    else:
        for job in jobs[1:]:
            stopped = outcomes[-1] is None or isinstance(outcomes[-1], shared)
            outcomes.append(None if stopped else _outcome(one, job))
    _report(outcomes, jobs, env, shared)


# A job's result document, its error, or None for a job never started.
Outcome = dict[str, Any] | KmsError | None


def _report(
    outcomes: Sequence[Outcome],
    jobs: Sequence[Job],
    env: Environment,
    shared: tuple[type[KmsError], ...] = (),
) -> None:
    first_failure: KmsError | None = None
    results: list[dict[str, Any]] = []
    skipped = outcomes.count(None)
    done = sum(isinstance(o, dict) for o in outcomes)
    if not done:
        remove_unused_directories()
    said_shared = False
    for job, outcome in zip(jobs, outcomes, strict=True):
        if outcome is None:
            continue
        if isinstance(outcome, KmsError):
            if isinstance(outcome, shared):
                if said_shared:
                    continue  # jobs that ran alongside met it too: it is said once
                said_shared = True
                if not done:
                    outcome.hints = (*outcome.hints, "no FILE was written")
                elif skipped:
                    what = "FILE was" if skipped == 1 else "FILEs were"
                    outcome.hints = (*outcome.hints, f"{skipped} more {what} not touched")
            elif len(jobs) > 1:
                _name_file(outcome, job)
            report_error(outcome, as_json=env.json)
            first_failure = first_failure or outcome
        else:
            results.append(outcome)
    if env.json and results and all(job.target is not None for job in jobs):
        emit_json({"Files": results})
    if first_failure is not None:
        raise click.exceptions.Exit(first_failure.exit_status)


def _name_file(error: KmsError, job: Job) -> None:
    """The error of one of several files says which, unless it already names it."""
    named = (f"'{job.source_label}'", f"'{job.target_label}'")
    if not any(name in error.message for name in named):
        error.message = f"'{job.source_label}': {error.message}"


def _outcome(one: Callable[[Job], dict[str, Any]], job: Job) -> dict[str, Any] | KmsError:
    try:
        return one(job)
    except KmsError as error:
        return error


def _run_concurrently(
    jobs: Sequence[Job],
    one: Callable[[Job], dict[str, Any]],
    workers: int,
    shared: tuple[type[KmsError], ...],
) -> list[Outcome]:
    """The outcomes of `jobs`, in order; after a shared error, jobs not yet started are not
    (None), and those already running end."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="job")
    try:
        futures = [pool.submit(_outcome, one, job) for job in jobs]
        outcomes: list[Outcome] = []
        for future in futures:
            if future.cancelled():
                outcomes.append(None)
                continue
            outcome = future.result()
            outcomes.append(outcome)
            if isinstance(outcome, shared):
                for pending in futures:
                    pending.cancel()
        return outcomes
    finally:
        # On an interrupt, jobs not started are dropped; running ones end (each output
        # appears whole or not at all).
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def sink(
    job: Job, mode: int, *, overwrite: bool, in_place: bool = False
) -> Iterator[tuple[BinaryIO, Callable[[], None]]]:
    """Where the output goes, and the commit that makes it appear (a flush for stdout).

    A file is an `AtomicOutput`; `in_place` (the input replaced by its new version) keeps the
    input's permission bits and owner."""
    if job.target is None:
        yield sys.stdout.buffer, sys.stdout.buffer.flush
        return
    output = AtomicOutput(job.target, mode=mode, overwrite=overwrite, in_place=in_place)
    with output as handle:
        yield handle, output.commit


def deliver(
    env: Environment,
    job: Job,
    response: Mapping[str, Any],
    member: str,
    mode: int,
    *,
    overwrite: bool,
    in_place: bool = False,
) -> bool:
    """The result of a direct KMS call: with --json to stdout, AWS's response document (binary
    members in Base64); otherwise the raw bytes of `member`, atomically. True if written raw."""
    if env.json and job.target is None:
        emit_json(response)
        return False
    with sink(job, mode, overwrite=overwrite, in_place=in_place) as (dst, commit):
        dst.write(response[member])
        commit()
    return True


@contextmanager
def io_errors(job: Job) -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        # The reader of the output went away: end quietly with 141, as documented (a bare
        # BrokenPipeError would reach click, which exits 1).
        raise click.exceptions.Exit(141) from None
    except OSError as error:
        where = job.target_label if error.filename is None else error.filename
        raise InputOutputError(describe_os_error(error, where)) from None


def _peekable(src: BinaryIO) -> io.BufferedReader:
    if isinstance(src, io.BufferedReader):
        return src
    return io.BufferedReader(cast(io.RawIOBase, src))


def is_message_start(head: bytes, *, foreign_blobs: bool) -> bool:
    """Whether `head` begins an ESDK message: version 2, or version 1 (of type 0x80, which an
    AWS KMS ciphertext blob, starting 0x01 0x02, is not; a pipe may show one byte only)."""
    if head[:1] == b"\x02":
        return True
    return head[:1] == b"\x01" and (not foreign_blobs or head[1:2] in (b"", b"\x80"))


def message_or_blob(
    src: BinaryIO, label: str, *, foreign_blobs: bool
) -> tuple[BinaryIO, bytes | None]:
    """Tell an ESDK message from a ciphertext blob, by its first bytes.

    Returns the stream (buffered, nothing consumed) and None for a message, or the blob's bytes.
    A kmscli blob starts with its magic; with `foreign_blobs` (the aws backend, whose blobs are
    AWS's own opaque format) anything else that is not a message and fits in a blob is one, for
    KMS Decrypt to judge. Anything else is not encrypted (exit 8)."""
    from kmscli.kms.blob import MAGIC, VERSION

    stream = _peekable(src)
    head = stream.peek(len(MAGIC))[: len(MAGIC)]
    if is_message_start(head, foreign_blobs=foreign_blobs):
        return cast(BinaryIO, stream), None
    if head.startswith(MAGIC) or (foreign_blobs and head):
        blob = stream.read(BLOB_LIMIT + 1)
        if blob.startswith(MAGIC) and len(blob) > len(MAGIC) and blob[len(MAGIC)] > VERSION:
            raise FormatError(
                f"'{label}' is a kmscli ciphertext blob of version {blob[len(MAGIC)]}; this "
                f"kmscli reads version {VERSION}",
                hints=["upgrade kmscli to decrypt it"],
            )
        if len(blob) <= BLOB_LIMIT:
            return cast(BinaryIO, stream), blob
    raise not_encrypted(label)


def not_encrypted(label: str) -> FormatError:
    return FormatError(
        f"'{label}' is not an AWS Encryption SDK message or a kmscli ciphertext blob"
    )
