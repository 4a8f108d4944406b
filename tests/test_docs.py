"""The man pages and shell completions: current with the click tree, clean roff, working bash.

Also holds every command's help to the house rule: a one-line summary, a longer description and
an `Example:` block, and `-h` working on every command and group.
"""

from __future__ import annotations

import difflib
import inspect
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from kmscli.cli.commands import cli
from kmscli.cli.settings import SETTINGS
from tests.conftest import Runner
from tools import docgen

ROOT = Path(__file__).resolve().parent.parent
REGENERATE = f"run `{docgen.GENERATED}` from the repository root and commit the result"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return docgen.generate()


# -- (1) the committed files are what the generator produces now ---------------------------------


def _variables_read() -> set[str]:
    """The environment variables of the settings table, through which kmscli.cli.context reads
    them (tests/test_real_clock.py holds it the only reader)."""
    found = {variable for setting in SETTINGS for variable in setting.variables}
    assert len(found) > 10
    return found


@pytest.mark.parametrize("path", sorted(docgen.FILES))
def test_committed_file_is_current(path: str, generated: dict[str, str]) -> None:
    committed = ROOT / path
    assert committed.is_file(), f"{path} is missing: {REGENERATE}"
    text = committed.read_text(encoding="utf-8")
    if text != generated[path]:
        diff = difflib.unified_diff(
            text.splitlines(), generated[path].splitlines(), path, "generated", lineterm=""
        )
        shown = "\n".join(list(diff)[:40])
        pytest.fail(f"{path} is stale (the commands changed): {REGENERATE}\n{shown}")


# -- (2) the man pages render without a warning --------------------------------------------------

MAN_PAGES = ["man/kmscli.1", "man/kmscli-format.5"]


def _groff(*args: str) -> subprocess.CompletedProcess[str]:
    groff = shutil.which("groff")
    if groff is None:
        pytest.fail(
            "groff is not installed, so the man pages cannot be checked: "
            "apt-get update && apt-get install -y groff-base"
        )
    return subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("width", [None, 60, 120])
@pytest.mark.parametrize("page", MAN_PAGES)
def test_man_page_renders_without_warnings(page: str, width: int | None) -> None:
    line_length = [] if width is None else [f"-rLL={width}n"]
    result = _groff("-z", *line_length, str(ROOT / page))
    assert result.returncode == 0 and not result.stderr, f"groff on {page}:\n{result.stderr}"


def _rendered(page: str) -> str:
    result = _groff("-P-cbou", str(ROOT / page))  # no colour, bold or underline sequences
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_kmscli_1_has_the_sections_environment_and_exit_statuses() -> None:
    text = _rendered("man/kmscli.1")
    headings = {line.strip() for line in text.splitlines() if line[:1].isupper()}
    for section in (
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "ENVIRONMENT",
        "FILES",
        "EXIT STATUS",
        "EXAMPLES",
        "SEE ALSO",
    ):
        assert section in headings, f"kmscli(1) has no {section} section"
    environment = text.split("\nENVIRONMENT\n")[1].split("\nFILES\n")[0]
    for variable in (*_variables_read(), "NO_COLOR"):
        assert re.search(rf"\b{variable}\b", environment), f"ENVIRONMENT does not list {variable}"
    statuses = text.split("\nEXIT STATUS\n")[1].split("\nEXAMPLES\n")[0]
    listed = set(re.findall(r"^ {7}(\d+) ", statuses, flags=re.MULTILINE))
    for status in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 130):
        assert str(status) in listed, f"EXIT STATUS does not list {status}"
    assert "NotFoundException" in statuses and "KeyringLockedError" in statuses
    for command in _COMMANDS[1:]:
        assert f"   kmscli {' '.join(command)}\n" in text, f"no heading for kmscli {command}"


def test_kmscli_1_reads_the_settings_table() -> None:
    """ENVIRONMENT and FILES are made from kmscli.cli.settings: every variable, and every
    setting of config.toml with its type."""
    text = " ".join(_rendered("man/kmscli.1").split())
    environment = text.split(" ENVIRONMENT ")[1].split(" FILES ")[0]
    files = text.split(" FILES ")[1].split(" EXIT STATUS ")[0]
    for setting in SETTINGS:
        for variable in setting.variables:
            assert variable in environment, variable
        if setting.in_config:
            assert re.search(rf"\b{setting.name}\b", files), setting.name
    assert "max_concurrency (a number)" in files


