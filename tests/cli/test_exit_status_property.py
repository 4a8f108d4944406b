"""Exit status 1 means "a bug in kmscli": no command line, however hostile, may produce it.

The commands are found by walking the click tree, so a new command is fuzzed the day it is
added. Arguments mix values that reach deep into the commands (a real key, alias, policy,
message, blob) with hostile ones: Unicode digits that int() accepts, 5,000-digit numbers,
undecodable bytes (surrogate-escaped as Python decodes argv), control characters, empty
strings, `-`, an endless input (a link to /dev/zero), directories, long strings and the option
names of other commands. Each run starts from the same small keyring; the only assertion is
that the exit status is never 1 (the arguments are printed on failure, to replay by hand).

The named regressions of issue 13 are pinned separately below, each with its status.
KMSCLI_TEST_EXAMPLES=5000 runs a longer search (the default 1000 take about 25 s).
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Result, Runner

ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"

# `serve` runs until stopped; these three read a FILE of any size as a stream (that is their
# job), so the endless input is not given to them.
NOT_FUZZED = {("serve",)}
STREAMING = {("encrypt",), ("sign",), ("verify",)}


def _commands() -> list[tuple[tuple[str, ...], click.Command]]:
    from kmscli.cli.commands import cli
    from kmscli.cli.root import load_all_commands

    load_all_commands()
    found: list[tuple[tuple[str, ...], click.Command]] = []

    def walk(group: click.Group, path: tuple[str, ...]) -> None:
        for name, command in sorted(group.commands.items()):
            if isinstance(command, click.Group):
                walk(command, (*path, name))
            elif (*path, name) not in NOT_FUZZED:
                found.append(((*path, name), command))

    walk(cli, ())
    return found


COMMANDS = _commands()
GLOBAL_NAMES = {
    "home",
    "region",
    "principal",
    "profile",
    "backend",
    "endpoint_url",
    "help",
    "quiet",
    "verbose",
    "no_progress",
}
ALL_OPTIONS = sorted(
    {
        name
        for _, command in COMMANDS
        for param in command.params
        if isinstance(param, click.Option)
        for name in param.opts
    }
)

HOSTILE = [
    "",
    "-",
    "--",
    "²",
    "٣",
    "１２",
    "9" * 5000,
    "-1",
    "0",
    "1e400",
    "nan",
    "-inf",
    os.fsdecode(b"\xff"),
    os.fsdecode(b"a=\xff"),
    os.fsdecode(b"\xff=b"),
    os.fsdecode(b"alias/\xff"),
    "\x1b]0;pwned\x07",
    "x" * 10000,
    "k=" + "v" * 70000,
    "alias/" + "x" * 300,
    "alias/aws/x",
    "alias/",
    "arn:aws:kms:us-east-1:111122223333:key/" + "²" * 36,
    "arn:aws:kms:us-east-1:111122223333:alias/" + os.fsdecode(b"\xff"),
    "arn:aws:iam::111122223333:user/" + "\u202e",
    "2027-02-30T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-14:00",
    "1e20",
    "kms:*",
    "aws-crypto-public-key=x",
]


class World:
    """A keyring with a key (and an alias), and input files; restored before every example."""

    def __init__(self, run: Runner, tmp: Path) -> None:
        self.tmp = tmp
        self.inputs = tmp / "inputs"
        self.inputs.mkdir()
        ok(run, "keyring", "init", "--account-id", ACCOUNT)
        self.key = ok(run, "key", "create", "--alias", "alias/existing").out.strip()
        self.arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{self.key}"
        self.files: dict[str, bytes] = {
            "plain.txt": b"plaintext",
            "policy.json": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                }
            ).encode(),
            "identity.json": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
                }
            ).encode(),
            "huge-number.json": (
                b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*",'
                b'"Action":"kms:*","Resource":"*","Condition":{"NumericEquals":{"kms:x":'
                + b"9" * 5000
                + b"}}}]}"
            ),
            "latin1.txt": b"caf\xe9\x1b[2J",
        }
        self.restore_files()
        message = self.inputs / "plain.txt.kms"
        ok(run, "encrypt", "-k", self.key, "-c", "a=b", str(self.inputs / "plain.txt"))
        blob = ok(run, "datakey", "generate", "-k", self.key, "--key-spec", "AES_256", "--json")
        self.files["plain.txt.kms"] = message.read_bytes()
        import base64

        self.files["dek.blob"] = base64.b64decode(json.loads(blob.out)["CiphertextBlob"])
        self.restore_files()
        self.keyring = Path(os.environ["KMSCLI_HOME"])
        self.snapshot = tmp / "keyring-snapshot"
        shutil.copytree(self.keyring, self.snapshot, symlinks=True)

    def restore_files(self) -> None:
        shutil.rmtree(self.inputs)
        self.inputs.mkdir()
        for name, data in self.files.items():
            (self.inputs / name).write_bytes(data)
        (self.inputs / "zero").symlink_to("/dev/zero")
        (self.inputs / "directory").mkdir()

    def restore(self) -> None:
        self.restore_files()
        shutil.rmtree(self.keyring, ignore_errors=True)
        shutil.copytree(self.snapshot, self.keyring, symlinks=True)

    def valid(self) -> list[str]:
        paths = [str(self.inputs / name) for name in self.files]
        return [
            self.key,
            self.arn,
            "alias/existing",
            "alias/new",
            *paths,
            str(self.inputs / "directory"),
            str(self.inputs / "missing"),
            str(self.tmp / "out"),
            "a=b",
            "K=V",
            "AES_256",
            "SYMMETRIC_DEFAULT",
            "RSAES_OAEP_SHA_256",
            "HMAC_SHA_256",
            "ECC_NIST_P256",
            "kms:Decrypt",
            "Encrypt,Decrypt",
            "7",
            "30",
            "us-west-2",
            ALICE,
            "2027-01-01T00:00:00Z",
        ]


def ok(run: Runner, *args: str) -> Result:
    result = run(*args)
    assert result.status == 0, (args, result.err)
    return result


def _likely(world: World, name: str) -> list[str]:
    """Values that fit a parameter by its name, good and bad (the whole pool is drawn too)."""
    files = [str(world.inputs / n) for n in world.files]
    bad_byte = os.fsdecode(b"\xff")
    if name in ("key", "source_key", "keys") or name.endswith("_key"):
        return [world.key, world.arn, "alias/existing", f"alias/{bad_byte}", "²"]
    if name.endswith(("file", "files")) or name == "source":
        return [*files, str(world.inputs / "zero"), str(world.inputs / "directory")]
    if name in ("context", "tags", "tag", "context_equals", "context_subset", "new_context"):
        return ["a=b", "k=", "a=b=c", f"a={bad_byte}", f"{bad_byte}=b", "a=\x1b[2J"]
    if name in ("marker", "limit", "days", "period_days", "bytes", "number_of_bytes"):
        return ["1", "²", "١", "9" * 5000, "-1", "0"]
    if name == "alias":
        return ["alias/existing", "alias/new", f"alias/{bad_byte}", "alias/aws/x"]
    if "principal" in name or name in ("grantee", "retiring"):
        return [ALICE, f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:user/{bad_byte}"]
    if name in ("output", "out_dir", "ciphertext_out", "plaintext_out"):
        return [str(world.tmp / "out"), "-"]
    if name in ("description", "text", "name", "policy_name"):
        return ["text", bad_byte, "\x1b]0;pwned\x07", "x" * 10000]
    return []


@st.composite
def command_lines(draw: st.DrawFn, world: World) -> list[str]:
    path, command = draw(st.sampled_from(COMMANDS))
    zero = str(world.inputs / "zero")
    hostile = HOSTILE if path in STREAMING else [*HOSTILE, zero]

    def value(name: str | None) -> str:
        likely = [v for v in _likely(world, name or "") if v in hostile or v != zero]
        # Mostly values that get past parsing, so the hostile ones meet the code behind it.
        choices = [
            st.sampled_from(world.valid()),
            st.sampled_from(hostile),
            # (no NUL: an argument of a real process cannot hold one)
            st.text(st.characters(exclude_characters="\x00"), max_size=12),
            st.binary(max_size=12).map(lambda b: os.fsdecode(b.replace(b"\0", b""))),
        ]
        if likely:
            choices = [st.sampled_from(likely)] * 4 + choices
        return draw(st.one_of(choices))

    options = [
        p for p in command.params if isinstance(p, click.Option) and p.name not in GLOBAL_NAMES
    ]
    chosen = [p for p in options if p.required or draw(st.integers(0, 2)) == 0]
    args: list[str] = []
    for option in chosen:
        args.append(draw(st.sampled_from(option.opts)))
        if not option.is_flag:
            args.append(value(option.name))
    if draw(st.integers(0, 7)) == 0:
        args += [draw(st.sampled_from(ALL_OPTIONS)), value(None)]
    if draw(st.integers(0, 7)) == 0:  # (not --home or --backend: never outside tmp_path)
        args += [draw(st.sampled_from(["--region", "--as", "--profile"])), value(None)]
    positional: list[str] = []
    for argument in command.params:
        if isinstance(argument, click.Argument) and draw(st.integers(0, 15)) > 0:
            count = draw(st.integers(0, 3)) if argument.nargs == -1 else 1
            positional.extend(value(argument.name) for _ in range(count))
    if any(a.startswith("-") and a != "-" for a in positional) and draw(st.integers(0, 7)):
        positional.insert(0, "--")
    args += positional
    if draw(st.integers(0, 7)) == 0:
        args = draw(st.permutations(args))
    return [*path, *args]


@pytest.mark.slow
def test_no_command_line_exits_with_status_1(run_inproc: Runner, tmp_path: Path) -> None:
    world = World(run_inproc, tmp_path)

    @settings(
        max_examples=int(os.environ.get("KMSCLI_TEST_EXAMPLES", "1000")),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(st.data())
    def check(data: st.DataObject) -> None:
        world.restore()
        argv = data.draw(command_lines(world))
        stdin = data.draw(st.sampled_from([b"", *world.files.values()]) | st.binary(max_size=64))
        with time_bounded(30):
            result = run_inproc(*argv, input=stdin)
        assert result.status != 1, f"kmscli {argv!r} (stdin {stdin[:64]!r}) exited 1:\n{result.err}"

    with memory_bounded():
        check()


class TooSlowError(Exception):
    """Raised in a command that runs too long: kmscli reports it as a bug (exit 1)."""


@contextlib.contextmanager
def time_bounded(seconds: float) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise TooSlowError(f"the command ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def memory_bounded() -> Iterator[None]:
    """At most 1 GiB more address space for this process while the commands run in it: an
    unbounded read of the endless input ends in a MemoryError (exit 1, a failure) instead of
    taking the machine's memory."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    bound = in_use + (1 << 30)
    if hard != resource.RLIM_INFINITY:
        bound = min(bound, hard)
    resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# -- the regressions named in issue 13 ------------------------------------------------------------


