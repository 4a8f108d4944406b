"""One implementation of durable, atomic files: kmscli.files. Nothing else in kmscli calls the
system's durability primitives (fsync, rename, link) or creates files exclusively or unnamed
itself, so the keyring, the outputs and backups cannot drift apart again."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kmscli"
OWNER = PACKAGE / "files"
OTHERS = sorted(p for p in PACKAGE.rglob("*.py") if OWNER not in p.parents)

# os.* names that only kmscli.files may use.
PRIMITIVES = frozenset(
    {
        "replace",
        "rename",
        "renames",
        "link",
        "fsync",
        "fdatasync",
        "sync",
        "O_EXCL",
        "O_TMPFILE",
        "O_DSYNC",
        "O_SYNC",
    }
)
MODULES = frozenset({"tempfile"})  # mkstemp, NamedTemporaryFile: temp files of their own


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "os" and node.attr in PRIMITIVES:
                found.append(f"line {line}: os.{node.attr}")
            if node.value.id == "shutil" and node.attr == "move":
                found.append(f"line {line}: shutil.move")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [
                f"line {line}: from os import {a.name}" for a in node.names if a.name in PRIMITIVES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module in MODULES:
            found.append(f"line {line}: from {node.module} import")
        elif isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names if a.name in MODULES]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            # getattr(os, "O_TMPFILE"), or an output's temp name spelled out again.
            if node.value in PRIMITIVES and node.value.startswith("O_"):
                found.append(f"line {line}: {node.value!r}")
            if node.value.endswith(".kmscli-tmp"):
                found.append(f"line {line}: an output temp name {node.value!r}")
    return found


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_only_kmscli_files_writes_files_durably(path: Path) -> None:
    found = _violations(path)
    assert not found, (
        f"{path.relative_to(PACKAGE.parent)} does itself what kmscli.files owns "
        f"(use kmscli.files.durable): {found}"
    )


def test_the_scan_sees_the_primitives() -> None:
    """The scan is not vacuous: kmscli.files itself uses what it forbids elsewhere."""
    found = [v for p in sorted(OWNER.glob("*.py")) for v in _violations(p)]
    for expected in ("os.replace", "os.link", "os.fsync", "os.fdatasync", "os.O_EXCL"):
        assert any(v.endswith(expected) for v in found), expected
    assert any("'O_TMPFILE'" in v for v in found)


def test_the_old_second_implementations_are_gone() -> None:
    assert not (PACKAGE / "outputs.py").exists()
    assert not (PACKAGE / "store" / "atomic.py").exists()
