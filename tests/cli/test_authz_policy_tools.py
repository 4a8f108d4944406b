"""`policy validate`, `policy simulate`, `policy identity ...`, cross-account resolution and the
policy lockout safety check, through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.authz_world import (
    ALICE,
    B_ENGINEERING,
    B_ENGINEERING_SESSION,
    BOB,
    DEFAULT_STATEMENT,
    NOBODY,
    ROOT_A,
    ROOT_B,
    A,
    B,
    World,
    allow,
    deny,
    iam,
    iam_allow,
    key_policy,
)
from tests.conftest import Runner

LOCKOUT = "The new key policy will not allow you to update the key policy in the future."


# -- policy validate -------------------------------------------------------------------------------


def test_validate_a_good_key_policy(run_inproc: Runner, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(key_policy(DEFAULT_STATEMENT)))
    result = run_inproc("policy", "validate", str(path))
    assert result.status == 0 and result.out == "valid key policy: 1 statement\n"
    assert result.err == ""
    assert not (tmp_path / "keyring").exists(), "validate is offline: no keyring"


def test_validate_warns_about_risky_patterns(run_inproc: Runner, tmp_path: Path) -> None:
    risky = key_policy(
        allow("*", "kms:Decrypt"),
        {**allow(ALICE, "kms:*"), "Sid": "everything"},
        allow(ALICE, "kms:Encrpyt"),
    )
    text = json.dumps(risky)
    result = run_inproc("policy", "validate", "-", input=text.encode())
    assert result.status == 0
    assert result.out == "valid key policy: 3 statements, 3 warnings\n"
    warnings = [line for line in result.err.splitlines() if line.startswith("kmscli: warning: ")]
    assert len(warnings) == 3
    assert 'Principal "*" without a Condition' in warnings[0]
    assert 'Statement[1] (Sid "everything")' in warnings[1]
    assert "matches no KMS permission" in warnings[2]
    as_json = json.loads(run_inproc("policy", "validate", "-", "--json", input=text.encode()).out)
    assert as_json["Valid"] is True and as_json["PolicyType"] == "key"
    assert as_json["Statements"] == 3 and len(as_json["Warnings"]) == 3
    quiet = run_inproc("policy", "validate", "-", "-q", input=text.encode())
    assert quiet.status == 0 and quiet.err == ""


@pytest.mark.parametrize(
    ("document", "flags", "message"),
    [
        ("{not json", (), "MalformedPolicyDocumentException"),
        (json.dumps(iam(iam_allow("kms:*"))), (), "Principal: is required in a key policy"),
        (json.dumps(key_policy(allow(ALICE, "kms:*"))), ("--identity",), "Principal"),
        (json.dumps({"Statement": []}), (), "MalformedPolicyDocumentException"),
    ],
)
def test_validate_refuses_invalid_documents(
    run_inproc: Runner, document: str, flags: tuple[str, ...], message: str
) -> None:
    result = run_inproc("policy", "validate", *flags, "-", input=document.encode())
    assert result.status == 2, result.err
    assert "MalformedPolicyDocumentException" in result.err and message in result.err
    as_json = run_inproc("policy", "validate", *flags, "-", "--json", input=document.encode())
    error = json.loads(as_json.err.splitlines()[-1])["Error"]
    assert error["Code"] == "MalformedPolicyDocumentException" and error["ExitStatus"] == 2


def test_validate_an_identity_policy(run_inproc: Runner) -> None:
    text = json.dumps(iam(iam_allow("kms:Encrypt")))
    result = run_inproc("policy", "validate", "--identity", "-", input=text.encode())
    assert result.status == 0 and result.out == "valid identity policy: 1 statement\n"


# -- policy simulate -------------------------------------------------------------------------------


def test_simulate_names_what_decided(world: World) -> None:
    key_id = world.create_key()
    world.put_key_policy(
        key_id,
        key_policy(
            DEFAULT_STATEMENT,
            {**allow(BOB, "kms:Decrypt"), "Sid": "BobDecrypts"},
            {
                **deny(
                    BOB,
                    "kms:Decrypt",
                    Condition={"StringEquals": {"kms:EncryptionContext:tier": "secret"}},
                ),
                "Sid": "NoSecrets",
            },
        ),
    )
    world.put_identity(ALICE, iam({"Sid": "Use", **iam_allow("kms:Encrypt")}))
    by_bob = world.simulate(key_id, "kms:Decrypt", BOB)
    assert by_bob["EvalDecision"] == "allowed" and by_bob["Reason"] == "allowed-by-key-policy"
    assert by_bob["MatchedStatements"] == ["key-policy:BobDecrypts"]
    secret = world.simulate(key_id, "kms:Decrypt", BOB, "-c", "tier=secret")
    assert secret["EvalDecision"] == "explicitDeny"
    assert secret["MatchedStatements"] == ["key-policy:NoSecrets"]
    assert "with an explicit deny in a resource-based policy" in secret["Message"]
    by_alice = world.simulate(key_id, "kms:Encrypt", ALICE)
    assert by_alice["MatchedStatements"][0] == "key-policy:Enable IAM User Permissions"
    assert by_alice["MatchedStatements"][1].endswith(":Use")
    grant_id = world.ok(
        "policy", "grant", "create", key_id, "--grantee", NOBODY, "--operations", "Encrypt"
    ).out.strip()
    by_grant = world.simulate(key_id, "kms:Encrypt", NOBODY)
    assert by_grant["MatchedStatements"] == [f"grant:{grant_id}"]
    nobody = world.simulate(key_id, "kms:Decrypt", NOBODY)
    assert nobody["EvalDecision"] == "implicitDeny" and nobody["MatchedStatements"] == []


def test_simulate_performs_nothing_and_is_not_audited(world: World) -> None:
    key_id = world.create_key()
    before = world.audit()
    assert world.simulate(key_id, "kms:DisableKey", ROOT_A)["EvalDecision"] == "allowed"
    assert world.simulate(key_id, "kms:ScheduleKeyDeletion", ROOT_A)["EvalDecision"] == "allowed"
    described = json.loads(world.ok("key", "describe", key_id, "--json").out)
    assert described["KeyMetadata"]["KeyState"] == "Enabled"
    assert len(world.audit()) == len(before) + 1  # the describe only


def test_simulate_iam_only_actions_and_errors(world: World) -> None:
    def decision(*args: str, caller: str = NOBODY) -> tuple[int, str]:
        result = world.kmscli("policy", "simulate", *args, "--json", caller=caller)
        return result.status, json.loads(result.out)["EvalDecision"] if result.out else ""

    assert decision("--action", "kms:CreateKey") == (5, "implicitDeny")
    assert decision("--action", "kms:createkey", caller=ROOT_A) == (0, "allowed")
    world.put_identity(NOBODY, iam(iam_allow("kms:List*")))
    assert decision("--action", "kms:ListAliases") == (0, "allowed")
    assert world.kmscli("policy", "simulate", "--action", "kms:Fly").status == 2
    assert world.kmscli("policy", "simulate", "--action", "kms:Encrypt").status == 2
    text = world.kmscli("policy", "simulate", "--action", "kms:ListKeys", caller=ROOT_A)
    assert text.status == 0 and "EvalDecision\tallowed" in text.out


# -- identity policies -----------------------------------------------------------------------------


def test_identity_policy_round_trip(world: World) -> None:
    document = json.dumps(iam(iam_allow("kms:Encrypt")))
    path = world.file(document)
    world.ok("policy", "identity", "put", ALICE, "use-kms", path)
    world.ok("policy", "identity", "put", ALICE, "other", path)
    assert world.ok("policy", "identity", "get", ALICE, "use-kms").out == document + "\n"
    got = json.loads(world.ok("policy", "identity", "get", ALICE, "use-kms", "--json").out)
    assert got == {"UserName": "alice", "PolicyName": "use-kms", "PolicyDocument": document}
    assert world.ok("policy", "identity", "list", ALICE).out == "other\nuse-kms\n"
    world.ok("policy", "identity", "delete", ALICE, "other")
    listed = json.loads(world.ok("policy", "identity", "list", ALICE, "--json").out)
    assert listed == {"PolicyNames": ["use-kms"], "IsTruncated": False}
    missing = world.kmscli("policy", "identity", "get", ALICE, "other")
    assert missing.status == 3 and "The user policy with name other cannot be found." in missing.err
    assert world.kmscli("policy", "identity", "delete", ALICE, "other").status == 3


def test_a_role_policy_applies_to_its_sessions_whatever_its_path(world: World) -> None:
    key_id = world.create_key()
    role = f"arn:aws:iam::{A}:role/team/App"
    session = f"arn:aws:sts::{A}:assumed-role/App/job-7"
    encrypt = ["encrypt", "--direct", "-k", world.arn(key_id), "-o", "-", "-"]
    assert world.kmscli(*encrypt, caller=session, input=b"x").status == 5
    world.ok("policy", "identity", "put", role, "use", world.file(iam(iam_allow("kms:Encrypt"))))
    assert world.kmscli(*encrypt, caller=session, input=b"x").status == 0
    got = json.loads(world.ok("policy", "identity", "get", role, "use", "--json").out)
    assert got["RoleName"] == "App"


@pytest.mark.parametrize(
    "principal",
    [
        f"arn:aws:sts::{A}:assumed-role/App/s1",
        ROOT_A,
        f"arn:aws:sts::{A}:federated-user/fed",
        "not-an-arn",
    ],
)
def test_identity_policies_attach_to_users_and_roles_only(world: World, principal: str) -> None:
    path = world.file(iam(iam_allow("kms:Encrypt")))
    result = world.kmscli("policy", "identity", "put", principal, "p", path)
    assert result.status == 2 and "ValidationException" in result.err


@pytest.mark.parametrize(
    ("document", "name"),
    [
        (json.dumps(key_policy(DEFAULT_STATEMENT)), "p"),
        ("[]", "p"),
        (json.dumps(iam(iam_allow("kms:Encrypt"))), "bad name"),
        (json.dumps(iam(iam_allow("kms:Encrypt"))), "x" * 129),
    ],
)
def test_identity_policy_validation(world: World, document: str, name: str) -> None:
    result = world.kmscli("policy", "identity", "put", ALICE, name, world.file(document))
    assert result.status == 2, result.err
    assert world.ok("policy", "identity", "list", ALICE).out == ""


def test_who_may_manage_identity_policies(world: World) -> None:
    path = world.file(iam(iam_allow("kms:Encrypt")))
    carol = f"arn:aws:iam::{A}:user/carol"
    denied = world.kmscli("policy", "identity", "put", BOB, "p", path, caller=ALICE)
    assert denied.status == 5 and "iam:PutUserPolicy" in denied.err
    world.put_identity(ALICE, iam(iam_allow(["iam:PutUserPolicy", "iam:ListUserPolicies"], BOB)))
    assert world.kmscli("policy", "identity", "put", BOB, "p", path, caller=ALICE).status == 0
    assert world.kmscli("policy", "identity", "list", BOB, caller=ALICE).status == 0
    assert world.kmscli("policy", "identity", "get", BOB, "p", caller=ALICE).status == 5
    assert world.kmscli("policy", "identity", "put", carol, "p", path, caller=ALICE).status == 5
    role = f"arn:aws:iam::{A}:role/App"
    assert world.kmscli("policy", "identity", "put", role, "p", path, caller=ALICE).status == 5
    # One account's root never manages another account's principals.
    assert world.kmscli("policy", "identity", "put", B_ENGINEERING, "p", path).status == 5
    assert (
        world.kmscli("policy", "identity", "put", B_ENGINEERING, "p", path, caller=ROOT_B).status
        == 0
    )
    assert world.kmscli("policy", "identity", "list", ALICE, caller=ROOT_B).status == 5
    events = world.audit()
    names = [(e["eventSource"], e["eventName"]) for e in events]
    assert ("iam.amazonaws.com", "PutUserPolicy") in names
    assert ("iam.amazonaws.com", "PutRolePolicy") in names
    assert ("iam.amazonaws.com", "ListUserPolicies") in names


# -- cross-account ---------------------------------------------------------------------------------


def test_a_foreign_caller_names_keys_by_arn(world: World) -> None:
    key_id = world.create_key("--alias", "alias/shared")
    world.put_key_policy(key_id, key_policy(DEFAULT_STATEMENT, allow(ROOT_B, "kms:*")))
    world.put_identity(B_ENGINEERING, iam(iam_allow("kms:*")))

    def describe(key: str) -> tuple[int, str]:
        result = world.kmscli("key", "describe", key, caller=B_ENGINEERING_SESSION)
        return result.status, result.err

    assert describe(world.arn(key_id))[0] == 0
    status, err = describe(key_id)
    assert status == 3 and f"arn:aws:kms:us-west-2:{B}:key/{key_id}" in err
    status, err = describe("alias/shared")
    assert status == 3 and f"Alias arn:aws:kms:us-west-2:{B}:alias/shared is not found." in err
    alias_arn = f"arn:aws:kms:us-west-2:{A}:alias/shared"
    assert describe(alias_arn)[0] == 0
    # Only the cross-account operations work, whatever the policies say.
    arn = world.arn(key_id)
    assert world.kmscli("policy", "grant", "list", arn, caller=B_ENGINEERING_SESSION).status == 0
    for args in (["policy", "get", arn], ["key", "disable", arn], ["key", "tags", arn]):
        assert world.kmscli(*args, caller=B_ENGINEERING_SESSION).status == 5, args
    assert world.kmscli("key", "list", caller=B_ENGINEERING_SESSION).status == 5
    # A foreign caller gets no AWS managed key made in this account.
    assert (
        world.kmscli("key", "describe", "alias/aws/kmscli", caller=B_ENGINEERING_SESSION).status
        == 3
    )
    aliases = json.loads(world.ok("alias", "list", "--json").out)["Aliases"]
    assert all("TargetKeyId" not in a for a in aliases if a["AliasName"] == "alias/aws/kmscli")


# -- the policy lockout safety check ---------------------------------------------------------------


def test_the_lockout_check(world: World) -> None:
    key_id = world.create_key()
    only_bob = world.file(key_policy(allow(BOB, "kms:*")))
    refused = world.kmscli("policy", "put", key_id, only_bob)
    assert refused.status == 2 and LOCKOUT in refused.err
    assert world.kmscli("key", "create", "--policy", only_bob).status == 2
    world.ok("policy", "put", key_id, only_bob, "--bypass-policy-lockout-safety-check")
    locked_out = world.kmscli("policy", "put", key_id, world.file(key_policy(DEFAULT_STATEMENT)))
    assert locked_out.status == 5
    assert world.kmscli("policy", "put", key_id, only_bob, caller=BOB).status == 0


def test_the_lockout_check_counts_identity_policies(world: World) -> None:
    key_id = world.create_key()
    world.put_identity(ALICE, iam(iam_allow("kms:*")))
    default = world.file(key_policy(DEFAULT_STATEMENT))
    assert world.kmscli("policy", "put", key_id, default, caller=ALICE).status == 0
    only_bob = world.file(key_policy(DEFAULT_STATEMENT | {"Principal": {"AWS": BOB}}))
    refused = world.kmscli("policy", "put", key_id, only_bob, caller=ALICE)
    assert refused.status == 2 and LOCKOUT in refused.err


def test_simulate_fills_in_the_algorithm_the_command_would_send(world: World) -> None:
    # Without --condition, a Sign or GenerateMac is simulated with the key spec's first
    # algorithm (what `kmscli sign` / `mac generate` use without --algorithm) and RAW messages.
    only = {"kms:SigningAlgorithm": "ECDSA_SHA_256", "kms:MessageType": "RAW"}
    signing = world.create_key("--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")
    world.put_key_policy(
        signing,
        key_policy(
            DEFAULT_STATEMENT,
            {**allow(BOB, "kms:Sign"), "Sid": "Raw", "Condition": {"StringEquals": only}},
        ),
    )
    assert world.simulate(signing, "kms:Sign", BOB)["EvalDecision"] == "allowed"
    digest = world.simulate(signing, "kms:Sign", BOB, "--condition", "kms:MessageType=DIGEST")
    assert digest["EvalDecision"] == "implicitDeny"

    mac = world.create_key("--key-spec", "HMAC_384", "--key-usage", "GENERATE_VERIFY_MAC")
    world.put_key_policy(
        mac,
        key_policy(
            DEFAULT_STATEMENT,
            {
                **allow(BOB, "kms:GenerateMac"),
                "Condition": {"StringEquals": {"kms:MacAlgorithm": "HMAC_SHA_384"}},
            },
        ),
    )
    assert world.simulate(mac, "kms:GenerateMac", BOB)["EvalDecision"] == "allowed"

    rsa = world.create_key("--key-spec", "RSA_2048", "--key-usage", "ENCRYPT_DECRYPT")
    world.put_key_policy(
        rsa,
        key_policy(
            DEFAULT_STATEMENT,
            {
                **allow(BOB, "kms:Decrypt"),
                "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
            },
        ),
    )
    sha256 = "kms:EncryptionAlgorithm=RSAES_OAEP_SHA_256"
    assert world.simulate(rsa, "kms:Decrypt", BOB, "--condition", sha256)["EvalDecision"] == (
        "allowed"
    )
    assert world.simulate(rsa, "kms:Decrypt", BOB)["EvalDecision"] == "implicitDeny"  # SHA_1 first
