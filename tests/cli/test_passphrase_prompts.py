"""Passphrase keyrings at a real terminal (issue 14): the installed `kmscli` runs on a
pseudo-terminal (pty.fork) and the test types at its prompts.

A wrong passphrase typed at the prompt is asked for again, three tries in all; one from
KMSCLI_PASSPHRASE fails at once (exit 9) without a prompt. A new passphrase is typed twice, an
empty or mismatched one is asked for again, and a weak one is warned about.
"""

from __future__ import annotations

import os
import pty
import select
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import KMSCLI, Runner

RIGHT = "tangerine-otter-quarry-47"
Start = Callable[..., "Terminal"]


class Terminal:
    """`kmscli ARGS` with a pseudo-terminal as its controlling terminal and stdin/out/err."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: becomes kmscli
            try:
                os.chdir(cwd)
                os.execve(KMSCLI, [KMSCLI, *args], env)  # noqa: S606 (our own launcher)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.seen = b""  # everything the terminal showed
        self._unread = b""

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            data = b""
        if not data:
            return False
        self.seen += data
        self._unread += data
        return True

    def expect(self, text: str, timeout: float = 30) -> None:
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self._unread:
            if not self._read(deadline):
                raise AssertionError(f"never saw {text!r}; the terminal showed {self.seen!r}")
        self._unread = self._unread.split(wanted, 1)[1]

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


@pytest.fixture
def terminal(kmscli_env: dict[str, str], tmp_path: Path) -> Start:
    def start(*args: str, env: dict[str, str] | None = None) -> Terminal:
        return Terminal(list(args), {**kmscli_env, **(env or {})}, tmp_path)

    return start


@pytest.fixture
def passphrase_keyring(run: Runner) -> None:
    made = run("keyring", "init", "--passphrase", env={"KMSCLI_PASSPHRASE": RIGHT})
    assert made.status == 0, made.err


@pytest.mark.usefixtures("passphrase_keyring")
def test_wrong_then_right_at_the_prompt_opens_the_keyring(terminal: Start) -> None:
    term = terminal("keyring", "status")
    for wrong in ("tangerine", "otter"):
        term.expect("kmscli: keyring passphrase: ")
        term.type(wrong)
        term.expect("kmscli: wrong passphrase, try again")
    term.expect("kmscli: keyring passphrase: ")
    term.type(RIGHT)
    term.expect("Protection")
    assert term.finish() == 0
    assert b"passphrase" in term.seen and RIGHT.encode() not in term.seen  # never echoed


@pytest.mark.usefixtures("passphrase_keyring")
def test_three_wrong_passphrases_fail_with_exit_9(terminal: Start) -> None:
    term = terminal("key", "list")
    for wrong in ("one", "two", "three"):
        term.expect("kmscli: keyring passphrase: ")
        term.type(wrong)
    term.expect("KeyringLockedError: wrong passphrase for the keyring at")
    term.expect("(3 tries)")
    assert term.finish() == 9
    assert b"run in a terminal" not in term.seen
    assert term.seen.count(b"keyring passphrase: ") == 3


@pytest.mark.usefixtures("passphrase_keyring")
def test_a_wrong_passphrase_from_the_environment_fails_at_once(
    terminal: Start, run: Runner
) -> None:
    term = terminal("key", "list", env={"KMSCLI_PASSPHRASE": "not-it"})
    term.expect("KeyringLockedError: wrong passphrase for the keyring at")
    term.expect("it came from KMSCLI_PASSPHRASE")
    assert term.finish() == 9
    assert b"keyring passphrase:" not in term.seen and b"run in a terminal" not in term.seen
    piped = run("key", "list", env={"KMSCLI_PASSPHRASE": "not-it"})
    assert piped.status == 9 and "it came from KMSCLI_PASSPHRASE" in piped.err


@pytest.mark.usefixtures("passphrase_keyring")
def test_a_wrong_passphrase_file_fails_at_once(run: Runner, tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("not-it\n")
    piped = run("key", "list", env={"KMSCLI_PASSPHRASE_FILE": str(secret)})
    assert piped.status == 9
    assert f"it came from KMSCLI_PASSPHRASE_FILE ('{secret}')" in piped.err


def test_a_new_passphrase_is_typed_twice_and_a_weak_one_warned_about(
    terminal: Start, run: Runner
) -> None:
    term = terminal("keyring", "init", "--passphrase")
    term.expect("kmscli: new keyring passphrase: ")
    term.type("hunter2")
    term.expect("kmscli: repeat the new passphrase: ")
    term.type("hunter2")
    term.expect("kmscli: warning: weak passphrase: it is shorter than 12 characters")
    assert term.finish() == 0
    assert run("key", "list", env={"KMSCLI_PASSPHRASE": "hunter2"}).status == 0


def test_empty_and_mismatched_new_passphrases_are_asked_for_again(
    terminal: Start, run: Runner
) -> None:
    term = terminal("keyring", "init", "--passphrase")
    term.expect("kmscli: new keyring passphrase: ")
    term.type("")
    term.expect("kmscli: the passphrase is empty: type one")
    term.expect("kmscli: new keyring passphrase: ")
    term.type(RIGHT)
    term.expect("kmscli: repeat the new passphrase: ")
    term.type(RIGHT + "x")
    term.expect("kmscli: the two passphrases differ: type it again")
    term.expect("kmscli: new keyring passphrase: ")
    term.type(RIGHT)
    term.expect("kmscli: repeat the new passphrase: ")
    term.type(RIGHT)
    assert term.finish() == 0
    assert b"weak passphrase" not in term.seen
    assert run("key", "list", env={"KMSCLI_PASSPHRASE": RIGHT}).status == 0


def test_no_passphrase_chosen_in_three_tries_fails_and_creates_nothing(
    terminal: Start, run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    term = terminal("keyring", "init", "--passphrase")
    for _ in range(3):
        term.expect("kmscli: new keyring passphrase: ")
        term.type("")
    term.expect("UsageError: no new passphrase was chosen in 3 tries")
    assert term.finish() == 2
    assert not Path(kmscli_env["KMSCLI_HOME"]).exists()
    (tmp_path / "empty").write_bytes(b"\n")  # nor is an empty one taken from a file
    made = run("keyring", "init", "--passphrase-file", str(tmp_path / "empty"))
    assert made.status == 2 and "the passphrase is empty" in made.err
    assert not Path(kmscli_env["KMSCLI_HOME"]).exists()


@pytest.mark.parametrize(
    ("passphrase", "why"),
    [
        ("password1234", "it is a common password"),
        ("abababababababab", "it has fewer than 6 different characters"),
    ],
)
def test_a_weak_passphrase_from_the_environment_is_warned_about(
    run: Runner, passphrase: str, why: str
) -> None:
    made = run("keyring", "init", "--passphrase", env={"KMSCLI_PASSPHRASE": passphrase})
    assert made.status == 0
    assert f"kmscli: warning: weak passphrase: {why}" in made.err
    assert passphrase not in made.err
