"""AWS Signature Version 4, verified: who signed a request, or AWS's refusal.

Owns: parsing the `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
Signature=...` header and `X-Amz-Date` (`parse`), then rebuilding the canonical request and the
string to sign exactly as the AWS specification says, deriving the signing key (HMAC-SHA256
chain) and comparing signatures in constant time (`verify`). Refusals carry AWS's error types
and messages: MissingAuthenticationTokenException, IncompleteSignatureException,
InvalidSignatureException (bad signature, wrong scope, expired or future date) and
UnrecognizedClientException (an unknown access key; the caller raises it after its lookup).

Must not: look up secrets itself, know HTTP servers, or read the clock: the caller hands in the
request, the secret and "now". Query-string (presigned) authentication is not supported; KMS
clients sign headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

from kmscli.crypto.primitives import constant_time_equal, hmac_sha256, sha256
from kmscli.server.protocol import ProtocolError

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=15)
AMZ_DATE = "%Y%m%dT%H%M%SZ"

MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."  # noqa: S105

_SPACES = re.compile(r"\s+")
_PARAMETER = re.compile(r"\s*([A-Za-z]+)\s*=\s*([^,\s]*)\s*")


def incomplete(message: str) -> ProtocolError:
    return ProtocolError("IncompleteSignatureException", message)


def invalid(message: str) -> ProtocolError:
    return ProtocolError("InvalidSignatureException", message)


def unrecognized_client() -> ProtocolError:
    return ProtocolError("UnrecognizedClientException", INVALID_TOKEN)


@dataclass(frozen=True)
class Request:
    """What SigV4 covers of an HTTP request: `path` and `query` as sent (still encoded)."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass(frozen=True)
class Credential:
    """The parsed `Authorization` header and request date."""

    access_key_id: str
    scope_date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    instant: datetime

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/{TERMINATOR}"


def parse(request: Request, *, must_sign: Iterable[str] = ("host",)) -> Credential:
    """The credential a request claims, its syntax checked (no secret needed yet).

    `must_sign`: lower-case names of the headers whose absence from SignedHeaders refuses the
    request (AWS itself insists on `host`; a service adds the headers that choose what the
    request does, so that they cannot be changed on a captured request)."""
    headers = request.header("Authorization")
    if not headers:
        if "X-Amz-Algorithm=" in request.query or "X-Amz-Signature=" in request.query:
            raise incomplete("kmscli serve does not accept query-string (presigned) requests")
        raise ProtocolError(
            "MissingAuthenticationTokenException", "Request is missing Authentication Token"
        )
    authorization = headers[0].strip()
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != ALGORITHM:
        raise incomplete(
            f"Unsupported AWS 'algorithm': '{algorithm}'. Authorization={authorization}"
        )
    parameters: dict[str, str] = {}
    for part in rest.split(","):
        match = _PARAMETER.fullmatch(part)
        if match:
            parameters[match.group(1)] = match.group(2)
    dates = request.header("X-Amz-Date")
    problems = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not parameters.get(name)
    ]
    if not dates:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        raise incomplete(" ".join(problems) + f" Authorization={authorization}")
    elements = parameters["Credential"].split("/")
    if len(elements) != 5:
        raise incomplete(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{parameters['Credential']}'"
        )
    access_key_id, scope_date, region, service, terminator = elements
    amz_date = dates[0].strip()
    try:
        instant = datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise incomplete(
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See "
            "http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
    if terminator != TERMINATOR:
        raise invalid(
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{terminator}'. "
        )
    if scope_date != amz_date[:8]:
        raise invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
        )
    signed = tuple(parameters["SignedHeaders"].lower().split(";"))
    for name in must_sign:
        if name not in signed:
            shown = "'Host' or ':authority'" if name == "host" else f"'{_title(name)}'"
            raise invalid(f"{shown} must be a 'SignedHeader' in the AWS Authorization.")
    return Credential(
        access_key_id=access_key_id,
        scope_date=scope_date,
        region=region,
        service=service,
        signed_headers=signed,
        signature=parameters["Signature"].lower(),
        amz_date=amz_date,
        instant=instant,
    )


def _title(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def check_scope(credential: Credential, *, service: str, region_ok: Callable[[str], bool]) -> None:
    if credential.service != service:
        raise invalid(f"Credential should be scoped to correct service: '{service}'. ")
    if not region_ok(credential.region):
        raise invalid("Credential should be scoped to a valid region. ")


def check_time(credential: Credential, now: datetime) -> None:
    """Refuse a request dated more than 15 minutes from `now`, in AWS's words."""
    shown = now.astimezone(UTC).strftime(AMZ_DATE)
    if credential.instant < now - MAX_SKEW:
        earliest = (now - MAX_SKEW).strftime(AMZ_DATE)
        raise invalid(
            f"Signature expired: {credential.amz_date} is now earlier than {earliest} "
            f"({shown} - 15 min.)"
        )
    if credential.instant > now + MAX_SKEW:
        latest = (now + MAX_SKEW).strftime(AMZ_DATE)
        raise invalid(
            f"Signature not yet current: {credential.amz_date} is still later than {latest} "
            f"({shown} + 15 min.)"
        )


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(query: str) -> str:
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append((_encode(unquote(key)), _encode(unquote(value))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _header_value(values: Iterable[str]) -> str:
    return ",".join(_SPACES.sub(" ", value.strip()) for value in values)


def payload_hash(request: Request) -> str:
    computed = sha256(request.body).hex()
    claimed = request.header("X-Amz-Content-Sha256")
    if claimed and claimed[0].strip().lower() != computed:
        raise invalid(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
    return computed


def canonical_request(request: Request, credential: Credential) -> str:
    path = quote(request.path or "/", safe="/~")
    headers = "".join(
        f"{name}:{_header_value(request.header(name))}\n" for name in credential.signed_headers
    )
    return "\n".join(
        [
            request.method.upper(),
            path,
            canonical_query(request.query),
            headers,
            ";".join(credential.signed_headers),
            payload_hash(request),
        ]
    )


def string_to_sign(request: Request, credential: Credential) -> str:
    digest = sha256(canonical_request(request, credential).encode()).hex()
    return f"{ALGORITHM}\n{credential.amz_date}\n{credential.scope}\n{digest}"


def signing_key(secret: str, credential: Credential) -> bytes:
    key = hmac_sha256(f"AWS4{secret}".encode(), credential.scope_date.encode())
    for part in (credential.region, credential.service, TERMINATOR):
        key = hmac_sha256(key, part.encode())
    return key


def verify(request: Request, credential: Credential, secret: str) -> None:
    """Refuse unless `secret` signed exactly this request."""
    expected = hmac_sha256(
        signing_key(secret, credential), string_to_sign(request, credential).encode()
    ).hex()
    if not constant_time_equal(expected.encode(), credential.signature.encode()):
        raise invalid(MISMATCH)
