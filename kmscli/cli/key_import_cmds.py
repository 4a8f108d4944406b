"""`kmscli key import-parameters|import-material|delete-material`: imported key material.

Owns the commands of GetParametersForImport (writing the wrapping public key and the import
token into a directory), ImportKeyMaterial and DeleteImportedKeyMaterial. Each parses its
arguments, calls one operation of the backend and prints the result; the checks of tokens,
material and expiry are the KMS's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_record
from kmscli.cli.params import BLOB_LIMIT, KEY, key_id_or_arn, read_input
from kmscli.cli.root import key_group
from kmscli.errors import UsageError
from kmscli.files.atomicoutput import AtomicOutput

PUBLIC_KEY_FILE = "PublicKey.bin"
IMPORT_TOKEN_FILE = "ImportToken.bin"  # noqa: S105 (a file name)


def _write_file(path: Path, data: bytes, *, force: bool) -> None:
    output = AtomicOutput(path, mode=0o600, overwrite=force)
    with output as handle:
        handle.write(data)
        output.commit()


@command(key_group, "import-parameters")
@click.argument("key", type=KEY)
@click.option(
    "--wrapping-algorithm",
    type=click.Choice(
        [
            "RSAES_OAEP_SHA_256",
            "RSAES_OAEP_SHA_1",
            "RSA_AES_KEY_WRAP_SHA_256",
            "RSA_AES_KEY_WRAP_SHA_1",
        ]
    ),
    default="RSAES_OAEP_SHA_256",
    show_default=True,
    help="How the material will be wrapped.",
)
@click.option(
    "--wrapping-key-spec",
    type=click.Choice(["RSA_2048", "RSA_3072", "RSA_4096"]),
    default="RSA_2048",
    show_default=True,
    help="Size of the RSA wrapping key.",
)
@click.option(
    "--out-dir",
    required=True,
    metavar="DIR",
    help=f"Directory for {PUBLIC_KEY_FILE} (DER) and {IMPORT_TOKEN_FILE}.",
)
@click.option("-f", "--force", is_flag=True, help="Overwrite existing files.")
def key_import_parameters(
    key: str, wrapping_algorithm: str, wrapping_key_spec: str, out_dir: str, force: bool
) -> None:
    """Get a wrapping key and import token for importing key material (GetParametersForImport).

    KEY is a key ID, key ARN or alias of a key created with --origin EXTERNAL. Writes the RSA public
    key (DER SubjectPublicKeyInfo) and the import token into DIR; both are valid for 24
    hours, and a new call replaces them. Wrap the 32-byte material with the public key, for
    instance with openssl pkeyutl (RSAES_OAEP_SHA_256: -pkeyopt rsa_padding_mode:oaep
    -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256), then run import-material.

    \b
    Example:
      mkdir -p import; kmscli key import-parameters "$EXTERNAL" --out-dir import/
      openssl pkeyutl -encrypt -pubin -keyform DER -inkey import/PublicKey.bin \\
        -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 \\
        -pkeyopt rsa_mgf1_md:sha256 -in material.bin -out wrapped.bin
    """
    env = environment()
    directory = Path(out_dir)
    if not directory.is_dir():
        raise UsageError(f"--out-dir '{out_dir}' is not a directory")
    response = env.service.get_parameters_for_import(
        key_id_or_arn(env, key), wrapping_algorithm, wrapping_key_spec
    )
    public_path = directory / PUBLIC_KEY_FILE
    token_path = directory / IMPORT_TOKEN_FILE
    _write_file(public_path, response["PublicKey"], force=force)
    _write_file(token_path, response["ImportToken"], force=force)
    if env.json:  # exactly GetParametersForImport's response; the files are in DIR
        emit_json(response)
        return
    emit_record(
        {
            "KeyId": response["KeyId"],
            "PublicKeyFile": str(public_path),
            "ImportTokenFile": str(token_path),
            "ParametersValidTo": response["ParametersValidTo"],
        }
    )


def _instant(text: str, option: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} '{text}' is not an ISO-8601 instant",
            hints=["for example 2027-06-30T00:00:00Z"],
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


@command(key_group, "import-material")
@click.argument("key", type=KEY)
@click.option(
    "--material", "material_file", required=True, metavar="FILE", help="Wrapped material."
)
@click.option("--token", "token_file", required=True, metavar="FILE", help="The import token.")
@click.option("--valid-to", metavar="ISO8601", help="When the material expires (≤ 365 days).")
@click.option("--no-expiry", is_flag=True, help="The material never expires.")
def key_import_material(
    key: str, material_file: str, token_file: str, valid_to: str | None, no_expiry: bool
) -> None:
    """Import wrapped key material into an EXTERNAL key (ImportKeyMaterial).

    KEY is a key ID, key ARN or alias. FILE holds the material wrapped with the public key of
    import-parameters, and --token its import token. Give either --valid-to (at most 365 days
    ahead; the material is deleted then and the key returns to PendingImport) or --no-expiry.
    Importing the same material again restores a key whose material was deleted or expired;
    different material is refused (IncorrectKeyMaterialException). Prints the KeyMaterialId.

    \b
    Example:
      kmscli key import-material "$EXTERNAL" --material wrapped.bin \\
        --token params/ImportToken.bin --no-expiry
    """
    env = environment()
    if valid_to is not None and no_expiry:
        raise UsageError("--valid-to and --no-expiry exclude each other")
    wrapped = read_input(material_file, limit=BLOB_LIMIT, what="wrapped key material")
    token = read_input(token_file, limit=BLOB_LIMIT, what="import token")
    response = env.service.import_key_material(
        key_id_or_arn(env, key),
        token,
        wrapped,
        expiration_model="KEY_MATERIAL_DOES_NOT_EXPIRE" if no_expiry else None,
        valid_to=None if valid_to is None else _instant(valid_to, "--valid-to"),
    )
    if env.json:
        emit_json(response)
    else:
        emit_line(response.get("KeyMaterialId", ""))


@command(key_group, "delete-material")
@click.argument("key", type=KEY)
@click.option("--key-material-id", metavar="ID", help="Which material (default: the current one).")
def key_delete_material(key: str, key_material_id: str | None) -> None:
    """Delete imported key material (DeleteImportedKeyMaterial); the key returns to PendingImport.

    KEY is a key ID, key ARN or alias of an EXTERNAL key. What the material encrypted decrypts again
    once the same material is imported again.

    \b
    Example:
      kmscli key delete-material "$IMPORTED"
    """
    env = environment()
    response: dict[str, Any] = env.service.delete_imported_key_material(
        key_id_or_arn(env, key), key_material_id
    )
    if env.json:
        emit_json(response)
