"""Everything kmscli prints: JSON documents, tables, records, notices and errors.

Owns the output rules of CLI.md: `--json` documents on stdout in AWS's shapes (binary in
Base64), rich tables only on a terminal and tab-separated lines with a header when piped, notices
and errors on stderr in the `kmscli: error: <Code>: <message>` form. rich is imported only when a
table is drawn on a terminal, to keep start-up fast.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kmscli.cli.context import Environment
from kmscli.errors import KmsError


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
    sys.stdout.write(json.dumps(jsonable(document), indent=4, ensure_ascii=False) + "\n")


def emit_line(text: str) -> None:
    sys.stdout.write(text + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value)
    text = str(jsonable(value))
    return text.replace("\t", " ").replace("\n", " ")


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on a terminal; otherwise a header line and one tab-separated line a row."""
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, box=None, header_style="bold", pad_edge=False)
        for row in rows:
            table.add_row(*(_cell(v) for v in row))
        Console().print(table)
        return
    lines = ["\t".join(headers)]
    lines.extend("\t".join(_cell(v) for v in row) for row in rows)
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


def notice(env: Environment, message: str) -> None:
    if not env.quiet:
        sys.stderr.write(f"kmscli: {message}\n")


def verbose(env: Environment, message: str) -> None:
    if env.verbose:
        sys.stderr.write(f"kmscli: {message}\n")


def warning(env: Environment, message: str) -> None:
    if not env.quiet:
        sys.stderr.write(f"kmscli: warning: {message}\n")


def report_error(error: KmsError, *, as_json: bool) -> None:
    lines = [f"kmscli: error: {error.code}: {error.message}".rstrip()]
    lines.extend(f"kmscli: hint: {hint}" for hint in error.hints)
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
