"""The dependency arrows of ARCHITECTURE.md, held in place by reading every module's imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kmscli"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def _layer(name: str) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


# What each layer may import from kmscli (besides itself); "*" = anything below the CLI.
ALLOWED: dict[str, set[str]] = {
    "kmscli.errors": set(),
    "kmscli.crypto": {"kmscli.errors"},
    "kmscli.message": {"kmscli.errors", "kmscli.crypto"},
    "kmscli.policy": {"kmscli.errors"},
    # The keyring writes its files through kmscli.files, as the CLI's outputs do.
    "kmscli.store": {"kmscli.errors", "kmscli.crypto", "kmscli.files"},
    "kmscli.keyprovider": {"kmscli.errors"},
    "kmscli.files": {"kmscli.errors"},
    "kmscli.datakeycache": {"kmscli.errors", "kmscli.keyprovider"},
    "kmscli.kmsapi": {"kmscli.errors", "kmscli.crypto"},
    "kmscli.envelope": {
        "kmscli.errors",
        "kmscli.kmsapi",
        "kmscli.message",
        "kmscli.keyprovider",
        "kmscli.datakeycache",
    },
    "kmscli.kms": {
        "kmscli.errors",
        "kmscli.crypto",
        "kmscli.policy",
        "kmscli.store",
        "kmscli.message",
        "kmscli.keyprovider",
        "kmscli.kmsapi",
    },
    "kmscli.aws": {
        "kmscli",
        "kmscli.errors",
        "kmscli.crypto",
        "kmscli.keyprovider",
        "kmscli.kmsapi",
    },
    "kmscli.server": {
        "kmscli.errors",
        "kmscli.crypto",
        "kmscli.kms",
        "kmscli.store",
        "kmscli.policy",
        "kmscli.kmsapi",
    },
}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_arrows_point_down(path: Path) -> None:
    name = _module_name(path)
    layer = _layer(name)
    own = {i for i in _imports(path) if _top(i) == "kmscli"}
    if layer in ("kmscli.cli", "kmscli", "kmscli.__main__"):
        return
    allowed = ALLOWED[layer] | {layer}
    bad = sorted(i for i in own if _layer(i) not in allowed)
    assert not bad, f"{name} may not import {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_third_party_libraries_stay_in_their_room(path: Path) -> None:
    name = _module_name(path)
    tops = {_top(i) for i in _imports(path)}
    if "cryptography" in tops:
        assert name.startswith("kmscli.crypto"), f"{name} imports cryptography"
    if tops & {"click", "rich"}:
        assert name.startswith("kmscli.cli"), f"{name} imports click or rich"
    if tops & {"botocore", "boto3"}:
        assert name.startswith("kmscli.aws"), f"{name} imports botocore or boto3"
    if "platformdirs" in tops:
        assert name == "kmscli.cli.context", f"{name} imports platformdirs"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_core_code_never_prints_or_reads_the_environment(path: Path) -> None:
    name = _module_name(path)
    if name.startswith("kmscli.cli"):
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("print", "input", "exit"), f"{name} calls {node.func.id}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert not (node.value.id == "os" and node.attr in ("environ", "getenv")), (
                f"{name} reads the environment"
            )
            assert not (node.value.id == "sys" and node.attr == "exit"), f"{name} exits"


def test_version_module_imports_nothing() -> None:
    assert _imports(PACKAGE / "__init__.py") == set()


ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"
# Rooms the arrow test does not hold (the CLI may import anything; the top package is the version).
UNCHECKED = {"kmscli", "kmscli.cli"}


def _documented_rooms() -> dict[str, set[str]]:
    """ARCHITECTURE.md's rooms table: room → the rooms its "may import" column names."""
    rooms: dict[str, set[str]] = {}
    for line in ARCHITECTURE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`kmscli"):
            room = cells[0].strip("`")
            assert room not in rooms, f"ARCHITECTURE.md describes {room} twice"
            rooms[room] = set(re.findall(r"`(kmscli[\w.]*)`", cells[2]))
    return rooms


def test_architecture_md_describes_every_room_and_its_arrows() -> None:
    documented = _documented_rooms()
    rooms = set(ALLOWED) | UNCHECKED
    assert set(documented) == rooms, (
        "ARCHITECTURE.md's rooms differ from ALLOWED: "
        f"undocumented {sorted(rooms - set(documented))}, "
        f"not in ALLOWED {sorted(set(documented) - rooms)}"
    )
    for room, allowed in ALLOWED.items():
        assert documented[room] == allowed, f"ARCHITECTURE.md: {room} may import {allowed}"
    for room in UNCHECKED:
        assert documented[room] == set(), f"ARCHITECTURE.md: {room} is not checked"


def test_every_room_of_the_package_is_in_the_architecture() -> None:
    # A new package or top-level module gets a row in ARCHITECTURE.md and in ALLOWED.
    layers = {_layer(_module_name(path)) for path in MODULES} - {"kmscli.__main__"}
    assert layers == set(ALLOWED) | UNCHECKED
