"""Asymmetric and HMAC keys against the `openssl` command line as the independent peer.

openssl verifies kmscli's signatures for every algorithm it supports (RAW messages and files
over 4096 bytes, which kmscli hashes and signs as a DIGEST), encrypts with a kmscli RSA public
key for kmscli to decrypt, derives the same ECDH secret, and reads kmscli's data key pairs;
kmscli verifies openssl's signatures and MACs over key material openssl made and kmscli
imported. Size limits, wrong usages and tampering answer with AWS's exception names.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_lifecycle_import import import_material
from tests.conftest import Runner

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

BIG = 100_000  # over Sign's 4096 bytes: hashed locally, signed as a DIGEST


def openssl(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=False)


def ok(result: object) -> None:
    status = getattr(result, "status", None)
    if status is None:
        status = getattr(result, "returncode")  # noqa: B009
    assert status == 0, getattr(result, "err", None) or getattr(result, "stderr", b"")


def create(run: Runner, spec: str, usage: str, *more: str) -> str:
    result = run("key", "create", "--key-spec", spec, "--key-usage", usage, *more)
    ok(result)
    return result.out.strip()


def public_pem(run: Runner, key: str, tmp: Path) -> Path:
    path = tmp / f"{key}.pub.pem"
    ok(run("key", "public-key", key, "--pem", "-o", str(path)))
    return path


def message(tmp: Path, size: int, name: str = "message") -> Path:
    path = tmp / name
    path.write_bytes(bytes(i % 251 for i in range(size)))
    return path


_PSS = ("-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1")
SIGNING = [
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", "-sha256", ()),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_384", "-sha384", ()),
    ("RSA_2048", "RSASSA_PKCS1_V1_5_SHA_512", "-sha512", ()),
    ("RSA_2048", "RSASSA_PSS_SHA_256", "-sha256", _PSS),
    ("RSA_2048", "RSASSA_PSS_SHA_384", "-sha384", _PSS),
    ("RSA_2048", "RSASSA_PSS_SHA_512", "-sha512", _PSS),
    ("RSA_3072", "RSASSA_PSS_SHA_384", "-sha384", _PSS),
    ("RSA_4096", "RSASSA_PKCS1_V1_5_SHA_512", "-sha512", ()),
    ("ECC_NIST_P256", "ECDSA_SHA_256", "-sha256", ()),
    ("ECC_NIST_P384", "ECDSA_SHA_384", "-sha384", ()),
    ("ECC_NIST_P521", "ECDSA_SHA_512", "-sha512", ()),
    ("ECC_SECG_P256K1", "ECDSA_SHA_256", "-sha256", ()),
]


@pytest.mark.parametrize(("spec", "algorithm", "digest", "options"), SIGNING)
def test_openssl_verifies_kmscli_signatures(
    run_inproc: Runner,
    tmp_path: Path,
    spec: str,
    algorithm: str,
    digest: str,
    options: tuple[str, ...],
) -> None:
    key = create(run_inproc, spec, "SIGN_VERIFY")
    pem = public_pem(run_inproc, key, tmp_path)
    for size in (100, BIG):
        data = message(tmp_path, size)
        sig = tmp_path / f"{size}.sig"
        signed = run_inproc("sign", str(data), "-k", key, "--algorithm", algorithm, "-o", str(sig))
        ok(signed)
        check = openssl(
            "dgst", digest, "-verify", str(pem), *options, "-signature", str(sig), str(data)
        )
        assert check.returncode == 0 and b"Verified OK" in check.stdout, check.stderr
        ok(
            run_inproc(
                "verify", str(data), "-k", key, "--algorithm", algorithm, "--signature", str(sig)
            )
        )
        # One changed byte and neither openssl nor kmscli accepts the signature.
        tampered = bytearray(data.read_bytes())
        tampered[size // 2] ^= 1
        (tmp_path / "tampered").write_bytes(bytes(tampered))
        bad = openssl(
            "dgst",
            digest,
            "-verify",
            str(pem),
            *options,
            "-signature",
            str(sig),
            str(tmp_path / "tampered"),
        )
        assert bad.returncode != 0
        refused = run_inproc(
            "verify",
            str(tmp_path / "tampered"),
            "-k",
            key,
            "--algorithm",
            algorithm,
            "--signature",
            str(sig),
        )
        assert refused.status == 7 and "KMSInvalidSignatureException" in refused.err


def test_ecdsa_signatures_are_der(run_inproc: Runner, tmp_path: Path) -> None:
    key = create(run_inproc, "ECC_NIST_P256", "SIGN_VERIFY")
    data = message(tmp_path, 10)
    ok(run_inproc("sign", str(data), "-k", key, "-o", "m.sig"))
    parsed = openssl("asn1parse", "-inform", "DER", "-in", str(tmp_path / "m.sig"))
    assert parsed.returncode == 0 and parsed.stdout.count(b"INTEGER") == 2


def test_openssl_verifies_ed25519(run_inproc: Runner, tmp_path: Path) -> None:
    key = create(run_inproc, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    pem = public_pem(run_inproc, key, tmp_path)
    data = message(tmp_path, 4096)
    ok(run_inproc("sign", str(data), "-k", key, "-o", "m.sig"))
    check = openssl(
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        str(pem),
        "-rawin",
        "-in",
        str(data),
        "-sigfile",
        str(tmp_path / "m.sig"),
    )
    assert check.returncode == 0 and b"Signature Verified Successfully" in check.stdout
    # Ed25519 signs RAW messages only: a longer file cannot be sent, and says why.
    big = run_inproc("sign", str(message(tmp_path, 4097, "big")), "-k", key)
    assert big.status == 2 and "ED25519_SHA_512" in big.err and "4096" in big.err


def test_ml_dsa_sign_and_verify_any_size(run_inproc: Runner, tmp_path: Path) -> None:
    """openssl 3.0 has no ML-DSA: kmscli checks itself, RAW and (over 4096 bytes) EXTERNAL_MU."""
    key = create(run_inproc, "ML_DSA_44", "SIGN_VERIFY")
    for size in (10, BIG):
        data = message(tmp_path, size)
        ok(run_inproc("sign", str(data), "-k", key, "-f", "-o", "m.sig"))
        ok(run_inproc("verify", str(data), "-k", key, "--signature", "m.sig"))
        data.write_bytes(data.read_bytes() + b"!")
        assert run_inproc("verify", str(data), "-k", key, "--signature", "m.sig").status == 7


def _private_der(tmp: Path, algorithm_args: tuple[str, ...], name: str) -> tuple[Path, Path]:
    pem = tmp / f"{name}.pem"
    ok(openssl("genpkey", *algorithm_args, "-out", str(pem)))
    der = tmp / f"{name}.p8"
    ok(openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(pem), "-outform", "DER", "-out", str(der)))
    return pem, der


@pytest.mark.parametrize(
    ("spec", "genpkey", "sign_args", "algorithm", "wrapping"),
    [
        (
            "ECC_NIST_P256",
            ("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
            ("dgst", "-sha256"),
            "ECDSA_SHA_256",
            "RSAES_OAEP_SHA_256",
        ),
        (
            "ECC_NIST_EDWARDS25519",
            ("-algorithm", "ED25519"),
            ("pkeyutl", "-rawin"),
            "ED25519_SHA_512",
            "RSAES_OAEP_SHA_256",
        ),
        (
            "RSA_2048",
            ("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
            ("dgst", "-sha256", *_PSS),
            "RSASSA_PSS_SHA_256",
            "RSA_AES_KEY_WRAP_SHA_256",
        ),
    ],
)
def test_kmscli_verifies_openssl_signatures_over_an_imported_key_pair(
    run_inproc: Runner,
    tmp_path: Path,
    spec: str,
    genpkey: tuple[str, ...],
    sign_args: tuple[str, ...],
    algorithm: str,
    wrapping: str,
) -> None:
    pem, der = _private_der(tmp_path, genpkey, "peer")
    key = create(run_inproc, spec, "SIGN_VERIFY", "--origin", "EXTERNAL")
    ok(import_material(run_inproc, key, der, tmp_path, "--no-expiry", algorithm=wrapping))
    data = message(tmp_path, 1000)
    sig = tmp_path / "openssl.sig"
    if sign_args[0] == "dgst":
        made = openssl(*sign_args, "-sign", str(pem), "-out", str(sig), str(data))
    else:
        made = openssl(*sign_args, "-sign", "-inkey", str(pem), "-in", str(data), "-out", str(sig))
    ok(made)
    verified = run_inproc(
        "verify", str(data), "-k", key, "--algorithm", algorithm, "--signature", str(sig), "--json"
    )
    ok(verified)
    assert json.loads(verified.out)["SignatureValid"] is True
    # The public key kmscli reports is openssl's.
    ours = openssl("pkey", "-in", str(pem), "-pubout").stdout
    assert public_pem(run_inproc, key, tmp_path).read_bytes() == ours
    # A key made elsewhere of the wrong type is refused at import.
    other = create(run_inproc, "ECC_NIST_P384", "SIGN_VERIFY", "--origin", "EXTERNAL")
    wrong = import_material(run_inproc, other, der, tmp_path, "--no-expiry", algorithm=wrapping)
    assert wrong.status == 2 and "ValidationException" in wrong.err


@pytest.mark.parametrize(
    ("algorithm", "digest", "limit"),
    [("RSAES_OAEP_SHA_1", "sha1", 214), ("RSAES_OAEP_SHA_256", "sha256", 190)],
)
def test_openssl_encrypts_for_kmscli_rsa(
    run_inproc: Runner, tmp_path: Path, algorithm: str, digest: str, limit: int
) -> None:
    key = create(run_inproc, "RSA_2048", "ENCRYPT_DECRYPT")
    pem = public_pem(run_inproc, key, tmp_path)
    secret = message(tmp_path, limit, "secret")
    ok(
        openssl(
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            str(pem),
            "-in",
            str(secret),
            "-out",
            str(tmp_path / "secret.enc"),
            "-pkeyopt",
            "rsa_padding_mode:oaep",
            "-pkeyopt",
            f"rsa_oaep_md:{digest}",
            "-pkeyopt",
            f"rsa_mgf1_md:{digest}",
        )
    )
    back = run_inproc(
        "decrypt", "-k", key, "--encryption-algorithm", algorithm, "secret.enc", "-o", "-"
    )
    ok(back)
    assert back.stdout == secret.read_bytes()
    # kmscli's own RSA ciphertexts round-trip, up to the exact limit and not one byte more.
    ok(run_inproc("encrypt", "--direct", "-k", key, "--encryption-algorithm", algorithm, "secret"))
    assert len((tmp_path / "secret.kms").read_bytes()) == 256
    again = run_inproc(
        "decrypt", "-k", key, "--encryption-algorithm", algorithm, "secret.kms", "-o", "-"
    )
    assert again.stdout == secret.read_bytes()
    message(tmp_path, limit + 1, "over")
    over = run_inproc("encrypt", "--direct", "-k", key, "--encryption-algorithm", algorithm, "over")
    assert over.status == 2
    assert (
        f"ValidationException: Algorithm {algorithm} and key spec RSA_2048 cannot encrypt data "
        f"larger than {limit} bytes." in over.err
    )
    # A damaged ciphertext, or the other OAEP hash, does not decrypt.
    other = "RSAES_OAEP_SHA_256" if algorithm == "RSAES_OAEP_SHA_1" else "RSAES_OAEP_SHA_1"
    wrong = run_inproc(
        "decrypt", "-k", key, "--encryption-algorithm", other, "secret.enc", "-o", "-"
    )
    assert wrong.status == 7 and "InvalidCiphertextException" in wrong.err


def test_rsa_4096_limits(run_inproc: Runner, tmp_path: Path) -> None:
    key = create(run_inproc, "RSA_4096", "ENCRYPT_DECRYPT")
    for algorithm, limit in (("RSAES_OAEP_SHA_1", 470), ("RSAES_OAEP_SHA_256", 446)):
        message(tmp_path, limit, "fits")
        fits = run_inproc(
            "encrypt", "--direct", "-f", "-k", key, "--encryption-algorithm", algorithm, "fits"
        )
        ok(fits)
        message(tmp_path, limit + 1, "over")
        over = run_inproc(
            "encrypt", "--direct", "-k", key, "--encryption-algorithm", algorithm, "over"
        )
        assert over.status == 2 and f"larger than {limit} bytes" in over.err


@pytest.mark.parametrize(
    ("spec", "curve"),
    [("ECC_NIST_P256", "P-256"), ("ECC_NIST_P384", "P-384"), ("ECC_NIST_P521", "P-521")],
)
def test_openssl_derives_the_same_shared_secret(
    run_inproc: Runner, tmp_path: Path, spec: str, curve: str
) -> None:
    key = create(run_inproc, spec, "KEY_AGREEMENT")
    pem = public_pem(run_inproc, key, tmp_path)
    peer = tmp_path / "peer.pem"
    ok(
        openssl(
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            f"ec_paramgen_curve:{curve}",
            "-out",
            str(peer),
        )
    )
    peer_der = tmp_path / "peer.pub.der"
    ok(openssl("pkey", "-in", str(peer), "-pubout", "-outform", "DER", "-out", str(peer_der)))
    theirs = tmp_path / "theirs.bin"
    ok(
        openssl(
            "pkeyutl", "-derive", "-inkey", str(peer), "-peerkey", str(pem), "-out", str(theirs)
        )
    )
    derived = run_inproc(
        "key", "derive-shared-secret", key, "--public-key", str(peer_der), "--json"
    )
    ok(derived)
    document = json.loads(derived.out)
    assert base64.b64decode(document["SharedSecret"]) == theirs.read_bytes()
    assert document["KeyAgreementAlgorithm"] == "ECDH" and document["KeyOrigin"] == "AWS_KMS"
    # PEM works too, and a key on another curve is refused.
    ok(openssl("pkey", "-in", str(peer), "-pubout", "-out", str(tmp_path / "peer.pub.pem")))
    ok(
        run_inproc(
            "key", "derive-shared-secret", key, "--public-key", "peer.pub.pem", "-o", "s.bin"
        )
    )
    assert (tmp_path / "s.bin").read_bytes() == theirs.read_bytes()
    other = tmp_path / "other.pem"
    ok(
        openssl(
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:secp256k1",
            "-out",
            str(other),
        )
    )
    ok(openssl("pkey", "-in", str(other), "-pubout", "-out", str(tmp_path / "other.pub.pem")))
    refused = run_inproc(
        "key", "derive-shared-secret", key, "--public-key", "other.pub.pem", "-o", "x"
    )
    assert refused.status == 2 and "ValidationException" in refused.err


@pytest.mark.parametrize(
    ("pair_spec", "kind"),
    [("ECC_NIST_P384", "EC"), ("RSA_2048", "RSA"), ("ECC_NIST_EDWARDS25519", "ED25519")],
)
def test_data_key_pairs_are_standard_keys(
    run_inproc: Runner, tmp_path: Path, pair_spec: str, kind: str
) -> None:
    key = run_inproc("key", "create").out.strip()
    made = run_inproc(
        "datakey", "pair", "-k", key, "--key-pair-spec", pair_spec, "-c", "app=x", "--json"
    )
    ok(made)
    document = json.loads(made.out)
    assert document["KeyPairSpec"] == pair_spec
    private = tmp_path / "private.der"
    private.write_bytes(base64.b64decode(document["PrivateKeyPlaintext"]))
    text = openssl("pkey", "-inform", "DER", "-in", str(private), "-noout", "-text")
    assert text.returncode == 0, text.stderr
    public = openssl("pkey", "-inform", "DER", "-in", str(private), "-pubout", "-outform", "DER")
    assert public.stdout == base64.b64decode(document["PublicKey"])
    (tmp_path / "blob").write_bytes(base64.b64decode(document["PrivateKeyCiphertextBlob"]))
    opened = run_inproc("datakey", "decrypt", "blob", "-c", "app=x", "-o", "opened.der")
    ok(opened)
    assert (tmp_path / "opened.der").read_bytes() == private.read_bytes()
    # Without plaintext, no private key in the clear.
    bare = run_inproc(
        "datakey", "pair", "-k", key, "--key-pair-spec", pair_spec, "--no-plaintext", "--json"
    )
    ok(bare)
    assert "PrivateKeyPlaintext" not in json.loads(bare.out)


def test_hmac_matches_openssl_over_imported_material(run_inproc: Runner, tmp_path: Path) -> None:
    secret = bytes(range(32))
    (tmp_path / "hmac.key").write_bytes(secret)
    key = create(run_inproc, "HMAC_256", "GENERATE_VERIFY_MAC", "--origin", "EXTERNAL")
    ok(import_material(run_inproc, key, tmp_path / "hmac.key", tmp_path, "--no-expiry"))
    data = message(tmp_path, 4096)
    made = run_inproc("mac", "generate", str(data), "-k", key, "-o", "m.mac")
    ok(made)
    theirs = openssl(
        "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{secret.hex()}", "-binary", str(data)
    )
    assert (tmp_path / "m.mac").read_bytes() == theirs.stdout
    ok(run_inproc("mac", "verify", str(data), "-k", key, "--mac", "m.mac"))
    mac = bytearray((tmp_path / "m.mac").read_bytes())
    mac[0] ^= 1
    (tmp_path / "bad.mac").write_bytes(bytes(mac))
    bad = run_inproc("mac", "verify", str(data), "-k", key, "--mac", "bad.mac", "--json")
    assert bad.status == 7
    assert json.loads(bad.err.splitlines()[-1])["Error"]["Code"] == "KMSInvalidMacException"
    over = run_inproc("mac", "generate", str(message(tmp_path, 4097, "over")), "-k", key)
    assert over.status == 2 and "ValidationException" in over.err
