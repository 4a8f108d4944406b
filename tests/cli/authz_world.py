"""A two-account world for authorization tests, driven only through the `kmscli` command line.

Account A (111122223333) owns the keyring and its keys in us-west-2; account B (444455556666)
has principals and identity policies but no keys. Policies are Python dicts written to files;
"{KEY_ARN}" in them is replaced by the key's ARN.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.conftest import Result, Runner

A = "111122223333"
B = "444455556666"
REGION = "us-west-2"
ROOT_A = f"arn:aws:iam::{A}:root"
ROOT_B = f"arn:aws:iam::{B}:root"
ALICE = f"arn:aws:iam::{A}:user/alice"
BOB = f"arn:aws:iam::{A}:user/bob"
ADMIN = f"arn:aws:iam::{A}:user/admin"
NOBODY = f"arn:aws:iam::{A}:user/nobody"
APP_ROLE = f"arn:aws:iam::{A}:role/App"
ENCRYPTION_APP = f"arn:aws:iam::{A}:role/EncryptionApp"
ENCRYPTION_APP_SESSION = f"arn:aws:sts::{A}:assumed-role/EncryptionApp/s1"
EXAMPLE_ROLE = f"arn:aws:iam::{A}:role/ExampleRole"
R_ROLE = f"arn:aws:iam::{A}:role/R"
R_SESSION = f"arn:aws:sts::{A}:assumed-role/R/worker"
B_ENGINEERING = f"arn:aws:iam::{B}:role/Engineering"
B_ENGINEERING_SESSION = f"arn:aws:sts::{B}:assumed-role/Engineering/dev"

DEFAULT_STATEMENT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT_A},
    "Action": "kms:*",
    "Resource": "*",
}


def key_policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal: str | list[str], actions: str | list[str], **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": principal},
        "Action": actions,
        "Resource": "*",
    }
    statement.update(extra)
    return statement


def deny(principal: str | list[str], actions: str | list[str], **extra: Any) -> dict[str, Any]:
    statement = allow(principal, actions, **extra)
    statement["Effect"] = "Deny"
    return statement


def iam(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def iam_allow(actions: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
    statement.update(extra)
    return statement


def iam_deny(actions: str | list[str], resource: str = "*", **extra: Any) -> dict[str, Any]:
    statement = iam_allow(actions, resource, **extra)
    statement["Effect"] = "Deny"
    return statement


def account_of(principal: str) -> str:
    return principal.split(":")[4]


@dataclass
class World:
    run: Runner
    tmp: Path
    region: str = REGION
    env: dict[str, str] = field(default_factory=dict)
    now: datetime | None = None
    """Where the tests' clock stands for the following commands (None: the real clock)."""
    _files: int = 0

    def __post_init__(self) -> None:
        init = self.run("keyring", "init", "--account-id", A)
        assert init.status == 0, init.err
        self.env.setdefault("KMSCLI_REGION", self.region)

    def kmscli(self, *args: str, caller: str | None = None, input: bytes = b"") -> Result:
        extra = ["--as", caller] if caller is not None else []
        return self.run(*args, *extra, input=input, env=self.env, now=self.now)

    def ok(self, *args: str, caller: str | None = None, input: bytes = b"") -> Result:
        result = self.kmscli(*args, caller=caller, input=input)
        assert result.status == 0, f"kmscli {' '.join(args)}: {result.err}"
        return result

    def file(self, content: bytes | str | dict[str, Any], suffix: str = ".json") -> str:
        self._files += 1
        path = self.tmp / f"f{self._files}{suffix}"
        if isinstance(content, dict):
            content = json.dumps(content, indent=2)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    # -- keys and policies -----------------------------------------------------------------

    def create_key(self, *args: str) -> str:
        return self.ok("key", "create", *args).out.strip()

    def arn(self, key_id: str) -> str:
        return f"arn:aws:kms:{self.region}:{A}:key/{key_id}"

    def _text(self, document: dict[str, Any], key_id: str | None) -> str:
        text = json.dumps(document, indent=2)
        return text.replace("{KEY_ARN}", self.arn(key_id)) if key_id else text

    def put_key_policy(self, key_id: str, document: dict[str, Any]) -> None:
        path = self.file(self._text(document, key_id))
        self.ok("policy", "put", key_id, path, "--bypass-policy-lockout-safety-check")

    def put_identity(
        self, principal: str, document: dict[str, Any], *, key_id: str | None = None
    ) -> None:
        path = self.file(self._text(document, key_id))
        name = f"p{self._files}"
        root = f"arn:aws:iam::{account_of(principal)}:root"
        self.ok("policy", "identity", "put", principal, name, path, caller=root)

    def blob(self, key_id: str, context: dict[str, str] | None = None) -> str:
        """A ciphertext blob made by the account root (before any restrictive policy)."""
        path = self.tmp / f"blob{self._files}.bin"
        self._files += 1
        pairs = [a for k, v in (context or {}).items() for a in ("-c", f"{k}={v}")]
        self.ok("encrypt", "--direct", "-k", key_id, *pairs, "-o", str(path), "-", input=b"x")
        return str(path)

    def simulate(self, key_id: str, action: str, caller: str, *extra: str) -> dict[str, Any]:
        result = self.kmscli(
            "policy",
            "simulate",
            "--key",
            self.arn(key_id),
            "--action",
            action,
            "--json",
            *extra,
            caller=caller,
        )
        assert result.status in (0, 5), result.err
        document: dict[str, Any] = json.loads(result.out)
        assert (result.status == 0) == (document["EvalDecision"] == "allowed")
        return document

    def audit(self, *args: str) -> list[dict[str, Any]]:
        result = self.ok("audit", "--json", *args)
        records: list[dict[str, Any]] = json.loads(result.out)["Records"]
        return records
