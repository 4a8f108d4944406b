"""SigV4 as `kmscli serve` verifies it: against botocore's signer and AWS's published example,
and every refusal (bad signature, unknown key, stale or future date, wrong scope, no signature,
an altered body) with AWS's error type, message and status."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import pytest

from kmscli.server import sigv4
from kmscli.server.protocol import ProtocolError
from tests.server.conftest import REGION, Server


def _signed(
    url: str,
    key_id: str,
    secret: str,
    target: str,
    body: bytes,
    *,
    region: str = REGION,
    service: str = "kms",
) -> botocore.awsrequest.AWSRequest:
    request = botocore.awsrequest.AWSRequest(
        method="POST",
        url=url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    credentials = botocore.credentials.Credentials(key_id, secret)
    botocore.auth.SigV4Auth(credentials, service, region).add_auth(request)
    return request


def _send(url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def signed_post(
    server: Server, key_id: str, secret: str, target: str, body: bytes, **scope: str
) -> tuple[int, dict[str, Any]]:
    request = _signed(server.url, key_id, secret, target, body, **scope)
    return _send(server.url, dict(request.headers.items()), body)


def _refusal(server: Server, **kwargs: Any) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        server.client(**kwargs).list_keys()
    return caught.value


def _code(error: botocore.exceptions.ClientError) -> tuple[str, int, str]:
    return (
        error.response["Error"]["Code"],
        error.response["ResponseMetadata"]["HTTPStatusCode"],
        error.response["Error"]["Message"],
    )


def test_a_bad_signature_is_refused(kms_server: Server) -> None:
    key_id, _ = kms_server.access_key()
    code, status, message = _code(_refusal(kms_server, credentials=(key_id, "w" * 40)))
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message == sigv4.MISMATCH


def test_an_unknown_access_key_is_refused(kms_server: Server) -> None:
    kms_server.access_key()
    for unknown in ("AKIAAAAAAAAAAAAAAAAA", "not-a-key"):
        code, status, message = _code(_refusal(kms_server, credentials=(unknown, "s" * 40)))
        assert (code, status) == ("UnrecognizedClientException", 400)
        assert message == "The security token included in the request is invalid."


def test_a_deleted_access_key_is_refused_at_once(kms_server: Server, run: Any) -> None:
    key_id, secret = kms_server.access_key()
    kms_server.client().list_keys()
    assert run("principal", "access-key", "delete", key_id).status == 0
    code, *_ = _code(_refusal(kms_server, credentials=(key_id, secret)))
    assert code == "UnrecognizedClientException"


@pytest.mark.parametrize(
    ("skew", "expected"),
    [(timedelta(minutes=16), "Signature expired: "), (-timedelta(minutes=16), "not yet current")],
)
def test_stale_and_future_dates_are_refused(
    kms_server: Server, skew: timedelta, expected: str
) -> None:
    application = kms_server.server.application
    application.signing_clock = lambda: datetime.now(UTC) + skew
    code, status, message = _code(_refusal(kms_server))
    assert (code, status) == ("InvalidSignatureException", 400)
    assert expected in message and "15 min.)" in message
    application.signing_clock = lambda: datetime.now(UTC) + timedelta(minutes=14)
    kms_server.client().list_keys()  # within the 15 minutes


def test_an_altered_body_is_refused(kms_server: Server) -> None:
    key_id, secret = kms_server.access_key()
    request = _signed(
        kms_server.url, key_id, secret, "TrentService.GenerateRandom", b'{"NumberOfBytes": 8}'
    )
    status, body = _send(kms_server.url, dict(request.headers.items()), b'{"NumberOfBytes": 9}')
    assert (status, body["__type"]) == (400, "InvalidSignatureException")


def test_an_unsigned_request_and_a_wrong_scope_are_refused(kms_server: Server) -> None:
    key_id, secret = kms_server.access_key()
    status, body = _send(kms_server.url, {"X-Amz-Target": "TrentService.ListKeys"}, b"{}")
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")
    status, body = signed_post(
        kms_server, key_id, secret, "TrentService.ListKeys", b"{}", service="s3"
    )
    assert (status, body["__type"]) == (400, "InvalidSignatureException")
    assert body["message"] == "Credential should be scoped to correct service: 'kms'. "
    status, body = signed_post(
        kms_server, key_id, secret, "TrentService.ListKeys", b"{}", region="mars-1"
    )
    assert body["message"] == "Credential should be scoped to a valid region. "
    request = _signed(kms_server.url, key_id, secret, "TrentService.ListKeys", b"{}")
    headers = dict(request.headers.items())
    headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
    status, body = _send(kms_server.url, headers, b"{}")
    assert (status, body["__type"]) == (400, "IncompleteSignatureException")
    assert "Authorization header requires 'Signature' parameter." in body["message"]


def test_every_region_is_served_by_the_signature_scope(kms_server: Server) -> None:
    west = kms_server.client(region="eu-west-1")
    arn = west.create_key()["KeyMetadata"]["Arn"]
    assert arn.startswith("arn:aws:kms:eu-west-1:")
    east_keys = kms_server.client().list_keys()["Keys"]
    assert arn not in {k["KeyArn"] for k in east_keys}


def test_aws_published_example_signature() -> None:
    """The IAM ListUsers example of AWS's SigV4 documentation."""
    request = sigv4.Request(
        method="GET",
        path="/",
        query="Action=ListUsers&Version=2010-05-08",
        headers=(
            ("Host", "iam.amazonaws.com"),
            ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ),
        body=b"",
    )
    credential = sigv4.parse(request)
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    assert sigv4.signing_key(secret, credential).hex() == (
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    )
    sigv4.verify(request, credential, secret)
    with pytest.raises(ProtocolError, match="does not match"):
        sigv4.verify(request, credential, secret[:-1] + "X")


