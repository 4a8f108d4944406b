"""The lifecycle commands' `--json` documents against botocore's KMS response shapes.

`LIFECYCLE_CASES` and `LIFECYCLE_SILENT` classify the commands for tests/cli/test_json_shapes.py,
which runs each case; the variants here cover the metadata of replicas, imported keys, keys
pending deletion and paginated lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import Runner

Setup = Callable[[Runner, Path], list[str]]


def assert_matches(output: str, operation: str) -> dict[str, Any]:
    # Imported here: test_json_shapes imports this module's cases.
    from tests.cli.test_json_shapes import assert_matches as check

    return check(output, operation)


EU = ("--region", "eu-west-1")


def _key(run: Runner, _tmp: Path, *extra: str) -> str:
    result = run("key", "create", *extra)
    assert result.status == 0, result.err
    return result.out.strip()


def _external(run: Runner, tmp: Path) -> str:
    return _key(run, tmp, "--origin", "EXTERNAL")


def _mrk(run: Runner, tmp: Path) -> str:
    return _key(run, tmp, "--multi-region")


def _scheduled(run: Runner, tmp: Path) -> str:
    key = _key(run, tmp)
    assert run("key", "schedule-deletion", key, "--yes").status == 0
    return key


def _blob(run: Runner, tmp: Path) -> list[str]:
    key = _key(run, tmp)
    other = _key(run, tmp)
    made = run("encrypt", "--direct", "-k", key, "-c", "a=b", "-o", "b.blob", input=b"x")
    assert made.status == 0, made.err
    return ["-k", other, "-c", "a=b", "b.blob", "-o", "-"]


def _rotated(run: Runner, tmp: Path) -> str:
    key = _key(run, tmp)
    assert run("key", "rotate", key).status == 0
    return key


def _params_dir(tmp: Path) -> str:
    (tmp / "params").mkdir(exist_ok=True)
    return str(tmp / "params")


def _wrapped_material(run: Runner, tmp: Path) -> list[str]:
    """An EXTERNAL key, its import parameters, and 32 bytes wrapped by openssl."""
    from tests.cli.test_lifecycle_import import wrap

    key = _external(run, tmp)
    directory = Path(_params_dir(tmp))
    made = run("key", "import-parameters", key, "--out-dir", str(directory))
    assert made.status == 0, made.err
    (tmp / "m.bin").write_bytes(b"\x07" * 32)
    wrap(directory, tmp / "m.bin", "RSAES_OAEP_SHA_256", tmp / "w.bin")
    token = str(directory / "ImportToken.bin")
    return [key, "--material", str(tmp / "w.bin"), "--token", token, "--no-expiry"]


LIFECYCLE_CASES: dict[tuple[str, ...], tuple[str, Setup]] = {
    ("key", "rotate"): ("RotateKeyOnDemand", lambda r, t: [_key(r, t)]),
    ("key", "rotation", "status"): ("GetKeyRotationStatus", lambda r, t: [_key(r, t)]),
    ("key", "rotation", "list"): ("ListKeyRotations", lambda r, t: [_rotated(r, t)]),
    ("key", "schedule-deletion"): ("ScheduleKeyDeletion", lambda r, t: [_key(r, t), "--yes"]),
    ("key", "cancel-deletion"): ("CancelKeyDeletion", lambda r, t: [_scheduled(r, t)]),
    ("key", "tags"): ("ListResourceTags", lambda r, t: [_key(r, t, "--tag", "a=b")]),
    ("key", "replicate"): (
        "ReplicateKey",
        lambda r, t: [_mrk(r, t), "--replica-region", "eu-west-1", "--tag", "a=b"],
    ),
    ("key", "import-parameters"): (
        "GetParametersForImport",
        lambda r, t: [_external(r, t), "--out-dir", _params_dir(t)],
    ),
    ("key", "import-material"): ("ImportKeyMaterial", _wrapped_material),
    ("key", "delete-material"): ("DeleteImportedKeyMaterial", lambda r, t: [_external(r, t)]),
    ("reencrypt",): ("ReEncrypt", _blob),
}
# Printing nothing on success, as the AWS CLI does for these operations.
LIFECYCLE_SILENT = {
    ("key", "rotation", "enable"),
    ("key", "rotation", "disable"),
    ("key", "tag"),
    ("key", "untag"),
    ("key", "update-primary-region"),
}


def test_silent_commands_print_nothing(run_inproc: Runner, tmp_path: Path) -> None:
    key = _key(run_inproc, tmp_path)
    mrk = _mrk(run_inproc, tmp_path)
    assert run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1").status == 0
    for args in (
        ("key", "rotation", "enable", key),
        ("key", "rotation", "disable", key),
        ("key", "tag", key, "a=b"),
        ("key", "untag", key, "a"),
        ("key", "update-primary-region", mrk, "eu-west-1"),
    ):
        result = run_inproc(*args, "--json")
        assert result.status == 0 and result.out == "", (args, result.err)


def test_describe_variants_match(run_inproc: Runner, tmp_path: Path) -> None:
    mrk = _mrk(run_inproc, tmp_path)
    assert run_inproc("key", "replicate", mrk, "--replica-region", "eu-west-1").status == 0
    assert run_inproc("key", "schedule-deletion", mrk, "--yes").status == 0  # waits for replica
    external = _external(run_inproc, tmp_path)
    enabled = _key(run_inproc, tmp_path)
    assert run_inproc("key", "rotation", "enable", enabled).status == 0
    for args in (
        (mrk,),
        (mrk, *EU),
        (external,),
        (_scheduled(run_inproc, tmp_path),),
    ):
        result = run_inproc("key", "describe", *args, "--json")
        assert result.status == 0, result.err
        assert_matches(result.out, "DescribeKey")
    status = run_inproc("key", "rotation", "status", enabled, "--json")
    document = assert_matches(status.out, "GetKeyRotationStatus")
    assert set(document) == {
        "KeyId",
        "KeyRotationEnabled",
        "RotationPeriodInDays",
        "NextRotationDate",
    }


def test_paginated_and_full_lists_match(run_inproc: Runner, tmp_path: Path) -> None:
    key = _rotated(run_inproc, tmp_path)
    assert run_inproc("key", "rotate", key).status == 0
    page = run_inproc("key", "rotation", "list", key, "--limit", "1", "--json")
    document = assert_matches(page.out, "ListKeyRotations")
    assert document["Truncated"] is True and "NextMarker" in document
    every = run_inproc(
        "key", "rotation", "list", key, "--include-key-material", "ALL_KEY_MATERIAL", "--json"
    )
    assert len(assert_matches(every.out, "ListKeyRotations")["Rotations"]) == 3
    tagged = _key(run_inproc, tmp_path, "--tag", "a=1", "--tag", "b=2")
    tags = run_inproc("key", "tags", tagged, "--limit", "1", "--json")
    assert assert_matches(tags.out, "ListResourceTags")["Truncated"] is True


def test_import_key_material_response_matches(run_inproc: Runner, tmp_path: Path) -> None:
    args = _wrapped_material(run_inproc, tmp_path)
    result = run_inproc("key", "import-material", *args, "--json")
    assert set(assert_matches(result.out, "ImportKeyMaterial")) == {"KeyId", "KeyMaterialId"}
    described = run_inproc("key", "describe", args[0], "--json")
    meta = assert_matches(described.out, "DescribeKey")["KeyMetadata"]
    assert meta["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    assert json.loads(described.out)["KeyMetadata"]["KeyState"] == "Enabled"
