"""The botocore KMS client of the aws backend: credentials, region, endpoint and retries.

Owns importing botocore (boto3's core; importing boto3 itself would cost start-up time for
nothing), refusing clearly when the `aws` extra is not installed, and the client configuration:
the standard AWS credential chain (optionally a named AWS profile), the region, an endpoint URL
(`--endpoint-url`; botocore itself honours AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL when none is
given), the standard retry mode (exponential backoff with jitter on throttling and transient
errors), and a connection pool as large as the number of concurrent calls. Must not read the
environment itself (the CLI's context does) or call operations (the service does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kmscli import __version__
from kmscli.errors import KmsError, UsageError

DEFAULT_MAX_ATTEMPTS = 8
"""Attempts per call, the first included: enough to ride out a burst of throttling."""


@dataclass(frozen=True)
class ClientSettings:
    endpoint_url: str | None = None
    aws_profile: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_pool_connections: int = 10


def _botocore() -> Any:
    try:
        import botocore.session
    except ImportError:
        raise UsageError(
            "the aws backend needs boto3, which is not installed",
            hints=["pip install 'kmscli[aws]'"],
        ) from None
    return botocore.session


class ClientFactory:
    """One botocore session; one client per region, made on first use and shared by threads
    (botocore clients are thread-safe; sessions are not, hence the lock)."""

    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def configured_region(self) -> str | None:
        """The region the AWS configuration gives (the AWS profile's `region`), if any."""
        with self._lock:
            session = self._translated(self._botocore_session)
            region = self._translated(lambda: session.get_config_variable("region"))
        return str(region) if region else None

    def client(self, region: str) -> Any:
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._translated(lambda: self._make(region))
            return self._clients[region]

    def _botocore_session(self) -> Any:
        if self._session is None:
            session = _botocore().get_session()
            if self.settings.aws_profile:
                session.set_config_variable("profile", self.settings.aws_profile)
            self._session = session
        return self._session

    def _make(self, region: str) -> Any:
        session = self._botocore_session()
        from botocore.config import Config

        config = Config(
            region_name=region,
            retries={"mode": "standard", "total_max_attempts": self.settings.max_attempts},
            max_pool_connections=self.settings.max_pool_connections,
            user_agent_extra=f"kmscli/{__version__}",
            connect_timeout=10,
            read_timeout=60,
        )
        try:
            return session.create_client(
                "kms", region_name=region, endpoint_url=self.settings.endpoint_url, config=config
            )
        except ValueError as failure:  # botocore's "Invalid endpoint: ..."
            raise UsageError(
                str(failure), hints=["an endpoint URL looks like https://kms.example.com:4566"]
            ) from None

    @staticmethod
    def _translated(make: Callable[[], Any]) -> Any:
        """`make()`, with botocore's failures (no such profile, bad endpoint) as kmscli's."""
        from kmscli.aws.errors import translate

        try:
            return make()
        except KmsError:
            raise  # kmscli's own (the aws extra is missing): botocore may not even be there
        except Exception as failure:
            error = translate(failure)
            if error is None:
                raise
            raise error from None
