"""The escaping rules of kmscli.cli.output on any text (the terminal tests show them in use)."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.cli.output import safe_line, safe_text, tsv_field

# Any code point, lone surrogates included (what undecodable argument bytes become).
ANY_TEXT = st.text(st.characters(codec=None, categories=None), max_size=40) | st.binary(
    max_size=40
).map(lambda b: b.decode("utf-8", "surrogateescape"))

_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _dangerous(char: str, *, keep: str = "") -> bool:
    if char in keep:
        return False
    category = unicodedata.category(char)
    return category in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI


def _untsv(field: str) -> str:
    """The inverse of tsv_field, as a script reading the output would write it."""

    def one(match: re.Match[str]) -> str:
        escape = match.group()
        named = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\"}
        if escape in named:
            return named[escape]
        return chr(int(escape[2:], 16))

    return re.sub(r"\\(?:[tnr\\]|x[0-9a-f]{2}|u[0-9a-f]{4})", one, field)


@settings(max_examples=500)
@given(ANY_TEXT)
def test_no_control_character_survives(text: str) -> None:
    assert not any(_dangerous(c) for c in safe_line(text))
    assert not any(_dangerous(c) for c in tsv_field(text))
    assert not any(_dangerous(c, keep="\t\n") for c in safe_text(text))
    safe_line(text).encode("utf-8")  # always encodable (no lone surrogate left)


@settings(max_examples=500)
@given(st.text(st.characters(codec="utf-8"), max_size=40))
def test_tab_separated_fields_unescape_to_the_value(text: str) -> None:
    field = tsv_field(text)
    assert "\t" not in field and "\n" not in field
    assert _untsv(field) == text


def test_plain_text_is_left_alone() -> None:
    for text in ("alias/backups", "café €uro", "a b", "日本語", "x=y,z"):
        assert safe_line(text) == text == tsv_field(text) == safe_text(text)
    assert safe_text("line 1\n\tline 2") == "line 1\n\tline 2"
    assert safe_line("line 1\n\tline 2") == "line 1\\n\\tline 2"