@pytest.mark.parametrize(
    ("path", "query", "extra"),
    [
        ("/", "", {}),
        ("/", "b=2&a=1&a=0&sp%20ace=x%2Fy", {"X-Custom": "  many   spaces  here "}),
        ("/some%20path/x", "", {"X-Amz-Content-Sha256": "placeholder"}),
    ],
)
def test_verifies_what_botocore_signs(path: str, query: str, extra: dict[str, str]) -> None:
    body = b'{"KeyId": "alias/x"}'
    if "X-Amz-Content-Sha256" in extra:
        import hashlib

        extra = {"X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest()}
    url = f"http://127.0.0.1:9/{path.lstrip('/')}" + (f"?{query}" if query else "")
    aws = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body, headers=extra)
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials("AKIDEXAMPLE", "secret"), "kms", "us-west-2"
    ).add_auth(aws)
    prepared = aws.prepare()
    parts = urlsplit(prepared.url)
    headers = [("Host", "127.0.0.1:9"), *prepared.headers.items()]
    request = sigv4.Request("POST", parts.path, parts.query, tuple(headers), body)
    credential = sigv4.parse(request)
    sigv4.verify(request, credential, "secret")
    with pytest.raises(ProtocolError):
        sigv4.verify(request, credential, "other")


# botocore ships no type information, so its classes are Any to mypy.
class _NarrowSigner(botocore.auth.SigV4Auth):  # type: ignore[misc]
    """botocore's signer, signing only the headers named (a client that signs too little)."""

    def __init__(self, credentials: Any, region: str, names: tuple[str, ...]) -> None:
        super().__init__(credentials, "kms", region)
        self.names = names

    def headers_to_sign(self, request: Any) -> Any:
        headers = super().headers_to_sign(request)
        for name in list(headers.keys()):
            if name not in self.names:
                del headers[name]
        return headers


def _narrowly_signed(server: Server, target: str, body: bytes, names: tuple[str, ...]) -> Any:
    key_id, secret = server.access_key()
    request = botocore.awsrequest.AWSRequest(
        method="POST",
        url=server.url + "/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
    )
    credentials = botocore.credentials.Credentials(key_id, secret)
    _NarrowSigner(credentials, REGION, names).add_auth(request)
    return request


def _state(server: Server, key: str) -> str:
    return server.client().describe_key(KeyId=key)["KeyMetadata"]["KeyState"]  # type: ignore[no-any-return]


def test_a_captured_request_cannot_be_replayed_as_another_operation(kms_server: Server) -> None:
    key = kms_server.client().create_key()["KeyMetadata"]["KeyId"]
    body = json.dumps({"KeyId": key}).encode()
    # Signed as botocore signs (every header): the target cannot be changed.
    request = _signed(kms_server.url, *kms_server.access_key(), "TrentService.DescribeKey", body)
    headers = dict(request.headers.items())
    assert "x-amz-target" in headers["Authorization"]
    headers["X-Amz-Target"] = "TrentService.DisableKey"
    status, answer = _send(kms_server.url, headers, body)
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    # Signed by a client that leaves the target out of the signature: refused as it is.
    request = _narrowly_signed(
        kms_server, "TrentService.DescribeKey", body, ("host", "x-amz-date", "content-type")
    )
    headers = dict(request.headers.items())
    status, answer = _send(kms_server.url, headers, body)
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    assert answer["message"] == (
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    )
    headers["X-Amz-Target"] = "TrentService.DisableKey"
    status, answer = _send(kms_server.url, headers, body)
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    assert _state(kms_server, key) == "Enabled"


@pytest.mark.parametrize(
    ("signed", "missing"),
    [
        (("host", "x-amz-date", "content-type"), "X-Amz-Target"),
        (("host", "x-amz-date", "x-amz-target"), "Content-Type"),
        (("host", "content-type", "x-amz-target"), "X-Amz-Date"),
    ],
)
def test_the_target_type_and_date_headers_must_be_signed(
    kms_server: Server, signed: tuple[str, ...], missing: str
) -> None:
    request = _narrowly_signed(kms_server, "TrentService.ListKeys", b"{}", signed)
    status, answer = _send(kms_server.url, dict(request.headers.items()), b"{}")
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    assert answer["message"] == f"'{missing}' must be a 'SignedHeader' in the AWS Authorization."
    full = _narrowly_signed(
        kms_server,
        "TrentService.ListKeys",
        b"{}",
        ("host", "x-amz-date", "content-type", "x-amz-target"),
    )
    status, answer = _send(kms_server.url, dict(full.headers.items()), b"{}")
    assert status == 200, answer
