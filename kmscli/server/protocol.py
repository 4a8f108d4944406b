"""The AWS JSON 1.1 protocol of KMS: request members in, response documents and errors out.

Owns: parsing a request body into typed members (`Members`: strings, Base64 blobs, integers,
booleans, string maps, lists, tags, epoch timestamps) with AWS's error types: a body that is
not JSON, or JSON that no member can hold (NaN, lone surrogates, numbers beyond 20 digits or
an Integer's range, nesting beyond the parser's depth), or a mistyped member, is a
`SerializationException`; a missing member a `ValidationException`. Encoding a service
response (bytes as Base64, timestamps as epoch seconds, as botocore's JSON parser expects);
the error body `{"__type", "message"}` and the HTTP status of every error.

Must not: know HTTP, sockets or headers, call the service, or decide who the caller is.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kmscli.errors import KeyringError, KmsError, KMSInternalException, ValidationException

CONTENT_TYPE = "application/x-amz-json-1.1"
TARGET_PREFIX = "TrentService."

# Members that botocore's KMS model types as timestamps (tests/server hold this list to it).
TIMESTAMP_MEMBERS = frozenset(
    {
        "CreationDate",
        "DeletionDate",
        "KeyCreationDate",
        "LastUpdatedDate",
        "NextRotationDate",
        "OnDemandRotationStartDate",
        "ParametersValidTo",
        "RotationDate",
        "Timestamp",
        "TrackingStartDate",
        "ValidTo",
    }
)
MAX_INTEGER_DIGITS = 20
"""Longer numbers are refused while parsing (no member is an integer beyond 64 bits), which
keeps Python's int() digit limit and its cost out of reach."""
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""The range of the model's Integer members."""
INTERNAL_MESSAGE = "An internal error occurred. kmscli serve logged the details."


class ProtocolError(Exception):
    """A request the server refuses before any operation runs.

    `code` is the AWS error type (SerializationException, UnknownOperationException, the
    SigV4 refusals...) and `status` the HTTP status AWS answers it with. Not a KmsError: no
    kmscli command raises it, so it has no exit status.
    """

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def serialization_error(message: str) -> ProtocolError:
    return ProtocolError("SerializationException", message)


def _null_member(member: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value null at '{_camel(member)}' failed to satisfy "
        "constraint: Member must not be null"
    )


def _camel(member: str) -> str:
    return member[:1].lower() + member[1:]