@pytest.fixture
def world(run_inproc: Runner, tmp_path: Path) -> World:
    return World(run_inproc, tmp_path)


def _status(run: Runner, *args: str) -> Result:
    result = run(*args)
    assert result.status != 1, (args, result.err)
    return result


def test_a_5000_digit_integer_in_a_policy_is_a_malformed_policy(
    run_inproc: Runner, world: World
) -> None:
    huge = str(world.inputs / "huge-number.json")
    for args in (
        ("policy", "validate", huge),
        ("policy", "put", world.key, huge),
        ("key", "create", "--policy", huge),
    ):
        result = _status(run_inproc, *args)
        assert result.status == 2, (args, result.err)
        assert "MalformedPolicyDocumentException" in result.err


def test_undecodable_bytes_in_arguments_are_invalid_input(run_inproc: Runner, world: World) -> None:
    bad = os.fsdecode(b"\xff")
    for args in (
        (
            "encrypt",
            "-k",
            world.key,
            "-c",
            f"a={bad}",
            "-o",
            "out.kms",
            str(world.inputs / "plain.txt"),
        ),
        ("datakey", "generate", "-k", world.key, "--key-spec", "AES_256", "-c", f"a={bad}"),
        ("key", "create", "--description", bad),
        ("key", "create", "--tag", f"a={bad}"),
        ("key", "update-description", world.key, bad),
        ("alias", "create", f"alias/{bad}", world.key),
        ("policy", "simulate", "--key", world.key, "--action", "kms:Decrypt", "-c", f"a={bad}"),
    ):
        result = _status(run_inproc, *args)
        assert result.status == 2, (args, result.err)


