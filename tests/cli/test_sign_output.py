"""`sign` and `mac generate` write one thing, wherever it goes; `verify` and `mac verify` say
what they found.

The same raw signature or MAC goes to `-o FILE` and to a shell redirect (so `openssl` verifies
what `>` wrote), never to a terminal unless `-o -`; `--base64` asks for text, `--json` keeps
AWS's response. A failed verification names the files, the key ARN and the algorithm (AWS's own
message, which `serve` keeps on the wire, is empty); a good one says so on a terminal only.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.terminal import on_terminal
from tests.conftest import Runner

MESSAGE = b"release 1.0\n" * 10


def _create(run: Runner, spec: str, usage: str) -> str:
    created = run("key", "create", "--key-spec", spec, "--key-usage", usage)
    assert created.status == 0, created.err
    return created.out.strip()


def _shell(env: dict[str, str], cwd: Path, script: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["sh", "-c", script], env=env, cwd=cwd, capture_output=True, timeout=60, check=False
    )


def _openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, check=False)


@pytest.mark.parametrize(
    ("spec", "algorithm", "check"),
    [
        ("ECC_NIST_P256", "ECDSA_SHA_256", ["dgst", "-sha256"]),
        ("ECC_NIST_P384", "ECDSA_SHA_384", ["dgst", "-sha384"]),
        ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", ["dgst", "-sha256"]),
        (
            "RSA_3072",
            "RSASSA_PSS_SHA_384",
            ["dgst", "-sha384", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"],
        ),
    ],
)
def test_a_redirected_signature_is_what_openssl_verifies(
    run: Runner,
    kmscli_env: dict[str, str],
    tmp_path: Path,
    spec: str,
    algorithm: str,
    check: list[str],
) -> None:
    key = _create(run, spec, "SIGN_VERIFY")
    (tmp_path / "release.tar").write_bytes(MESSAGE)
    assert run("key", "public-key", key, "--pem", "-o", "pub.pem").status == 0
    signed = _shell(
        {**kmscli_env, "K": key},
        tmp_path,
        f'kmscli sign release.tar -k "$K" --algorithm {algorithm} > sig.der',
    )
    assert signed.returncode == 0, signed.stderr
    assert signed.stderr == b""
    verified = _openssl(
        *check, "-verify", "pub.pem", "-signature", "sig.der", "release.tar", cwd=tmp_path
    )
    assert verified.returncode == 0 and b"Verified OK" in verified.stdout, verified
    made = run("sign", "release.tar", "-k", key, "--algorithm", algorithm, "-o", "sig2.der")
    assert made.status == 0, made.err
    verified = _openssl(
        *check, "-verify", "pub.pem", "-signature", "sig2.der", "release.tar", cwd=tmp_path
    )
    assert verified.returncode == 0, verified
    for sig in ("sig.der", "sig2.der"):
        again = run(
            "verify", "release.tar", "-k", key, "--signature", sig, "--algorithm", algorithm
        )
        assert again.status == 0 and again.stdout == b"" and again.stderr == b"", again


def test_o_and_a_redirect_write_the_same_bytes(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    """Deterministic signatures (RSA PKCS #1 v1.5, Ed25519) and MACs: byte for byte."""
    (tmp_path / "m").write_bytes(MESSAGE)
    rsa = _create(run, "RSA_2048", "SIGN_VERIFY")
    ed = _create(run, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    hmac = _create(run, "HMAC_256", "GENERATE_VERIFY_MAC")
    env = {**kmscli_env, "RSA": rsa, "ED": ed, "HMAC": hmac}
    script = (
        'kmscli sign m -k "$RSA" > rsa.redirect && kmscli sign m -k "$RSA" -o rsa.o && '
        'kmscli sign m -k "$ED" > ed.redirect && kmscli sign m -k "$ED" -o ed.o && '
        'kmscli mac generate m -k "$HMAC" > mac.redirect && '
        'kmscli mac generate m -k "$HMAC" -o mac.o && '
        'kmscli mac generate m -k "$HMAC" -o - > mac.dash && '
        'kmscli mac generate m -k "$HMAC" --base64 > mac.b64'
    )
    done = _shell(env, tmp_path, script)
    assert done.returncode == 0, done.stderr
    for name in ("rsa", "ed", "mac"):
        redirected = (tmp_path / f"{name}.redirect").read_bytes()
        assert redirected == (tmp_path / f"{name}.o").read_bytes(), name
    assert len((tmp_path / "mac.o").read_bytes()) == 32
    assert (tmp_path / "mac.dash").read_bytes() == (tmp_path / "mac.o").read_bytes()
    assert (tmp_path / "mac.b64").read_bytes() == base64.b64encode(
        (tmp_path / "mac.o").read_bytes()
    ) + b"\n"
    # Ed25519: openssl verifies the redirected signature of the raw message.
    assert run("key", "public-key", ed, "--pem", "-o", "ed.pem").status == 0
    checked = _openssl(
        "pkeyutl", "-verify", "-pubin", "-inkey", "ed.pem", "-rawin", "-in", "m",
        "-sigfile", "ed.redirect", cwd=tmp_path,
    )  # fmt: skip
    assert checked.returncode == 0, checked
    # Both forms verify, and so does the Base64 text.
    for mac in ("mac.redirect", "mac.b64"):
        assert run("mac", "verify", "m", "-k", hmac, "--mac", mac).status == 0


def test_json_output_keeps_awss_shape(run: Runner, tmp_path: Path) -> None:
    (tmp_path / "m").write_bytes(MESSAGE)
    rsa = _create(run, "RSA_2048", "SIGN_VERIFY")
    hmac = _create(run, "HMAC_256", "GENERATE_VERIFY_MAC")
    signed = run("sign", "m", "-k", rsa, "--json")
    assert signed.status == 0, signed.err
    document = json.loads(signed.out)
    assert set(document) == {"KeyId", "Signature", "SigningAlgorithm"}
    raw = run("sign", "m", "-k", rsa).stdout
    assert base64.b64decode(document["Signature"]) == raw
    made = run("mac", "generate", "m", "-k", hmac, "--json")
    assert set(json.loads(made.out)) == {"Mac", "MacAlgorithm", "KeyId"}


@pytest.mark.parametrize(
    "command", [("sign", "m", "-k", "alias/signer"), ("mac", "generate", "m", "-k", "alias/mac")]
)
def test_raw_bytes_are_refused_to_a_terminal(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path, command: tuple[str, ...]
) -> None:
    (tmp_path / "m").write_bytes(MESSAGE)
    assert run("key", "create", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY",
               "--alias", "alias/signer").status == 0  # fmt: skip
    assert run("key", "create", "--key-spec", "HMAC_256", "--key-usage", "GENERATE_VERIFY_MAC",
               "--alias", "alias/mac").status == 0  # fmt: skip
    events = len(run("audit", "--json").out)
    status, shown = on_terminal(kmscli_env, *command, columns=80)
    assert status == 2, shown
    assert b"refusing to write a binary" in shown and b"--base64" in shown and b"-o -" in shown
    assert shown.count(b"\n") == 2  # the error and its hint, nothing else
    assert len(run("audit", "--json").out) == events  # refused before the key was used
    status, shown = on_terminal(kmscli_env, *command, "--base64", columns=80)
    assert status == 0, shown
    assert len(base64.b64decode(shown.strip(), validate=True)) >= 32
    status, shown = on_terminal(kmscli_env, *command, "--json", columns=80)
    assert status == 0 and json.loads(shown)["KeyId"].startswith("arn:aws:kms:"), shown
    status, shown = on_terminal(kmscli_env, *command, "-o", "-", columns=80)
    assert status == 0 and len(shown) >= 32


def test_a_failed_verification_says_what_did_not_match(
    run: Runner, tmp_path: Path, kmscli_env: dict[str, str]
) -> None:
    (tmp_path / "m").write_bytes(MESSAGE)
    (tmp_path / "other").write_bytes(MESSAGE + b"!")
    ecc = _create(run, "ECC_NIST_P256", "SIGN_VERIFY")
    hmac = _create(run, "HMAC_256", "GENERATE_VERIFY_MAC")
    arns = {
        k: json.loads(run("key", "describe", k, "--json").out)["KeyMetadata"]["Arn"]
        for k in (ecc, hmac)
    }
    assert run("sign", "m", "-k", ecc, "-o", "m.sig").status == 0
    assert run("mac", "generate", "m", "-k", hmac, "-o", "m.mac").status == 0
    bad = run("verify", "other", "-k", ecc, "--signature", "m.sig", "--json")
    assert bad.status == 7
    first = bad.err.splitlines()[0]
    assert first == (
        "kmscli: error: KMSInvalidSignatureException: the signature in 'm.sig' does not match "
        f"the message 'other' under key {arns[ecc]} with ECDSA_SHA_256"
    )
    error = json.loads(bad.err.splitlines()[-1])["Error"]
    assert error["Code"] == "KMSInvalidSignatureException" and error["ExitStatus"] == 7
    assert arns[ecc] in error["Message"]
    bad = run("mac", "verify", "other", "-k", hmac, "--mac", "m.mac")
    assert bad.status == 7
    assert bad.err.splitlines()[0] == (
        "kmscli: error: KMSInvalidMacException: the MAC in 'm.mac' does not match "
        f"the message 'other' under key {arns[hmac]} with HMAC_SHA_256"
    )
    # stdin is named as such.
    piped = run("verify", "-", "-k", ecc, "--signature", "m.sig", input=b"tampered")
    assert piped.status == 7 and "the message stdin under key" in piped.err


def test_serve_keeps_awss_empty_message_on_the_wire(kmscli_env: dict[str, str]) -> None:
    from botocore.exceptions import ClientError

    from tests.server.conftest import serving

    with serving(kmscli_env) as server:
        kms = server.client()
        key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]
        with pytest.raises(ClientError) as caught:
            kms.verify(
                KeyId=key["KeyId"],
                Message=b"m",
                Signature=b"\x30\x06\x02\x01\x01\x02\x01\x01",
                SigningAlgorithm="ECDSA_SHA_256",
            )
    assert caught.value.response["Error"]["Code"] == "KMSInvalidSignatureException"
    assert caught.value.response["Error"].get("Message", "") == ""


def test_a_good_signature_says_so_on_a_terminal_only(
    run: Runner, kmscli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "m").write_bytes(MESSAGE)
    ecc = _create(run, "ECC_NIST_P256", "SIGN_VERIFY")
    hmac = _create(run, "HMAC_256", "GENERATE_VERIFY_MAC")
    arn = json.loads(run("key", "describe", ecc, "--json").out)["KeyMetadata"]["Arn"]
    assert run("sign", "m", "-k", ecc, "-o", "m.sig").status == 0
    assert run("mac", "generate", "m", "-k", hmac, "-o", "m.mac").status == 0
    status, shown = on_terminal(kmscli_env, "verify", "m", "-k", ecc, "--signature", "m.sig")
    assert status == 0
    assert shown == f"kmscli: signature valid: 'm' under key {arn} with ECDSA_SHA_256\n".encode()
    status, shown = on_terminal(kmscli_env, "mac", "verify", "m", "-k", hmac, "--mac", "m.mac")
    assert status == 0 and shown.startswith(b"kmscli: MAC valid: 'm' under key arn:aws:kms:")
    status, shown = on_terminal(kmscli_env, "verify", "m", "-k", ecc, "--signature", "m.sig", "-q")
    assert status == 0 and shown == b""
    # Into a pipe: silent, as scripts saw it before.
    piped = run("verify", "m", "-k", ecc, "--signature", "m.sig")
    assert piped.status == 0 and piped.stdout == b"" and piped.stderr == b""