class Members:
    """The members of one request document, read by their AWS (PascalCase) names."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def _get(self, name: str, kind: type | tuple[type, ...], required: bool) -> Any:
        value = self.document.get(name)
        if value is None:
            if required:
                raise _null_member(name)
            return None
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise serialization_error(f"{name}: expected a {_kind_name(kind)}")
        return value

    def has(self, name: str) -> bool:
        return self.document.get(name) is not None

    def string(self, name: str) -> str | None:
        value: str | None = self._get(name, str, False)
        return value

    def required_string(self, name: str) -> str:
        value: str = self._get(name, str, True)
        return value

    def integer(self, name: str) -> int | None:
        value: int | None = self._get(name, int, False)
        if value is not None and not INT_MIN <= value <= INT_MAX:
            raise serialization_error(f"{name}: the number is out of range for an Integer")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value: bool | None = self._get(name, bool, False)
        return default if value is None else value

    def blob(self, name: str) -> bytes:
        text: str = self._get(name, str, True)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise serialization_error(f"{name}: not valid Base64") from None

    def string_map(self, name: str) -> dict[str, str] | None:
        value: dict[str, Any] | None = self._get(name, dict, False)
        if value is None:
            return None
        if not all(isinstance(v, str) for v in value.values()):
            raise serialization_error(f"{name}: expected a map of strings")
        return dict(value)

    def strings(self, name: str, *, required: bool = False) -> list[str]:
        value: list[Any] | None = self._get(name, list, required)
        if value is None:
            return []
        if not all(isinstance(v, str) for v in value):
            raise serialization_error(f"{name}: expected a list of strings")
        return list(value)

    def tags(self, name: str = "Tags", *, required: bool = False) -> list[tuple[str, str]]:
        value: list[Any] | None = self._get(name, list, required)
        pairs = []
        for tag in value or []:
            if not isinstance(tag, dict):
                raise serialization_error(f"{name}: expected a list of Tag structures")
            key, text = tag.get("TagKey"), tag.get("TagValue")
            if not isinstance(key, str) or not isinstance(text, str):
                raise serialization_error(f"{name}: every Tag needs a TagKey and a TagValue")
            pairs.append((key, text))
        return pairs

    def timestamp(self, name: str) -> datetime | None:
        value = self._get(name, (int, float, str), False)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise serialization_error(f"{name}: not a timestamp") from None
            return instant if instant.tzinfo else instant.replace(tzinfo=UTC)
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise serialization_error(f"{name}: not a timestamp") from None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "string", int: "number", bool: "boolean", dict: "structure", list: "list"}
    if isinstance(kind, tuple):
        return "timestamp"
    return names.get(kind, kind.__name__)


def _no_constant(name: str) -> Any:
    raise serialization_error(f"The request body is not valid JSON: {name} is not a JSON value")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise serialization_error("The request body holds a number too large for any member")
    return int(digits)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise serialization_error("The request body holds a number too large for any member")
    return value


def _check_strings(document: Any) -> None:
    """Refuse strings that are not Unicode text (a lone surrogate such as "\\ud800" is valid
    JSON but no UTF-8 can carry it): keys and values, at any depth, without recursion."""
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise serialization_error(
                    "The request body holds a string that is not valid Unicode "
                    "(an unpaired surrogate)"
                ) from None


def parse_body(body: bytes) -> Members:
    """The request document; an empty body is an empty document, as AWS takes it.

    Anything but a JSON object of Unicode text is a SerializationException: bytes that are not
    UTF-8, NaN and Infinity, numbers of more than MAX_INTEGER_DIGITS digits or beyond a
    double, nesting deeper than the parser's recursion allows, lone surrogates."""
    if not body.strip():
        return Members({})
    try:
        document = json.loads(
            body.decode("utf-8"),
            parse_constant=_no_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except ProtocolError:
        raise
    except RecursionError:
        raise serialization_error("The request body is nested too deeply") from None
    except (ValueError, UnicodeDecodeError):
        raise serialization_error("The request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise serialization_error("Start of structure or map found where not expected.")
    _check_strings(document)
    return Members(document)


def _epoch(value: str | datetime) -> float | int:
    instant = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    seconds = instant.timestamp()
    return int(seconds) if seconds.is_integer() else round(seconds, 3)


def _encode(value: Any, member: str | None) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {k: _encode(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v, member) for v in value]
    if member in TIMESTAMP_MEMBERS and isinstance(value, str | datetime):
        return _epoch(value)
    if isinstance(value, datetime):
        return _epoch(value)
    return value


def encode_response(response: Mapping[str, Any]) -> bytes:
    """A service response as the JSON 1.1 document AWS would send."""
    return json.dumps(_encode(dict(response), None), separators=(",", ":")).encode()


def error_status(error: BaseException) -> int:
    if isinstance(error, ProtocolError):
        return error.status
    if isinstance(error, KMSInternalException | KeyringError) or not isinstance(error, KmsError):
        return 500
    return 400


def error_code(error: BaseException) -> str:
    if isinstance(error, ProtocolError):
        return error.code
    if isinstance(error, KeyringError) or not isinstance(error, KmsError):
        return "KMSInternalException"
    return error.code


def error_message(error: BaseException) -> str:
    if isinstance(error, ProtocolError):
        return error.message
    if error_status(error) >= 500 or not isinstance(error, KmsError):
        return INTERNAL_MESSAGE
    return error.message


def encode_error(error: BaseException) -> tuple[int, bytes]:
    """HTTP status and body for a failed request; details of internal errors stay out of it."""
    body = {"__type": error_code(error), "message": error_message(error)}
    return error_status(error), json.dumps(body, separators=(",", ":")).encode()
