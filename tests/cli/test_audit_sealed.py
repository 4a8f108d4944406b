"""The audit trail reveals nothing but sizes and counts: its records are sealed under the
keyring's root key, `kmscli audit` still reads them, and a plain log made by an older kmscli
keeps reading and verifying, going on with sealed records."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.conftest import Runner
from tests.test_vectors import _expected, _open

SECRETS = {
    "description": "payroll-description-5d1f",
    "alias": "alias/payroll-alias-7c2e",
    "tag key": "costcentre-3b9a",
    "tag value": "finance-tag-value-8e4d",
    "context key": "tenant-ctx-key-1a6f",
    "context value": "acme-context-value-2f7b",
    "policy text": "policy-sid-statement-9c3d",
}


def _audit_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted((home / "audit").iterdir()))


def _variants(text: str) -> list[bytes]:
    raw = text.encode()
    return [raw, raw.hex().encode(), base64.b64encode(raw), json.dumps(text).encode()[1:-1]]


def test_the_audit_files_hold_no_description_alias_tag_context_or_policy(
    run_inproc: Runner, tmp_path: Path
) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "policysidstatement9c3d",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalArn": SECRETS["policy text"]}},
            }
        ],
    }
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    created = run_inproc(
        "key",
        "create",
        "--json",
        "--description",
        SECRETS["description"],
        "--tag",
        f"{SECRETS['tag key']}={SECRETS['tag value']}",
        "--alias",
        SECRETS["alias"],
        "--policy",
        str(tmp_path / "policy.json"),
        "--bypass-policy-lockout-safety-check",
    )
    assert created.status == 0, created.err
    key = json.loads(created.out)["KeyMetadata"]["KeyId"]
    context = f"{SECRETS['context key']}={SECRETS['context value']}"
    steps = [
        ("encrypt", "--direct", "-k", SECRETS["alias"], "-c", context, "-o", "b", "-"),
        (
            "policy",
            "put",
            key,
            str(tmp_path / "policy.json"),
            "--bypass-policy-lockout-safety-check",
        ),
        ("key", "update-description", key, SECRETS["description"] + "-2"),
    ]
    for step in steps:
        result = run_inproc(*step, input=b"plaintext")
        assert result.status == 0, (step, result.err)
    # The trail has it all, for whoever holds the root key...
    listed = run_inproc("audit", "--json")
    assert listed.status == 0, listed.err
    for text in SECRETS.values():
        assert text in listed.out, text
    assert run_inproc("audit", "--verify").status == 0
    # ...and the files show none of it, in any encoding.
    raw = _audit_bytes(tmp_path / "keyring")
    assert raw
    for name, text in SECRETS.items():
        for variant in _variants(text):
            assert variant not in raw, (name, variant)
    for forbidden in (b"arn:aws", b"eventName", b"CreateKey", b"us-east-1", key.encode()):
        assert forbidden not in raw, forbidden


def test_an_old_plain_log_reads_verifies_and_goes_on_sealed(run: Runner, tmp_path: Path) -> None:
    version, name = "v1", "keyfile"
    info = _expected(version)["keyrings"][name]
    env = _open(version, name, tmp_path)
    home = Path(env["KMSCLI_HOME"])
    log = home / "audit" / "log"
    old = log.read_bytes()
    assert old.startswith(b'{"mac":"') and b"eventName" in old  # made by a kmscli without seals
    assert run("audit", "--verify", env=env).status == 0
    created = run("key", "create", "--json", "--description", "after-the-upgrade", env=env)
    assert created.status == 0, created.err
    new = log.read_bytes()
    assert new.startswith(old), "old records are kept as they are"
    added = new[len(old) :].splitlines()
    assert added and all(line.startswith(b'{"v":2,"mac":"') for line in added)
    assert b"after-the-upgrade" not in new
    verified = run("audit", "--verify", env=env)
    assert verified.status == 0, verified.err
    assert run("keyring", "verify", env=env).status == 0
    records = json.loads(run("audit", "--json", env=env).out)["Records"]
    events = [[r["eventName"], r["eventID"]] for r in records]
    assert events[: info["audit"]["records"]] == info["audit"]["events"]
    assert [r["eventName"] for r in records[info["audit"]["records"] :]][-1] == "CreateKey"
    # The mixed trail is anchored like any other: cutting it is reported.
    log.write_bytes(old)
    assert run("audit", "--verify", env=env).status == 7
    assert run("keyring", "verify", env=env).status == 9
