"""`kmscli policy get|put|list`: GetKeyPolicy, PutKeyPolicy and ListKeyPolicies."""

from __future__ import annotations

import click

from kmscli.cli.options import command, environment
from kmscli.cli.output import emit_json, emit_line
from kmscli.cli.params import read_text
from kmscli.cli.root import policy_group


@command(policy_group, "get")
@click.argument("key")
@click.option(
    "--policy-name", default="default", show_default=True, help="The only one is default."
)
def policy_get(key: str, policy_name: str) -> None:
    """Print a key's policy document (GetKeyPolicy).

    KEY is a key ID or key ARN. The document is printed as it was stored; a key created
    without --policy has AWS's default key policy.

    \b
    Example:
      kmscli policy get "$KEY" > policy.json
    """
    env = environment()
    response = env.service.get_key_policy(key, policy_name)
    if env.json:
        emit_json(response)
    else:
        emit_line(response["Policy"])


@command(policy_group, "put")
@click.argument("key")
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
    policy = read_text(source, what="policy file")
    environment().service.put_key_policy(
        key,
        policy,
        policy_name,
        bypass_policy_lockout_safety_check=bypass_policy_lockout_safety_check,
    )


@command(policy_group, "list")
@click.argument("key")
def policy_list(key: str) -> None:
    """List the names of a key's policies; there is one, default (ListKeyPolicies).

    KEY is a key ID or key ARN.

    \b
    Example:
      kmscli policy list "$KEY"
    """
    env = environment()
    response = env.service.list_key_policies(key)
    if env.json:
        emit_json(response)
    else:
        for name in response["PolicyNames"]:
            emit_line(name)
