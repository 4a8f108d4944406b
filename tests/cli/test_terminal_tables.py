"""Tables and records on a terminal never cut an identifier, at 60, 80, 120 and more columns.

Key IDs, ARNs, alias names and algorithm names keep their full width whatever the terminal's
size (read from the terminal itself, or from COLUMNS): free text (a description) wraps, and when
the identifiers do not fit side by side the table becomes one `Field: value` block a record.
Everything runs on a real pseudo-terminal whose size is set with TIOCSWINSZ.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.terminal import on_terminal
from tests.conftest import Runner

DESCRIPTION = "the database backups of the payroll team, rotated every year by the on-call person"
SGR = re.compile(rb"\x1b\[[0-9;]*m")


def _shown(received: bytes) -> str:
    return SGR.sub(b"", received).decode()


def _assert_fits(text: str, columns: int, identifiers: list[str]) -> None:
    """Each identifier whole on a line; a line wider than the terminal is one long identifier
    after its label (nothing a terminal could have shown folded overflows)."""
    assert "…" not in text, text
    lines = text.splitlines()
    for identifier in identifiers:
        assert any(identifier in line for line in lines), (identifier, text)
    for line in lines:
        if len(line) > columns:
            value = line.split(": ", 1)[-1].strip()
            assert value and " " not in value, (line, text)


@pytest.fixture
def keys(run: Runner, tmp_path: Path) -> dict[str, str]:
    """Two keys whose aliases differ only at the end, one with a long description, a signing
    key, and a message encrypted under two of them."""
    made = {}
    for name, extra in (
        ("alias/db-prod-eu", ["--description", DESCRIPTION]),
        ("alias/db-prod-eu2", []),
        ("alias/release", ["--key-spec", "ECC_NIST_P384", "--key-usage", "SIGN_VERIFY"]),
    ):
        created = run("key", "create", "--alias", name, *extra)
        assert created.status == 0, created.err
        made[name] = created.out.strip()
    (tmp_path / "f.txt").write_text("hello")
    encrypted = run("encrypt", "-k", "alias/db-prod-eu", "-k", "alias/db-prod-eu2", "f.txt")
    assert encrypted.status == 0, encrypted.err
    return made


def _arn(run: Runner, key: str) -> str:
    described = run("key", "describe", key, "--json")
    assert described.status == 0, described.err
    import json

    return str(json.loads(described.out)["KeyMetadata"]["Arn"])


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_key_list_keeps_ids_and_aliases_whole(
    run: Runner, kmscli_env: dict[str, str], keys: dict[str, str], columns: int
) -> None:
    status, received = on_terminal(kmscli_env, "key", "list", columns=columns)
    assert status == 0, received
    text = _shown(received)
    _assert_fits(text, columns, [*keys, *keys.values(), "SYMMETRIC_DEFAULT", "ECC_NIST_P384"])
    # The description is free text: wrapped at spaces, every word of it shown whole.
    for word in DESCRIPTION.split():
        assert re.search(rf"(^|\s){re.escape(word)}(\s|$)", text, re.M), (word, text)
    if columns >= 120:  # the identifiers fit side by side: a table, the description wrapped
        header = text.splitlines()[0].split()
        assert header == ["KeyId", "KeyState", "KeyManager", "KeySpec", "Aliases", "Description"]
        assert DESCRIPTION not in text
    else:  # one block a key
        assert text.count("KeyId: ") == 3, text
        assert "Aliases:     alias/db-prod-eu\n" in text


def test_columns_variable_wins_over_the_terminal_size(
    run: Runner, kmscli_env: dict[str, str], keys: dict[str, str]
) -> None:
    status, received = on_terminal(kmscli_env, "key", "list", columns=200, columns_variable=60)
    assert status == 0, received
    text = _shown(received)
    _assert_fits(text, 60, [*keys, *keys.values()])
    assert text.count("KeyId: ") == 3
    # Into a pipe the same list stays tab-separated lines after a header, whatever COLUMNS says.
    listed = run("key", "list", env={"COLUMNS": "60"})
    assert listed.status == 0, listed.err
    lines = listed.out.splitlines()
    assert lines[0] == "KeyId\tKeyState\tKeyManager\tKeySpec\tAliases\tDescription"
    assert any(line.endswith(f"\t{DESCRIPTION}") for line in lines)
    assert run("key", "describe", "alias/release").out.splitlines()[0] == "Field\tValue"


def test_a_key_with_several_aliases_lists_each_on_its_own_line(
    run: Runner, kmscli_env: dict[str, str], keys: dict[str, str]
) -> None:
    assert run("alias", "create", "alias/db-prod-eu-old", keys["alias/db-prod-eu"]).status == 0
    status, received = on_terminal(kmscli_env, "key", "list", columns=80)
    assert status == 0, received
    lines = _shown(received).splitlines()
    first = lines.index("Aliases:     alias/db-prod-eu")
    assert lines[first + 1] == "             alias/db-prod-eu-old"


@pytest.mark.parametrize("columns", [60, 80, 120, 160])
def test_describe_inspect_alias_list_and_audit_keep_arns_whole(
    run: Runner, kmscli_env: dict[str, str], keys: dict[str, str], columns: int
) -> None:
    arns = [_arn(run, key) for key in keys.values()]
    for args, expected in (
        (("key", "describe", "alias/release"), [arns[2], "ECDSA_SHA_384"]),
        (("inspect", "f.txt.kms"), [arns[0], arns[1], "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"]),
        (("alias", "list"), [*keys, *keys.values()]),
        (("audit", "--key", "alias/release"), [arns[2]]),
    ):
        status, received = on_terminal(kmscli_env, *args, columns=columns)
        assert status == 0, (args, received)
        _assert_fits(_shown(received), columns, expected)


def test_inspect_shows_each_data_key_as_an_indented_block(
    run: Runner, kmscli_env: dict[str, str], keys: dict[str, str]
) -> None:
    status, received = on_terminal(kmscli_env, "inspect", "f.txt.kms", columns=80)
    assert status == 0, received
    text = _shown(received)
    assert "EncryptedDataKeys:\n  - ProviderId:" in text
    assert f"    KeyArn:           {_arn(run, keys['alias/db-prod-eu2'])}\n" in text


@pytest.mark.parametrize(
    "args",
    [
        ("key", "list"),
        ("key", "describe", "alias/release"),
        ("inspect", "f.txt.kms"),
        ("alias", "list"),
        ("audit",),
        ("audit", "--verify"),
        ("key", "describe", "alias/missing"),
        ("key", "list", "--no-such-option"),
    ],
)
def test_no_color_means_no_escape_sequence_at_all(
    kmscli_env: dict[str, str], keys: dict[str, str], args: tuple[str, ...]
) -> None:
    for columns in (60, 200):
        _, received = on_terminal({**kmscli_env, "NO_COLOR": "1"}, *args, columns=columns)
        assert b"\x1b" not in received, (args, received)
        assert received.strip(), args


def test_without_no_color_the_table_header_is_bold(
    kmscli_env: dict[str, str], keys: dict[str, str]
) -> None:
    _, received = on_terminal(kmscli_env, "alias", "list", columns=200)
    assert received.startswith(b"\x1b[1mAliasName"), received
    _, received = on_terminal({**kmscli_env, "TERM": "dumb"}, "alias", "list", columns=200)
    assert b"\x1b" not in received


def test_no_color_draws_no_progress_bar(kmscli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(bytes(6 * 1024 * 1024))
    status, received = on_terminal(kmscli_env, "encrypt", "big", columns=80)
    assert status == 0 and b"\x1b[" in received  # the bar, drawn on a terminal
    (tmp_path / "big.kms").unlink()
    status, received = on_terminal({**kmscli_env, "NO_COLOR": "1"}, "encrypt", "big", columns=80)
    assert status == 0 and b"\x1b" not in received, received
    assert (tmp_path / "big.kms").stat().st_size > 6 * 1024 * 1024
