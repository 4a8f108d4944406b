r"""Everything kmscli prints: JSON documents, tables, records, notices and errors.

Owns the output rules of CLI.md: `--json` documents on stdout in AWS's shapes (binary in
Base64), tables only on a terminal and tab-separated lines with a header when piped, notices
and errors on stderr in the `kmscli: error: <Code>: <message>` form.

On a terminal nothing that names something is ever cut or folded: key IDs, ARNs, aliases,
algorithm names and paths keep their full width, a list (a key's aliases) is one entry a line,
and only free text (a description) wraps. When the identifiers do not fit the terminal's width
(COLUMNS, else the terminal's own size), a table becomes one block of `Field: value` lines a
record, as `kubectl describe` prints; a single record (`key describe`, `inspect`) is always such
a block, nested values indented. The only escape sequences ever written are bold for a table's
header and the progress bar's drawing (progress.py), and neither with NO_COLOR set (non-empty)
or TERM=dumb. rich measures the cell width of
text (wide characters) and is imported only then, to keep start-up fast.

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
from typing import Any, TextIO

from kmscli.cli.context import Environment, escapes_wanted
from kmscli.errors import KmsError

# Never raw to a terminal: C0 controls (TAB and LF too, except in safe_text), DEL and C1,
# bidirectional marks, embeddings, overrides and isolates, the Unicode line and paragraph
# separators, and lone surrogates (unencodable; from undecodable bytes of an argument).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_SURROGATES = "\ud800-\udfff"
# Patterns, compiled on first use (the re module caches them): most commands print no user data.
_UNSAFE_TEXT = f"[{_CONTROLS}{_SURROGATES}]"
_UNSAFE_LINE = f"[\t\n{_CONTROLS}{_SURROGATES}]"
_UNSAFE_FIELD = f"[\\\\\t\n{_CONTROLS}{_SURROGATES}]"
_UNSAFE_JSON = f"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029{_SURROGATES}]"
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
    return re.sub(_UNSAFE_TEXT, _escape_char, text)


def safe_line(text: str) -> str:
    """One line for a terminal or a log: every control character escaped, tabs and newlines too."""
    return re.sub(_UNSAFE_LINE, _escape_char, text)


def tsv_field(text: str) -> str:
    """One tab-separated field: as safe_line, and a backslash doubled (the escapes reverse)."""
    return re.sub(_UNSAFE_FIELD, _escape_char, text)


def _json_safe(text: str) -> str:
    """json.dumps(ensure_ascii=False) leaves C1 controls, bidi marks and lone surrogates raw:
    write them as \\uNNNN escapes (they only ever occur inside JSON strings)."""
    return re.sub(_UNSAFE_JSON, lambda m: f"\\u{ord(m.group()):04x}", text)


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


# Columns that hold prose: the only text a terminal table wraps (and folds, a word too long).
FREE_TEXT = frozenset({"Description"})
_GAP = "  "
_MIN_FREE_WIDTH = 16
_MIN_WRAP_WIDTH = 20


def escapes_allowed(stream: TextIO) -> bool:
    """Whether `stream` may get escape sequences: a terminal, no NO_COLOR, not TERM=dumb."""
    return stream.isatty() and escapes_wanted()


def terminal_width() -> int:
    """COLUMNS when set, else the size of the terminal on stdout, else 80."""
    import shutil  # only to lay out a table: shutil imports compression modules

    return max(shutil.get_terminal_size((80, 24)).columns, 20)


def _width(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)


def _cell_lines(value: Any) -> list[str]:
    """A cell as the lines a terminal shows: a list one entry a line, controls escaped."""
    if isinstance(value, list | tuple):
        return [safe_line(_cell(v)) for v in value] or [""]
    return [safe_line(_cell(value))]


def _fold(word: str, width: int) -> list[str]:
    pieces, current = [], ""
    for char in word:
        if current and _width(current + char) > width:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current]


def _wrap(text: str, width: int) -> list[str]:
    """Free text in lines of at most `width` cells, broken at spaces (a longer word folded)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if _width(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = _fold(word, width) if _width(word) > width else [word]
        lines.extend(pieces[:-1])
        current = pieces[-1]
    lines.append(current)
    return lines


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _draw_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], width: int) -> bool:
    """Columns side by side if the identifiers fit in `width`; False (nothing written) if not."""
    cells = [[_cell_lines(v) for v in row] for row in rows]
    free = [h in FREE_TEXT for h in headers]
    natural = [
        max([_width(h), *(_width(line) for row in cells for line in row[i])])
        for i, h in enumerate(headers)
    ]
    fixed = sum(w for w, f in zip(natural, free, strict=True) if not f)
    room = width - fixed - len(_GAP) * (len(headers) - 1)
    free_count = sum(free)
    if free_count:
        share = room // free_count
        if share < max(_MIN_FREE_WIDTH, *(len(h) for h, f in zip(headers, free, strict=True) if f)):
            return False
        widths = [min(n, share) if f else n for n, f in zip(natural, free, strict=True)]
    elif room < 0:
        return False
    else:
        widths = natural
    for row in cells:
        for i, f in enumerate(free):
            if f:
                row[i] = [part for line in row[i] for part in _wrap(line, widths[i])]
    header = _GAP.join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()
    out = [f"\x1b[1m{header}\x1b[0m" if escapes_allowed(sys.stdout) else header]
    for row in cells:
        for n in range(max(len(c) for c in row)):
            parts = (_pad(c[n] if n < len(c) else "", w) for c, w in zip(row, widths, strict=True))
            out.append(_GAP.join(parts).rstrip())
    sys.stdout.write("\n".join(out) + "\n")
    return True


