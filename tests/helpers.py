"""Small assertions shared by the CLI tests: a command succeeded, and what it printed as JSON."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Result


def ok(result: Result) -> Result:
    """The result of a command that must have exited 0 (its stderr is the failure message)."""
    assert result.status == 0, result.err
    return result


def json_of(result: Result) -> dict[str, Any]:
    """The JSON object a command that must have exited 0 printed on stdout."""
    return json.loads(ok(result).out)  # type: ignore[no-any-return]
