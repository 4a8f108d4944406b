"""The KMS API both backends speak: what sits below the local service and the AWS service alike.

Owns the interface (`protocol.KmsApi`, for the type checker only), the response shapes
(`shapes`), the limits and names of the API both backends must agree on, and the one choice both
make for a long message to Sign or Verify (`streams`). Must not know either backend, the keyring,
files or the CLI; it imports only `kmscli.errors` and `kmscli.crypto` (the latter lazily, when a
long message is hashed). `protocol` and `shapes` are imported under `TYPE_CHECKING` only, so that
start-up never pays for them.
"""

from __future__ import annotations

from typing import Final

from kmscli.crypto.keyspecs import SYMMETRIC_DEFAULT

MAX_MESSAGE: Final = 4096
"""The longest message Sign, Verify, GenerateMac and VerifyMac take as it is (AWS's limit)."""

__all__ = ["MAX_MESSAGE", "SYMMETRIC_DEFAULT"]
