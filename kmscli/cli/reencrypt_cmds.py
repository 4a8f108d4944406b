"""`kmscli reencrypt`: put messages and ciphertext blobs under another key.

Owns the command: which output each input goes to (by default the input itself, replaced
atomically, through a symbolic link and keeping its mode; `-o` for another file or directory;
stdin to stdout), refusing an in-place run that would leave old copies under other hard links
(--header-only always, a full re-encryption without -f), telling blobs from messages, and
reporting per file. A blob goes through the service's ReEncrypt; a message through the
envelope layer, which decrypts and encrypts it again under a new data key, or, for an unsigned
message and only with --header-only, rewrites its header and copies the body unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from kmscli.cli.context import Environment
from kmscli.cli.files import (
    Job,
    make_output_directory,
    names_directory,
    open_source,
    refuse_binary_to_terminal,
)
from kmscli.cli.jobs import (
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
from kmscli.cli.output import notice, verbose
from kmscli.cli.params import KEY, grant_token_option, parse_context
from kmscli.cli.progress import progress_for
from kmscli.cli.root import cli
from kmscli.errors import UsageError


def _plan(files: Sequence[str], output: str | None) -> list[Job]:
    sources = [None if f == "-" else Path(f) for f in files] or [None]
    if sources.count(None) > 1:
        raise UsageError("stdin ('-') can be read only once")
    if len(sources) > 1 and None in sources:
        raise UsageError("stdin cannot be mixed with files")
    if output == "-":
        if len(sources) > 1:
            raise UsageError("-o - takes a single input")
        return [Job(sources[0], None)]
    if output is None:
        return [Job(source, source) for source in sources]
    target = Path(output)
    if names_directory(output):  # -o DIR/: a directory, made if missing, never a file DIR
        if None in sources:
            raise UsageError("stdin has no name to write into a directory; use -o FILE")
        make_output_directory(output)
    if target.is_dir():
        for source in sources:
            if source is None:
                raise UsageError("stdin has no name to write into a directory; use -o FILE")
        return [Job(s, target / s.name) for s in sources if s is not None]
    if len(sources) > 1:
        raise UsageError(f"with several FILEs, -o must be a directory: '{output}'")
    return [Job(sources[0], target)]


def _in_place(job: Job) -> bool:
    """Whether the output replaces the input itself (the default for reencrypt), through a
    symbolic link or another hard link of it included."""
    if job.source is None or job.target is None:
        return False
    if job.target == job.source or job.target.resolve() == job.source.resolve():
        return True
    try:
        return os.path.samefile(job.source, job.target)
    except OSError:
        return False


def _check_other_names(env: Environment, job: Job, *, header_only: bool, force: bool) -> None:
    """Replacing a file in place gives its name a new file: other hard links of it keep the old
    ciphertext. --header-only is refused then (the old and new copies side by side are what
    its forgery risk needs); a full re-encryption needs -f, and says what it leaves."""
    assert job.source is not None
    try:
        links = os.stat(job.source).st_nlink
    except OSError:
        return  # reading it reports the error
    if links <= 1:
        return
    others = f"{links - 1} other name{'s' if links > 2 else ''} (hard links)"
    if header_only:
        raise UsageError(
            f"refusing --header-only for '{job.source}': it has {others} that would keep the "
            "old copy beside the new one",
            hints=[
                "--header-only keeps the data key and IV, so anyone with both copies can "
                "recover the authentication key and forge the body (see kmscli reencrypt --help)",
                "remove the other links first, or re-encrypt fully (without --header-only)",
            ],
        )
    if not force:
        raise UsageError(
            f"'{job.source}' has {others}: re-encrypting gives this name a new file, and the "
            "others keep the old ciphertext under the old key",
            hints=["remove the other links first, or use -f to re-encrypt this name anyway"],
        )
    notice(env, f"'{job.source}' has {others}: they keep the old ciphertext under the old key")


@command(cli, "reencrypt")
@click.argument("files", nargs=-1, metavar="[FILE]...")
@click.option(
    "-k",
    "--key",
    "keys",
    multiple=True,
    required=True,
    type=KEY,
    metavar="NEWKEY",
    help="Key to put the data under (ID, ARN, alias); repeatable for messages.",
)
@click.option(
    "-c",
    "--context",
    "context",
    multiple=True,
    metavar="K=V",
    help="Messages: pairs their context must hold. Blobs: their exact context.",
)
@click.option(
    "--new-context",
    multiple=True,
    metavar="K=V",
    help="Blobs: the context of the new blob (default: the same as -c).",
)
@click.option(
    "--source-key",
    "source_keys",
    multiple=True,
    type=KEY,
    metavar="KEY",
    help="Only this key may decrypt the input (strict, like decrypt -k); repeatable.",
)
@click.option(
    "-o",
    "--output",
    metavar="OUT",
    help="Output file or directory (DIR/ is made if missing); - for stdout.",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="Overwrite an existing -o output; in place, re-encrypt a file that has other hard links.",
)
@click.option(
    "--header-only",
    is_flag=True,
    help="Unsigned messages: rewrite only the header and copy the body (fast; see the caveat).",
)
@commitment_policy_option
@max_encrypted_data_keys_option
@max_frame_length_option
@grant_token_option
def reencrypt(
    files: tuple[str, ...],
    keys: tuple[str, ...],
    context: tuple[str, ...],
    new_context: tuple[str, ...],
    source_keys: tuple[str, ...],
    output: str | None,
    force: bool,
    header_only: bool,
    commitment_policy: str,
    max_encrypted_data_keys: int,
    max_frame_length: int,
    grant_tokens: tuple[str, ...],
) -> None:
    """Put encrypted files (messages or ciphertext blobs) under another key (ReEncrypt).

    Each FILE is replaced by its re-encrypted form, atomically (a failure leaves it as it
    was), keeping its permission bits; a symbolic link is followed (the file it names is
    replaced, the link stays). A FILE with other hard links is refused unless -f, since only
    this name gets the new file. -o writes elsewhere, and with no FILE, or -, stdin goes to
    stdout. A blob is
    re-encrypted by KMS ReEncrypt: the plaintext never leaves the keyring, and NEWKEY may be
    the ARN of a related multi-Region key in another region. A message is decrypted and
    encrypted again under a new data key wrapped by every NEWKEY, streaming, never on disk.

    With --header-only an unsigned message keeps its data key: only the header is rewritten
    (new encrypted data keys, new header tag) and the body is copied byte for byte, so a large
    file takes the time of a copy. The price: a re-wrapped version 2 header is authenticated
    again under the same key and IV, so anyone holding both the old and the new copy can
    recover the message's GCM authentication key and alter its body undetected. Use it only
    when no old copy survives (no backups, no snapshots; with -o or stdin, the input itself is
    such a copy). It is refused in place for a file with other hard links, which would keep
    the old copy. Signed messages are always encrypted again.

    \b
    Example:
      kmscli reencrypt -k alias/backups-2027 sealed/*.kms
      kmscli reencrypt -k "$NEWKEY" -c project=apollo secret.blob -o secret2.blob
    """
    from kmscli.message.suites import CommitmentPolicy

    env = environment()
    if grant_tokens:
        env.provider.grant_tokens = grant_tokens
    pairs = parse_context(context)
    new_pairs = parse_context(new_context, option="--new-context") if new_context else pairs
    jobs = _plan(files, output)
    refuse_binary_to_terminal(jobs, output)
    policy = CommitmentPolicy(commitment_policy)

    def one(job: Job) -> dict[str, Any]:
        from kmscli.envelope import reencrypt_stream

        in_place = _in_place(job)
        if in_place:
            _check_other_names(env, job, header_only=header_only, force=force)
        with io_errors(job), open_source(job) as (src, size, mode):
            stream, blob = message_or_blob(
                src, job.source_label, foreign_blobs=env.backend == "aws"
            )
            if blob is not None:
                return _reencrypt_blob(
                    env, job, blob, keys, source_keys, pairs, new_pairs, mode, force, in_place
                )
            with (
                sink(job, mode, overwrite=force, in_place=in_place) as (dst, commit),
                progress_for(env, size, job.source_label) as progress,
            ):
                result = reencrypt_stream(
                    stream,
                    dst,
                    provider=env.provider,
                    keys=keys,
                    commitment_policy=policy,
                    max_encrypted_data_keys=max_encrypted_data_keys,
                    max_frame_length=max_frame_length,
                    allowed_keys=source_keys,
                    required_context=pairs,
                    full=not header_only,
                    progress=progress,
                )
                commit()
        how = "re-wrapped" if result.rewrapped else "re-encrypted"
        verbose(
            env,
            f"{how} {job.source_label} -> {job.target_label}: {result.source_key_arn} -> "
            + ", ".join(result.key_arns),
        )
        return {
            "Input": job.source_label,
            "Output": job.target_label,
            "SourceKeyId": result.source_key_arn,
            "SourceKeyMaterialId": result.source_material_id,
            "KeyIds": list(result.key_arns),
            "BodyCopied": result.rewrapped,
        }

    run_jobs(jobs, env, one)


def _reencrypt_blob(
    env: Environment,
    job: Job,
    blob: bytes,
    keys: Sequence[str],
    source_keys: Sequence[str],
    pairs: dict[str, str],
    new_pairs: dict[str, str],
    mode: int,
    force: bool,
    in_place: bool,
) -> dict[str, Any]:
    if len(keys) > 1 or len(source_keys) > 1:
        raise UsageError("a ciphertext blob is under one key; give a single -k (and --source-key)")
    response = env.service.re_encrypt(
        blob,
        keys[0],
        source_encryption_context=pairs,
        destination_encryption_context=new_pairs,
        source_key=source_keys[0] if source_keys else None,
        grant_tokens=env.provider.grant_tokens,
    )
    if not deliver(env, job, response, "CiphertextBlob", mode, overwrite=force, in_place=in_place):
        return dict(response)
    verbose(
        env,
        f"re-encrypted {job.source_label} -> {job.target_label}: {response['SourceKeyId']} -> "
        f"{response['KeyId']}",
    )
    return {
        "Input": job.source_label,
        "Output": job.target_label,
        "SourceKeyId": response["SourceKeyId"],
        "SourceKeyMaterialId": response.get("SourceKeyMaterialId"),
        "KeyId": response["KeyId"],
        "DestinationKeyMaterialId": response.get("DestinationKeyMaterialId"),
    }
