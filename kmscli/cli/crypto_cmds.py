"""`kmscli encrypt`, `decrypt` and `inspect`: the main job.

Owns running each input/output job of `kmscli.cli.files` through the envelope layer (messages)
or the service (`--direct` ciphertext blobs), atomically into files or streaming to stdout, and
reporting per file. Several FILEs are done in turn (with the aws backend, several at once:
`kmscli.cli.jobs.run_jobs`); the exit status is that of the first failure, and every failure is
reported. With `--cache-max-age`, one `DataKeyCache` serves all the
jobs of the command (off by default), and is wiped when the command ends.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kmscli.cli.context import Environment
from kmscli.cli.files import Job, open_source, plan, refuse_binary_to_terminal
from kmscli.cli.jobs import (
    KEY_ERRORS,
    commitment_policy_option,
    deliver,
    io_errors,
    max_encrypted_data_keys_option,
    max_frame_length_option,
    message_or_blob,
    run_jobs,
    sink,
)
from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_record, verbose
from kmscli.cli.params import (
    KEY,
    context_option,
    force_option,
    grant_token_option,
    parse_context,
)
from kmscli.cli.progress import progress_for
from kmscli.cli.root import cli
from kmscli.errors import UsageError

if TYPE_CHECKING:
    from kmscli.datakeycache import DataKeyCache

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SUFFIX = ".kms"
AWS_MANAGED_KEY = "alias/aws/kmscli"
DIRECT_LIMIT = 4096

key_option = click.option(
    "-k",
    "--key",
    "keys",
    multiple=True,
    type=KEY,
    metavar="KEY",
    help="KMS key (ID, ARN, alias or alias ARN); repeatable.",
)
output_option = click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Output file, directory (several FILEs; DIR/ is made if missing), or - for stdout.",
)
suffix_option = click.option(
    "--suffix", default=DEFAULT_SUFFIX, show_default=True, help="Suffix of encrypted files."
)
RSA_ALGORITHMS = ("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256")
RSA_CIPHERTEXT_LIMIT = 512  # an RSA_4096 ciphertext
encryption_algorithm_option = click.option(
    "--encryption-algorithm",
    type=click.Choice(["SYMMETRIC_DEFAULT", *RSA_ALGORITHMS]),
    help="With an RSA ENCRYPT_DECRYPT key: RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 "
    "(--direct only on encrypt; raw RSA ciphertext on decrypt).",
)


def _cache_options(counted: str) -> Callable[[F], F]:
    """--cache-max-age, --cache-max-messages and --cache-max-bytes (`counted`: which bytes)."""
    options = [
        click.option(
            "--cache-max-age",
            type=float,
            metavar="SECONDS",
            help="Reuse data keys across the FILEs of this run for up to SECONDS (off by default).",
        ),
        click.option(
            "--cache-max-messages",
            type=click.IntRange(1, 2**32),
            metavar="N",
            help="With --cache-max-age: at most N messages per data key (default 2**32).",
        ),
        click.option(
            "--cache-max-bytes",
            type=click.IntRange(0, 2**63 - 1),
            metavar="N",
            help=f"With --cache-max-age: at most N {counted} per data key (default 2**63-1).",
        ),
    ]

    def decorate(function: F) -> F:
        for option in reversed(options):
            function = option(function)
        return function

    return decorate


def _data_key_cache(
    max_age: float | None, max_messages: int | None, max_bytes: int | None
) -> DataKeyCache | None:
    """The one cache of this command, or None: caching is off unless --cache-max-age is given."""
    if max_age is None:
        given = [
            name
            for name, value in (
                ("--cache-max-messages", max_messages),
                ("--cache-max-bytes", max_bytes),
            )
            if value is not None
        ]
        if given:
            raise UsageError(
                f"{' and '.join(given)} limit{'s' if len(given) == 1 else ''} data-key caching, "
                "which only --cache-max-age turns on",
                hints=["add --cache-max-age SECONDS"],
            )
        return None
    if not math.isfinite(max_age) or max_age <= 0:
        raise UsageError(f"--cache-max-age takes seconds greater than 0, got {max_age}")
    from kmscli.datakeycache import DEFAULT_MAX_BYTES, DEFAULT_MAX_MESSAGES, CacheLimits
    from kmscli.datakeycache import DataKeyCache as Cache

    return Cache(
        CacheLimits(
            max_age=max_age,
            max_messages=DEFAULT_MAX_MESSAGES if max_messages is None else max_messages,
            max_bytes=DEFAULT_MAX_BYTES if max_bytes is None else max_bytes,
        )
    )


def _cached(flag: bool) -> str:
    return " (cached data key)" if flag else ""


def _encryption_keys(env: Environment, keys: Sequence[str]) -> list[str]:
    if keys:
        return list(keys)
    if env.default_key:
        return [env.default_key]
    if env.backend == "aws":
        raise UsageError(
            "give -k KEY: with --backend aws there is no default key",
            hints=['set KMSCLI_KEY, or key = "alias/..." in the configuration file'],
        )
    return [AWS_MANAGED_KEY]


@command(cli, "encrypt")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@key_option
@output_option
@context_option
@suffix_option
@force_option
@click.option(
    "--frame-size",
    type=int,
    metavar="N",
    help="Frame length in bytes, a multiple of 128 (default 262144); decrypt reads frames "
    "above 4 MiB only with --max-frame-length.",
)
@click.option(
    "--algorithm",
    metavar="SUITE",
    help="AES_256_GCM_HKDF_SHA512_COMMIT_KEY (0x0478, default) or "
    "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384 (0x0578).",
)
@click.option(
    "--direct", is_flag=True, help="KMS Encrypt of at most 4096 bytes: a ciphertext blob."
)
@encryption_algorithm_option
@grant_token_option
@_cache_options("plaintext bytes")
def encrypt(
    files: tuple[str, ...],
    keys: tuple[str, ...],
    output: str | None,
    context: tuple[str, ...],
    suffix: str,
    force: bool,
    frame_size: int | None,
    algorithm: str | None,
    direct: bool,
    encryption_algorithm: str | None,
    grant_tokens: tuple[str, ...],
    cache_max_age: float | None,
    cache_max_messages: int | None,
    cache_max_bytes: int | None,
) -> None:
    """Encrypt files (or stdin) into AWS Encryption SDK messages.

    FILE is written to FILE.kms beside it; with no FILE, or -, stdin goes to stdout. The data
    key comes from the first -k key (GenerateDataKey) and is wrapped by every further -k key;
    without -k, KMSCLI_KEY or the AWS managed key alias/aws/kmscli is used (with --backend aws,
    -k or KMSCLI_KEY is needed). The output appears only once complete, with the input's
    permission bits minus the umask.

    With --cache-max-age, as with the ESDK's caching materials manager, one data key (one
    GenerateDataKey call) encrypts the FILEs of this run under the same keys and context until
    it is SECONDS old or has encrypted --cache-max-messages files or --cache-max-bytes bytes;
    stdin is never cached, and the signed suite refuses caching. The trade-off: whoever gets that
    one plaintext data key reads all those files, a KMS key disabled or revoked meanwhile goes
    on being used until the entry expires, and the audit trail shows one GenerateDataKey for
    many files.

    \b
    Example:
      kmscli encrypt backup.tar                 # writes backup.tar.kms
      kmscli encrypt -k alias/backups -c project=apollo -o out/ *.log
      kmscli encrypt -k alias/backups --cache-max-age 300 --cache-max-messages 1000 -o cached/ *.log
      tar c dir | kmscli encrypt -k alias/backups > dir.tar.kms
      kmscli encrypt --direct -k "$RSA_KEY" --encryption-algorithm RSAES_OAEP_SHA_256 pin.txt
    """
    from kmscli.message.encoder import DEFAULT_FRAME_LENGTH
    from kmscli.message.suites import DEFAULT_SUITE, suite_by_name

    env = environment()
    key_list = _encryption_keys(env, keys)
    # Under the AWS managed key, which it creates on first use, encrypt may create a missing
    # keyring too (the quickstart); under a named key it needs one (see open_keyring).
    env.creates_keys = AWS_MANAGED_KEY in key_list
    if grant_tokens:
        env.provider.grant_tokens = grant_tokens
    pairs = parse_context(context)
    cache = _data_key_cache(cache_max_age, cache_max_messages, cache_max_bytes)
    jobs = plan(files, output, suffix=suffix, decrypting=False)
    refuse_binary_to_terminal(jobs, output if not (direct and env.json) else "-")
    if encryption_algorithm not in (None, "SYMMETRIC_DEFAULT") and not direct:
        raise UsageError(
            f"--encryption-algorithm {encryption_algorithm} encrypts with KMS Encrypt itself",
            hints=["add --direct (RSA keys encrypt at most a few hundred bytes)"],
        )
    if direct:
        if frame_size is not None or algorithm is not None:
            raise UsageError("--frame-size and --algorithm do not apply to --direct")
        if cache is not None:
            raise UsageError("data-key caching does not apply to --direct: it has no data key")
        if len(key_list) > 1:
            raise UsageError("--direct encrypts under one key; give a single -k")
        run_jobs(
            jobs,
            env,
            lambda job: _encrypt_direct(env, job, key_list[0], pairs, force, encryption_algorithm),
            shared_errors=KEY_ERRORS,
        )
        return
    if env.json and any(job.target is None for job in jobs):
        raise UsageError("--json reports on output files; name one with -o FILE")
    suite = suite_by_name(algorithm) if algorithm is not None else DEFAULT_SUITE
    frame = frame_size if frame_size is not None else DEFAULT_FRAME_LENGTH
    if cache is not None and suite.signed:
        raise UsageError(
            f"data-key caching does not apply to the signed suite {suite.id_hex}: each message "
            "has its own signing key, in its encryption context",
            hints=["drop --algorithm, or drop --cache-max-age"],
        )

    def one(job: Job) -> dict[str, Any]:
        from kmscli.envelope import encrypt_stream

        with (
            io_errors(job),
            open_source(job) as (src, size, mode),
            sink(job, mode, overwrite=force) as (
                dst,
                commit,
            ),
        ):
            with progress_for(env, size, job.source_label) as progress:
                result = encrypt_stream(
                    src,
                    dst,
                    provider=env.provider,
                    keys=key_list,
                    encryption_context=pairs,
                    suite=suite,
                    frame_length=frame,
                    progress=progress,
                    plaintext_length=size,
                    cache=cache,
                )
            commit()
        verbose(
            env,
            f"encrypted {job.source_label} -> {job.target_label} under "
            + ", ".join(result.key_arns)
            + _cached(result.data_key_cached),
        )
        return {
            "Input": job.source_label,
            "Output": job.target_label,
            "KeyIds": list(result.key_arns),
            "AlgorithmSuite": suite.name,
            "PlaintextBytes": result.plaintext_bytes,
        }

    try:
        run_jobs(jobs, env, one, shared_errors=KEY_ERRORS)
    finally:
        if cache is not None:
            cache.clear()


def _encrypt_direct(
    env: Environment,
    job: Job,
    key: str,
    pairs: dict[str, str],
    force: bool,
    encryption_algorithm: str | None = None,
) -> dict[str, Any]:
    with io_errors(job), open_source(job) as (src, _size, mode):
        plaintext = src.read(DIRECT_LIMIT + 1)
        response = env.service.encrypt(
            key,
            plaintext,
            pairs,
            grant_tokens=env.provider.grant_tokens,
            encryption_algorithm=encryption_algorithm,
        )
        if not deliver(env, job, response, "CiphertextBlob", mode, overwrite=force):
            return dict(response)
    verbose(env, f"encrypted {job.source_label} -> {job.target_label} under {response['KeyId']}")
    return {"Input": job.source_label, "Output": job.target_label, "KeyId": response["KeyId"]}


@command(cli, "decrypt")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@key_option
@output_option
@context_option
@suffix_option
@force_option
@commitment_policy_option
@max_encrypted_data_keys_option
@max_frame_length_option
@encryption_algorithm_option
@grant_token_option
@_cache_options("message bytes")
def decrypt(
    files: tuple[str, ...],
    keys: tuple[str, ...],
    output: str | None,
    context: tuple[str, ...],
    suffix: str,
    force: bool,
    commitment_policy: str,
    max_encrypted_data_keys: int,
    max_frame_length: int,
    encryption_algorithm: str | None,
    grant_tokens: tuple[str, ...],
    cache_max_age: float | None,
    cache_max_messages: int | None,
    cache_max_bytes: int | None,
) -> None:
    """Decrypt messages (or ciphertext blobs) from files or stdin.

    FILE.kms is written to FILE. The key is found in the message; -k restricts which keys may
    be used. -c K=V requires those pairs in the message's encryption context (for a blob, -c is
    the exact context it was encrypted with). Output to a file appears only after the whole
    message, and its signature, verified; to stdout, frames are released as they verify and
    the last one only after the end verifies, so a damaged message exits 7 even if some
    plaintext was already written.

    With --cache-max-age, a data key unwrapped once (one Decrypt call) decrypts the further
    messages of this run with the same encrypted data key and context, within the same limits
    (--cache-max-bytes counts the messages' sizes; stdin is never cached). The trade-off: a KMS
    key disabled or revoked meanwhile goes on decrypting them until the entry expires, and the
    audit trail shows one Decrypt for many files.

    \b
    Example:
      kmscli decrypt big.tar.kms                # writes big.tar
      kmscli decrypt --cache-max-age 300 -o restored/ sealed/*.log.kms
      kmscli decrypt -k alias/backups -c project=apollo -o - notes.kms | less
      kmscli decrypt -k "$RSA_KEY" --encryption-algorithm RSAES_OAEP_SHA_256 secret.txt.kms
    """
    from kmscli.message.suites import CommitmentPolicy

    env = environment()
    pairs = parse_context(context)
    cache = _data_key_cache(cache_max_age, cache_max_messages, cache_max_bytes)
    if cache is not None and encryption_algorithm in RSA_ALGORITHMS:
        raise UsageError(
            f"data-key caching does not apply to --encryption-algorithm {encryption_algorithm}: "
            "raw RSA ciphertext has no data key"
        )
    jobs = plan(files, output, suffix=suffix, decrypting=True)
    refuse_binary_to_terminal(jobs, output)
    policy = CommitmentPolicy(commitment_policy)
    if grant_tokens:
        env.provider.grant_tokens = grant_tokens

    def one(job: Job) -> dict[str, Any]:
        from kmscli.envelope import decrypt_stream, read_header

        with io_errors(job), open_source(job) as (src, size, mode):
            if encryption_algorithm in RSA_ALGORITHMS:
                ciphertext = src.read(RSA_CIPHERTEXT_LIMIT + 1)
                return _decrypt_rsa(env, job, ciphertext, keys, encryption_algorithm, mode, force)
            stream, blob = message_or_blob(
                src, job.source_label, foreign_blobs=env.backend == "aws"
            )
            if blob is not None:
                return _decrypt_blob(env, job, blob, keys, pairs, mode, force)
            decryptor = read_header(
                stream,
                commitment_policy=policy,
                max_encrypted_data_keys=max_encrypted_data_keys,
                max_frame_length=max_frame_length,
            )
            with (
                sink(job, mode, overwrite=force) as (dst, commit),
                progress_for(env, size, job.source_label) as progress,
            ):
                result = decrypt_stream(
                    decryptor,
                    dst,
                    provider=env.provider,
                    allowed_keys=keys,
                    required_context=pairs,
                    progress=progress,
                    message_length=size,
                    cache=cache,
                )
                commit()
        verbose(
            env,
            f"decrypted {job.source_label} -> {job.target_label} with {result.key_arn}"
            + (f" (material {result.material_id})" if result.material_id else "")
            + _cached(result.data_key_cached),
        )
        return {
            "Input": job.source_label,
            "Output": job.target_label,
            "KeyId": result.key_arn,
            "KeyMaterialId": result.material_id,
            "EncryptionContext": dict(result.header.encryption_context),
            "AlgorithmSuite": result.header.suite.name,
            "PlaintextBytes": result.plaintext_bytes,
        }

    try:
        run_jobs(jobs, env, one)
    finally:
        if cache is not None:
            cache.clear()


def _decrypt_blob(
    env: Environment,
    job: Job,
    blob: bytes,
    keys: Sequence[str],
    pairs: dict[str, str],
    mode: int,
    force: bool,
) -> dict[str, Any]:
    if len(keys) > 1:
        raise UsageError("a ciphertext blob is decrypted by one key; give at most one -k")
    response = env.service.decrypt(
        blob,
        key=keys[0] if keys else None,
        encryption_context=pairs,
        grant_tokens=env.provider.grant_tokens,
    )
    if not deliver(env, job, response, "Plaintext", mode, overwrite=force):
        return dict(response)
    material = response.get("KeyMaterialId")  # AWS KMS answers it since 2025; moto does not
    verbose(
        env,
        f"decrypted {job.source_label} -> {job.target_label} with {response['KeyId']}"
        + (f" (material {material})" if material else ""),
    )
    return {
        "Input": job.source_label,
        "Output": job.target_label,
        "KeyId": response["KeyId"],
        "KeyMaterialId": material,
    }


def _decrypt_rsa(
    env: Environment,
    job: Job,
    ciphertext: bytes,
    keys: Sequence[str],
    algorithm: str,
    mode: int,
    force: bool,
) -> dict[str, Any]:
    """Raw RSA-OAEP ciphertext (from `encrypt --direct` or any RSA tool) with the key -k."""
    if len(keys) != 1:
        raise UsageError(
            f"--encryption-algorithm {algorithm} decrypts raw RSA ciphertext: give its key with -k"
        )
    response = env.service.decrypt(
        ciphertext,
        key=keys[0],
        grant_tokens=env.provider.grant_tokens,
        encryption_algorithm=algorithm,
    )
    if not deliver(env, job, response, "Plaintext", mode, overwrite=force):
        return dict(response)
    verbose(env, f"decrypted {job.source_label} -> {job.target_label} with {response['KeyId']}")
    return {"Input": job.source_label, "Output": job.target_label, "KeyId": response["KeyId"]}


@command(cli, "inspect")
@click.argument("source", metavar="FILE|-")
@max_encrypted_data_keys_option
def inspect(source: str, max_encrypted_data_keys: int) -> None:
    """Show a message's header (or a blob's key): no keyring needed.

    Prints the format version, algorithm suite, message ID, encryption context, encrypted data
    keys (provider and key ARN), content type, frame length and header size.

    \b
    Example:
      kmscli inspect big.tar.kms --json
    """
    from kmscli.kms.blob import looks_like_blob, parse_blob
    from kmscli.message.header import parse_header
    from kmscli.message.inspect import describe

    env = environment()
    job = Job(None if source == "-" else Path(source), None)
    with io_errors(job), open_source(job) as (src, _size, _mode):
        stream, raw = message_or_blob(src, job.source_label, foreign_blobs=env.backend == "aws")
        document: dict[str, Any]
        if raw is None:
            document = describe(
                parse_header(stream, max_encrypted_data_keys=max_encrypted_data_keys)
            )
        elif looks_like_blob(raw):
            blob = parse_blob(raw)
            document = {
                "Format": "kmscli ciphertext blob",
                "KeyId": blob.key_id,
                "KeyMaterialId": blob.material_id,
            }
        else:  # AWS's blob format is its own: only AWS KMS reads what is inside
            document = {"Format": "AWS KMS ciphertext blob", "Bytes": len(raw)}
    if env.json:
        emit_json(document)
    else:
        emit_record(document)
