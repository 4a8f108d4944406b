"""A change and its audit record commit together, or neither does.

Each changing command is run as a real process whose file size limit (RLIMIT_FSIZE, SIGXFSZ
ignored, as `ulimit -f` does) lets every record file be written but not the audit log to grow:
the command must exit 10 and leave every byte of the keyring as it was, with a trail that still
verifies. KMS's own service events (catch-up) are held to the same rule. A writer killed between
the audit append and the records' rename recovers to both or neither.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kmscli.store import layout
from tests.conftest import KMSCLI, Result, Runner
from tests.launchers import REPO

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Let alice describe",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        },
    ],
}


def _snapshot(home: Path) -> dict[str, bytes]:
    """Every file of the keyring (the lock file aside), by relative path."""
    files: dict[str, bytes] = {}
    for directory, _, names in os.walk(home):
        for name in names:
            path = Path(directory) / name
            if path == home / "lock":
                continue
            files[path.relative_to(home).as_posix()] = path.read_bytes()
    assert files, f"nothing to compare under {home}"
    return files


def _limited(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _run_limited(env: dict[str, str], cwd: Path, limit: int, *args: str) -> Result:
    done = subprocess.run(
        [KMSCLI, *args],
        input=b"",
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
        preexec_fn=_limited(limit),
    )
    return Result(done.returncode, done.stdout, done.stderr)


class Keyring:
    def __init__(self, run: Runner, env: dict[str, str], tmp: Path) -> None:
        self.run = run
        self.env = env
        self.tmp = tmp
        self.home = Path(env["KMSCLI_HOME"])
        (tmp / "policy.json").write_text(json.dumps(POLICY))
        self.ok("keyring", "init", "--account-id", "111122223333")
        self.key = self.create("--description", "payroll", "--alias", "alias/payroll")
        self.disabled = self.create("--description", "spare")
        self.ok("key", "disable", self.disabled)
        # Grow the log well past any record file, so a limit just above its size lets the
        # records be written but not one more event.
        for _ in range(8):
            self.ok("key", "describe", self.key)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.status == 0, result.err
        return result

    def create(self, *args: str) -> str:
        out = self.ok("key", "create", "--json", *args).out
        return str(json.loads(out)["KeyMetadata"]["KeyId"])

    @property
    def log_size(self) -> int:
        return (self.home / "audit" / "log").stat().st_size

    def files(self) -> dict[str, bytes]:
        return _snapshot(self.home)

    def listing(self) -> tuple[str, str]:
        keys = self.ok("key", "list", "--json").out
        aliases = self.ok("alias", "list", "--json").out
        return keys, aliases


@pytest.fixture
def keyring(run_inproc: Runner, kmscli_env: dict[str, str], tmp_path: Path) -> Keyring:
    return Keyring(run_inproc, kmscli_env, tmp_path)


COMMANDS: dict[str, Callable[[Keyring], list[str]]] = {
    "policy put": lambda k: ["policy", "put", k.key, str(k.tmp / "policy.json")],
    "key create": lambda k: ["key", "create", "--description", "new"],
    "alias create": lambda k: ["alias", "create", "alias/second", k.key],
    "key tag": lambda k: ["key", "tag", k.key, "team=blue"],
    "key rotate": lambda k: ["key", "rotate", k.key],
    "key disable": lambda k: ["key", "disable", k.key],
    "key enable": lambda k: ["key", "enable", k.disabled],
    "key schedule-deletion": lambda k: ["key", "schedule-deletion", k.key, "--yes"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_change_whose_audit_record_cannot_be_written_does_not_happen(
    keyring: Keyring, command: str
) -> None:
    listing = keyring.listing()
    files = keyring.files()
    limit = keyring.log_size + 16  # room for no event, plenty for every record file
    result = _run_limited(keyring.env, keyring.tmp, limit, *COMMANDS[command](keyring))
    assert result.status == 10, (result.status, result.err)
    assert "File too large" in result.err, result.err
    # Every byte as it was: records, the audit log and its head; no journal or temporary.
    assert keyring.files() == files
    assert keyring.listing() == listing
    verified = keyring.run("audit", "--verify")
    assert verified.status == 0, verified.out + verified.err
    assert keyring.run("keyring", "verify").status == 0
    # And with room, the same command succeeds and is audited.
    done = keyring.run(*COMMANDS[command](keyring))
    assert done.status == 0, done.err
    assert keyring.run("audit", "--verify").status == 0


CATCH_UP = """
import sys
from datetime import datetime
from pathlib import Path
from kmscli.kms.service import KmsService
from kmscli.store import open_keyring

