"""A migration to schema 2 killed at any step loses nothing and leaves a sound keyring.

The migrating command (`key create` on a schema-1 keyring) runs in a subprocess through
tests/killpoint.py, which SIGKILLs it just before its Nth file-system step inside the migration;
N takes every value from the first step to the last. After each kill the keyring must open
(schema 1 if the kill came before the header's replacement, schema 2 after it), `keyring
verify` must pass, every record must be there byte for byte, and the next write must succeed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kmscli.store import anchor, open_keyring
from tests.conftest import Runner
from tests.keyring_files import downgrade_to_schema1, schema_of

HARNESS = Path(__file__).resolve().parent.parent / "killpoint.py"
ACCOUNT = "111122223333"


def _records(env: dict[str, str]) -> dict[tuple[str, str], bytes]:
    """Every record of the keyring at KMSCLI_HOME, opened in this process."""
    home = Path(env["KMSCLI_HOME"])
    keyring = open_keyring(
        home,
        root_key_file=Path(env["KMSCLI_ROOT_KEY_FILE"]),
        root_key_dir=home.parent,
        passphrase=lambda: None,
        create=False,
    )
    found: dict[tuple[str, str], bytes] = {}
    with keyring.read() as view:
        for kind in sorted(p.name for p in keyring.naming.records_dir.iterdir()):
            for name in view.list(kind):
                data = view.get(kind, name)
                assert data is not None
                found[kind, name] = data
    return found


def _migrating_command(env: dict[str, str], tmp_path: Path, kill_at: int) -> int:
    count = tmp_path / "steps"
    done = subprocess.run(
        [sys.executable, str(HARNESS), str(kill_at), str(count), "key", "create"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    if kill_at == 0:
        assert done.returncode == 0, done.stderr.decode()
        return int(count.read_text())
    return done.returncode


@pytest.mark.slow
def test_a_migration_killed_at_any_step_loses_nothing(
    run_inproc: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    run = run_inproc
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0
    key = json.loads(run("--json", "key", "create", "--alias", "alias/crash").out)["KeyMetadata"]
    assert run("--region", "eu-west-1", "key", "create", "--alias", "alias/crash-eu").status == 0
    grantee = f"arn:aws:iam::{ACCOUNT}:role/crash-app"
    granted = run(
        "policy", "grant", "create", key["KeyId"], "--grantee", grantee, "--operations", "Decrypt"
    )
    assert granted.status == 0, granted.err
    blob = tmp_path / "blob"
    made = run("encrypt", "--direct", "-k", key["KeyId"], "-o", str(blob), input=b"secret")
    assert made.status == 0, made.err
    home = Path(kmscli_env["KMSCLI_HOME"])
    downgrade_to_schema1(
        open_keyring(
            home,
            root_key_file=Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]),
            root_key_dir=home.parent,
            passphrase=lambda: None,
        )
    )
    assert schema_of(home) == 1
    expected = _records(kmscli_env)
    assert len(expected) >= 5
    template = tmp_path / "template"
    shutil.copytree(home, template)

    steps = _migrating_command(kmscli_env, tmp_path, 0)
    assert schema_of(home) == 2
    assert steps > 20, steps
    committed_at = None
    for kill_at in range(1, steps + 1):
        shutil.rmtree(home)
        shutil.copytree(template, home)
        assert _migrating_command(kmscli_env, tmp_path, kill_at) == -9, kill_at
        schema = schema_of(home)
        if schema == 2 and committed_at is None:
            committed_at = kill_at
        assert schema == (1 if committed_at is None else 2), kill_at  # one commit point
        verified = run("keyring", "verify")
        assert verified.status == 0, (kill_at, verified.out, verified.err)
        assert _records(kmscli_env) == expected, kill_at
        assert sorted(p.name for p in home.iterdir()) == sorted(
            ["audit", "header", "lock", "records" if schema == 1 else "records.v2"]
        ), kill_at
        decrypted = run("decrypt", str(blob), "-o", "-")
        assert decrypted.status == 0 and decrypted.stdout == b"secret", kill_at
        # The next write (migrating, if it is still to be done) succeeds and keeps everything.
        assert run("key", "create").status == 0, kill_at
        assert schema_of(home) == 2
        after = _records(kmscli_env)
        moved = {(anchor.KIND, anchor.NAME)}  # the audit anchor follows every change
        kept = {k: v for k, v in expected.items() if k not in moved}
        assert {k: v for k, v in after.items() if k in kept} == kept, kill_at
        assert run("keyring", "verify").status == 0, kill_at
    assert committed_at is not None and 1 < committed_at < steps
    print(f"{steps} steps, committed from step {committed_at}")
