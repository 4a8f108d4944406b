"""kmscli.store.layout: record names become safe, unique, reversible file names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.errors import ValidationException
from kmscli.store import layout

names = st.text(
    st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=layout.MAX_NAME_CHARS
)


@settings(max_examples=300)
@given(names)
def test_encoding_is_safe_and_reversible(name: str) -> None:
    filename = layout.encode_name(name)
    assert 0 < len(filename.encode()) <= layout.MAX_ENCODED_CHARS
    assert not filename.startswith(".")
    assert "/" not in filename and "\0" not in filename
    assert filename == filename.lower()  # one file per name on case-insensitive file systems
    if layout.is_hashed(filename):
        assert len(filename) == 65
    else:
        assert layout.decode_name(filename) == name


@given(names, names)
def test_distinct_names_get_distinct_files(first: str, second: str) -> None:
    if first != second:
        assert layout.encode_name(first) != layout.encode_name(second)


def test_short_names_stay_readable() -> None:
    assert layout.encode_name("us-east-1/key_1") == "us-east-1%2fkey_1"
    assert layout.encode_name("Key") == "%4bey"
    assert layout.encode_name("a.b") == "a%2eb"


@pytest.mark.parametrize(
    "filename", ["", "%4", "%zz", "%61", "A", "a.b", "%ff", "%2F", "a%2", "é", "=" + "0" * 63]
)
def test_non_canonical_file_names_are_not_records(filename: str) -> None:
    assert layout.decode_name(filename) is None
    assert not layout.is_hashed(filename)


@pytest.mark.parametrize("kind", ["keys", "aliases", "identity-policies", "k9"])
def test_valid_kinds(kind: str) -> None:
    layout.check_kind(kind)


@pytest.mark.parametrize("kind", ["", "9k", "Keys", "a_b", "a/b", ".", "-a", "a" * 65])
def test_invalid_kinds(kind: str) -> None:
    with pytest.raises(ValidationException):
        layout.check_kind(kind)