def test_kmscli_format_5_describes_messages_blobs_and_the_keyring() -> None:
    text = _rendered("man/kmscli-format.5")
    for needle in (
        "MESSAGES",
        "CIPHERTEXT BLOBS",
        "KEYRING",
        "0x0478 AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        "0x0578 AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        "provider ID aws-kms",
        "KMSB",
        "Footer",
        "records/KIND/NAME",
        "Argon2id",
    ):
        assert needle in text, f"kmscli-format(5) does not mention {needle!r}"


# -- (3) bash completion, in a real bash ----------------------------------------------------------


def _complete(
    env: dict[str, str], *words: str, script: str = "completions/kmscli.bash"
) -> list[str]:
    """COMPREPLY of `_kmscli` in `bash --norc` for the command line `words` (cursor at the end),
    with the committed script or another one (`script`)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.fail("bash is not installed, so the bash completion cannot be checked")
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; '
        'COMP_POINT=${#COMP_LINE}; COMPREPLY=(); _kmscli; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program, "bash", script, *words],
        cwd=ROOT,
        env=env,  # its PATH starts with the tree's kmscli (tests.conftest.TREE_BIN)
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    return [line for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["kmscli", "ke"], ["key", "keyring"]),
        (["kmscli", "key", "des"], ["describe"]),
        (["kmscli", "--json", "key", "des"], ["describe"]),
        (["kmscli", "encrypt", "--fr"], ["--frame-size"]),
        (["kmscli", "key", "describe", "--reg"], ["--region"]),
        (["kmscli", "key", "create", "--key-spec", "RSA_3"], ["RSA_3072"]),
        (["kmscli", "key", "create", "--key-spec", "HMAC_5"], ["HMAC_512"]),
        (["kmscli", "key", "create", "--key-spec", "=", "SYM"], ["SYMMETRIC_DEFAULT"]),
        (["kmscli", "--region", "eu-west-"], ["eu-west-1", "eu-west-2", "eu-west-3"]),
        (
            ["kmscli", "encrypt", "--algorithm", ""],
            [
                "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
                "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
            ],
        ),
        (["kmscli", "decrypt", "--commitment-policy", "forbid"], ["forbid-encrypt-allow-decrypt"]),
        (["kmscli", "datakey", "generate", "--key-spec", ""], ["AES_256", "AES_128"]),
        (["kmscli", "inspect", "completions/kmscli.ba"], ["completions/kmscli.bash"]),
    ],
)
def test_bash_completes_commands_options_and_values(
    words: list[str], expected: list[str], kmscli_env: dict[str, str]
) -> None:
    assert _complete(kmscli_env, *words) == expected


def test_bash_completes_keys_and_aliases_from_the_keyring(
    run: Runner, kmscli_env: dict[str, str]
) -> None:
    created = run("key", "create", "--alias", "alias/backups")
    assert created.status == 0, created.err
    key_id = created.out.strip()
    assert _complete(kmscli_env, "kmscli", "key", "describe", "alias/ba") == ["alias/backups"]
    assert _complete(kmscli_env, "kmscli", "encrypt", "-k", key_id[:6]) == [key_id]
    assert _complete(kmscli_env, "kmscli", "alias", "update", "alias/b") == ["alias/backups"]
    # Keys and aliases are regional: this one is not offered in another region.
    elsewhere = _complete(kmscli_env, "kmscli", "--region", "eu-west-1", "key", "enable", "")
    assert "alias/backups" not in elsewhere and key_id not in elsewhere


def test_bash_key_completion_never_creates_a_keyring(
    kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    home = tmp_path / "no-keyring-yet"
    env = {**kmscli_env, "KMSCLI_HOME": str(home)}
    assert _complete(env, "kmscli", "key", "describe", "") == []
    assert not home.exists()
    assert not Path(kmscli_env["KMSCLI_ROOT_KEY_FILE"]).exists()


def test_bash_key_completion_finds_the_keyring_as_kmscli_does(
    kmscli_env: dict[str, str], tmp_path: Path, generated: dict[str, str]
) -> None:
    """config.toml's `home`, a profile's `home` and --profile are kmscli's to read, not the
    script's: completion asks kmscli, so it lists the keyring the command would use."""
    from tests.conftest import KMSCLI

    script = tmp_path / "kmscli.bash"
    script.write_text(generated["completions/kmscli.bash"])
    env = {k: v for k, v in kmscli_env.items() if k != "KMSCLI_HOME"}
    default, work = tmp_path / "configured", tmp_path / "work"
    config = Path(env["XDG_CONFIG_HOME"]) / "kmscli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'home = "{default}"\n\n[profiles.work]\nhome = "{work}"\n')
    for args in (
        ("key", "create", "--alias", "alias/backups"),
        ("--profile", "work", "key", "create", "--alias", "alias/builds"),
    ):
        made = subprocess.run([KMSCLI, *args], env=env, capture_output=True, check=False)
        assert made.returncode == 0, made.stderr
    assert _complete(env, "kmscli", "key", "describe", "alias/b", script=str(script)) == [
        "alias/backups"
    ]
    assert _complete(
        env, "kmscli", "--profile", "work", "key", "describe", "alias/b", script=str(script)
    ) == ["alias/builds"]
    # A profile whose keyring does not exist offers nothing and creates nothing.
    config.write_text(f'[profiles.new]\nhome = "{tmp_path / "new"}"\n', encoding="utf-8")
    assert (
        _complete(env, "kmscli", "--profile", "new", "key", "describe", "", script=str(script))
        == []
    )
    assert not (tmp_path / "new").exists()


