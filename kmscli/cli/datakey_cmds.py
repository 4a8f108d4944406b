"""`kmscli datakey generate|pair|decrypt` and `kmscli random`: data keys, data key pairs and
random bytes.

A plaintext data key never goes to a terminal unless --show-plaintext asks for it; it goes to a
file (mode 0600, written atomically) with --plaintext-out / -o, or to a pipe.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from kmscli.cli.files import refuse_directory_name
from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_table
from kmscli.cli.params import (
    BLOB_LIMIT,
    KEY,
    context_option,
    force_option,
    grant_token_option,
    parse_context,
    read_input,
)
from kmscli.cli.root import cli, datakey_group
from kmscli.errors import UsageError
from kmscli.files.atomicoutput import AtomicOutput


def write_private_file(path: str, data: bytes, *, force: bool) -> None:
    """Raw bytes to `path`, mode 0600, atomically."""
    refuse_directory_name(path)
    output = AtomicOutput(Path(path), mode=0o600, overwrite=force)
    with output as handle:
        handle.write(data)
        output.commit()


def refuse_plaintext_to_terminal(show_plaintext: bool) -> None:
    if sys.stdout.isatty() and not show_plaintext:
        raise UsageError(
            "refusing to print a plaintext data key to a terminal",
            hints=[
                "write it to a file with --plaintext-out FILE (or -o FILE), pipe the output, "
                "or add --show-plaintext"
            ],
        )


key_option = click.option(
    "-k",
    "--key",
    "key",
    required=True,
    type=KEY,
    metavar="KEY",
    help="KMS key: key ID, key ARN, alias or alias ARN.",
)
show_option = click.option(
    "--show-plaintext", is_flag=True, help="Allow a plaintext key on a terminal."
)


@command(datakey_group, "generate")
@key_option
@click.option("--key-spec", type=click.Choice(["AES_256", "AES_128"]), help="Default AES_256.")
@click.option(
    "--bytes",
    "number_of_bytes",
    type=int,
    metavar="1..1024",
    help="Length in bytes instead of --key-spec.",
)
@context_option
@click.option("--no-plaintext", is_flag=True, help="GenerateDataKeyWithoutPlaintext.")
@click.option("--ciphertext-out", metavar="FILE", help="Write the raw CiphertextBlob to FILE.")
@click.option("--plaintext-out", metavar="FILE", help="Write the raw plaintext key to FILE (0600).")
@force_option
@show_option
@grant_token_option
def datakey_generate(
    key: str,
    key_spec: str | None,
    number_of_bytes: int | None,
    context: tuple[str, ...],
    no_plaintext: bool,
    ciphertext_out: str | None,
    plaintext_out: str | None,
    force: bool,
    show_plaintext: bool,
    grant_tokens: tuple[str, ...],
) -> None:
    """Generate a data key under a KMS key (GenerateDataKey).

    Prints the wrapped key (CiphertextBlob) and the plaintext key in Base64, tab-separated
    under a header line, or writes either raw to a file. Keep the CiphertextBlob with your
    data; use the plaintext key, then discard it.

    \b
    Example:
      kmscli datakey generate -k alias/backups --ciphertext-out dek.blob --plaintext-out dek.bin
      kmscli datakey generate -k alias/backups --no-plaintext --json
    """
    env = environment()
    if no_plaintext and plaintext_out is not None:
        raise UsageError("--plaintext-out cannot be used with --no-plaintext")
    if key_spec is None and number_of_bytes is None:
        key_spec = "AES_256"
    response = env.service.generate_data_key(
        key,
        key_spec=key_spec,
        number_of_bytes=number_of_bytes,
        encryption_context=parse_context(context),
        with_plaintext=not no_plaintext,
        grant_tokens=grant_tokens,
    )
    if ciphertext_out is not None:
        write_private_file(ciphertext_out, response.pop("CiphertextBlob"), force=force)
    if plaintext_out is not None:
        write_private_file(plaintext_out, response.pop("Plaintext"), force=force)
    if "Plaintext" in response:
        refuse_plaintext_to_terminal(show_plaintext)
    if env.json:
        emit_json(response)
        return
    columns = [
        c for c in ("CiphertextBlob", "Plaintext", "KeyId", "KeyMaterialId") if c in response
    ]
    emit_table(columns, [[response[c] for c in columns]])


@command(datakey_group, "pair")
@key_option
@click.option(
    "--key-pair-spec",
    required=True,
    metavar="SPEC",
    help="Key pair spec: RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, "
    "ECC_NIST_P521, ECC_SECG_P256K1 or ECC_NIST_EDWARDS25519.",
)
@context_option
@click.option("--no-plaintext", is_flag=True, help="GenerateDataKeyPairWithoutPlaintext.")
@click.option(
    "--ciphertext-out", metavar="FILE", help="Write the raw PrivateKeyCiphertextBlob to FILE."
)
@click.option(
    "--private-key-out", metavar="FILE", help="Write the DER PKCS#8 private key to FILE (0600)."
)
@click.option("--public-key-out", metavar="FILE", help="Write the DER public key to FILE.")
@force_option
@show_option
@grant_token_option
def datakey_pair(
    key: str,
    key_pair_spec: str,
    context: tuple[str, ...],
    no_plaintext: bool,
    ciphertext_out: str | None,
    private_key_out: str | None,
    public_key_out: str | None,
    force: bool,
    show_plaintext: bool,
    grant_tokens: tuple[str, ...],
) -> None:
    """Generate a data key pair under a symmetric KMS key (GenerateDataKeyPair).

    Returns the public key (DER SubjectPublicKeyInfo), the private key as DER PKCS#8 and the
    private key encrypted under KEY (PrivateKeyCiphertextBlob, which `datakey decrypt` opens
    with the same -c context). --no-plaintext omits the plaintext private key
    (GenerateDataKeyPairWithoutPlaintext). Printed in Base64 under a header line unless written
    raw to files.

    \b
    Example:
      kmscli datakey pair -k alias/backups --key-pair-spec ECC_NIST_P256 \\
          --private-key-out pair.key --public-key-out pair.pub --ciphertext-out pair.blob
      kmscli datakey pair -k alias/backups --key-pair-spec RSA_2048 --no-plaintext --json
    """
    env = environment()
    if no_plaintext and private_key_out is not None:
        raise UsageError("--private-key-out cannot be used with --no-plaintext")
    response = env.service.generate_data_key_pair(
        key,
        key_pair_spec,
        encryption_context=parse_context(context),
        with_plaintext=not no_plaintext,
        grant_tokens=grant_tokens,
    )
    if ciphertext_out is not None:
        write_private_file(ciphertext_out, response.pop("PrivateKeyCiphertextBlob"), force=force)
    if private_key_out is not None:
        write_private_file(private_key_out, response.pop("PrivateKeyPlaintext"), force=force)
    if public_key_out is not None:
        write_private_file(public_key_out, response.pop("PublicKey"), force=force)
    if "PrivateKeyPlaintext" in response:
        refuse_plaintext_to_terminal(show_plaintext)
    if env.json:
        emit_json(response)
        return
    columns = [
        c
        for c in (
            "PrivateKeyCiphertextBlob",
            "PrivateKeyPlaintext",
            "PublicKey",
            "KeyId",
            "KeyPairSpec",
            "KeyMaterialId",
        )
        if c in response
    ]
    emit_table(columns, [[response[c] for c in columns]])


@command(datakey_group, "decrypt")
@click.argument("source", metavar="BLOBFILE|-")
@context_option
@click.option(
    "-k", "--key", "key", type=KEY, metavar="KEY", help="Require this key to have made the blob."
)
@click.option("-o", "--output", metavar="FILE", help="Write the raw plaintext key to FILE (0600).")
@force_option
@show_option
@grant_token_option
def datakey_decrypt(
    source: str,
    context: tuple[str, ...],
    key: str | None,
    output: str | None,
    force: bool,
    show_plaintext: bool,
    grant_tokens: tuple[str, ...],
) -> None:
    """Decrypt a wrapped data key (Decrypt) and print it in Base64, or write it raw with -o.

    BLOBFILE is a CiphertextBlob from datakey generate; -c gives the exact encryption context
    it was generated with. The plaintext key is refused on a terminal without --show-plaintext.

    \b
    Example:
      kmscli datakey generate -k alias/backups --no-plaintext --ciphertext-out dek.blob
      kmscli datakey decrypt dek.blob -o dek.bin
    """
    env = environment()
    blob = read_input(source, limit=BLOB_LIMIT, what="ciphertext blob")
    response = env.service.decrypt(
        blob, key=key, encryption_context=parse_context(context), grant_tokens=grant_tokens
    )
    if output is not None:
        write_private_file(output, response.pop("Plaintext"), force=force)
    else:
        refuse_plaintext_to_terminal(show_plaintext)
    if env.json:
        emit_json(response)
    elif "Plaintext" in response:
        import base64

        emit_line(base64.b64encode(response["Plaintext"]).decode())


@command(cli, "random")
@click.option(
    "--bytes",
    "number_of_bytes",
    type=int,
    metavar="1..1024",
    help="How many random bytes (required).",
)
@click.option("-o", "--output", metavar="FILE", help="Write the raw bytes to FILE (0600).")
@force_option
def random_bytes(number_of_bytes: int | None, output: str | None, force: bool) -> None:
    """Random bytes from the CSPRNG (GenerateRandom), in Base64 or raw to a file.

    --bytes takes 1 to 1024, as AWS allows; -o writes the raw bytes to a new file (mode 0600).

    \b
    Example:
      kmscli random --bytes 32 -o salt.bin
    """
    env = environment()
    response = env.service.generate_random(number_of_bytes)
    if output is not None:
        write_private_file(output, response["Plaintext"], force=force)
        return
    if env.json:
        emit_json(response)
    else:
        import base64

        emit_line(base64.b64encode(response["Plaintext"]).decode())
