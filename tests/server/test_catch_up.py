"""`kmscli serve`: KMS's own due work happens before each request, as the CLI does per command.

A long-running server sees its clock move; a key whose waiting period passed between two
requests is destroyed, and audited as a service event, before the second request is answered.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from kmscli.store import audit_log
from tests.server.conftest import Server


def test_a_request_after_a_deletion_fell_due_finds_the_key_destroyed(kms_server: Server) -> None:
    kms = kms_server.client()
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "PendingDeletion"

    application = kms_server.server.application
    application.clock = lambda: datetime.now(UTC) + timedelta(days=8)
    with pytest.raises(kms.exceptions.NotFoundException):
        kms.describe_key(KeyId=key)
    events = [json.loads(entry.event) for entry in audit_log(kms_server.keyring).entries()]
    assert [
        (event["eventName"], event["serviceEventDetails"]["keyId"])
        for event in events
        if event.get("eventType") == "AwsServiceEvent"
    ] == [("DeleteKey", key)]