# -- (4) every command's help, and -h everywhere --------------------------------------------------


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _paragraphs(path: tuple[str, ...]) -> list[str]:
    text = inspect.cleandoc(_command(path).help or "")
    return [p for p in text.split("\n\n") if p.strip()]


_COMMANDS = list(_walk(cli, ()))
_IDS = [" ".join(("kmscli", *path)) for path in _COMMANDS]

# Commands whose help has no description beyond the summary yet: the help belongs to the command
# modules. Delete an entry once its description is written (the test then passes, and a stale
# entry fails).
_WITHOUT_DESCRIPTION: set[tuple[str, ...]] = set()


@pytest.mark.parametrize("path", _COMMANDS, ids=_IDS)
def test_help_has_a_one_line_summary(path: tuple[str, ...]) -> None:
    paragraphs = _paragraphs(path)
    assert paragraphs, f"kmscli {' '.join(path)} has no help text"
    summary = paragraphs[0]
    assert "\n" not in summary and summary.endswith("."), f"summary: {summary!r}"


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(
            path,
            marks=pytest.mark.xfail(
                path in _WITHOUT_DESCRIPTION, reason="no description yet", strict=True
            ),
        )
        for path in _COMMANDS
    ],
    ids=_IDS,
)
def test_help_has_a_longer_description(path: tuple[str, ...]) -> None:
    prose = [p for p in _paragraphs(path)[1:] if not p.startswith("\b")]
    assert prose, f"kmscli {' '.join(path)}: no description after the summary"


@pytest.mark.parametrize("path", _COMMANDS, ids=_IDS)
def test_help_has_an_example(path: tuple[str, ...]) -> None:
    name = " ".join(("kmscli", *path))
    examples = [p.split("\n")[2:] for p in _paragraphs(path) if p.startswith("\b\nExample:")]
    assert examples, f"{name}: no `\\b` + `Example:` block"
    assert any(name in line for line in examples[0]), f"{name}: the example does not run it"


@pytest.mark.parametrize("option", ["-h", "--help"])
@pytest.mark.parametrize("path", _COMMANDS, ids=_IDS)
def test_help_option_works(path: tuple[str, ...], option: str, run_inproc: Runner) -> None:
    result = run_inproc(*path, option)
    name = " ".join(("kmscli", *path))
    assert result.status == 0, result.err
    assert result.out.startswith(f"Usage: {name} "), result.out
    assert "Example:" in result.out
    assert " ".join(_paragraphs(path)[0].split()[:4]) in " ".join(result.out.split())


def test_the_generator_is_a_tool_outside_the_product(tmp_path: Path) -> None:
    # Not in the package (so not in the wheel), imported by nothing in it, and run as the
    # README says: a script that documents its own checkout, from any working directory.
    assert list((ROOT / "kmscli").rglob("docgen*")) == []
    for module in (ROOT / "kmscli").rglob("*.py"):
        assert not re.search(r"^\s*(from|import) tools\b", module.read_text(), re.M), module
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools/docgen.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
