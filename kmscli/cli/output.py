r"""Everything kmscli prints: JSON documents, tables, records, notices and errors.

Owns the output rules of CLI.md: `--json` documents on stdout in AWS's shapes (binary in
Base64), rich tables only on a terminal and tab-separated lines with a header when piped, notices
and errors on stderr in the `kmscli: error: <Code>: <message>` form. rich is imported only when a
table is drawn on a terminal, to keep start-up fast.

Also the one place where user data is made safe to print. Descriptions, tags, aliases,
contexts, policies and file names are anyone's text (through `serve`, a stranger's), so no
control character reaches a terminal raw: C0 and C1 controls, DEL, bidirectional overrides,
line separators and lone surrogates are written as `\xNN` / `\uNNNN` (a surrogate that stands
for an undecodable byte of a command-line argument as `\xNN` of that byte). In tab-separated
output a field's tab, newline, carriage return and backslash are written `\t`, `\n`, `\r` and
`\\`, so every record stays one line and fields can be split on tabs and unescaped. Single
values written to a pipe (`policy get > p.json`) stay exact; on a terminal they keep their
tabs and line breaks only. JSON escapes what json.dumps leaves raw.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kmscli.cli.context import Environment
from kmscli.errors import KmsError

# Never raw to a terminal: C0 controls (TAB and LF too, except in safe_text), DEL and C1,
# bidirectional marks, embeddings, overrides and isolates, the Unicode line and paragraph
# separators, and lone surrogates (unencodable; from undecodable bytes of an argument).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
_UNSAFE_TEXT = re.compile(f"[{_CONTROLS}{_SURROGATES}]")
_UNSAFE_LINE = re.compile(f"[\t\n{_CONTROLS}{_SURROGATES}]")
_UNSAFE_FIELD = re.compile(f"[\\\\\t\n{_CONTROLS}{_SURROGATES}]")
_UNSAFE_JSON = re.compile(
    f"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029{_SURROGATES}]"
)
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """Multi-line text for a terminal: line breaks and tabs kept, every other control escaped."""
    return _UNSAFE_TEXT.sub(_escape_char, text)


def safe_line(text: str) -> str:
    """One line for a terminal or a log: every control character escaped, tabs and newlines too."""
    return _UNSAFE_LINE.sub(_escape_char, text)


def tsv_field(text: str) -> str:
    """One tab-separated field: as safe_line, and a backslash doubled (the escapes reverse)."""
    return _UNSAFE_FIELD.sub(_escape_char, text)


def _json_safe(text: str) -> str:
    """json.dumps(ensure_ascii=False) leaves C1 controls, bidi marks and lone surrogates raw:
    write them as \\uNNNN escapes (they only ever occur inside JSON strings)."""
    return _UNSAFE_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def jsonable(value: Any) -> Any:
    """AWS CLI rendering: bytes → Base64 text, datetimes → ISO 8601."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def emit_json(document: Mapping[str, Any]) -> None:
    text = json.dumps(jsonable(document), indent=4, ensure_ascii=False)
    sys.stdout.write(_json_safe(text) + "\n")


def emit_line(text: str) -> None:
    """One value on stdout: exact into a pipe or file, control characters escaped on a
    terminal (line breaks and tabs kept, for a policy). Lone surrogates are always escaped."""
    if sys.stdout.isatty():
        sys.stdout.write(safe_text(text) + "\n")
    else:
        sys.stdout.write(re.sub(f"[{_SURROGATES}]", _escape_char, text) + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value)
    return str(jsonable(value))


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on a terminal; otherwise a header line and one tab-separated line a row."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        table = Table(*headers, box=None, header_style="bold", pad_edge=False)
        for row in rows:
            # Text, not str: rich would read `[...]` in user data as markup.
            table.add_row(*(Text(safe_line(_cell(v))) for v in row))
        Console().print(table)
        return
    lines = ["\t".join(headers)]
    lines.extend("\t".join(tsv_field(_cell(v)) for v in row) for row in rows)
    sys.stdout.write("\n".join(lines) + "\n")


def emit_record(record: Mapping[str, Any]) -> None:
    """One record as `Field<TAB>Value` lines (nested values as compact JSON)."""
    rows = []
    for name, value in record.items():
        nested = isinstance(value, Mapping) or (
            isinstance(value, list) and any(isinstance(v, Mapping) for v in value)
        )
        rows.append((name, json.dumps(jsonable(value), separators=(",", ":")) if nested else value))
    emit_table(["Field", "Value"], rows)


def diagnostic(message: str) -> None:
    """A `kmscli: ...` line on stderr, with every control character of `message` escaped."""
    sys.stderr.write(f"kmscli: {safe_line(message)}\n")


def notice(env: Environment, message: str) -> None:
    if not env.quiet:
        diagnostic(message)


def verbose(env: Environment, message: str) -> None:
    if env.verbose:
        diagnostic(message)


def warning(env: Environment, message: str) -> None:
    if not env.quiet:
        diagnostic(f"warning: {message}")


def report_error(error: KmsError, *, as_json: bool) -> None:
    lines = [f"kmscli: error: {error.code}: {safe_line(error.message)}".rstrip()]
    lines.extend(f"kmscli: hint: {safe_line(hint)}" for hint in error.hints)
    sys.stderr.write("\n".join(lines) + "\n")
    if as_json:
        document = {
            "Error": {
                "Code": error.code,
                "Message": error.message,
                "ExitStatus": error.exit_status,
            }
        }
        sys.stderr.write(json.dumps(document) + "\n")
