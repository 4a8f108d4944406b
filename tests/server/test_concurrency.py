"""Many clients at once, each request one consistent keyring operation; a clean shutdown on
SIGTERM/SIGINT that finishes the request in flight and does not wait for idle connections."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.conftest import KMSCLI, Runner
from tests.server.conftest import ACCOUNT, ROOT, Server
from tests.server.test_authentication import _signed

THREADS = 16


def test_sixteen_clients_at_once_lose_no_update(kms_server: Server) -> None:
    shared = kms_server.client().create_key()["KeyMetadata"]["KeyId"]
    failures: list[BaseException] = []
    made: list[str] = []
    start = threading.Barrier(THREADS)

    def work(index: int) -> None:
        try:
            kms = kms_server.client()
            start.wait()
            for round_ in range(3):
                made.append(kms.create_key(Description=f"{index}-{round_}")["KeyMetadata"]["KeyId"])
                blob = kms.encrypt(KeyId=shared, Plaintext=b"%d" % index)["CiphertextBlob"]
                assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"%d" % index
                # read-modify-write of the one shared key record, from every thread
                kms.tag_resource(
                    KeyId=shared, Tags=[{"TagKey": f"t{index}-{round_}", "TagValue": "v"}]
                )
            kms.create_alias(AliasName=f"alias/thread-{index}", TargetKeyId=shared)
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures[:3]
    kms = kms_server.client()
    keys = {k["KeyId"] for k in kms.list_keys()["Keys"]}
    assert set(made) <= keys and len(set(made)) == THREADS * 3
    tags = {t["TagKey"] for t in kms.list_resource_tags(KeyId=shared)["Tags"]}
    assert tags == {f"t{i}-{r}" for i in range(THREADS) for r in range(3)}
    aliases = {a["AliasName"] for a in kms.list_aliases(KeyId=shared)["Aliases"]}
    assert aliases == {f"alias/thread-{i}" for i in range(THREADS)}


def _start(run: Runner, kmscli_env: dict[str, str], tmp_path: Path) -> tuple[Any, str]:
    process = subprocess.Popen(
        [str(KMSCLI), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=kmscli_env,
        cwd=tmp_path,
    )
    assert process.stdout is not None
    url = process.stdout.readline().decode().strip()
    assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""
    return process, url


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    assert parts.hostname is not None
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def test_sigterm_finishes_the_request_in_flight(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0
    created = run("principal", "access-key", "create", ROOT)
    assert created.status == 0, created.err
    key_id, secret = created.out.strip().split("\t")
    process, url = _start(run, kmscli_env, tmp_path)
    try:
        # An idle keep-alive connection, which must not hold the shutdown up.
        idle = _connect(url)
        body = json.dumps({"NumberOfBytes": 32}).encode()
        request = _signed(url, key_id, secret, "TrentService.GenerateRandom", body)
        idle.request("POST", "/", body=body, headers=dict(request.headers.items()))
        first = idle.getresponse()
        assert first.status == 200, first.read()
        first.read()
        # A request in flight: headers and half its body sent when SIGTERM arrives.
        body = json.dumps({"Description": "in flight"}).encode()
        request = _signed(url, key_id, secret, "TrentService.CreateKey", body)
        slow = _connect(url)
        slow.putrequest("POST", "/", skip_accept_encoding=True)
        for name, value in request.headers.items():
            slow.putheader(name, value)
        slow.putheader("Content-Length", str(len(body)))
        slow.endheaders()
        slow.send(body[:10])
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert process.poll() is None, "stopped before the request in flight finished"
        slow.send(body[10:])
        response = slow.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        assert response.getheader("Connection") == "close"
        assert answer["KeyMetadata"]["Description"] == "in flight"
        assert process.wait(timeout=10) == 0
        idle.close()
        slow.close()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    _, stderr = process.communicate()
    assert b"stopped" in stderr, stderr
    described = run("key", "describe", answer["KeyMetadata"]["KeyId"], "--json")
    assert json.loads(described.out)["KeyMetadata"]["Description"] == "in flight"


def test_sigint_stops_an_idle_server(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    assert run("keyring", "init", "--account-id", ACCOUNT).status == 0
    process, _url = _start(run, kmscli_env, tmp_path)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0
    _, stderr = process.communicate()
    assert b"no access keys yet" in stderr
