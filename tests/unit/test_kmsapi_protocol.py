"""Both backends declare `KmsApi`, and mypy holds them to it: a method that drifts fails the check.

Each case copies a backend's real module, changes one method's signature, and runs mypy (the
project's strict configuration) on the copy: the module's own declaration must fail, naming that
method. Unchanged copies do not fail it, so the failure comes from the drift and not from the
set-up. (A copy of the local service also gets errors where it passes itself to the operation
modules, which expect the real class: those are not the declaration's and are ignored.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# (copy's module name, backend source, method, the signature text, its drifted form): a
# renamed keyword, another response shape, a default taken away
DRIFTS = {
    "drifted_aws": (
        "kmscli/aws/service.py",
        "encrypt",
        "        via_service: bool = False,\n",
        "        via_services: bool = False,\n",
    ),
    "drifted_shape": (
        "kmscli/aws/service.py",
        "generate_mac",
        ") -> GenerateMacResponse:",
        ") -> VerifyMacResponse:",
    ),
    "drifted_local": (
        "kmscli/kms/service.py",
        "generate_mac",
        "        mac_algorithm: str | None = None,\n",
        "        mac_algorithm: str | None,\n",
    ),
}


def _drift(source: str, method: str, old: str, new: str) -> str:
    start = source.index(f"    def {method}(")
    end = source.index(":\n", source.index(") -> ", start)) + 1
    assert old in source[start:end], f"{method} no longer has {old.strip()!r}"
    return source[:start] + source[start:end].replace(old, new, 1) + source[end:]


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    work = tmp_path_factory.mktemp("drift")
    for name, (path, method, old, new) in DRIFTS.items():
        (work / f"{name}.py").write_text(_drift((ROOT / path).read_text(), method, old, new))
    (work / "intact_aws.py").write_text((ROOT / "kmscli/aws/service.py").read_text())
    (work / "intact_local.py").write_text((ROOT / "kmscli/kms/service.py").read_text())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(work / ".mypy_cache"),
            "--no-error-summary",
            *sorted(str(p) for p in work.glob("*.py")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DRIFTS))
def test_mypy_names_the_method_that_drifted(mypy_output: str, name: str) -> None:
    method = DRIFTS[name][1]
    lines = [line for line in mypy_output.splitlines() if f"{name}.py:" in line]
    assert any("error:" in line and "KmsApi" in line for line in lines), mypy_output
    assert any(re.search(rf"def {method}\(", line) for line in lines), mypy_output


@pytest.mark.slow
@pytest.mark.parametrize("name", ["intact_aws", "intact_local"])
def test_an_unchanged_backend_meets_the_protocol(mypy_output: str, name: str) -> None:
    lines = [line for line in mypy_output.splitlines() if f"{name}.py:" in line]
    assert not [line for line in lines if "KmsApi" in line], mypy_output
    if name == "intact_aws":
        assert not lines, mypy_output
