"""`kmscli mac generate` and `kmscli mac verify`: HMAC with GENERATE_VERIFY_MAC keys.

Owns reading the message (at most 4096 bytes, AWS's limit for GenerateMac and VerifyMac),
writing the MAC (raw, the same bytes to -o FILE and to a redirected stdout, refused to a
terminal; Base64 text with --base64), and reading it back for verification.
"""

from __future__ import annotations

import click

from kmscli.cli.options import command, environment, subgroup
from kmscli.cli.output import emit_json, verbose
from kmscli.cli.params import force_option, grant_token_option, read_input
from kmscli.cli.root import cli
from kmscli.cli.sign_cmds import (
    base64_option,
    deliver_binary,
    explain_mismatch,
    key_option,
    read_binary,
    refuse_binary_to_terminal,
    report_valid,
)
from kmscli.errors import KMSInvalidMacException, ValidationException
from kmscli.kmsapi import MAX_MESSAGE


@subgroup(cli, "mac")
def mac_group() -> None:
    """Generate and verify HMACs with HMAC KMS keys (GenerateMac, VerifyMac).

    The key is an HMAC_224, HMAC_256, HMAC_384 or HMAC_512 key made with
    `key create --key-spec HMAC_256 --key-usage GENERATE_VERIFY_MAC`; its secret never leaves
    the keyring. Messages are at most 4096 bytes.

    \b
    Example:
      kmscli mac generate token.txt -k alias/tokens -o token.mac
      kmscli mac verify token.txt -k alias/tokens --mac token.mac
    """


mac_algorithm_option = click.option(
    "--algorithm",
    "mac_algorithm",
    metavar="ALG",
    help="HMAC_SHA_224|256|384|512: the key spec's one (default).",
)


@command(mac_group, "generate")
@click.argument("source", metavar="FILE|-")
@key_option
@mac_algorithm_option
@click.option(
    "-o",
    "--output",
    metavar="MACFILE",
    help="Write the MAC to MACFILE (- for stdout, even a terminal).",
)
@base64_option
@force_option
@grant_token_option
def mac_generate(
    source: str,
    key: str,
    mac_algorithm: str | None,
    output: str | None,
    as_base64: bool,
    force: bool,
    grant_tokens: tuple[str, ...],
) -> None:
    """Compute the HMAC of a message with an HMAC KMS key (GenerateMac).

    FILE (or stdin) holds at most 4096 bytes. The MAC is written raw, the same bytes to -o
    MACFILE as to a redirected stdout, and is refused to a terminal (`-o -` forces it);
    --base64 writes it as one line of Base64 text; --json prints AWS's GenerateMac response
    (the MAC in Base64).

    \b
    Example:
      kmscli mac generate token.txt -k alias/tokens -o token.mac
      kmscli mac generate token.txt -k alias/tokens --base64
    """
    env = environment()
    if not env.json:
        refuse_binary_to_terminal(output, as_base64=as_base64, what="MAC")
    message = read_input(source, limit=MAX_MESSAGE, what="message", error=ValidationException)
    response = env.service.generate_mac(
        key, message, mac_algorithm=mac_algorithm, grant_tokens=grant_tokens
    )
    if output is not None or not env.json:
        deliver_binary(response["Mac"], output, as_base64=as_base64, force=force)
    verbose(env, f"MAC of {source} with {response['KeyId']} ({response['MacAlgorithm']})")
    if env.json:
        emit_json(response)


@command(mac_group, "verify")
@click.argument("source", metavar="FILE|-")
@key_option
@click.option(
    "--mac",
    "mac_file",
    required=True,
    metavar="MACFILE",
    help="The MAC: raw bytes, or Base64 text ('mac generate --base64').",
)
@mac_algorithm_option
@grant_token_option
def mac_verify(
    source: str,
    key: str,
    mac_file: str,
    mac_algorithm: str | None,
    grant_tokens: tuple[str, ...],
) -> None:
    """Check the HMAC of a message with an HMAC KMS key (VerifyMac).

    Exits 0 when the MAC matches, saying so on a terminal (stderr, not with -q) and silent
    otherwise; a MAC that does not match is KMSInvalidMacException (exit 7), naming the key and
    algorithm. --json prints AWS's VerifyMac response.

    \b
    Example:
      kmscli mac generate token.txt -k alias/tokens -o token.mac
      kmscli mac verify token.txt -k alias/tokens --mac token.mac
    """
    env = environment()
    mac = read_binary(mac_file, what="MAC")
    message = read_input(source, limit=MAX_MESSAGE, what="message", error=ValidationException)
    try:
        response = env.service.verify_mac(
            key, message, mac, mac_algorithm=mac_algorithm, grant_tokens=grant_tokens
        )
    except KMSInvalidMacException as error:
        raise explain_mismatch(
            error, what="MAC", value_file=mac_file, source=source, key=key, algorithm=mac_algorithm
        ) from None
    report_valid(env, "MAC", source, response["KeyId"], response["MacAlgorithm"])
    if env.json:
        emit_json(response)
