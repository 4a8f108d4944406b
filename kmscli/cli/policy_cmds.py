"""`kmscli policy ...`: key policies, policy validation and simulation, identity policies, grants.

Owns the commands of GetKeyPolicy, PutKeyPolicy, ListKeyPolicies; `policy validate` (offline:
AWS's validation plus kmscli's lint warnings); `policy simulate` (a decision without the
operation); `policy identity put|get|list|delete` (IAM inline policies of users and roles);
and `policy grant create|list|list-retirable|retire|revoke`. The work is the KMS layer's: these
commands parse, call it and render.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import click

from kmscli.cli.options import command, environment, subgroup
from kmscli.cli.output import emit_json, emit_line, emit_record, emit_table, warning
from kmscli.cli.params import (
    IDENTITY_POLICY_LIMIT,
    KEY,
    KEY_POLICY_LIMIT,
    grant_token_option,
    key_id_or_arn,
    parse_context,
    parse_pairs,
    read_policy,
)
from kmscli.cli.root import policy_group
from kmscli.errors import UsageError


@command(policy_group, "get")
@click.argument("key", type=KEY)
@click.option(
    "--policy-name", default="default", show_default=True, help="The only one is default."
)
def policy_get(key: str, policy_name: str) -> None:
    """Print a key's policy document (GetKeyPolicy).

    KEY is a key ID, key ARN or alias. The document is printed as it was stored; a key created
    without --policy has AWS's default key policy.

    \b
    Example:
      kmscli policy get "$KEY" > policy.json
    """
    env = environment()
    response = env.service.get_key_policy(key_id_or_arn(env, key), policy_name)
    if env.json:
        emit_json(response)
    else:
        emit_line(response["Policy"])


@command(policy_group, "put")
@click.argument("key", type=KEY)
@click.argument("source", metavar="FILE|-")
@click.option(
    "--policy-name", default="default", show_default=True, help="The only one is default."
)
@click.option(
    "--bypass-policy-lockout-safety-check",
    is_flag=True,
    help="Skip the check that you could still update the policy.",
)
def policy_put(
    key: str, source: str, policy_name: str, bypass_policy_lockout_safety_check: bool
) -> None:
    """Replace a key's policy with the document in FILE, or stdin for - (PutKeyPolicy).

    The document is validated as AWS does, and refused if it would stop you from changing the
    policy again, unless --bypass-policy-lockout-safety-check is given.

    \b
    Example:
      kmscli policy put "$KEY" policy.json
    """
    policy = read_policy(source, limit=KEY_POLICY_LIMIT)
    env = environment()
    env.service.put_key_policy(
        key_id_or_arn(env, key),
        policy,
        policy_name,
        bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
    )


@command(policy_group, "list")
@click.argument("key", type=KEY)
def policy_list(key: str) -> None:
    """List the names of a key's policies; there is one, default (ListKeyPolicies).

    KEY is a key ID, key ARN or alias.

    \b
    Example:
      kmscli policy list "$KEY"
    """
    env = environment()
    response = env.service.list_key_policies(key_id_or_arn(env, key))
    if env.json:
        emit_json(response)
    else:
        for name in response["PolicyNames"]:
            emit_line(name)


@command(policy_group, "validate")
@click.argument("source", metavar="FILE|-")
@click.option(
    "--identity",
    is_flag=True,
    help="Check an identity (IAM) policy instead of a key policy.",
)
def policy_validate(source: str, identity: bool) -> None:
    """Check a policy document offline and warn about risky patterns.

    The document is validated exactly as PutKeyPolicy (or, with --identity, an identity policy
    put) would validate it, without a keyring: an invalid one exits 2 with the
    MalformedPolicyDocumentException message. A valid one may still draw warnings on stderr:
    Principal "*" without a condition, all of kms:* granted to someone other than the account,
    NotPrincipal with Allow, actions that match no KMS permission, statements AWS ignores.

    \b
    Example:
      kmscli policy validate policy.json
      kmscli policy validate --identity --json - < alice.json
    """
    from kmscli.policy import lint_policy, parse_identity_policy, parse_key_policy

    env = environment()
    limit = IDENTITY_POLICY_LIMIT if identity else KEY_POLICY_LIMIT
    text = read_policy(source, limit=limit)
    document = parse_identity_policy(text) if identity else parse_key_policy(text)
    warnings = lint_policy(document)
    for line in warnings:
        warning(env, line)
    kind = "identity" if identity else "key"
    if env.json:
        emit_json(
            {
                "Valid": True,
                "PolicyType": kind,
                "Statements": len(document.statements),
                "Warnings": warnings,
            }
        )
        return
    count = len(document.statements)
    summary = f"valid {kind} policy: {count} statement{'s' if count != 1 else ''}"
    if warnings:
        summary += f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
    emit_line(summary)


def _condition_values(values: tuple[str, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in parse_pairs(values, option="--condition"):
        if key in found:
            previous = found[key]
            found[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[key] = value
    return found


@command(policy_group, "simulate")
@click.option(
    "--key", "key", type=KEY, metavar="KEY", help="The key (ID, ARN, alias or alias ARN)."
)
@click.option("--action", required=True, metavar="kms:ACTION", help="The permission to test.")
@click.option(
    "-c",
    "--context",
    "context",
    multiple=True,
    metavar="K=V",
    help="Encryption context of the request (repeatable).",
)
@click.option(
    "--via-service",
    metavar="SERVICE",
    help="kms:ViaService of the request, e.g. ec2.us-east-1.amazonaws.com.",
)
@click.option(
    "--condition",
    "conditions",
    multiple=True,
    metavar="K=V",
    help="Any other condition key of the request, e.g. kms:GrantOperations=Decrypt "
    "(repeatable; repeating a key makes a list).",
)
def policy_simulate(
    key: str | None,
    action: str,
    context: tuple[str, ...],
    via_service: str | None,
    conditions: tuple[str, ...],
) -> None:
    """Show whether the caller (--as) may perform an action, and why, without performing it.

    The request is evaluated as the operation would evaluate it: the key policy, the caller's
    identity policies and the key's grants. The answer names the statements (key-policy:<Sid>,
    <identity policy>:<Sid>) or grants (grant:<GrantId>) that allowed or denied it. Exit
    status 0 when allowed, 5 when denied; the document is printed either way. Request condition
    keys not given with --condition are those kmscli's own command would send: the key spec's
    first algorithm (kms:SigningAlgorithm, kms:MacAlgorithm, kms:EncryptionAlgorithm),
    kms:MessageType RAW, kms:KeyAgreementAlgorithm ECDH.

    \b
    Example:
      kmscli policy simulate --key alias/backups --action kms:Decrypt \\
          --as arn:aws:iam::111122223333:user/alice -c project=apollo
    """
    from kmscli.kms.simulation import simulate

    env = environment()
    result = simulate(
        env.local_service,
        action=action,
        key=key,
        encryption_context=parse_context(context),
        via_service=via_service,
        condition_values=_condition_values(conditions),
    )
    if env.json:
        emit_json(result)
    else:
        shown = dict(result)
        shown["MatchedStatements"] = ", ".join(result["MatchedStatements"]) or "-"
        emit_record(shown)
    if result["EvalDecision"] != "allowed":
        raise click.exceptions.Exit(5)


# -- identity policies -----------------------------------------------------------------------------


@subgroup(policy_group, "identity")
def identity_group() -> None:
    """Attach IAM-style identity policies to users and roles of the keyring's accounts.

    They take part in every evaluation exactly as IAM policies do: a key policy that trusts the
    account delegates to them, an explicit Deny in them always counts, and a role's policies
    apply to its sessions. Managing them is an IAM action (iam:PutUserPolicy, iam:PutRolePolicy,
    iam:GetUserPolicy, iam:ListUserPolicies, iam:DeleteUserPolicy, and the Role forms) on the
    user's or role's ARN: the root user of its account may, and so may principals of that
    account whose own identity policies allow it.

    \b
    Example:
      kmscli policy identity put arn:aws:iam::111122223333:user/alice use-backups alice.json
      kmscli policy identity list arn:aws:iam::111122223333:user/alice
    """


@command(identity_group, "put")
@click.argument("principal_arn", metavar="PRINCIPAL")
@click.argument("name")
@click.argument("source", metavar="FILE|-")
def identity_put(principal_arn: str, name: str, source: str) -> None:
    """Attach or replace an inline identity policy (PutUserPolicy / PutRolePolicy).

    PRINCIPAL is an IAM user or role ARN; NAME the policy's name (letters, digits and
    +=,.@_-). The document is validated as IAM validates it.

    \b
    Example:
      kmscli policy identity put arn:aws:iam::111122223333:role/App use-kms app.json
    """
    from kmscli.kms.identity import put_identity_policy

    document = read_policy(source, limit=IDENTITY_POLICY_LIMIT)
    put_identity_policy(environment().local_service, principal_arn, name, document)


@command(identity_group, "get")
@click.argument("principal_arn", metavar="PRINCIPAL")
@click.argument("name")
def identity_get(principal_arn: str, name: str) -> None:
    """Print one inline identity policy of a user or role (GetUserPolicy / GetRolePolicy).

    The document is printed as it was put.

    \b
    Example:
      kmscli policy identity get arn:aws:iam::111122223333:role/App use-kms
    """
    from kmscli.kms.identity import get_identity_policy

    env = environment()
    response = get_identity_policy(env.local_service, principal_arn, name)
    if env.json:
        emit_json(response)
    else:
        emit_line(response["PolicyDocument"])


@command(identity_group, "list")
@click.argument("principal_arn", metavar="PRINCIPAL")
def identity_list(principal_arn: str) -> None:
    """List the names of a user's or role's inline identity policies (ListUserPolicies).

    One name a line, sorted.

    \b
    Example:
      kmscli policy identity list arn:aws:iam::111122223333:user/alice
    """
    from kmscli.kms.identity import list_identity_policies

    env = environment()
    response = list_identity_policies(env.local_service, principal_arn)
    if env.json:
        emit_json(response)
    else:
        for name in response["PolicyNames"]:
            emit_line(name)


@command(identity_group, "delete")
@click.argument("principal_arn", metavar="PRINCIPAL")
@click.argument("name")
def identity_delete(principal_arn: str, name: str) -> None:
    """Remove an inline identity policy from a user or role (DeleteUserPolicy).

    Exit status 3 if the principal has no policy of that name.

    \b
    Example:
      kmscli policy identity delete arn:aws:iam::111122223333:user/alice use-backups
    """
    from kmscli.kms.identity import delete_identity_policy

    delete_identity_policy(environment().local_service, principal_arn, name)


# -- grants ----------------------------------------------------------------------------------------


@subgroup(policy_group, "grant")
def grant_group() -> None:
    """Grant, list, retire and revoke grants on keys (CreateGrant, ListGrants, ...).

    A grant allows (never denies) some operations on one key to one principal, which may be of
    another account, optionally only for requests whose encryption context equals or contains
    given pairs. Grants count in every authorization at once; their tokens are accepted by
    --grant-token wherever AWS accepts GrantTokens.

    \b
    Example:
      GRANT=$(kmscli policy grant create "$KEY" --grantee arn:aws:iam::111122223333:role/App \\
          --operations Encrypt,Decrypt --context-subset project=apollo)
      kmscli policy grant list "$KEY"
    """


def _operations(values: tuple[str, ...]) -> list[str]:
    operations = [op.strip() for value in values for op in value.split(",") if op.strip()]
    if not operations:
        raise UsageError("--operations needs at least one operation, e.g. Encrypt,Decrypt")
    return operations


@command(grant_group, "create")
@click.argument("key", type=KEY)
@click.option("--grantee", required=True, metavar="PRINCIPAL", help="Grantee principal ARN.")
@click.option(
    "--operations",
    "operations",
    required=True,
    multiple=True,
    metavar="OP[,OP...]",
    help="Operations the grant allows, e.g. Encrypt,Decrypt,GenerateDataKey.",
)
@click.option("--retiring", metavar="PRINCIPAL", help="Principal that may retire the grant.")
@click.option(
    "--context-equals",
    multiple=True,
    metavar="K=V",
    help="Only for requests whose encryption context is exactly these pairs.",
)
@click.option(
    "--context-subset",
    multiple=True,
    metavar="K=V",
    help="Only for requests whose encryption context contains these pairs.",
)
@click.option(
    "--name",
    metavar="N",
    help="Grant name: a retry with the same name and parameters returns the same grant.",
)
@grant_token_option
def grant_create(
    key: str,
    grantee: str,
    operations: tuple[str, ...],
    retiring: str | None,
    context_equals: tuple[str, ...],
    context_subset: tuple[str, ...],
    name: str | None,
    grant_tokens: tuple[str, ...],
) -> None:
    """Create a grant on a key and print its grant ID (CreateGrant).

    KEY is a key ID, key ARN or alias (the ARN for a key of another account). --json prints the
    GrantId and the GrantToken, which works at once with --grant-token. A grantee using a grant
    that allows CreateGrant can only create grants with fewer operations and the same or
    stricter constraints.

    \b
    Example:
      kmscli policy grant create "$KEY" --grantee arn:aws:iam::111122223333:user/bob \\
          --operations Decrypt,DescribeKey --context-equals project=apollo --name bob-apollo
    """
    if context_equals and context_subset:
        raise UsageError("give --context-equals or --context-subset, not both")
    env = environment()
    response = _grant_operation("create_grant")(
        key_id_or_arn(env, key),
        grantee,
        _operations(operations),
        retiring_principal=retiring,
        constraints_equals=parse_context(context_equals, option="--context-equals")
        if context_equals
        else None,
        constraints_subset=parse_context(context_subset, option="--context-subset")
        if context_subset
        else None,
        name=name,
        grant_tokens=grant_tokens,
    )
    if env.json:
        emit_json(response)
    else:
        emit_line(response["GrantId"])


def _grant_operation(name: str) -> Callable[..., dict[str, Any]]:
    """A grant operation of the backend: an AwsKmsService method, or the local KMS's function of
    kmscli.kms.grants bound to its service (a test holds the two to the same signature)."""
    env = environment()
    if env.backend == "aws":
        method: Callable[..., dict[str, Any]] = getattr(env.aws_service, name)
        return method
    from kmscli.kms import grants

    return partial(getattr(grants, name), env.local_service)


def _all_pages(fetch: Any, limit: int | None, marker: str | None) -> dict[str, Any]:
    """One page when --limit or --marker is given; otherwise every page, as the AWS CLI."""
    if limit is not None or marker is not None:
        return dict(fetch(limit=limit, marker=marker))
    grants: list[dict[str, Any]] = []
    page = fetch(limit=None, marker=None)
    grants.extend(page["Grants"])
    while page.get("Truncated"):
        page = fetch(limit=None, marker=page["NextMarker"])
        grants.extend(page["Grants"])
    return {"Grants": grants, "Truncated": False}


def _show_grants(response: dict[str, Any]) -> None:
    env = environment()
    if env.json:
        emit_json(response)
        return
    rows = []
    for grant in response["Grants"]:
        constraints = grant.get("Constraints") or {}
        shown = ",".join(
            f"{'=' if kind == 'EncryptionContextEquals' else '⊇'}{k}={v}"
            for kind, pairs in constraints.items()
            for k, v in pairs.items()
        )
        rows.append(
            (
                grant["GrantId"],
                grant.get("Name", ""),
                grant["GranteePrincipal"],
                grant["Operations"],
                grant.get("RetiringPrincipal", ""),
                shown,
            )
        )
    emit_table(
        ["GrantId", "Name", "GranteePrincipal", "Operations", "RetiringPrincipal", "Constraints"],
        rows,
    )


limit_option = click.option(
    "--limit", type=int, metavar="1..100", help="At most this many grants (one page)."
)
marker_option = click.option("--marker", metavar="M", help="NextMarker of the previous page.")


@command(grant_group, "list")
@click.argument("key", type=KEY)
@click.option("--grant-id", metavar="ID", help="Only this grant.")
@click.option("--grantee", metavar="PRINCIPAL", help="Only grants to this grantee.")
@limit_option
@marker_option
def grant_list(
    key: str, grant_id: str | None, grantee: str | None, limit: int | None, marker: str | None
) -> None:
    """List the grants on a key (ListGrants).

    KEY is a key ID, key ARN or alias. Without --limit every grant is listed.

    \b
    Example:
      kmscli policy grant list "$KEY" --json
    """
    list_grants = _grant_operation("list_grants")
    key = key_id_or_arn(environment(), key)

    def fetch(*, limit: int | None, marker: str | None) -> dict[str, Any]:
        return list_grants(
            key, grant_id=grant_id, grantee_principal=grantee, limit=limit, marker=marker
        )

    _show_grants(_all_pages(fetch, limit, marker))


@command(grant_group, "list-retirable")
@click.argument("principal_arn", metavar="PRINCIPAL")
@limit_option
@marker_option
def grant_list_retirable(principal_arn: str, limit: int | None, marker: str | None) -> None:
    """List the grants that PRINCIPAL may retire (ListRetirableGrants).

    PRINCIPAL is a principal of the caller's account, as the retiring principal of grants on
    keys of the current region.

    \b
    Example:
      kmscli policy grant list-retirable arn:aws:iam::111122223333:role/App
    """
    list_retirable_grants = _grant_operation("list_retirable_grants")

    def fetch(*, limit: int | None, marker: str | None) -> dict[str, Any]:
        return list_retirable_grants(principal_arn, limit=limit, marker=marker)

    _show_grants(_all_pages(fetch, limit, marker))


@command(grant_group, "retire")
@click.argument("key", type=KEY, required=False)
@click.argument("grant_id", metavar="GRANT_ID", required=False)
@click.option("--token", metavar="T", help="The grant token of the grant to retire.")
def grant_retire(key: str | None, grant_id: str | None, token: str | None) -> None:
    """Retire a grant, by its token or by key ARN and grant ID (RetireGrant).

    The grant's retiring principal may retire it, so may its grantee when the grant allows
    RetireGrant, and the account that created it; others need kms:RetireGrant from the key
    policy or IAM.

    \b
    Example:
      kmscli policy grant retire --token "$TOKEN"
      kmscli policy grant retire "arn:aws:kms:us-east-1:111122223333:key/$KEY" "$GRANT"
    """
    if token is None and (key is None or grant_id is None):
        raise UsageError("give --token T, or KEY and GRANT_ID")
    if token is not None and key is not None and grant_id is None:
        raise UsageError("with --token, KEY needs GRANT_ID too (or give --token alone)")
    if key is not None:
        key = key_id_or_arn(environment(), key, arn=True)
    _grant_operation("retire_grant")(grant_token=token, key=key, grant_id=grant_id)


@command(grant_group, "revoke")
@click.argument("key", type=KEY)
@click.argument("grant_id", metavar="GRANT_ID")
def grant_revoke(key: str, grant_id: str) -> None:
    """Revoke a grant (RevokeGrant): needs kms:RevokeGrant on the key.

    KEY is a key ID, key ARN or alias.

    \b
    Example:
      kmscli policy grant revoke "$KEY" "$GRANT"
    """
    _grant_operation("revoke_grant")(key_id_or_arn(environment(), key), grant_id)
