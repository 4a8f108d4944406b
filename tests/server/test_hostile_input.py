"""Odd but authenticated requests, and odd HTTP framing: always an answer with AWS's error JSON.

Every request here is signed with a valid access key (or framed so badly that no signature is
read), so what is tested is the server's handling of the content: never a 500, never a dropped
connection. The `kms_server` fixture fails the test if the server logged an internal error.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.credentials
import pytest

from tests.server.conftest import REGION, Server
from tests.server.test_authentication import _signed

DEEP = 100_000
POLICY_WITH_HUGE_NUMBER = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {"NumericLessThan": {"kms:GrantConstraintType": "PLACEHOLDER"}},
            }
        ],
    }
).replace('"PLACEHOLDER"', "9" * 5000)


def _raw(server: Server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `data` as it is; the status, headers and body of the answer (which must come)."""
    parts = urlsplit(server.url)
    assert parts.hostname is not None and parts.port is not None
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection without an answer: {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers["content-length"])
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk, "the answer was cut short"
            body += chunk
    return int(lines[0].split()[1]), headers, body


def _signed_raw(server: Server, target: str, body: bytes, **extra: str) -> bytes:
    """A whole HTTP request, signed, with `extra` headers after the signed ones."""
    key_id, secret = server.access_key()
    request = _signed(server.url, key_id, secret, f"TrentService.{target}", body)
    parts = urlsplit(server.url)
    lines = ["POST / HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in extra.items()]
    if "Content_Length" not in extra:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _aws_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert headers["content-type"] == "application/x-amz-json-1.1", headers
    error = json.loads(body)
    assert set(error) == {"__type", "message"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert status < 500, error
    return error  # type: ignore[no-any-return]


def _key(server: Server) -> str:
    return server.client().create_key()["KeyMetadata"]["KeyId"]  # type: ignore[no-any-return]


def _bodies(key: str) -> dict[str, tuple[str, str, str]]:
    """name → (operation, JSON body text, expected __type)."""
    deep = '{"KeyId": ' + "[" * DEEP + "]" * DEEP + "}"
    token = "QUJD"  # Base64 of b"ABC"
    import_with = (
        f'{{"KeyId": "{key}", "ImportToken": "{token}", "EncryptedKeyMaterial": "{token}", '
    )
    encrypt_with = f'{{"KeyId": "{key}", "Plaintext": "aGk=", "EncryptionContext": '
    return {
        "nested 100,000 deep": ("DescribeKey", deep, "SerializationException"),
        "lone surrogate in a context": (
            "Encrypt",
            encrypt_with + '{"a": "\\ud800"}}',
            "SerializationException",
        ),
        "lone surrogate in a key": (
            "Encrypt",
            encrypt_with + '{"\\udfff": "a"}}',
            "SerializationException",
        ),
        "marker of superscript two": (
            "ListResourceTags",
            '{"KeyId": "@KEY@", "Marker": "\u00b2"}'.replace("@KEY@", key),
            "InvalidMarkerException",
        ),
        "ValidTo of 1e20": (
            "ImportKeyMaterial",
            import_with + '"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": 1e20}',
            "SerializationException",
        ),
        "ValidTo of NaN": (
            "ImportKeyMaterial",
            import_with + '"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": NaN}',
            "SerializationException",
        ),
        "ValidTo of Infinity": (
            "ImportKeyMaterial",
            import_with + '"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": Infinity}',
            "SerializationException",
        ),
        "ValidTo of 1e400": (
            "ImportKeyMaterial",
            import_with + '"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": -1e400}',
            "SerializationException",
        ),
        "ValidTo of true": (
            "ImportKeyMaterial",
            import_with + '"ExpirationModel": "KEY_MATERIAL_EXPIRES", "ValidTo": true}',
            "SerializationException",
        ),
        "5,000-digit integer in a policy": (
            "PutKeyPolicy",
            json.dumps({"KeyId": key, "Policy": POLICY_WITH_HUGE_NUMBER}),
            "MalformedPolicyDocumentException",
        ),
        "integer beyond 32 bits": (
            "ScheduleKeyDeletion",
            '{"KeyId": "@KEY@", "PendingWindowInDays": 99999999999999999999}'.replace("@KEY@", key),
            "SerializationException",
        ),
        "list for grant constraints": (
            "CreateGrant",
            '{"KeyId": "@KEY@", "GranteePrincipal": "arn:aws:iam::111122223333:root", '
            '"Operations": ["Decrypt"], "Constraints": ["x"]}'.replace("@KEY@", key),
            "SerializationException",
        ),
    }


CASES = sorted(_bodies("k"))


@pytest.mark.parametrize("case", CASES)
def test_odd_authenticated_input_is_a_400_with_aws_error_json(
    kms_server: Server, case: str
) -> None:
    operation, text, expected = _bodies(_key(kms_server))[case]
    body = text.encode("utf-8", "surrogateescape")
    status, headers, answer = _raw(kms_server, _signed_raw(kms_server, operation, body))
    error = _aws_error(status, headers, answer)
    assert (status, error["__type"]) == (400, expected), error
    # The connection was kept (these are well-framed requests): the next one is served.
    assert headers.get("connection") != "close"


@pytest.mark.parametrize(
    ("framing", "expected_status"),
    [
        ({"Content_Length": "\u00b2"}, 400),
        ({"Content_Length": "-1"}, 400),
        ({"Content_Length": "+2"}, 400),
        ({"Content_Length": "0x2"}, 400),
        ({"Content_Length": "99999999999999999999999"}, 400),
        ({"Content_Length": "2, 2"}, 400),
        ({"Content_Length": str(2 * 1024 * 1024)}, 413),
        ({"Transfer_Encoding": "chunked"}, 411),
    ],
)
def test_odd_content_lengths_are_refused_with_aws_error_json(
    kms_server: Server, framing: dict[str, str], expected_status: int
) -> None:
    request = _signed_raw(kms_server, "ListKeys", b"{}", **framing)
    if "Transfer_Encoding" in framing:
        request = request.replace(b"Content-Length: 2\r\n", b"")
    status, headers, answer = _raw(kms_server, request.replace(b"\xc2\xb2", b"\xb2"))
    error = _aws_error(status, headers, answer)
    assert status == expected_status, error
    assert headers["connection"] == "close"


def test_a_duplicated_content_length_is_refused(kms_server: Server) -> None:
    request = _signed_raw(kms_server, "ListKeys", b"{}")
    request = request.replace(
        b"Content-Length: 2\r\n", b"Content-Length: 2\r\nContent-Length: 40\r\n"
    )
    status, headers, answer = _raw(kms_server, request)
    assert (status, _aws_error(status, headers, answer)["__type"]) == (
        400,
        "SerializationException",
    )


@pytest.mark.parametrize(
    "head",
    [
        [f"X-Filler-{i}: x" for i in range(150)],  # too many fields
        ["X-Filler: " + "x" * 40_000],  # too many bytes
    ],
)
def test_oversized_heads_are_refused_with_aws_error_json(
    kms_server: Server, head: list[str]
) -> None:
    request = _signed_raw(kms_server, "ListKeys", b"{}")
    extra = "".join(line + "\r\n" for line in head).encode()
    request = request.replace(b"POST / HTTP/1.1\r\n", b"POST / HTTP/1.1\r\n" + extra)
    status, headers, answer = _raw(kms_server, request)
    assert status == 431, answer
    _aws_error(status, headers, answer)


def test_a_malformed_request_line_and_other_methods_get_aws_error_json(kms_server: Server) -> None:
    for request, expected in [
        (b"POST /\x1b[2J HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400),
        (b"POST / HTTP/9.9\r\nContent-Length: 0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 405),
        (b"POST / HTTP/1.1\r\n continued: header\r\nContent-Length: 0\r\n\r\n", 400),
    ]:
        status, headers, answer = _raw(kms_server, request)
        assert status == expected, (request, answer)
        _aws_error(status, headers, answer)


def test_a_twice_given_target_is_refused_even_when_signed(kms_server: Server) -> None:
    key = _key(kms_server)
    key_id, secret = kms_server.access_key()
    body = json.dumps({"KeyId": key}).encode()
    request = _signed(kms_server.url, key_id, secret, "TrentService.DescribeKey", body)
    request.headers["X-Amz-Target"] = "TrentService.DisableKey"  # a second field, both signed
    del request.headers["Authorization"]
    del request.headers["X-Amz-Date"]
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(key_id, secret), "kms", REGION
    ).add_auth(request)
    assert request.headers.get_all("X-Amz-Target") == [
        "TrentService.DescribeKey",
        "TrentService.DisableKey",
    ]
    parts = urlsplit(kms_server.url)
    lines = ["POST / HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    status, headers, answer = _raw(kms_server, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    error = _aws_error(status, headers, answer)
    assert (status, error["__type"]) == (400, "SerializationException"), error
    state = kms_server.client().describe_key(KeyId=key)["KeyMetadata"]["KeyState"]
    assert state == "Enabled"


def test_a_body_too_large_is_answered_413_while_it_is_still_being_sent(kms_server: Server) -> None:
    """The client sends its whole 2 MiB body before it reads: the 413 must still be there."""
    request = _signed_raw(kms_server, "ListKeys", b"{" * (2 * 1024 * 1024))
    parts = urlsplit(kms_server.url)
    assert parts.hostname is not None and parts.port is not None
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                received += chunk
        except OSError as error:
            pytest.fail(f"the connection was reset before the answer was read: {error!r}")
    head, _, answer = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 "), received
    assert json.loads(answer)["__type"] == "SerializationException"
