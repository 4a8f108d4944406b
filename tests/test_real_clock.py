"""kmscli reads only the real clock: nothing a user sets makes a waiting period or a rotation
date pass early (issue 13, "No setting destroys keys early").

A variable that moved "now" once let `KMSCLI_NOW=<next year> kmscli key list` destroy a key
scheduled for deletion in 7 days, and let a read-only listing add rotation materials dated in
the future. Tests move time only inside the harness (tests/timetravel.py); the last test here
shows that harness really does move it, so the others could see a destruction if one happened.
"""

from __future__ import annotations

import ast
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest

from kmscli.cli.commands import cli
from kmscli.cli.settings import CONFIG_SETTINGS, SETTINGS
from tests.conftest import Result, Runner
from tools import docgen

ROOT = Path(__file__).resolve().parent.parent
CLOCKISH = re.compile(r"NOW|TIME|CLOCK|DATE|EPOCH|FAKE|TRAVEL", re.IGNORECASE)


def _ok(result: Result) -> Result:
    assert result.status == 0, result.err
    return result


def _json(result: Result) -> dict[str, Any]:
    return json.loads(_ok(result).out)  # type: ignore[no-any-return]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _materials(run: Runner, key: str) -> list[tuple[str, str]]:
    listed = _json(
        run("key", "rotation", "list", key, "--include-key-material", "ALL_KEY_MATERIAL", "--json")
    )
    return [(m["KeyMaterialId"], m["KeyMaterialState"]) for m in listed["Rotations"]]


def _service_events(run: Runner) -> list[str]:
    records = _json(run("audit", "--json"))["Records"]
    return [r["eventName"] for r in records if r["eventType"] == "AwsServiceEvent"]


def _keyring_with_a_doomed_and_a_rotating_key(run: Runner, tmp_path: Path) -> dict[str, Any]:
    """A key scheduled for deletion in 7 days (with a file encrypted under it before), and a key
    with a 90-day automatic rotation, both made at the real time."""
    doomed = _ok(run("key", "create")).out.strip()
    (tmp_path / "p").write_bytes(b"kept safe")
    _ok(run("encrypt", "-k", doomed, "p", "-o", "p.kms"))
    scheduled = _json(run("key", "schedule-deletion", doomed, "--days", "7", "--yes", "--json"))
    rotating = _ok(run("key", "create")).out.strip()
    _ok(run("key", "rotation", "enable", rotating, "--period-days", "90"))
    return {
        "doomed": doomed,
        "deletion_date": scheduled["DeletionDate"],
        "rotating": rotating,
        "materials": _materials(run, rotating),
    }


# -- (1) a variable naming a later date changes nothing ------------------------------------------


def test_a_clock_variable_neither_destroys_a_key_nor_rotates_one(
    run: Runner, tmp_path: Path
) -> None:
    keyring = _keyring_with_a_doomed_and_a_rotating_key(run, tmp_path)
    doomed, rotating = keyring["doomed"], keyring["rotating"]
    assert len(keyring["materials"]) == 1
    next_year = _iso(datetime.now(UTC) + timedelta(days=366))
    (tmp_path / "q").write_bytes(b"new data")
    for value in (next_year, "9999-12-31T23:59:59Z"):
        faked = {"KMSCLI_NOW": value}
        listed = _json(run("key", "list", "--json", env=faked))
        assert doomed in [k["KeyId"] for k in listed["Keys"]]
        meta = _json(run("key", "describe", doomed, "--json", env=faked))["KeyMetadata"]
        assert meta["KeyState"] == "PendingDeletion"
        _ok(run("encrypt", "-k", rotating, "q", "-o", "q.kms", "-f", env=faked))
        _ok(run("key", "rotation", "list", rotating, env=faked))

    # Afterwards, at the real time: still pending, on the same date, nothing rotated.
    meta = _json(run("key", "describe", doomed, "--json"))["KeyMetadata"]
    assert meta["KeyState"] == "PendingDeletion"
    assert meta["DeletionDate"] == keyring["deletion_date"]
    assert _materials(run, rotating) == keyring["materials"]
    assert _service_events(run) == []
    assert _ok(run("decrypt", "q.kms", "-o", "-")).stdout == b"new data"

    # And the key is still usable: cancelled and enabled, it decrypts what it encrypted.
    _ok(run("key", "cancel-deletion", doomed))
    _ok(run("key", "enable", doomed))
    assert _ok(run("decrypt", "p.kms", "-o", "-")).stdout == b"kept safe"


# -- (2) no kmscli source reads a clock override; every variable it reads is documented --------


