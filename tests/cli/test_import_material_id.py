"""The ID of imported key material is keyed with the keyring's root key (issue 13).

The KeyMaterialId appears in every ciphertext made under the material; an unkeyed hash of the
material would let anyone holding a ciphertext test guesses of low-entropy material offline.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.conftest import Runner
from tests.helpers import ok


def _import(
    run: Runner, key: str, material: bytes, work: Path, env: dict[str, str] | None = None
) -> str:
    """Import `material` into `key` (RSAES_OAEP_SHA_256 wrapping) and return its KeyMaterialId."""
    params = work / "params"
    params.mkdir(exist_ok=True)
    ok(
        run(
            "key",
            "import-parameters",
            key,
            "--wrapping-algorithm",
            "RSAES_OAEP_SHA_256",
            "--out-dir",
            str(params),
            "-f",
            env=env,
        )
    )
    public = serialization.load_der_public_key((params / "PublicKey.bin").read_bytes())
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    (work / "wrapped.bin").write_bytes(public.encrypt(material, oaep))
    done = ok(
        run(
            "key",
            "import-material",
            key,
            "--material",
            str(work / "wrapped.bin"),
            "--token",
            str(params / "ImportToken.bin"),
            "--no-expiry",
            "--json",
            env=env,
        )
    )
    return str(json.loads(done.out)["KeyMaterialId"])


def test_material_id_is_no_unkeyed_hash_of_the_material(run_inproc: Runner, tmp_path: Path) -> None:
    key = ok(run_inproc("key", "create", "--origin", "EXTERNAL")).out.strip()
    material = bytes(32)  # the weakest guess there is
    material_id = _import(run_inproc, key, material, tmp_path)
    legacy = hashlib.sha256(
        b"kmscli/imported-key-material/v1\x00" + key.encode() + b"\x00" + material
    ).hexdigest()
    assert material_id not in (legacy, hashlib.sha256(material).hexdigest())
    assert len(material_id) == 64

    # The same material in another keyring gets another ID: only the keyring can compute it.
    other = dict(
        KMSCLI_HOME=str(tmp_path / "other"), KMSCLI_ROOT_KEY_FILE=str(tmp_path / "other.key")
    )
    key2 = ok(run_inproc("key", "create", "--origin", "EXTERNAL", env=other)).out.strip()
    work2 = tmp_path / "w2"
    work2.mkdir()
    assert _import(run_inproc, key2, material, work2, env=other) != material_id

    # Re-importing the same material is recognised, and the ID is what ciphertexts carry.
    assert _import(run_inproc, key, material, tmp_path) == material_id
    (tmp_path / "p").write_bytes(b"x")
    ok(run_inproc("encrypt", "--direct", "-k", key, "-o", "blob", "p"))
    blob = (tmp_path / "blob").read_bytes()
    assert bytes.fromhex(material_id) in blob and bytes.fromhex(legacy) not in blob
