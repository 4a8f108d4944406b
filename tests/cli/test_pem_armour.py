"""A public key file's PEM armour is found exactly as before, in linear time.

The old finder was the regex `-----BEGIN ([A-Z ]+)-----(.*?)-----END \\1-----`, whose lazy body
and backreference take quadratic time on a file of BEGIN lines without an END (about 30 s for
340 kB). It stays here as the reference for a property test.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from kmscli.cli.sign_cmds import read_public_key
from tests.conftest import Runner

OLD_PEM = re.compile(rb"-----BEGIN ([A-Z ]+)-----(.*?)-----END \1-----", re.DOTALL)

pieces = st.sampled_from(
    [b"-----BEGIN ", b"-----END ", b"-----", b"-", b"A", b"B", b" ", b"x", b"\n", b"BEGIN"]
)


@settings(max_examples=1500)
@given(st.lists(pieces, max_size=14).map(b"".join))
def test_finds_what_the_regex_found(data: bytes) -> None:
    from kmscli.cli.sign_cmds import _pem_body

    found = OLD_PEM.search(data)
    assert _pem_body(data) == (found.group(2) if found else None)


def test_many_begin_lines_cost_little() -> None:
    from kmscli.cli.sign_cmds import _pem_body

    # Far beyond what read_public_key reads (16 KiB): the search itself is linear.
    hostile = b"-----BEGIN A-----\n" * 20000
    start = time.perf_counter()
    assert _pem_body(hostile) is None
    assert time.perf_counter() - start < 0.5


def test_a_hostile_public_key_file_within_the_read_limit_is_read_at_once(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.pem"
    hostile.write_bytes(b"-----BEGIN A-----\n" * 900)  # just under the 16 KiB read limit
    start = time.perf_counter()
    assert read_public_key(str(hostile)) == hostile.read_bytes()
    assert time.perf_counter() - start < 0.5


def test_derive_shared_secret_refuses_such_a_file_at_once(run: Runner, tmp_path: Path) -> None:
    assert run("keyring", "init", "--account-id", "111122223333").status == 0
    created = run("key", "create", "--key-spec", "ECC_NIST_P256", "--key-usage", "KEY_AGREEMENT")
    assert created.status == 0, created.err
    hostile = tmp_path / "hostile.pem"
    hostile.write_bytes(b"-----BEGIN A-----" * 900)  # within the 16 KiB read limit
    result = run(
        "key", "derive-shared-secret", created.out.strip(), "--public-key", str(hostile),
        "-o", str(tmp_path / "secret.bin"), timeout=20,
    )  # fmt: skip
    assert result.status == 2, result.err
    assert "publicKey" in result.err
    assert not (tmp_path / "secret.bin").exists()
