"""`kmscli reencrypt --grant-token`: ReEncryptFrom/To allowed by grants, tokens checked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Rotator"


def _grant(run: Runner, key: str, operation: str) -> str:
    result = run(
        "policy", "grant", "create", key, "--grantee", ROLE, "--operations", operation, "--json"
    )
    assert result.status == 0, result.err
    return str(json.loads(result.out)["GrantToken"])


def test_a_role_reencrypts_through_grants_with_their_tokens(
    run_inproc: Runner, tmp_path: Path
) -> None:
    assert run_inproc("keyring", "init", "--account-id", ACCOUNT).status == 0
    old = run_inproc("key", "create").out.strip()
    new = run_inproc("key", "create").out.strip()
    assert run_inproc("encrypt", "--direct", "-k", old, "-o", "b.blob", input=b"x").status == 0
    denied = run_inproc("reencrypt", "-k", new, "b.blob", "--as", ROLE)
    assert denied.status == 5, "no policy and no grant allows the role yet"
    tokens = [_grant(run_inproc, old, "ReEncryptFrom"), _grant(run_inproc, new, "ReEncryptTo")]
    forged = run_inproc(
        "reencrypt", "-k", new, "b.blob", "--as", ROLE, "--grant-token", "not-a-token"
    )
    assert forged.status == 2 and "InvalidGrantTokenException" in forged.err
    args = [a for token in tokens for a in ("--grant-token", token)]
    done = run_inproc("reencrypt", "-k", new, "b.blob", "--as", ROLE, *args)
    assert done.status == 0, done.err
    back = run_inproc("decrypt", "-k", new, "b.blob", "-o", "-")
    assert back.stdout == b"x"
