"""Failures of the aws backend through the real `kmscli`: each a clear error and its exit status,
never a botocore traceback; throttling ridden out by the client's retries."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.aws.conftest import aws_environment
from tests.aws.servers import KmsProxy, MotoKms
from tests.conftest import KMSCLI, Runner
from tests.conftest import isolated_environment as kmscli_environment


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_missing_credentials_exit_9_with_a_hint(run: Runner, tmp_path: Path) -> None:
    env = aws_environment("http://127.0.0.1:9", tmp_path)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    result = run("key", "list", env=env)
    assert result.status == 9
    assert "no AWS credentials" in result.err
    assert "hint: set AWS_PROFILE" in result.err
    assert "Traceback" not in result.err


def test_unknown_aws_profile_exit_9(run: Runner, tmp_path: Path) -> None:
    result = run(
        "key",
        "list",
        env={**aws_environment("http://127.0.0.1:9", tmp_path), "AWS_PROFILE": "nobody"},
    )
    assert result.status == 9 and "nobody" in result.err


def test_unreachable_endpoint_exit_10(run: Runner, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    result = run("key", "list", env={**aws_environment(url, tmp_path), "AWS_MAX_ATTEMPTS": "2"})
    assert result.status == 10
    assert "cannot reach AWS KMS" in result.err and "--endpoint-url" in result.err


def test_endpoint_url_option_wins_over_the_environment(aws: Runner, moto_kms: object) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    key = aws(
        "key",
        "create",
        "--endpoint-url",
        moto_kms.url,  # type: ignore[attr-defined]
        env={"AWS_ENDPOINT_URL_KMS": url},
    )
    assert key.status == 0, key.err


def test_json_error_document(aws: Runner) -> None:
    result = aws("key", "describe", "alias/none", "--json")
    assert result.status == 3
    document = json.loads(result.err.splitlines()[-1])
    assert document["Error"]["Code"] == "NotFoundException"
    assert document["Error"]["ExitStatus"] == 3


def test_as_is_refused(aws: Runner) -> None:
    result = aws("key", "list", "--as", "arn:aws:iam::123456789012:user/bob")
    assert result.status == 2 and "credentials" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        ["audit"],
        ["keyring", "status"],
        ["policy", "identity", "list", "arn:aws:iam::123456789012:user/bob"],
        ["policy", "simulate", "--action", "kms:Decrypt", "--key", "alias/x"],
    ],
)
def test_local_only_commands_say_so(aws: Runner, argv: list[str], tmp_path: Path) -> None:
    result = aws(*argv)
    assert result.status == 2, result.err
    assert "local keyring" in result.err
    assert not (tmp_path / "keyring").exists()  # no keyring was made on the way


def test_unknown_backend_exit_2(run: Runner) -> None:
    result = run("key", "list", env={"KMSCLI_BACKEND": "gcp"})
    assert result.status == 2 and "'gcp' is not a backend" in result.err


def test_without_boto3_the_aws_backend_asks_for_the_extra(
    aws_env: dict[str, str], kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    # A process where botocore cannot be imported, as after `pip install kmscli` alone.
    code = (
        "import sys; sys.modules['botocore'] = None; "
        "from kmscli.cli.main import run; sys.exit(run(['key', 'list']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**kmscli_env, **aws_env},
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert b"pip install 'kmscli[aws]'" in done.stderr


@pytest.mark.slow
def test_throttling_is_retried(aws_via_proxy: Runner, proxy: KmsProxy, tmp_path: Path) -> None:
    key = aws_via_proxy("key", "create").out.strip()
    (tmp_path / "f").write_bytes(b"data")
    proxy.throttle_next("GenerateDataKey", 3)
    result = aws_via_proxy("encrypt", "-k", key, "f")
    assert result.status == 0, result.err
    assert proxy.throttled["GenerateDataKey"] == 3
    assert proxy.requests["GenerateDataKey"] == 4
    proxy.throttle_next("Decrypt", 2)
    assert aws_via_proxy("decrypt", "f.kms", "-o", "-").stdout == b"data"
    assert proxy.requests["Decrypt"] == 3


@pytest.mark.slow
def test_throttling_that_does_not_end_exit_10(
    aws_via_proxy: Runner, proxy: KmsProxy, tmp_path: Path
) -> None:
    key = aws_via_proxy("key", "create").out.strip()
    (tmp_path / "f").write_bytes(b"data")
    proxy.throttle_next("GenerateDataKey", 1000)
    result = aws_via_proxy("encrypt", "-k", key, "f", env={"AWS_MAX_ATTEMPTS": "3"})
    assert result.status == 10
    assert "ThrottlingException: Rate exceeded" in result.err
    assert proxy.requests["GenerateDataKey"] == 3
    assert not (tmp_path / "f.kms").exists()


def test_data_key_caching_with_the_pool_makes_one_call(
    aws_via_proxy: Runner, proxy: KmsProxy, tmp_path: Path
) -> None:
    # Ten concurrent jobs asking for the same data key wait for the first one's call.
    key = aws_via_proxy("key", "create").out.strip()
    names = [f"f{i}" for i in range(30)]
    for name in names:
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "out").mkdir()
    sealed = aws_via_proxy("encrypt", "-k", key, "--cache-max-age", "60", "-o", "out", *names)
    assert sealed.status == 0, sealed.err
    assert proxy.requests["GenerateDataKey"] == 1
    (tmp_path / "back").mkdir()
    opened = aws_via_proxy(
        "decrypt", "--cache-max-age", "60", "-o", "back", *[f"out/{n}.kms" for n in names]
    )
    assert opened.status == 0, opened.err
    assert proxy.requests["Decrypt"] == 1
    assert all((tmp_path / "back" / n).read_bytes() == n.encode() for n in names)


def test_an_interrupt_stops_the_pool_and_leaves_only_whole_outputs(
    run: Runner, moto_kms: MotoKms, tmp_path: Path
) -> None:
    slow = KmsProxy(moto_kms, delay=0.05)  # 50 ms a call: the command is still running at the ^C
    try:
        env = {**kmscli_environment(tmp_path), **aws_environment(slow.url, tmp_path)}
        key = run("key", "create", env=env).out.strip()
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        names = []
        for i in range(300):
            (tmp_path / "in" / f"f{i}").write_bytes(b"x" * 100)
            names.append(f"in/f{i}")
        assert KMSCLI is not None
        process = subprocess.Popen(
            [KMSCLI, "encrypt", "-k", key, "-o", "out", *names],
            env=env,
            cwd=tmp_path,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 30
        while not any((tmp_path / "out").glob("*.kms")) and time.monotonic() < deadline:
            time.sleep(0.05)  # interrupt once the first files are written
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        outputs = list((tmp_path / "out").iterdir())
        assert 0 < len(outputs) < 300
        assert all(o.name.endswith(".kms") for o in outputs)  # no temporary file left behind
        (tmp_path / "back").mkdir()
        done = run("decrypt", "-o", "back", *[f"out/{o.name}" for o in outputs], env=env)
        assert done.status == 0, done.err  # each output is a whole message
        assert all(p.read_bytes() == b"x" * 100 for p in (tmp_path / "back").iterdir())
    finally:
        slow.stop()


@pytest.mark.parametrize(("setting", "fewest", "most"), [("1", 1, 1), ("4", 2, 4)])
def test_many_files_keep_up_to_max_concurrency_calls_in_flight(
    run: Runner, moto_kms: MotoKms, tmp_path: Path, setting: str, fewest: int, most: int
) -> None:
    slow = KmsProxy(moto_kms, delay=0.05)  # calls long enough to overlap when they may
    try:
        env = aws_environment(slow.url, tmp_path)
        key = run("key", "create", env=env).out.strip()
        names = [f"f{i}" for i in range(24)]
        for name in names:
            (tmp_path / name).write_bytes(name.encode())
        (tmp_path / "out").mkdir()
        slow.most_in_flight = 0
        done = run(
            "encrypt",
            "-k",
            key,
            "-o",
            "out",
            *names,
            env={**env, "KMSCLI_MAX_CONCURRENCY": setting},
        )
        assert done.status == 0, done.err
        assert slow.requests["GenerateDataKey"] == 24
        assert fewest <= slow.most_in_flight <= most  # concurrent, and bounded
    finally:
        slow.stop()