home, key_file, when = Path(sys.argv[1]), Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])
keyring = open_keyring(home, root_key_file=key_file, root_key_dir=key_file.parent,
                       passphrase=lambda: None, create=False)
try:
    KmsService(keyring, region="us-east-1", clock=lambda: when).catch_up()
except Exception as error:
    print(type(error).__name__, error, file=sys.stderr)
    sys.exit(10)
"""


def test_catch_up_events_whose_audit_records_cannot_be_written_do_not_happen(
    keyring: Keyring,
) -> None:
    keyring.ok("key", "schedule-deletion", keyring.key, "--days", "7", "--yes")
    listing = keyring.listing()
    files = keyring.files()
    script = [
        sys.executable,
        "-c",
        CATCH_UP,
        str(keyring.home),
        keyring.env["KMSCLI_ROOT_KEY_FILE"],
        "2099-01-01T00:00:00+00:00",
    ]
    env = dict(keyring.env, PYTHONPATH=str(REPO))
    limit = keyring.log_size + 16
    done = subprocess.run(
        script,
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
        preexec_fn=_limited(limit),
    )
    assert done.returncode == 10, done.stderr.decode()
    assert keyring.files() == files
    assert keyring.listing() == listing
    assert keyring.run("audit", "--verify").status == 0
    # With room, the deletion happens, and is recorded.
    done = subprocess.run(script, capture_output=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr.decode()
    events = json.loads(keyring.ok("audit", "--json").out)["Records"]
    assert [e["eventName"] for e in events if e["eventType"] == "AwsServiceEvent"] == ["DeleteKey"]
    assert keyring.run("key", "describe", keyring.key).status == 3
    assert keyring.run("audit", "--verify").status == 0


def test_a_full_disk_under_the_audit_trail_refuses_the_change(keyring: Keyring) -> None:
    """ENOSPC rather than EFBIG: the audit directory on a full tmpfs, the records beside it."""
    from tests.cli.private_mount import private_tmpfs

    audit_dir = keyring.home / "audit"
    # tmpfs allocates whole pages: leave less room in the log's last page than an event takes.
    for _ in range(40):
        if -keyring.log_size % 4096 < 400:
            break
        keyring.ok("key", "describe", keyring.key)
    assert -keyring.log_size % 4096 < 400
    saved = {name: (audit_dir / name).read_bytes() for name in ("log", "head")}
    records = _snapshot(keyring.home / layout.OPAQUE_RECORDS)
    with private_tmpfs(audit_dir, "64k") as disk:
        disk.view().chmod(0o700)
        for name, data in saved.items():
            disk.view(name).write_bytes(data)
            disk.view(name).chmod(0o600)
        disk.fill()
        done = disk.run(
            [KMSCLI, "key", "create", "--description", "new"], env=keyring.env, cwd=keyring.tmp
        )
        assert done.returncode == 10, done.stderr.decode()
        assert "No space left" in done.stderr.decode()
        for name, data in saved.items():
            assert disk.view(name).read_bytes() == data
        verified = disk.run([KMSCLI, "audit", "--verify"], env=keyring.env, cwd=keyring.tmp)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    assert _snapshot(keyring.home / layout.OPAQUE_RECORDS) == records
    assert not (keyring.home / "journal").exists()
    assert not (keyring.home / "journal.pending").exists()
    assert keyring.run("keyring", "verify").status == 0


def test_a_read_only_audit_trail_refuses_changes_and_lets_reads_go_on(keyring: Keyring) -> None:
    from tests.cli.private_mount import private_tmpfs

    audit_dir = keyring.home / "audit"
    saved = {name: (audit_dir / name).read_bytes() for name in ("log", "head")}
    records = _snapshot(keyring.home / layout.OPAQUE_RECORDS)
    with private_tmpfs(audit_dir, "1m") as disk:
        disk.view().chmod(0o700)
        for name, data in saved.items():
            disk.view(name).write_bytes(data)
            disk.view(name).chmod(0o600)
        remount = disk.run(["mount", "-o", "remount,ro", str(audit_dir)], env={}, cwd=keyring.tmp)
        assert remount.returncode == 0, remount.stderr
        done = disk.run([KMSCLI, "key", "disable", keyring.key], env=keyring.env, cwd=keyring.tmp)
        assert done.returncode == 10, done.stderr.decode()
        assert "every change must be audited" in done.stderr.decode()
        described = disk.run(
            [KMSCLI, "key", "describe", keyring.key], env=keyring.env, cwd=keyring.tmp
        )
        assert described.returncode == 0, described.stderr.decode()
    assert _snapshot(keyring.home / layout.OPAQUE_RECORDS) == records
    assert keyring.run("keyring", "verify").status == 0