def _environment_reads() -> tuple[dict[str, set[str]], list[str]]:
    """Every environment variable a kmscli module reads, by name, with the modules reading it;
    and the places that read a name computed at run time."""
    named: dict[str, set[str]] = {}
    computed: list[str] = []
    for path in sorted((ROOT / "kmscli").rglob("*.py")):
        module = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"), module)
        for node in ast.walk(tree):
            if not isinstance(node, ast.expr):
                continue  # every read below is an expression (and so has a line number)
            name_node: ast.expr | None = None
            if isinstance(node, ast.Call):
                func = node.func
                reader = ast.unparse(func)
                if reader in ("os.environ.get", "environ.get", "os.getenv", "getenv", "_env"):
                    name_node = node.args[0] if node.args else None
                    if name_node is None:
                        computed.append(f"{module}:{node.lineno}")
                        continue
            elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in (
                "os.environ",
                "environ",
            ):
                name_node = node.slice
            elif isinstance(node, ast.Attribute) and ast.unparse(node) in (
                "os.environ.items",
                "os.environ.keys",
                "os.environ.copy",
            ):
                computed.append(f"{module}:{node.lineno}")  # reads every variable
            if name_node is None:
                continue
            if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
                named.setdefault(name_node.value, set()).add(module)
            else:
                computed.append(f"{module}:{node.lineno}:{ast.unparse(name_node)}")
    return named, computed


def _documented() -> set[str]:
    return {name for names, _ in docgen.environment() for name in names}


def test_no_source_reads_a_clock_override_and_every_variable_read_is_documented() -> None:
    named, computed = _environment_reads()
    # Read by name: TERM (context.escapes_wanted) and HOME (user_directory); every other
    # variable through the settings table (context.from_environment).
    assert {"TERM", "HOME"} <= set(named), "the scan found too few reads to be working"
    read = set(named) | {variable for setting in SETTINGS for variable in setting.variables}
    assert len(read) > 10
    clockish = sorted(name for name in read if CLOCKISH.search(name))
    assert clockish == [], f"kmscli reads a variable that could move its clock: {clockish}"
    assert [setting.name for setting in SETTINGS if CLOCKISH.search(setting.name)] == []
    # Names computed at run time: the settings table's variables (from_environment), and the
    # XDG base directory of user_directory().
    places = sorted((place.split(":")[0], place.split(":")[-1]) for place in computed)
    assert places == [("kmscli/cli/context.py", "variable")] * 2
    readers = {module for modules in named.values() for module in modules}
    assert readers == {"kmscli/cli/context.py"}, "context.py is the only environment reader"
    ours = {name for name in read if name.startswith(("KMSCLI_", "AWS_"))}
    documented = _documented()
    assert ours - documented == set(), "read but missing from kmscli(1) ENVIRONMENT"
    # NO_COLOR is read through the table; COLUMNS by the standard library's
    # shutil.get_terminal_size, for the width of tables.
    assert "NO_COLOR" in read
    assert documented - ours - {"NO_COLOR", "COLUMNS"} == set(), "documented but never read"
    assert not any(CLOCKISH.search(name) for name in documented)


def _options(command: click.Command) -> list[str]:
    names = [
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    ]
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            names += _options(sub)
    return names


def test_no_option_or_setting_moves_the_clock() -> None:
    options = _options(cli)
    assert "--valid-to" in options and len(options) > 50  # the walk sees the whole tree
    assert [o for o in options if re.search(r"\b(now|clock|fake|pretend|at)\b", o)] == []
    assert [s for s in CONFIG_SETTINGS if CLOCKISH.search(s)] == []
    assert cli.context_settings.get("auto_envvar_prefix") is None


# -- (3) the real clock decides every date ------------------------------------------------------


@pytest.mark.parametrize("value", ["2030-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "not a date"])
def test_dates_come_from_the_real_clock_whatever_is_set(run: Runner, value: str) -> None:
    faked = {"KMSCLI_NOW": value}
    before = datetime.now(UTC)
    meta = _json(run("key", "create", "--json", env=faked))["KeyMetadata"]
    scheduled = _json(
        run("key", "schedule-deletion", meta["KeyId"], "--days", "7", "--yes", "--json", env=faked)
    )
    after = datetime.now(UTC)
    created = _instant(meta["CreationDate"])
    assert before - timedelta(seconds=1) <= created <= after
    deletion = _instant(scheduled["DeletionDate"])
    week = timedelta(days=7)
    assert before + week - timedelta(seconds=1) <= deletion <= after + week


# -- the harness's own clock does move time, so the tests above could see a destruction ---------


def test_the_test_launcher_moves_time_where_users_cannot(run: Runner, tmp_path: Path) -> None:
    keyring = _keyring_with_a_doomed_and_a_rotating_key(run, tmp_path)
    later = datetime.now(UTC) + timedelta(days=100)
    _ok(run("key", "list", now=later))
    assert run("key", "describe", keyring["doomed"]).status == 3  # destroyed after 7 days
    assert len(_materials(run, keyring["rotating"])) == 2  # rotated once, at 90 days
    assert _service_events(run) == ["DeleteKey", "RotateKey"]
