"""kmscli's user directories are the ones platformdirs names, whatever the XDG variables say.

On Linux kmscli.cli.context computes them itself (importing platformdirs costs start-up time);
this holds that rule to platformdirs' own answer.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from kmscli.cli.context import user_directory

CASES = [
    {},
    {"XDG_CONFIG_HOME": "/srv/conf", "XDG_DATA_HOME": "/srv/data"},
    {"XDG_CONFIG_HOME": "", "XDG_DATA_HOME": ""},
    {"XDG_CONFIG_HOME": "relative/conf", "XDG_DATA_HOME": "relative/data"},
    {"XDG_CONFIG_HOME": "/srv/conf/", "XDG_DATA_HOME": "/srv//data"},
]


@pytest.mark.parametrize(
    "variables", CASES, ids=lambda v: ",".join(f"{k}={x}" for k, x in v.items()) or "unset"
)
def test_same_as_platformdirs(
    variables: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert user_directory("config") == Path(platformdirs.user_config_dir("kmscli", appauthor=False))
    assert user_directory("data") == Path(platformdirs.user_data_dir("kmscli", appauthor=False))
