"""The keyring's sealed state anchors its audit trail: a removed, cut or replaced trail is
reported by `keyring verify` (exit 9) and `audit --verify` (exit 7), even when what is left
looks like a fresh, intact chain."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kmscli.store import layout
from tests.conftest import Runner


def _home(tmp_path: Path) -> Path:
    return tmp_path / "keyring"


def _filled(run: Runner) -> str:
    result = run("key", "create", "--json", "--description", "payroll")
    assert result.status == 0, result.err
    key = str(json.loads(result.out)["KeyMetadata"]["KeyId"])
    for args in (("key", "tag", key, "team=blue"), ("key", "describe", key)):
        assert run(*args).status == 0
    return key


def _remove_directory(home: Path) -> None:
    shutil.rmtree(home / "audit")


def _remove_head_keep_first(home: Path) -> None:
    log = home / "audit" / "log"
    log.write_bytes(log.read_bytes().splitlines(keepends=True)[0])
    (home / "audit" / "head").unlink()


def _empty_both(home: Path) -> None:
    (home / "audit" / "log").write_bytes(b"")
    (home / "audit" / "head").write_bytes(b"")


TAMPERING: dict[str, Callable[[Path], None]] = {
    "audit directory removed": _remove_directory,
    "log cut to its first record, head removed": _remove_head_keep_first,
    "log and head emptied": _empty_both,
}


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_a_removed_or_truncated_trail_fails_both_verifications(
    run_inproc: Runner, tmp_path: Path, name: str
) -> None:
    _filled(run_inproc)
    assert run_inproc("keyring", "verify").status == 0
    assert run_inproc("audit", "--verify").status == 0
    TAMPERING[name](_home(tmp_path))
    verified = run_inproc("keyring", "verify")
    assert verified.status == 9, verified.out + verified.err
    assert "audit log:" in verified.out
    audited = run_inproc("audit", "--verify")
    assert audited.status == 7, audited.out + audited.err
    assert "removed" in audited.err


def test_a_new_chain_started_after_the_trail_was_removed_is_still_reported(
    run_inproc: Runner, tmp_path: Path
) -> None:
    key = _filled(run_inproc)
    _remove_directory(_home(tmp_path))
    # Operations go on, and a new chain starts at record 1, intact on its own; a change does
    # not re-anchor on it, so the loss of the old trail stays visible.
    for _ in range(4):
        assert run_inproc("key", "describe", key).status == 0
    assert run_inproc("key", "disable", key).status == 0
    assert run_inproc("key", "enable", key).status == 0
    audited = run_inproc("audit", "--verify")
    assert audited.status == 7, audited.out + audited.err
    assert run_inproc("keyring", "verify").status == 9
    events = json.loads(run_inproc("audit", "--json").out)["Records"]
    assert [e["eventName"] for e in events][-2:] == ["DisableKey", "EnableKey"]


def test_a_keyring_without_an_anchor_works_and_is_anchored_at_its_next_change(
    run_inproc: Runner, tmp_path: Path
) -> None:
    """As a keyring made by a kmscli without anchors: no anchor record at all."""
    key = _filled(run_inproc)
    home = _home(tmp_path)
    anchors = home / layout.OPAQUE_RECORDS / "keyring"
    shutil.rmtree(anchors)
    assert run_inproc("keyring", "verify").status == 0
    assert run_inproc("audit", "--verify").status == 0
    assert run_inproc("key", "describe", key).status == 0
    assert not anchors.exists()  # an operation that changes nothing leaves it behind
    assert run_inproc("key", "disable", key).status == 0
    assert anchors.is_dir()
    assert run_inproc("keyring", "verify").status == 0
    _remove_directory(home)
    assert run_inproc("keyring", "verify").status == 9
