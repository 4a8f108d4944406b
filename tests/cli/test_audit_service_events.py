"""What KMS does by itself when it falls due is in the audit trail, as CloudTrail shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Runner

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _service_events(run: Runner, when: datetime) -> list[dict[str, Any]]:
    result = run("audit", "--json", now=when)
    assert result.status == 0, result.err
    records: list[dict[str, Any]] = json.loads(result.out)["Records"]
    return [r for r in records if r["eventType"] == "AwsServiceEvent"]


def test_automatic_rotation_and_deletion_are_audited_once(run_inproc: Runner) -> None:
    key = run_inproc("key", "create", now=at(0)).out.strip()
    assert (
        run_inproc("key", "rotation", "enable", key, "--period-days", "90", now=at(0)).status == 0
    )
    assert _service_events(run_inproc, at(10)) == []
    assert run_inproc("key", "list", now=at(91)).status == 0
    assert run_inproc("key", "list", now=at(92)).status == 0  # nothing more is due
    [rotated] = _service_events(run_inproc, at(92))
    assert rotated["eventName"] == "RotateKey"
    assert rotated["userIdentity"]["invokedBy"] == "kms.amazonaws.com"
    assert rotated["eventTime"] == "2030-04-01T00:00:00Z"  # when it fell due, not when seen
    assert rotated["resources"][0]["ARN"].endswith("key/" + key)

    assert (
        run_inproc("key", "schedule-deletion", key, "--days", "7", "--yes", now=at(100)).status == 0
    )
    assert run_inproc("key", "list", now=at(108)).status == 0
    names = [e["eventName"] for e in _service_events(run_inproc, at(108))]
    assert names == ["RotateKey", "DeleteKey"]
    verified = run_inproc("audit", "--verify", now=at(108))
    assert verified.status == 0, verified.err
