"""`kmscli sign` and `kmscli verify`: digital signatures with asymmetric KMS keys (Sign, Verify).

Owns reading the message (a file of any size, or stdin: the service hashes what is over 4096
bytes and signs the digest), writing the signature (the same raw bytes to `-o FILE` and to a
redirected stdout, refused to a terminal as `encrypt` refuses; Base64 text with --base64), and
reading a signature back (raw, or Base64). Also the small binary-file helpers the other
asymmetric commands share (Base64 detection, PEM armour, binary outputs), and the words that
say what a verification found.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click

from kmscli.cli.context import Environment
from kmscli.cli.files import refuse_directory_name
from kmscli.cli.options import command, environment
from kmscli.cli.output import diagnostic, emit_json, verbose
from kmscli.cli.params import (
    BLOB_LIMIT,
    KEY,
    PUBLIC_KEY_LIMIT,
    force_option,
    grant_token_option,
    read_input,
)
from kmscli.cli.root import cli
from kmscli.errors import (
    InputOutputError,
    KmsError,
    KMSInvalidMacException,
    KMSInvalidSignatureException,
    UsageError,
)
from kmscli.files.atomicoutput import AtomicOutput

_BASE64_TEXT = re.compile(rb"\s*[A-Za-z0-9+/]+={0,2}\s*")
# PEM armour is found with str.find rather than a regex with a backreference and a lazy body,
# which takes quadratic time on a file of many BEGIN lines without their END.
_LABEL = re.compile(rb"[A-Z ]*")

key_option = click.option(
    "-k",
    "--key",
    "key",
    required=True,
    type=KEY,
    metavar="KEY",
    help="KMS key: key ID, key ARN, alias or alias ARN.",
)


def _binary(data: bytes) -> bytes:
    """Raw bytes as given, or the bytes of the Base64 text kmscli prints."""
    if _BASE64_TEXT.fullmatch(data):
        try:
            return base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            pass
    return data


def read_binary(source: str, *, what: str, limit: int = BLOB_LIMIT) -> bytes:
    """A binary value of at most `limit` bytes from FILE or `-`: raw bytes, or the Base64 text
    kmscli prints (the file may then be up to twice `limit`, for Base64 and line breaks)."""
    return _binary(read_input(source, limit=2 * limit, what=what))


def read_public_key(source: str) -> bytes:
    """A DER SubjectPublicKeyInfo from FILE or `-`, given as DER, PEM or Base64 DER."""
    data = read_input(source, limit=2 * PUBLIC_KEY_LIMIT, what="public key")
    body = _pem_body(data)
    if body is not None:
        try:
            return base64.b64decode(b"".join(body.split()), validate=True)
        except (binascii.Error, ValueError):
            raise UsageError(f"public key '{source}' is not valid PEM") from None
    return _binary(data)


def _markers(data: bytes, marker: bytes) -> Iterator[tuple[int, bytes, int]]:
    """Each `<marker>LABEL-----` in `data`, in order: (start, LABEL, end). Linear time."""
    pos = 0
    while (start := data.find(marker, pos)) >= 0:
        label_start = start + len(marker)
        label = _LABEL.match(data, label_start)
        label_end = label.end() if label is not None else label_start
        if label_end > label_start and data.startswith(b"-----", label_end):
            yield start, data[label_start:label_end], label_end + 5
        pos = label_end


def _pem_body(data: bytes) -> bytes | None:
    """The body of the first `-----BEGIN L-----` ... `-----END L-----` block, or None."""
    ends: dict[bytes, list[int]] = {}
    for start, label, _ in _markers(data, b"-----END "):
        ends.setdefault(label, []).append(start)
    for _, label, body_start in _markers(data, b"-----BEGIN "):
        positions = ends.get(label, [])
        index = bisect.bisect_left(positions, body_start)
        if index < len(positions):
            return data[body_start : positions[index]]
    return None


def pem(der: bytes, label: str = "PUBLIC KEY") -> bytes:
    """DER in PEM armour (RFC 7468): Base64 in 64-character lines."""
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    body = "\n".join(lines)
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode()


def write_output(path: str, data: bytes, *, force: bool, mode: int = 0o644) -> None:
    """Raw bytes to FILE atomically, or to stdout for `-`."""
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    refuse_directory_name(path)
    try:
        output = AtomicOutput(Path(path), mode=mode, overwrite=force)
        with output as handle:
            handle.write(data)
            output.commit()
    except IsADirectoryError:
        raise InputOutputError(f"cannot write '{path}': it is a directory") from None


base64_option = click.option(
    "--base64",
    "as_base64",
    is_flag=True,
    help="Write the value as one line of Base64 text instead of raw bytes.",
)


def refuse_binary_to_terminal(output: str | None, *, as_base64: bool, what: str) -> None:
    """Raw bytes never go to a terminal unasked (as `encrypt`): checked before the work."""
    if output is None and not as_base64 and sys.stdout.isatty():
        raise UsageError(
            f"refusing to write a binary {what} to a terminal",
            hints=[
                "redirect it, name a file with -o FILE, print Base64 with --base64, "
                "or force raw bytes with -o -"
            ],
        )


def deliver_binary(value: bytes, output: str | None, *, as_base64: bool, force: bool) -> None:
    """The value to -o FILE, or to stdout without -o: raw, or a Base64 line with --base64."""
    data = base64.b64encode(value) + b"\n" if as_base64 else value
    write_output("-" if output is None else output, data, force=force)


def _named(source: str) -> str:
    return "stdin" if source == "-" else f"'{source}'"


def report_valid(env: Environment, what: str, source: str, key_arn: str, algorithm: str) -> None:
    """A good signature or MAC says so on a terminal (stderr, as gpg does) unless -q or --json;
    into a pipe it stays silent, as it always was (with -v it says what was verified)."""
    message = f"{what} valid: {_named(source)} under key {key_arn} with {algorithm}"
    if not env.quiet and not env.json and sys.stderr.isatty():
        diagnostic(message)
    else:
        verbose(env, message)


def explain_mismatch(
    error: KMSInvalidSignatureException | KMSInvalidMacException,
    *,
    what: str,
    value_file: str,
    source: str,
    key: str,
    algorithm: str | None,
) -> KmsError:
    """`error` (AWS's message is empty) saying what did not match: which files, under which key
    and algorithm. Its code and exit status are kept; the wire of `serve` never sees this."""
    if not error.message.strip():
        used = error.algorithm or algorithm or "the key's default algorithm"
        error.message = (
            f"the {what} in {_named(value_file)} does not match the message {_named(source)} "
            f"under key {error.key_arn or key} with {used}"
        )
        error.hints = (
            *error.hints,
            f"a {what} made from other bytes, with another key or another --algorithm does "
            "not verify",
        )
    return error


@contextmanager
def open_message(source: str) -> Iterator[BinaryIO]:
    """The message stream of FILE or stdin (`-`); a file is closed afterwards, stdin is not."""
    if source == "-":
        yield sys.stdin.buffer
        return
    try:
        handle = Path(source).open("rb")  # noqa: SIM115 - closed by the with below
    except IsADirectoryError:
        raise InputOutputError(f"cannot read message '{source}': it is a directory") from None
    except OSError as error:
        raise InputOutputError(f"cannot read message '{source}': {error.strerror}") from None
    with handle:
        yield handle


algorithm_option = click.option(
    "--algorithm",
    "signing_algorithm",
    metavar="ALG",
    help="Signing algorithm (default: the key's first, e.g. RSASSA_PKCS1_V1_5_SHA_256, "
    "ECDSA_SHA_256, ED25519_SHA_512, ML_DSA_SHAKE_256).",
)
message_type_option = click.option(
    "--message-type",
    type=click.Choice(["RAW", "DIGEST", "EXTERNAL_MU"]),
    help="What FILE holds: the message (RAW, default), its digest (DIGEST) or an ML-DSA μ "
    "(EXTERNAL_MU). RAW messages over 4096 bytes are hashed locally and sent as DIGEST.",
)


@command(cli, "sign")
@click.argument("source", metavar="FILE|-")
@key_option
@algorithm_option
@message_type_option
@click.option(
    "-o",
    "--output",
    metavar="SIGFILE",
    help="Write the signature to SIGFILE (- for stdout, even a terminal).",
)
@base64_option
@force_option
@grant_token_option
def sign(
    source: str,
    key: str,
    signing_algorithm: str | None,
    message_type: str | None,
    output: str | None,
    as_base64: bool,
    force: bool,
    grant_tokens: tuple[str, ...],
) -> None:
    """Sign a file or stdin with an asymmetric SIGN_VERIFY key (Sign).

    A file of any size can be signed: up to 4096 bytes it is sent as the message; anything
    longer is hashed here as a stream with the algorithm's hash and signed as a DIGEST (ML-DSA:
    as its EXTERNAL_MU μ), which verifies with any tool that checks a signature of the whole
    file. Signatures are in the standard encodings: PKCS #1 for RSA, DER for ECDSA, raw for
    Ed25519 and ML-DSA. The signature is written raw, the same bytes to -o SIGFILE as to a
    redirected stdout, and is refused to a terminal (`-o -` forces it); --base64 writes it as
    one line of Base64 text; --json prints AWS's Sign response (the signature in Base64).

    \b
    Example:
      kmscli sign release.tar -k alias/release -o release.tar.sig
      kmscli sign release.tar -k alias/release > release.tar.sig
      kmscli sign release.tar -k alias/release --algorithm RSASSA_PSS_SHA_256 --json
    """
    env = environment()
    if not env.json:
        refuse_binary_to_terminal(output, as_base64=as_base64, what="signature")
    with open_message(source) as stream:
        response = env.service.sign_stream(
            key,
            stream,
            signing_algorithm=signing_algorithm,
            message_type=message_type,
            grant_tokens=grant_tokens,
        )
    if output is not None or not env.json:
        deliver_binary(response["Signature"], output, as_base64=as_base64, force=force)
    verbose(env, f"signed {source} with {response['KeyId']} ({response['SigningAlgorithm']})")
    if env.json:
        emit_json(response)


@command(cli, "verify")
@click.argument("source", metavar="FILE|-")
@key_option
@click.option(
    "--signature",
    "signature_file",
    required=True,
    metavar="SIGFILE",
    help="The signature: raw bytes, or Base64 text ('kmscli sign --base64').",
)
@algorithm_option
@message_type_option
@grant_token_option
def verify(
    source: str,
    key: str,
    signature_file: str,
    signing_algorithm: str | None,
    message_type: str | None,
    grant_tokens: tuple[str, ...],
) -> None:
    """Verify a signature of a file or stdin with an asymmetric key (Verify).

    The message is read as `kmscli sign` reads it (a file over 4096 bytes is hashed here and
    verified as a DIGEST), so signatures made by kmscli or by any other tool with the key's
    public key verify. A signature that does not verify is KMSInvalidSignatureException
    (exit 7), naming the key and algorithm; a valid one exits 0, saying so on a terminal
    (stderr, not with -q) and silent otherwise (--json prints AWS's Verify response).

    \b
    Example:
      kmscli sign release.tar -k alias/release -o release.tar.sig
      kmscli verify release.tar -k alias/release --signature release.tar.sig
    """
    env = environment()
    signature = read_binary(signature_file, what="signature")
    try:
        with open_message(source) as stream:
            response = env.service.verify_stream(
                key,
                stream,
                signature,
                signing_algorithm=signing_algorithm,
                message_type=message_type,
                grant_tokens=grant_tokens,
            )
    except KMSInvalidSignatureException as error:
        raise explain_mismatch(
            error,
            what="signature",
            value_file=signature_file,
            source=source,
            key=key,
            algorithm=signing_algorithm,
        ) from None
    report_valid(env, "signature", source, response["KeyId"], response["SigningAlgorithm"])
    if env.json:
        emit_json(response)
