"""Key tags (kms-behaviour.md §3): TagResource, UntagResource, ListResourceTags.

Owns the tag operations: AWS's limits (key 1..128, value 0..256, at most 50 tags a key, unique
case-sensitive keys, `aws:` reserved), overwriting a tag with the same key, and the request
condition keys (`aws:RequestTag/<k>`, `aws:TagKeys`) the key policy sees. Tags live in the key
record; a multi-Region key's tags are its own, never copied to its replicas.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kmscli.errors import TagException
from kmscli.kms import validation
from kmscli.kms.authorization import RequestFacts
from kmscli.kms.states import check_state
from kmscli.policy.conditions import ConditionValue

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

MAX_LIST_LIMIT = 50


def tag_resource(service: KmsService, key: str, tags: Sequence[tuple[str, str]]) -> dict[str, Any]:
    if not tags:
        raise validation.constraint_error(
            "[]", "tags", "Member must have length greater than or equal to 1"
        )
    validation.check_tags(tags)
    extra: dict[str, ConditionValue] = {f"aws:RequestTag/{k}": v for k, v in tags}
    extra["aws:TagKeys"] = [k for k, _ in tags]
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        service._authorize(tx, "TagResource", record, RequestFacts(extra=extra))
        check_state("TagResource", record)
        merged = {t["TagKey"]: t["TagValue"] for t in record.tags}
        merged.update(dict(tags))
        if len(merged) > validation.MAX_TAGS:
            raise TagException("Too many tags")
        record.tags = [{"TagKey": k, "TagValue": v} for k, v in merged.items()]
        service._save_key(tx, record)
    return {}


def untag_resource(service: KmsService, key: str, tag_keys: Sequence[str]) -> dict[str, Any]:
    if not tag_keys:
        raise validation.constraint_error(
            "[]", "tagKeys", "Member must have length greater than or equal to 1"
        )
    for index, tag_key in enumerate(tag_keys, start=1):
        if not 1 <= len(tag_key) <= validation.MAX_TAG_KEY:
            raise validation.constraint_error(
                tag_key,
                f"tagKeys.{index}.member",
                f"Member must have length less than or equal to {validation.MAX_TAG_KEY}"
                if tag_key
                else "Member must have length greater than or equal to 1",
            )
        if tag_key.startswith("aws:"):
            raise TagException("Tags beginning with aws: are reserved")
    extra: dict[str, ConditionValue] = {"aws:TagKeys": list(tag_keys)}
    with service.keyring.write() as tx:
        record = service._resolve(tx, key, aliases=False)
        service._authorize(tx, "UntagResource", record, RequestFacts(extra=extra))
        check_state("UntagResource", record)
        removing = set(tag_keys)
        record.tags = [t for t in record.tags if t["TagKey"] not in removing]
        service._save_key(tx, record)
    return {}


def list_resource_tags(
    service: KmsService, key: str, *, limit: int | None = None, marker: str | None = None
) -> dict[str, Any]:
    count = validation.check_limit(limit, MAX_LIST_LIMIT, MAX_LIST_LIMIT)
    with service.keyring.read() as view:
        record = service._resolve(view, key, aliases=False)
        service._authorize(view, "ListResourceTags", record)
    check_state("ListResourceTags", record)
    entries = [{"TagKey": t["TagKey"], "TagValue": t["TagValue"]} for t in record.tags]
    return validation.page(entries, "Tags", count, marker)
