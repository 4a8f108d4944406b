"""`kmscli principal access-key ...`: the access keys that `kmscli serve` verifies SigV4 with.

Each access key is mapped to one principal ARN: a request signed with it is that principal's
call, for policy evaluation and the audit trail. The records and their sealing are
`kmscli.server.access_keys`'s; this module parses and prints.
"""

from __future__ import annotations

import click

from kmscli.cli.options import command, environment, subgroup
from kmscli.cli.output import emit_json, emit_line, emit_table
from kmscli.cli.root import cli


@subgroup(cli, "principal")
def principal_group() -> None:
    """Credentials of the principals that call the keyring through kmscli serve.

    A principal is an IAM ARN (account root, user, role or assumed-role session). Policies
    name principals; kmscli serve learns who is calling from the access key a request is
    signed with.

    \b
    Example:
      kmscli principal access-key create arn:aws:iam::111122223333:user/alice
      kmscli principal access-key list
    """


@subgroup(principal_group, "access-key")
def access_key_group() -> None:
    """Create, list and delete the access keys kmscli serve accepts.

    An access key ID looks like AWS's (AKIA followed by 16 characters) and its secret is 40
    characters long; the secret is kept sealed in the keyring and shown once, at creation.

    \b
    Example:
      ID=$(kmscli principal access-key create arn:aws:iam::111122223333:user/alice | cut -f1)
      kmscli principal access-key delete "$ID"
    """


@command(access_key_group, "create")
@click.argument("principal_arn", metavar="PRINCIPAL")
def access_key_create(principal_arn: str) -> None:
    """Create an access key that signs requests as PRINCIPAL (like IAM CreateAccessKey).

    Prints the access key ID and the secret access key, tab-separated, for
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; with --json, IAM's {"AccessKey": {...}}
    shape with PrincipalArn added. The secret is not shown again: keep it or create another.

    \b
    Example:
      read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY < <(
        kmscli principal access-key create arn:aws:iam::111122223333:user/alice)
      export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    """
    from kmscli.server.access_keys import create_access_key

    env = environment()
    response = create_access_key(env.open_keyring(), principal_arn, env.now())
    if env.json:
        emit_json(response)
        return
    key = response["AccessKey"]
    emit_line(f"{key['AccessKeyId']}\t{key['SecretAccessKey']}")


@command(access_key_group, "list")
@click.option("--principal", "principal_arn", metavar="PRINCIPAL", help="Only this principal's.")
def access_key_list(principal_arn: str | None) -> None:
    """List access keys and the principals they sign for; never their secrets.

    One line per key: its ID, principal ARN, status and creation date; with --json, IAM's
    {"AccessKeyMetadata": [...]} shape with PrincipalArn added.

    \b
    Example:
      kmscli principal access-key list --principal arn:aws:iam::111122223333:user/alice
    """
    from kmscli.server.access_keys import list_access_keys

    env = environment()
    response = list_access_keys(env.open_keyring(), principal_arn)
    if env.json:
        emit_json(response)
        return
    rows = [
        (k["AccessKeyId"], k["PrincipalArn"], k["Status"], k["CreateDate"])
        for k in response["AccessKeyMetadata"]
    ]
    emit_table(["AccessKeyId", "PrincipalArn", "Status", "CreateDate"], rows)


@command(access_key_group, "delete")
@click.argument("access_key_id", metavar="ACCESS_KEY_ID")
def access_key_delete(access_key_id: str) -> None:
    """Delete an access key: requests signed with it are refused from now on.

    kmscli serve looks the key up on every request, so a running server refuses it at once
    (UnrecognizedClientException).

    \b
    Example:
      ID=$(kmscli principal access-key create arn:aws:iam::111122223333:user/alice | cut -f1)
      kmscli principal access-key delete "$ID"
    """
    from kmscli.server.access_keys import delete_access_key

    delete_access_key(environment().open_keyring(), access_key_id)