def _block(fields: Sequence[tuple[str, Any]], width: int, indent: str = "") -> list[str]:
    """`Label: value` lines, values aligned; nested mappings and lists of them indented."""
    labels = [safe_line(str(name)) + ":" for name, _ in fields]
    column = max((_width(label) for label in labels), default=0) + 1
    out: list[str] = []
    for label, (name, value) in zip(labels, fields, strict=True):
        if isinstance(value, Mapping) and value:
            out.append(indent + label)
            out.extend(_block(list(value.items()), width, indent + "  "))
            continue
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            out.append(indent + label)
            for item in value:
                lines = _block(list(item.items()), width, "")
                out.extend(
                    f"{indent}  {'- ' if n == 0 else '  '}{line}" for n, line in enumerate(lines)
                )
            continue
        if isinstance(value, Mapping | list):
            values = [safe_line(_cell(v)) for v in value] if isinstance(value, list) else []
            values = values or [_cell(value) or ("{}" if isinstance(value, Mapping) else "[]")]
        else:
            values = _cell_lines(value)
        if name in FREE_TEXT:
            room = max(width - len(indent) - column, _MIN_WRAP_WIDTH)
            values = [part for line in values for part in _wrap(line, room)]
        head = _pad(label, column)
        for n, line in enumerate(values):
            out.append((indent + (head if n == 0 else " " * column) + line).rstrip())
    return out


def emit_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """On a terminal, a table whose identifiers are never cut, else one block a record;
    otherwise a header line and one tab-separated line a row."""
    if sys.stdout.isatty():
        width = terminal_width()
        if not _draw_table(headers, rows, width):
            blocks = [
                "\n".join(_block(list(zip(headers, row, strict=True)), width)) for row in rows
            ]
            if blocks:
                sys.stdout.write("\n\n".join(blocks) + "\n")
        return
    lines = ["\t".join(headers)]
    lines.extend("\t".join(tsv_field(_cell(v)) for v in row) for row in rows)
    sys.stdout.write("\n".join(lines) + "\n")


def emit_record(record: Mapping[str, Any]) -> None:
    """One record: `Field: value` lines on a terminal (nested values indented), otherwise
    `Field<TAB>Value` lines after a header (nested values as compact JSON)."""
    if sys.stdout.isatty():
        sys.stdout.write("\n".join(_block(list(record.items()), terminal_width())) + "\n")
        return
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
