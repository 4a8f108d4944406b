"""`kmscli key rotate` and `kmscli key rotation enable|disable|status|list`: key rotation.

Owns the commands of RotateKeyOnDemand, EnableKeyRotation, DisableKeyRotation,
GetKeyRotationStatus and ListKeyRotations. Each parses its arguments, calls one operation of the
backend and prints the result (text or --json); the schedules and rules are the KMS's.
"""

from __future__ import annotations

import click

from kmscli.cli.options import command, environment, subgroup
from kmscli.cli.output import emit_json, emit_record, emit_table, verbose
from kmscli.cli.params import KEY, key_id_or_arn
from kmscli.cli.root import key_group


@command(key_group, "rotate")
@click.argument("key", type=KEY)
def key_rotate(key: str) -> None:
    """Rotate a key now, whatever its schedule (RotateKeyOnDemand).

    KEY is a key ID, key ARN or alias of a symmetric customer managed key (a multi-Region key: its
    primary). The new material encrypts from now on; everything encrypted before keeps
    decrypting. At most 25 on-demand rotations per key (LimitExceededException); the automatic
    schedule does not move.

    \b
    Example:
      kmscli key rotate "$KEY" && kmscli key rotation list "$KEY"
    """
    env = environment()
    response = env.service.rotate_key_on_demand(key_id_or_arn(env, key))
    if env.json:
        emit_json(response)
    verbose(env, f"rotated {response['KeyId']}")


@subgroup(key_group, "rotation")
def rotation_group() -> None:
    """Automatic rotation of a key: turn it on or off, see when and what it rotated.

    Automatic rotation is off for customer managed keys until enabled; the first rotation is a
    period after enabling, then one every period. A rotation falls due on the real clock (no
    setting moves it) and is done by the first kmscli command after that instant. AWS managed
    keys rotate every 365 days by themselves.

    \b
    Example:
      kmscli key rotation enable "$KEY" --period-days 180
      kmscli key rotation status "$KEY"
    """


@command(rotation_group, "enable")
@click.argument("key", type=KEY)
@click.option(
    "--period-days",
    type=int,
    metavar="N",
    help="Days between rotations, 90..2560 (default 365).",
)
def rotation_enable(key: str, period_days: int | None) -> None:
    """Turn on automatic rotation, or change its period (EnableKeyRotation).

    KEY is a key ID, key ARN or alias of an enabled symmetric key with AWS_KMS material (for a
    multi-Region key, its primary; its replicas follow). The next rotation is a period from
    now; changing the period of an enabled schedule keeps its start.

    \b
    Example:
      kmscli key rotation enable "$KEY" --period-days 90
    """
    env = environment()
    env.service.enable_key_rotation(key_id_or_arn(env, key), period_days)


@command(rotation_group, "disable")
@click.argument("key", type=KEY)
def rotation_disable(key: str) -> None:
    """Turn off automatic rotation (DisableKeyRotation).

    KEY is a key ID, key ARN or alias. Materials made by past rotations stay and keep decrypting.

    \b
    Example:
      kmscli key rotation disable "$KEY"
    """
    env = environment()
    env.service.disable_key_rotation(key_id_or_arn(env, key))


@command(rotation_group, "status")
@click.argument("key", type=KEY)
def rotation_status(key: str) -> None:
    """Show whether a key rotates automatically, how often and when next (GetKeyRotationStatus).

    KEY is a key ID, key ARN or alias. A key pending deletion reads false until the deletion is
    cancelled.

    \b
    Example:
      kmscli key rotation status "$KEY" --json
    """
    env = environment()
    response = env.service.get_key_rotation_status(key_id_or_arn(env, key))
    if env.json:
        emit_json(response)
    else:
        emit_record(response)


@command(rotation_group, "list")
@click.argument("key", type=KEY)
@click.option(
    "--include-key-material",
    type=click.Choice(["ROTATIONS_ONLY", "ALL_KEY_MATERIAL"]),
    default="ROTATIONS_ONLY",
    show_default=True,
    help="ALL_KEY_MATERIAL also lists the original material.",
)
@click.option("--limit", type=int, metavar="N", help="At most N entries (1..1000, default 100).")
@click.option("--marker", metavar="M", help="Continue after a truncated list (its NextMarker).")
def rotation_list(
    key: str, include_key_material: str, limit: int | None, marker: str | None
) -> None:
    """List a key's rotations: each material, its state and when it came (ListKeyRotations).

    KEY is a key ID, key ARN or alias. KeyMaterialState is CURRENT for the material that
    encrypts and NON_CURRENT for older ones (they still decrypt); RotationType is AUTOMATIC or
    ON_DEMAND.

    \b
    Example:
      kmscli key rotation list "$KEY" --include-key-material ALL_KEY_MATERIAL
    """
    env = environment()
    response = env.service.list_key_rotations(
        key_id_or_arn(env, key),
        include_key_material=include_key_material,
        limit=limit,
        marker=marker,
    )
    if env.json:
        emit_json(response)
        return
    rows = [
        (
            r.get("KeyMaterialId", ""),
            r.get("KeyMaterialState", ""),
            r.get("RotationDate", ""),
            r.get("RotationType", ""),
        )
        for r in response["Rotations"]
    ]
    emit_table(["KeyMaterialId", "KeyMaterialState", "RotationDate", "RotationType"], rows)
    if response.get("NextMarker"):
        verbose(env, f"more entries: --marker {response['NextMarker']}")
