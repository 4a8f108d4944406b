"""`kmscli key ...`: CreateKey, ListKeys, DescribeKey, Enable/DisableKey, UpdateKeyDescription."""

from __future__ import annotations

import click

from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_record, emit_table
from kmscli.cli.params import parse_pairs, read_text
from kmscli.cli.root import key_group


@command(key_group, "create")
@click.option("--description", default="", metavar="TEXT", help="Description (≤ 8192 chars).")
@click.option(
    "--key-spec", default="SYMMETRIC_DEFAULT", metavar="SPEC", show_default=True, help="Key spec."
)
@click.option("--key-usage", metavar="USAGE", help="Key usage (default ENCRYPT_DECRYPT).")
@click.option(
    "--origin",
    default="AWS_KMS",
    metavar="AWS_KMS|EXTERNAL",
    show_default=True,
    help="Where the key material comes from.",
)
@click.option("--multi-region", is_flag=True, help="Create a multi-Region primary key (mrk-...).")
@click.option("--policy", "policy_file", metavar="FILE", help="Key policy document (JSON).")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag the key (repeatable).")
@click.option("--alias", metavar="alias/NAME", help="Also create this alias for the key.")
@click.option(
    "--bypass-policy-lockout-safety-check",
    is_flag=True,
    help="Skip the check that you could still update the policy.",
)
def key_create(
    description: str,
    key_spec: str,
    key_usage: str | None,
    origin: str,
    multi_region: bool,
    policy_file: str | None,
    tags: tuple[str, ...],
    alias: str | None,
    bypass_policy_lockout_safety_check: bool,
) -> None:
    """Create a KMS key and print its key ID (CreateKey).

    Without --policy the key gets AWS's default key policy, which delegates to the account.

    \b
    Example:
      KEY=$(kmscli key create --description "nightly backups" --alias alias/backups)
    """
    env = environment()
    policy = read_text(policy_file, what="policy file") if policy_file is not None else None
    response = env.service.create_key(
        description=description,
        key_spec=key_spec,
        key_usage=key_usage,
        origin=origin,
        multi_region=multi_region,
        policy=policy,
        tags=parse_pairs(tags, option="--tag"),
        alias=alias,
        bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
    )
    if env.json:
        emit_json(response)
    else:
        emit_line(response["KeyMetadata"]["KeyId"])


@command(key_group, "list")
def key_list() -> None:
    """List the keys of the current region (ListKeys).

    On a terminal a table; piped, tab-separated lines under a header with the key ID, state,
    manager, spec, aliases and description; --json prints AWS's ListKeys shape.

    \b
    Example:
      kmscli key list --region eu-west-1
    """
    env = environment()
    if env.json:
        emit_json(env.service.list_keys())
        return
    aliases: dict[str, list[str]] = {}
    for entry in env.service.list_aliases()["Aliases"]:
        if "TargetKeyId" in entry:
            aliases.setdefault(entry["TargetKeyId"], []).append(entry["AliasName"])
    rows = [
        (r.key_id, r.state, r.key_manager, r.key_spec, aliases.get(r.key_id, []), r.description)
        for r in env.service.list_key_records()
    ]
    emit_table(["KeyId", "KeyState", "KeyManager", "KeySpec", "Aliases", "Description"], rows)


@command(key_group, "describe")
@click.argument("key")
def key_describe(key: str) -> None:
    """Show a key's metadata (DescribeKey).

    KEY is a key ID, key ARN, alias or alias ARN. Describing alias/aws/kmscli creates the AWS
    managed key if it does not exist yet, as AWS does for predefined aliases.

    \b
    Example:
      kmscli key describe alias/backups --json
    """
    env = environment()
    response = env.service.describe_key(key)
    if env.json:
        emit_json(response)
    else:
        emit_record(response["KeyMetadata"])


@command(key_group, "enable")
@click.argument("key")
def key_enable(key: str) -> None:
    """Enable a key (EnableKey).

    KEY is a key ID or key ARN. Enabling an enabled key succeeds and changes nothing.

    \b
    Example:
      kmscli key enable 1234abcd-12ab-34cd-56ef-1234567890ab
    """
    environment().service.enable_key(key)


@command(key_group, "disable")
@click.argument("key")
def key_disable(key: str) -> None:
    """Disable a key (DisableKey): it can no longer encrypt or decrypt until enabled.

    KEY is a key ID or key ARN. Cryptographic use then fails with DisabledException (exit 6);
    nothing encrypted under the key is lost.

    \b
    Example:
      kmscli key disable 1234abcd-12ab-34cd-56ef-1234567890ab
    """
    environment().service.disable_key(key)


@command(key_group, "update-description")
@click.argument("key")
@click.argument("text")
def key_update_description(key: str, text: str) -> None:
    """Replace a key's description (UpdateKeyDescription).

    KEY is a key ID or key ARN; TEXT may be up to 8192 characters, or empty.

    \b
    Example:
      kmscli key update-description "$KEY" "backups, 2027 onwards"
    """
    environment().service.update_key_description(key, text)
