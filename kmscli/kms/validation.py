"""Request validation with AWS's limits and messages (kms-behaviour.md §3).

Owns the shape checks that come first in every operation: sizes, enums, tags, descriptions,
encryption contexts. Pure: no keyring, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kmscli.errors import (
    InvalidMarkerException,
    LimitExceededException,
    TagException,
    ValidationException,
)

MAX_DESCRIPTION = 8192
MAX_PLAINTEXT = 4096
MAX_RANDOM = 1024
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
MAX_KEY_POLICY_BYTES = 32768
DATA_KEY_SPECS = {"AES_256": 32, "AES_128": 16}


def constraint_error(value: object, member: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def is_unicode(text: str) -> bool:
    """Whether `text` is valid Unicode: no lone surrogates, which is what an undecodable byte of
    a command-line argument or a JSON `\\udcff` escape becomes, and no UTF-8 encoder takes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_unicode(text: str, member: str) -> None:
    if not is_unicode(text):
        raise constraint_error(
            text.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace"),
            member,
            "Member must be valid Unicode (UTF-8) text",
        )


def check_description(description: str) -> None:
    check_unicode(description, "description")
    if len(description) > MAX_DESCRIPTION:
        raise constraint_error(
            "<description>",
            "description",
            f"Member must have length less than or equal to {MAX_DESCRIPTION}",
        )


def check_plaintext(plaintext: bytes) -> None:
    if not plaintext:
        raise ValidationException(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    if len(plaintext) > MAX_PLAINTEXT:
        raise ValidationException(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_PLAINTEXT}"
        )


def check_random_size(number_of_bytes: int | None) -> int:
    if number_of_bytes is None:
        raise ValidationException("NumberOfBytes is required.")
    if number_of_bytes < 1:
        raise constraint_error(
            number_of_bytes, "numberOfBytes", "Member must have value greater than or equal to 1"
        )
    if number_of_bytes > MAX_RANDOM:
        raise constraint_error(
            number_of_bytes,
            "numberOfBytes",
            f"Member must have value less than or equal to {MAX_RANDOM}",
        )
    return number_of_bytes


def data_key_length(key_spec: str | None, number_of_bytes: int | None) -> int:
    """Exactly one of KeySpec or NumberOfBytes, as GenerateDataKey demands."""
    if key_spec is not None and number_of_bytes is not None:
        raise ValidationException("KeySpec and NumberOfBytes are mutually exclusive.")
    if key_spec is None and number_of_bytes is None:
        raise ValidationException("Please specify either number of bytes or key spec.")
    if key_spec is not None:
        if key_spec not in DATA_KEY_SPECS:
            raise constraint_error(
                key_spec, "keySpec", "Member must satisfy enum value set: [AES_256, AES_128]"
            )
        return DATA_KEY_SPECS[key_spec]
    assert number_of_bytes is not None
    return check_random_size(number_of_bytes)


def check_encryption_context(encryption_context: Mapping[str, str]) -> None:
    for key, value in encryption_context.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise ValidationException("Encryption context keys and values must be strings.")
        if not key:
            raise ValidationException("Encryption context keys must not be empty.")
        if not (is_unicode(key) and is_unicode(value)):
            raise ValidationException("Encryption context keys and values must be valid Unicode.")


def check_tags(tags: Sequence[tuple[str, str]], existing: int = 0) -> None:
    """Tag rules of TagResource/CreateKey: sizes, duplicates, reserved prefix, count."""
    seen: set[str] = set()
    for index, (key, value) in enumerate(tags, start=1):
        check_unicode(key, f"tags.{index}.member.tagKey")
        check_unicode(value, f"tags.{index}.member.tagValue")
        if not 1 <= len(key) <= MAX_TAG_KEY:
            raise constraint_error(
                key,
                f"tags.{index}.member.tagKey",
                f"Member must have length less than or equal to {MAX_TAG_KEY}"
                if key
                else "Member must have length greater than or equal to 1",
            )
        if len(value) > MAX_TAG_VALUE:
            raise constraint_error(
                value,
                f"tags.{index}.member.tagValue",
                f"Member must have length less than or equal to {MAX_TAG_VALUE}",
            )
        if key.startswith("aws:"):
            raise TagException("Tags beginning with aws: are reserved")
        if key in seen:
            raise TagException("Duplicate tag keys")
        seen.add(key)
    if existing + len(seen) > MAX_TAGS:
        raise TagException("Too many tags")


def check_key_policy_size(policy: str) -> None:
    if len(policy.encode()) > MAX_KEY_POLICY_BYTES:
        raise LimitExceededException(
            f"The key policy exceeds the maximum size of {MAX_KEY_POLICY_BYTES} bytes."
        )


def check_limit(limit: int | None, maximum: int, default: int) -> int:
    """A list operation's `Limit`: 1..maximum, `default` when not given."""
    if limit is None:
        return default
    if limit < 1:
        raise constraint_error(limit, "limit", "Member must have value greater than or equal to 1")
    if limit > maximum:
        raise constraint_error(
            limit, "limit", f"Member must have value less than or equal to {maximum}"
        )
    return limit


def page(entries: Sequence[Any], member: str, limit: int, marker: str | None) -> dict[str, Any]:
    """One page of a list response: `member`, `Truncated` and, when truncated, `NextMarker`.

    Markers are the offsets this function handed out; anything else is InvalidMarkerException.
    """
    start = 0
    if marker is not None:
        # ASCII digits only: int() also takes "²" and other Unicode digits (a ValueError).
        digits = marker.isascii() and marker.isdigit() and len(marker) <= 1024
        if not digits or int(marker) > len(entries):
            raise InvalidMarkerException("The marker is not one that this list handed out.")
        start = int(marker)
    chunk = list(entries[start : start + limit])
    response: dict[str, Any] = {member: chunk}
    end = start + len(chunk)
    response["Truncated"] = end < len(entries)
    if end < len(entries):
        response["NextMarker"] = str(end)
    return response