def test_a_unicode_digit_marker_or_limit_is_invalid_input(run_inproc: Runner, world: World) -> None:
    for args in (
        ("key", "tags", world.key, "--marker", "²"),
        ("key", "rotation", "list", world.key, "--marker", "²"),
        ("policy", "grant", "list", world.key, "--marker", "²"),
        ("key", "tags", world.key, "--limit", "9" * 5000),
    ):
        result = _status(run_inproc, *args)
        assert result.status == 2, (args, result.err)


@pytest.mark.parametrize(
    "variables",
    [
        {"KMSCLI_MAX_CONCURRENCY": "²"},
        {"KMSCLI_MAX_CONCURRENCY": "9" * 5000},
        {"AWS_MAX_ATTEMPTS": "٣"},
        {"AWS_MAX_ATTEMPTS": "9" * 5000},
    ],
    ids=["concurrency-superscript", "concurrency-huge", "attempts-arabic", "attempts-huge"],
)
def test_unicode_digits_or_huge_numbers_in_the_environment_are_invalid_input(
    run_inproc: Runner, variables: dict[str, str]
) -> None:
    result = run_inproc("key", "list", env={"KMSCLI_BACKEND": "aws", **variables})
    assert result.status == 2, result.err


@pytest.mark.parametrize(
    "options",
    [
        ("--backend", "aws", "--endpoint-url", "²"),
        ("--backend", "aws", "--endpoint-url", "http://[::1"),
        ("--backend", "aws", "--endpoint-url", os.fsdecode(b"http://\xff")),
        ("--region", os.fsdecode(b"\xff")),
        ("--as", os.fsdecode(b"arn:aws:iam::111122223333:user/\xff")),
    ],
    ids=["endpoint-superscript", "endpoint-bracket", "endpoint-bad-byte", "region", "as"],
)
def test_hostile_global_options_are_invalid_input(
    run_inproc: Runner, options: tuple[str, ...]
) -> None:
    assert run_inproc("keyring", "init").status == 0
    result = run_inproc(*options, "key", "list")
    assert result.status == 2, result.err
