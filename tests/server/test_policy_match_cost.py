"""A hostile encryption-context value costs `kmscli serve` little.

With the old regex translation of `StringLike`, `*-*-*-prod` against 4,000 dashes took about a
minute (cubic time) in the request's thread; now it is decided at once, and the next request
is served.
"""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.server.conftest import ALICE, ROOT, Server


def test_a_long_run_of_dashes_is_decided_at_once(kms_server: Server) -> None:
    root = kms_server.client()
    key_id = root.create_key()["KeyMetadata"]["KeyId"]
    condition = {"StringLike": {"kms:EncryptionContext:env": "*-*-*-prod"}}
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": ALICE},
                "Action": "kms:Encrypt",
                "Resource": "*",
                "Condition": condition,
            },
        ],
    }
    root.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))
    alice = kms_server.client(ALICE, read_timeout=30)
    start = time.perf_counter()
    with pytest.raises(ClientError) as denied:
        alice.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"env": "-" * 4000})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    alice.encrypt(KeyId=key_id, Plaintext=b"x", EncryptionContext={"env": "-" * 4000 + "-prod"})
    assert time.perf_counter() - start < 5
    assert root.describe_key(KeyId=key_id)["KeyMetadata"]["Enabled"]
