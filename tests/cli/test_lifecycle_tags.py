"""Key tags: TagResource, UntagResource, ListResourceTags with AWS's limits and TagException."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Runner
from tests.helpers import ok


def _tags(run: Runner, key: str, *extra: str) -> dict[str, Any]:
    return json.loads(ok(run("key", "tags", key, "--json", *extra)).out)  # type: ignore[no-any-return]


@pytest.fixture
def key(run_inproc: Runner) -> str:
    return ok(run_inproc("key", "create", "--tag", "team=ops")).out.strip()


def test_tag_overwrite_untag_and_list(run_inproc: Runner, key: str) -> None:
    assert _tags(run_inproc, key) == {
        "Tags": [{"TagKey": "team", "TagValue": "ops"}],
        "Truncated": False,
    }
    ok(run_inproc("key", "tag", key, "team=storage", "Cost=42", "empty="))
    tags = _tags(run_inproc, key)["Tags"]
    assert tags == [
        {"TagKey": "team", "TagValue": "storage"},
        {"TagKey": "Cost", "TagValue": "42"},
        {"TagKey": "empty", "TagValue": ""},
    ]
    ok(run_inproc("key", "untag", key, "Cost", "absent"))
    assert [t["TagKey"] for t in _tags(run_inproc, key)["Tags"]] == ["team", "empty"]
    ok(run_inproc("key", "tag", key, "cost=1"))  # keys are case-sensitive
    assert len(_tags(run_inproc, key)["Tags"]) == 3
    listed = ok(run_inproc("key", "tags", key)).out.splitlines()
    assert listed[0] == "TagKey\tTagValue" and "team\tstorage" in listed


def test_limits_and_tag_exceptions(run_inproc: Runner, key: str) -> None:
    too_long = run_inproc("key", "tag", key, "k" * 129 + "=v")
    assert too_long.status == 2 and "ValidationException" in too_long.err
    assert "at 'tags.1.member.tagKey'" in too_long.err
    value = run_inproc("key", "tag", key, "k=" + "v" * 257)
    assert value.status == 2 and "at 'tags.1.member.tagValue'" in value.err
    for args, message in (
        (("aws:owner=x",), "Tags beginning with aws: are reserved"),
        (("a=1", "a=2"), "Duplicate tag keys"),
        (tuple(f"k{n}=v" for n in range(50)), "Too many tags"),  # 50 new + team = 51
    ):
        refused = run_inproc("key", "tag", key, *args)
        assert refused.status == 2
        assert refused.err.splitlines()[0] == f"kmscli: error: TagException: {message}"
    reserved = run_inproc("key", "untag", key, "aws:owner")
    assert reserved.status == 2 and "TagException" in reserved.err
    ok(run_inproc("key", "tag", key, *(f"k{n}=v" for n in range(49))))  # 50 in all: fine
    page = _tags(run_inproc, key, "--limit", "20")
    assert len(page["Tags"]) == 20 and page["Truncated"] is True
    rest = _tags(run_inproc, key, "--limit", "50", "--marker", page["NextMarker"])
    assert len(rest["Tags"]) == 30 and rest["Truncated"] is False
    bad = run_inproc("key", "tags", key, "--marker", "nonsense")
    assert bad.status == 2 and "InvalidMarkerException" in bad.err


def test_tags_are_seen_by_policies(run_inproc: Runner, key: str, tmp_path: Any) -> None:
    account = json.loads(ok(run_inproc("key", "describe", key, "--json")).out)["KeyMetadata"][
        "AWSAccountId"
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:TagResource",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/locked": "yes"}},
            },
        ],
    }
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    ok(run_inproc("policy", "put", key, "policy.json"))
    denied = run_inproc("key", "tag", key, "locked=yes")
    assert denied.status == 5 and "AccessDeniedException" in denied.err
    ok(run_inproc("key", "tag", key, "locked=no"))
