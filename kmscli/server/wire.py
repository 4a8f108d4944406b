"""HTTP/1.1 requests as `kmscli serve` reads them: a bounded head, a strict Content-Length.

Owns: finding the end of a request head in received bytes, parsing it (request line, at most
MAX_HEADERS header fields, MAX_HEAD_BYTES in all, no obsolete line folding) and deciding the
body length: exactly one Content-Length of ASCII digits, at most MAX_BODY, no
Transfer-Encoding (KMS clients never send one). Every refusal is a `ProtocolError` with the
HTTP status and AWS error type the server answers, so a refusal still carries AWS's error JSON.

Must not: touch sockets or clocks (`connections` reads the bytes under its deadlines), or look
at what the headers mean to KMS (`sigv4`, `app`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kmscli.server.protocol import ProtocolError

MAX_HEAD_BYTES = 32 * 1024
"""Request line and headers together. botocore sends about 1 KiB; STS session tokens (which
kmscli refuses, but must be able to read to refuse in AWS's words) stay under a few KiB."""
MAX_HEADERS = 64
MAX_BODY = 1024 * 1024
"""The largest KMS request is a CreateKey or ReplicateKey with a 32 KiB policy (up to six
times that once JSON-escaped), 50 tags and 10 grant tokens: well under 1 MiB."""
END_OF_HEAD = b"\r\n\r\n"

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP/1\.([01])")
_DIGITS = re.compile(rb"[0-9]{1,16}")


@dataclass(frozen=True)
class Head:
    """A parsed request head. Header names keep their case; values are Latin-1 text."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    content_length: int
    keep_alive: bool
    expects_continue: bool


def bad_request(message: str, status: int = 400) -> ProtocolError:
    return ProtocolError("SerializationException", message, status)


def head_end(buffer: bytes | bytearray, searched: int = 0) -> int:
    """The length of the complete head at the start of `buffer`, or -1 if it has not all come;
    a head longer than MAX_HEAD_BYTES is refused as soon as that many bytes have come.
    `searched`: how many bytes an earlier call already searched (so that a head arriving a
    byte at a time is searched once, not once per byte)."""
    start = max(0, searched - len(END_OF_HEAD) + 1)
    end = buffer.find(END_OF_HEAD, start, MAX_HEAD_BYTES + len(END_OF_HEAD))
    if end >= 0:
        return end + len(END_OF_HEAD)
    if len(buffer) > MAX_HEAD_BYTES:
        raise bad_request("The request headers are too large", 431)
    return -1


def _header(line: bytes) -> tuple[str, str]:
    name, colon, value = line.partition(b":")
    if not colon or not _TOKEN.fullmatch(name):
        if line[:1] in (b" ", b"\t"):
            raise bad_request("Folded header lines are not accepted")
        raise bad_request("A header line is not 'Name: value'")
    return name.decode("ascii"), value.strip(b" \t").decode("latin-1")


def _content_length(fields: list[tuple[bytes, bytes]]) -> int:
    if any(name == b"transfer-encoding" for name, _ in fields):
        raise bad_request("Transfer-Encoding is not accepted: send Content-Length", 411)
    values = [value for name, value in fields if name == b"content-length"]
    if not values:
        raise bad_request("Content-Length is required", 411)
    if len(values) > 1:
        raise bad_request("Content-Length is given more than once")
    if not _DIGITS.fullmatch(values[0]):
        raise bad_request("Content-Length must be a number of bytes in ASCII digits")
    length = int(values[0])
    if length > MAX_BODY:
        raise bad_request(f"The request body is too large (at most {MAX_BODY} bytes)", 413)
    return length


def parse_head(head: bytes, *, method_with_body: str = "POST") -> Head:
    """The request head (request line through the blank line). Only `method_with_body`
    requests need a Content-Length; others have an empty body."""
    lines = head[: -len(END_OF_HEAD)].split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        raise bad_request("The request line is not 'METHOD /path HTTP/1.1'")
    if len(lines) - 1 > MAX_HEADERS:
        raise bad_request(f"More than {MAX_HEADERS} header fields", 431)
    headers = tuple(_header(line) for line in lines[1:])
    raw = [(name.lower().encode("ascii"), value.encode("latin-1")) for name, value in headers]
    method = match.group(1).decode("ascii")
    length = _content_length(raw) if method == method_with_body else 0
    connection = {
        token.strip().lower()
        for name, value in raw
        if name == b"connection"
        for token in value.split(b",")
    }
    http11 = match.group(3) == b"1"
    keep_alive = b"close" not in connection if http11 else b"keep-alive" in connection
    expects = any(
        name == b"expect" and value.strip().lower() == b"100-continue" for name, value in raw
    )
    return Head(
        method=method,
        target=match.group(2).decode("latin-1"),
        headers=headers,
        content_length=length,
        keep_alive=keep_alive,
        expects_continue=expects and http11,
    )
