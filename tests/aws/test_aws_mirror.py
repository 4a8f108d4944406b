"""The aws backend mirrors the local one: the same operations, with the same arguments.

The CLI calls `env.service.<operation>(...)` on whichever backend is chosen, so a difference in
a name or a keyword would only show when a user runs that command against AWS. Both backends
declare `kmscli.kmsapi.protocol.KmsApi` and mypy checks their signatures against it
(tests/unit/test_kmsapi_protocol.py); what is left here is what the type checker cannot see:
that a new local operation is added to the protocol, that the grant methods match the local grant
functions (which take the service first, outside the protocol), and that every operation sent is
one AWS's model has.
"""

from __future__ import annotations

import inspect

import botocore.session
import pytest

from kmscli.aws.service import AwsKmsService
from kmscli.kms import grants
from kmscli.kms.service import KmsService
from kmscli.kmsapi.protocol import KmsApi

# Local-only: the keyring's own record listing, the MRK lookup of the local provider, and due
# work (rotation, deletion) that AWS does by itself.
LOCAL_ONLY = {"list_key_records", "blob_key_arn", "has_key", "local_key_arn", "catch_up"}
GRANT_FUNCTIONS = [
    "create_grant",
    "list_grants",
    "list_retirable_grants",
    "retire_grant",
    "revoke_grant",
]


def _public(cls: type) -> set[str]:
    return {n for n, f in inspect.getmembers(cls, inspect.isfunction) if not n.startswith("_")}


def _parameters(function: object, *, drop_first: bool = True) -> list[tuple[str, object, object]]:
    parameters = list(inspect.signature(function).parameters.values())  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in parameters[1 if drop_first else 0 :]]


def test_every_local_operation_is_in_the_protocol() -> None:
    """A new operation of the local service is declared in `KmsApi` (so both backends have it)."""
    assert _public(KmsService) - LOCAL_ONLY == _public(KmsApi)


@pytest.mark.parametrize("name", GRANT_FUNCTIONS)
def test_grant_operations_match_the_local_functions(name: str) -> None:
    # The local functions take the service first; the methods are bound to theirs.
    assert _parameters(getattr(AwsKmsService, name)) == _parameters(getattr(grants, name))


def test_every_operation_called_exists_in_the_kms_api() -> None:
    """Each operation name the backend sends is one botocore's KMS model has."""
    import ast
    from pathlib import Path

    import kmscli.aws.service as module

    model = botocore.session.get_session().get_service_model("kms")
    tree = ast.parse(Path(module.__file__).read_text())
    sent = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("call", "_pages")
        ):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant):
                    sent.add(arg.value)
                elif isinstance(arg, ast.IfExp):
                    sent.update(a.value for a in (arg.body, arg.orelse))  # type: ignore[attr-defined]
    assert len(sent) > 45
    assert sent <= set(model.operation_names), sent - set(model.operation_names)
