"""User data never reaches a terminal raw, and tab-separated output stays one record a line.

Descriptions, tags, encryption contexts, policies and names in errors are anyone's text
(through `kmscli serve`, a stranger's). A description like HOSTILE below would, printed raw, set
the window title, clear the screen and write the clipboard (OSC 52). The commands run on a
real pseudo-terminal (where rich draws tables) and through a pipe (tab-separated output).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;aGk=\x07\u009b31m\u202eevil\r"
# rich's own styling (bold headers) is the only escape sequence a terminal may see.
_RICH_STYLE = re.compile(rb"\x1b\[[0-9;]*m")
_FORBIDDEN = (b"\x1b", b"\x07", b"\xc2\x9b", "\u202e".encode(), b"\r\r")


def run_on_terminal(env: Mapping[str, str], *args: str) -> bytes:
    return _on_terminal(env, Path(env["HOME"]).parent, *args)


def _on_terminal(env: Mapping[str, str], cwd: Path, *args: str) -> bytes:
    """stdin, stdout and stderr on a new pseudo-terminal; everything the terminal received."""
    master, slave = os.openpty()
    process = subprocess.Popen(
        [KMSCLI, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "COLUMNS": "500", "LINES": "50"},
        close_fds=True,
        cwd=cwd,
    )
    os.close(slave)
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last writer closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    process.wait(timeout=60)
    return bytes(received)


def assert_nothing_raw(received: bytes) -> None:
    shown = _RICH_STYLE.sub(b"", received).replace(b"\r\n", b"\n")
    for sequence in _FORBIDDEN:
        assert sequence not in shown, (sequence, shown)


@pytest.fixture
def hostile_key(run: Runner, tmp_path: Path) -> str:
    created = run("key", "create", "--description", HOSTILE, "--tag", f"t{HOSTILE}=v{HOSTILE}")
    assert created.status == 0, created.err
    key = created.out.strip()
    assert run("alias", "create", "alias/hostile", key).status == 0
    (tmp_path / "plain.txt").write_text("plaintext")
    encrypted = run("encrypt", "-k", key, "-c", f"purpose={HOSTILE}", "plain.txt")
    assert encrypted.status == 0, encrypted.err
    return key


@pytest.mark.parametrize(
    "args",
    [
        ("key", "list"),
        ("key", "describe", "{key}"),
        ("key", "tags", "{key}"),
        ("alias", "list"),
        ("audit",),
        ("inspect", "plain.txt.kms"),
        ("--json", "key", "describe", "{key}"),
        ("--json", "key", "tags", "{key}"),
        ("--json", "audit"),
    ],
    ids=" ".join,
)
def test_user_data_is_escaped_on_a_terminal(
    args: tuple[str, ...], hostile_key: str, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    received = run_on_terminal(kmscli_env, *(a.format(key=hostile_key) for a in args))
    assert_nothing_raw(received)
    if args not in (("alias", "list"), ("audit",)):  # (these two show no descriptions)
        assert b"pwned" in received  # the data is shown, escaped


def test_the_escapes_are_readable_and_json_keeps_the_exact_value(
    run: Runner, hostile_key: str, kmscli_env: dict[str, str]
) -> None:
    received = run_on_terminal(kmscli_env, "key", "describe", hostile_key)
    assert rb"\x1b]0;pwned\x07\x1b[2J" in received
    assert rb"\x9b31m\u202eevil\r" in received
    described = run("--json", "key", "describe", hostile_key)
    assert json.loads(described.out)["KeyMetadata"]["Description"] == HOSTILE
    assert b"\x1b" not in described.stdout and "\u202e".encode() not in described.stdout


def test_names_in_errors_are_escaped(kmscli_env: dict[str, str], hostile_key: str) -> None:
    for args in (
        ("key", "describe", f"alias/{HOSTILE}"),
        ("policy", "validate", f"missing{HOSTILE}.json"),
        ("encrypt", "-k", hostile_key, "-c", f"aws-crypto-{HOSTILE}=x", "-o", "x.kms", "plain.txt"),
        ("--json", "key", "describe", f"alias/{HOSTILE}"),
    ):
        received = run_on_terminal(kmscli_env, *args)
        assert b"error" in received
        assert_nothing_raw(received)


def test_policy_text_keeps_its_lines_on_a_terminal_and_its_bytes_in_a_pipe(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    key = run("key", "create").out.strip()
    account = run("keyring", "status", "--json").out.split('"AccountId": "')[1][:12]
    # A key policy may hold U+0080..U+00FF, and so the C1 control CSI (U+009B).
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "x\u009b2J\u0085y",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        },
        indent=2,
        ensure_ascii=False,
    )
    (tmp_path / "p.json").write_text(policy, encoding="utf-8")
    assert run("policy", "put", key, str(tmp_path / "p.json")).status == 0
    received = run_on_terminal(kmscli_env, "policy", "get", key)
    assert_nothing_raw(received)
    assert b"\xc2\x85" not in received
    assert rb"x\x9b2J\x85y" in received and received.count(b"\n") >= policy.count("\n")
    piped = run("policy", "get", key)
    assert piped.out == policy + "\n"


def test_tab_separated_output_keeps_one_record_a_line(run: Runner) -> None:
    description = "a\tb\nc\\d" + HOSTILE
    key = run("key", "create", "--description", description, "--tag", "k\tx=v\ny").out.strip()
    listed = run("key", "list")
    lines = listed.out.rstrip("\n").split("\n")
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    assert all(len(row) == len(header) for row in rows), lines
    (row,) = [row for row in rows if row[0] == key]
    shown = row[header.index("Description")]
    assert (
        shown
        == "a\\tb\\nc\\\\d\\x1b]0;pwned\\x07\\x1b[2J\\x1b]52;c;aGk=\\x07\\x9b31m\\u202eevil\\r"
    )
    assert_nothing_raw(listed.stdout)
    tags = run("key", "tags", key).out.rstrip("\n").split("\n")
    assert tags[1:] == ["k\\tx\tv\\ny"]


def test_text_the_locale_cannot_encode_is_escaped_not_a_crash(run: Runner) -> None:
    key = run("key", "create", "--description", "€uro").out.strip()
    latin1 = {"PYTHONIOENCODING": "latin-1"}
    listed = run("key", "list", env=latin1)
    assert listed.status == 0, listed.err
    assert b"\\u20acuro" in listed.stdout
    described = run("--json", "key", "describe", key, env=latin1)
    assert described.status == 0, described.err
    assert json.loads(described.stdout)["KeyMetadata"]["Description"] == "€uro"
