"""A `kmscli serve` on 127.0.0.1 (a free port) over an isolated keyring, and clients for it.

`kms_server` runs the real server (kmscli.server.app) in a thread of the test process over the
keyring of `kmscli_env`, so `run("encrypt", ...)` and the server share one keyring. It holds an
access key for the account root and makes boto3 clients signed with any principal's key.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import pytest

from kmscli.server.access_keys import create_access_key
from kmscli.server.app import Application, KeyringPool, KmsServer, make_server
from kmscli.server.connections import Limits
from kmscli.store import Keyring, init_keyring, open_keyring

ACCOUNT = "111122223333"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
REGION = "us-east-1"


@dataclass
class Server:
    url: str
    home: Path
    keyring: Keyring
    server: KmsServer
    errors: list[str] = field(default_factory=list)
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    def access_key(self, principal: str = ROOT) -> tuple[str, str]:
        if principal not in self.keys:
            from datetime import UTC, datetime

            made = create_access_key(self.keyring, principal, datetime.now(UTC))["AccessKey"]
            self.keys[principal] = (made["AccessKeyId"], made["SecretAccessKey"])
        return self.keys[principal]

    def client(self, principal: str = ROOT, region: str = REGION, **kwargs: Any) -> Any:
        key_id, secret = kwargs.pop("credentials", None) or self.access_key(principal)
        return boto3.client(
            "kms",
            endpoint_url=self.url,
            region_name=region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=botocore.config.Config(retries={"max_attempts": 1}, **kwargs),
        )


def _keyring_paths(env: dict[str, str]) -> dict[str, Any]:
    return {
        "root_key_file": Path(env["KMSCLI_ROOT_KEY_FILE"]),
        "root_key_dir": Path(env["XDG_CONFIG_HOME"]) / "kmscli" / "root-keys",
    }


@contextlib.contextmanager
def serving(kmscli_env: dict[str, str], limits: Limits | None = None) -> Iterator[Server]:
    """The server over a new keyring, with the given limits, until the block ends."""
    home = Path(kmscli_env["KMSCLI_HOME"])
    paths = _keyring_paths(kmscli_env)
    keyring = init_keyring(home, account_id=ACCOUNT, **paths)
    opened = open_keyring(home, passphrase=lambda: None, create=False, **paths)
    errors: list[str] = []
    application = Application(pool=KeyringPool(opened), log=errors.append)
    server = make_server("127.0.0.1", 0, application, limits)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Server(server.url, home, keyring, server, errors)
    finally:
        server.stop()
        thread.join()
    assert not errors, "\n".join(errors)


@pytest.fixture
def kms_server(kmscli_env: dict[str, str]) -> Iterator[Server]:
    with serving(kmscli_env) as server:
        yield server
