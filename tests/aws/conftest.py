"""Fixtures of the aws backend's tests: a moto server for the session, reset for every test, and
runners of the real `kmscli` pointed at it (or at a throttling proxy in front of it)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.aws.servers import CREDENTIALS, KmsProxy, MotoKms
from tests.conftest import Result, Runner


@pytest.fixture(scope="session")
def moto_kms() -> Iterator[MotoKms]:
    server = MotoKms()
    yield server
    server.stop()


def aws_environment(endpoint: str, base: Path) -> dict[str, str]:
    """The variables that point kmscli (and botocore) at `endpoint` with test credentials, and
    away from the user's AWS configuration and the instance metadata service."""
    return {
        "KMSCLI_BACKEND": "aws",
        "AWS_ENDPOINT_URL_KMS": endpoint,
        "AWS_CONFIG_FILE": str(base / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(base / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **CREDENTIALS,
    }


@pytest.fixture
def aws_env(moto_kms: MotoKms, tmp_path: Path) -> dict[str, str]:
    moto_kms.reset()
    return aws_environment(moto_kms.url, tmp_path)


def _bound(runner: Runner, bound: Mapping[str, str]) -> Runner:
    def run(*args: str, env: Mapping[str, str] | None = None, **kwargs: object) -> Result:
        return runner(*args, env={**bound, **(env or {})}, **kwargs)

    return run


@pytest.fixture
def aws(run: Runner, aws_env: dict[str, str]) -> Runner:
    """The installed kmscli as a real process, with --backend aws against moto."""
    return _bound(run, aws_env)


@pytest.fixture
def aws_inproc(run_inproc: Runner, aws_env: dict[str, str]) -> Runner:
    return _bound(run_inproc, aws_env)


@pytest.fixture
def proxy(moto_kms: MotoKms) -> Iterator[KmsProxy]:
    moto_kms.reset()
    server = KmsProxy(moto_kms)
    yield server
    server.stop()


@pytest.fixture
def aws_via_proxy(run: Runner, proxy: KmsProxy, tmp_path: Path) -> Runner:
    """kmscli against the proxy in front of moto (which may throttle)."""
    return _bound(run, aws_environment(proxy.url, tmp_path))
