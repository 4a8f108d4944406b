"""`kmscli key ...`: the KMS key operations, from CreateKey to the end of a key's life.

Owns the `key` commands: create, list, describe, enable, disable, update-description; deletion
(`schedule-deletion`, `cancel-deletion`); tags; multi-Region keys (`replicate`,
`update-primary-region`); asymmetric keys (`public-key`, `derive-shared-secret`). Rotation is
in kmscli.cli.key_rotation_cmds and imported material in kmscli.cli.key_import_cmds. Each
command parses its
arguments, calls one KmsService operation and prints the result (text or --json); the rules
are the service's.
"""

from __future__ import annotations

import sys

import click

from kmscli.cli.context import stdin_is_terminal
from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line, emit_record, emit_table, notice, verbose
from kmscli.cli.params import (
    KEY,
    KEY_POLICY_LIMIT,
    grant_token_option,
    key_id_or_arn,
    parse_pairs,
    read_policy,
)
from kmscli.cli.root import key_group
from kmscli.errors import UsageError


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
      KEY=$(kmscli key create --description "nightly backups" --alias alias/nightly)
    """
    env = environment()
    env.creates_keys = True  # a missing keyring is created (and announced): see open_keyring
    policy = read_policy(policy_file, limit=KEY_POLICY_LIMIT) if policy_file is not None else None
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
    if env.backend == "aws":
        rows = [
            (
                m["KeyId"],
                m["KeyState"],
                m["KeyManager"],
                m.get("KeySpec", ""),
                aliases.get(m["KeyId"], []),
                m.get("Description", ""),
            )
            for m in env.aws_service.list_key_metadata()
        ]
    else:
        rows = [
            (r.key_id, r.state, r.key_manager, r.key_spec, aliases.get(r.key_id, []), r.description)
            for r in env.local_service.list_key_records()
        ]
    emit_table(["KeyId", "KeyState", "KeyManager", "KeySpec", "Aliases", "Description"], rows)


@command(key_group, "describe")
@click.argument("key", type=KEY)
@grant_token_option
def key_describe(key: str, grant_tokens: tuple[str, ...]) -> None:
    """Show a key's metadata (DescribeKey).

    KEY is a key ID, key ARN, alias or alias ARN. Describing alias/aws/kmscli creates the AWS
    managed key if it does not exist yet, as AWS does for predefined aliases.

    \b
    Example:
      kmscli key describe alias/backups --json
    """
    env = environment()
    response = env.service.describe_key(key, grant_tokens=grant_tokens)
    if env.json:
        emit_json(response)
    else:
        emit_record(response["KeyMetadata"])


@command(key_group, "enable")
@click.argument("key", type=KEY)
def key_enable(key: str) -> None:
    """Enable a key (EnableKey).

    KEY is a key ID, key ARN or alias. Enabling an enabled key succeeds and changes nothing.

    \b
    Example:
      kmscli key enable "$KEY"
    """
    env = environment()
    env.service.enable_key(key_id_or_arn(env, key))


@command(key_group, "disable")
@click.argument("key", type=KEY)
def key_disable(key: str) -> None:
    """Disable a key (DisableKey): it can no longer encrypt or decrypt until enabled.

    KEY is a key ID, key ARN or alias. Cryptographic use then fails with DisabledException (exit 6);
    nothing encrypted under the key is lost.

    \b
    Example:
      kmscli key disable "$KEY"
    """
    env = environment()
    env.service.disable_key(key_id_or_arn(env, key))


@command(key_group, "update-description")
@click.argument("key", type=KEY)
@click.argument("text")
def key_update_description(key: str, text: str) -> None:
    """Replace a key's description (UpdateKeyDescription).

    KEY is a key ID, key ARN or alias; TEXT may be up to 8192 characters, or empty.

    \b
    Example:
      kmscli key update-description "$KEY" "backups, 2027 onwards"
    """
    env = environment()
    env.service.update_key_description(key_id_or_arn(env, key), text)


# -- deletion ------------------------------------------------------------------------------------


@command(key_group, "schedule-deletion")
@click.argument("key", type=KEY)
@click.option(
    "--days",
    type=int,
    metavar="7..30",
    help="Waiting period in days before the key is destroyed (default 30).",
)
@click.option("--yes", is_flag=True, help="Do not ask; required when stdin is not a terminal.")
def key_schedule_deletion(key: str, days: int | None, yes: bool) -> None:
    """Schedule a key for deletion after a waiting period (ScheduleKeyDeletion).

    KEY is a key ID, key ARN or alias. While the deletion is pending the key cannot be used
    (KMSInvalidStateException, exit 6) and cancel-deletion brings it back, disabled. When the
    period has passed, the key, all its material and its aliases are destroyed: whatever it
    encrypted can never be decrypted again. A multi-Region primary with replicas waits for
    their deletion first (PendingReplicaDeletion). Prints the deletion date.

    \b
    Example:
      kmscli key schedule-deletion "$KEY" --days 7 --yes
    """
    env = environment()
    key = key_id_or_arn(env, key)
    if not yes:
        if not stdin_is_terminal():
            raise UsageError(
                "scheduling a key for deletion needs --yes when stdin is not a terminal",
                hints=["everything the key encrypted becomes undecryptable once it is deleted"],
            )
        window = 30 if days is None else days
        if not click.confirm(
            f"kmscli: delete key {key} after {window} days? Data it encrypted will be lost",
            default=False,
            err=True,
        ):
            raise UsageError("not confirmed: the key was not scheduled for deletion")
    response = env.service.schedule_key_deletion(key, days)
    if env.json:
        emit_json(response)
    else:
        emit_line(str(response.get("DeletionDate") or response.get("KeyState", "")))


@command(key_group, "cancel-deletion")
@click.argument("key", type=KEY)
def key_cancel_deletion(key: str) -> None:
    """Cancel a pending deletion (CancelKeyDeletion); the key comes back disabled.

    KEY is a key ID, key ARN or alias of a key in PendingDeletion or PendingReplicaDeletion.
    Enable it again with `kmscli key enable` to use it.

    \b
    Example:
      kmscli key schedule-deletion "$KEY" --days 30 --yes
      kmscli key cancel-deletion "$KEY" && kmscli key enable "$KEY"
    """
    env = environment()
    response = env.service.cancel_key_deletion(key_id_or_arn(env, key))
    if env.json:
        emit_json(response)
    notice(
        env,
        f"the key is Disabled, as a cancelled deletion leaves it; to use it again: "
        f"kmscli key enable {key}",
    )


# -- tags ----------------------------------------------------------------------------------------


@command(key_group, "tag")
@click.argument("key", type=KEY)
@click.argument("tags", nargs=-1, required=True, metavar="K=V...")
def key_tag(key: str, tags: tuple[str, ...]) -> None:
    """Add or overwrite tags on a key (TagResource).

    KEY is a key ID, key ARN or alias. A tag key is 1..128 characters, a value 0..256; a key
    holds at most 50 tags; keys starting with aws: are reserved (TagException).

    \b
    Example:
      kmscli key tag "$KEY" team=storage cost-centre=42
    """
    env = environment()
    env.service.tag_resource(key_id_or_arn(env, key), parse_pairs(tags, option="K=V"))


@command(key_group, "untag")
@click.argument("key", type=KEY)
@click.argument("tag_keys", nargs=-1, required=True, metavar="K...")
def key_untag(key: str, tag_keys: tuple[str, ...]) -> None:
    """Remove tags from a key by tag key (UntagResource).

    KEY is a key ID, key ARN or alias; removing a tag the key does not have is not an error.

    \b
    Example:
      kmscli key untag "$KEY" cost-centre
    """
    env = environment()
    env.service.untag_resource(key_id_or_arn(env, key), list(tag_keys))


@command(key_group, "tags")
@click.argument("key", type=KEY)
@click.option("--limit", type=int, metavar="N", help="At most N tags (1..50, default 50).")
@click.option("--marker", metavar="M", help="Continue after a truncated list (its NextMarker).")
def key_tags(key: str, limit: int | None, marker: str | None) -> None:
    """List a key's tags (ListResourceTags).

    KEY is a key ID, key ARN or alias. Piped, one TagKey<TAB>TagValue line a tag under a header.

    \b
    Example:
      kmscli key tags "$KEY" --json
    """
    env = environment()
    response = env.service.list_resource_tags(key_id_or_arn(env, key), limit=limit, marker=marker)
    if env.json:
        emit_json(response)
        return
    emit_table(["TagKey", "TagValue"], [(t["TagKey"], t["TagValue"]) for t in response["Tags"]])


# -- multi-Region keys ---------------------------------------------------------------------------


@command(key_group, "replicate")
@click.argument("key", type=KEY)
@click.option("--replica-region", required=True, metavar="R", help="Region of the new replica.")
@click.option("--description", default="", metavar="TEXT", help="The replica's description.")
@click.option("--policy", "policy_file", metavar="FILE", help="The replica's key policy (JSON).")
@click.option("--tag", "tags", multiple=True, metavar="K=V", help="Tag the replica (repeatable).")
@click.option(
    "--bypass-policy-lockout-safety-check",
    is_flag=True,
    help="Skip the check that you could still update the replica's policy.",
)
def key_replicate(
    key: str,
    replica_region: str,
    description: str,
    policy_file: str | None,
    tags: tuple[str, ...],
    bypass_policy_lockout_safety_check: bool,
) -> None:
    """Replicate a multi-Region primary key into another region (ReplicateKey).

    KEY is the key ID, key ARN or alias of a multi-Region primary (mrk-...) in the current
    region. The replica has the same key ID and every version of the material, so anything
    encrypted in one region decrypts in the other; its policy, aliases, tags, description and
    enabled state are its own. One replica per region. Prints the replica's ARN.

    \b
    Example:
      kmscli key replicate "$MRK" --replica-region eu-west-1 --description "DR copy"
    """
    env = environment()
    policy = read_policy(policy_file, limit=KEY_POLICY_LIMIT) if policy_file is not None else None
    response = env.service.replicate_key(
        key_id_or_arn(env, key),
        replica_region,
        policy=policy,
        bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
        description=description,
        tags=parse_pairs(tags, option="--tag"),
    )
    if env.json:
        emit_json(response)
    else:
        emit_line(response["ReplicaKeyMetadata"]["Arn"])


@command(key_group, "update-primary-region")
@click.argument("key", type=KEY)
@click.argument("primary_region", metavar="REGION")
def key_update_primary_region(key: str, primary_region: str) -> None:
    """Make a replica of a multi-Region key its primary (UpdatePrimaryRegion).

    KEY is the key ID, key ARN or alias of the current primary (in the current region); REGION holds
    the replica that becomes primary, and the old primary becomes a replica. Rotation is then
    set and performed in the new primary's region.

    \b
    Example:
      kmscli key replicate "$MRK" --replica-region eu-west-1
      kmscli key update-primary-region "$MRK" eu-west-1
    """
    env = environment()
    env.service.update_primary_region(key_id_or_arn(env, key), primary_region)


# -- asymmetric keys -----------------------------------------------------------------------------


@command(key_group, "public-key")
@click.argument("key", type=KEY)
@click.option("-o", "--output", metavar="FILE", help="Write the public key to FILE.")
@click.option("--pem", "as_pem", is_flag=True, help="PEM instead of DER.")
@click.option("-f", "--force", is_flag=True, help="Overwrite FILE.")
@grant_token_option
def key_public_key(
    key: str, output: str | None, as_pem: bool, force: bool, grant_tokens: tuple[str, ...]
) -> None:
    """Get the public key of an asymmetric key (GetPublicKey).

    The key is a DER X.509 SubjectPublicKeyInfo (or PEM with --pem), usable by openssl and
    any other tool to verify signatures, encrypt for the key or agree a secret with it. Without
    -o, PEM is printed (DER only to a pipe); --json prints AWS's GetPublicKey response with
    the key's spec, usage and algorithms. Works on disabled keys, as in AWS.

    \b
    Example:
      kmscli key public-key alias/release --pem -o release.pub.pem
      kmscli sign f -k alias/release --algorithm RSASSA_PKCS1_V1_5_SHA_256 -o f.sig
      openssl dgst -sha256 -verify release.pub.pem -signature f.sig f
    """
    from kmscli.cli.sign_cmds import pem, write_output

    env = environment()
    response = env.service.get_public_key(key, grant_tokens=grant_tokens)
    der: bytes = response["PublicKey"]
    data = pem(der) if as_pem else der
    if output is not None:
        write_output(output, data, force=force)
        verbose(env, f"public key of {response['KeyId']} -> {output}")
    if env.json:
        emit_json(response)
        return
    if output is None:
        if not as_pem and sys.stdout.isatty():
            data = pem(der)
        write_output("-", data, force=False)


@command(key_group, "derive-shared-secret")
@click.argument("key", type=KEY)
@click.option(
    "--public-key",
    "public_key_file",
    required=True,
    metavar="FILE",
    help="The other party's public key: DER or PEM SubjectPublicKeyInfo on the key's curve.",
)
@click.option(
    "--algorithm",
    "key_agreement_algorithm",
    default="ECDH",
    show_default=True,
    metavar="ECDH",
    help="Key agreement algorithm.",
)
@click.option("-o", "--output", metavar="FILE", help="Write the raw shared secret to FILE (0600).")
@click.option("-f", "--force", is_flag=True, help="Overwrite FILE.")
@click.option("--show-plaintext", is_flag=True, help="Allow the secret on a terminal.")
@grant_token_option
def key_derive_shared_secret(
    key: str,
    public_key_file: str,
    key_agreement_algorithm: str,
    output: str | None,
    force: bool,
    show_plaintext: bool,
    grant_tokens: tuple[str, ...],
) -> None:
    """Agree a shared secret with a KEY_AGREEMENT key and a peer's public key (DeriveSharedSecret).

    KEY is an ECC_NIST_P256/P384/P521 key with key usage KEY_AGREEMENT; the secret is the raw
    ECDH (cofactor) shared secret, the same the peer derives from its private key and this
    key's public key (`key public-key`). Derive keys from it with a KDF before use. Written raw
    with -o (mode 0600), else printed in Base64 (not to a terminal without --show-plaintext).

    \b
    Example:
      kmscli key derive-shared-secret alias/agree --public-key peer.pub.pem -o secret.bin
      kmscli key public-key alias/agree --pem -o agree.pub.pem
      openssl pkeyutl -derive -inkey peer.pem -peerkey agree.pub.pem -out peer-secret.bin
    """
    import base64

    from kmscli.cli.datakey_cmds import refuse_plaintext_to_terminal, write_private_file
    from kmscli.cli.sign_cmds import read_public_key

    env = environment()
    peer = read_public_key(public_key_file)
    if output is None and not env.json:
        refuse_plaintext_to_terminal(show_plaintext)
    response = env.service.derive_shared_secret(
        key, peer, key_agreement_algorithm=key_agreement_algorithm, grant_tokens=grant_tokens
    )
    if output is not None:
        write_private_file(output, response["SharedSecret"], force=force)
    if env.json:
        emit_json(response)
    elif output is None:
        emit_line(base64.b64encode(response["SharedSecret"]).decode())
