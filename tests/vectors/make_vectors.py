"""Make the format vectors of tests/vectors/ with the kmscli of this working tree.

Usage (from the repository root):

    python tests/vectors/make_vectors.py OUTDIR

OUTDIR must not exist yet. The script drives the real CLI of the tree (a subprocess running
`kmscli.cli.main` with the tree first on sys.path, never an installed kmscli) and the
`cryptography` package (only to wrap imported key material and make an ECDH peer, as a user
would with openssl). It writes two keyrings and files made with them, then `expected.json`:
what tests/test_vectors.py must find when it opens, verifies and decrypts them with later code.

Key material, IDs and ciphertexts are random, so two runs differ byte for byte; plaintexts are
deterministic. Vectors are never regenerated to make a test pass: see tests/vectors/README.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
REGION = "us-east-1"
REPLICA_REGION = "eu-west-1"
PASSPHRASE = "correct horse battery staple (kmscli test vector)"
APP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vector-app"
AUDITOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vector-auditor"
SMALL_FRAME = 128
_LAUNCH = (
    "import sys; tree = sys.argv.pop(1); sys.argv[0] = 'kmscli'; sys.path.insert(0, tree); "
    "import kmscli; assert kmscli.__file__.startswith(tree + '/kmscli/'), kmscli.__file__; "
    "from kmscli.cli.main import main; main()"
)


def plaintext_bytes(name: str, size: int) -> bytes:
    """Deterministic test plaintext: SHAKE-256 of the name, `size` bytes."""
    return hashlib.shake_256(b"kmscli vector plaintext " + name.encode()).digest(size)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Cli:
    """Runs the tree's kmscli against one keyring."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    def __call__(self, *args: str, input: bytes = b"", ok: bool = True) -> bytes:
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCH, str(REPO), *args],
            input=input,
            capture_output=True,
            env=self.env,
            cwd=self.cwd,
            check=False,
        )
        if ok and done.returncode != 0:
            raise SystemExit(
                f"kmscli {' '.join(args)} exited {done.returncode}:\n{done.stderr.decode()}"
            )
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self("--json", *args))


def base_env(home: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KMSCLI_", "AWS_")) and k != "NO_COLOR"
    }
    env["KMSCLI_HOME"] = str(home)
    env["HOME"] = str(home.parent / "userhome")
    env["XDG_CONFIG_HOME"] = str(home.parent / "userhome" / ".config")
    env["XDG_DATA_HOME"] = str(home.parent / "userhome" / ".local" / "share")
    return env


def provenance() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "kmscli"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    version = subprocess.run(
        [sys.executable, "-c", _LAUNCH, str(REPO), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "kmscli_version": version,
        "git_commit": commit,
        "kmscli_tree_modified": bool(dirty),
        "python": sys.version.split()[0],
        "made_by": "tests/vectors/make_vectors.py",
    }


class Maker:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.expected: dict[str, Any] = {
            "format": "kmscli-test-vectors",
            "provenance": provenance(),
            "plaintexts": {},
            "keyrings": {},
        }

    def rel(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()

    def plaintext(self, name: str, size: int) -> Path:
        path = self.out / "plaintext" / f"{name}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = plaintext_bytes(name, size)
        path.write_bytes(data)
        self.expected["plaintexts"][name] = {
            "file": self.rel(path),
            "size": size,
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        return path

    def describe(self, cli: Cli, key: str, region: str = REGION) -> dict[str, Any]:
        meta: dict[str, Any] = cli.json("--region", region, "key", "describe", key)["KeyMetadata"]
        return meta

    # ---------------------------------------------------------------- key-file keyring
    def keyfile_keyring(self) -> None:
        top = self.out / "keyfile"
        home = top / "keyring"
        env = base_env(home)
        env["KMSCLI_ROOT_KEY_FILE"] = str(top / "root.key")
        cli = Cli(env, self.out)
        work = self.out.parent / (self.out.name + ".work")
        work.mkdir()
        cli("keyring", "init", "--account-id", ACCOUNT)
        exp: dict[str, Any] = {
            "home": self.rel(home),
            "root_key_file": self.rel(top / "root.key"),
            "protection": "key-file",
            "account_id": ACCOUNT,
            "keys": {},
            "aliases": {},
            "blobs": [],
            "messages": [],
            "signatures": [],
            "macs": [],
            "shared_secrets": [],
            "rsa_ciphertexts": [],
            "datakeys": [],
            "public_keys": [],
            "grants": [],
        }
        self.expected["keyrings"]["keyfile"] = exp
        keys = exp["keys"]

        def create(name: str, *args: str, alias: str | None = None) -> str:
            extra = ["--alias", alias] if alias else []
            key_id = cli("key", "create", "--description", f"vector {name}", *args, *extra)
            key_id_s = key_id.decode().strip()
            keys[name] = {"key_id": key_id_s, "region": REGION}
            if alias:
                exp["aliases"][alias] = key_id_s
            return key_id_s

        # Symmetric keys.
        sym = create("sym-rotated", "--tag", "team=vectors", "--tag", "env=test", alias=None)
        cli("alias", "create", "alias/vector-sym", sym)
        exp["aliases"]["alias/vector-sym"] = sym
        sym2 = create("sym-second", alias="alias/vector-second")
        sym_disabled = create("sym-disabled")
        sym_rotation_on = create("sym-rotation-enabled")
        cli("key", "rotation", "enable", sym_rotation_on, "--period-days", "2560")

        policy_path = self.out / "policies" / "custom-policy.json"
        policy_path.parent.mkdir(parents=True, exist_ok=True)
        policy = {
            "Version": "2012-10-17",
            "Id": "vector-custom-policy",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "Let the app role decrypt for one purpose",
                    "Effect": "Allow",
                    "Principal": {"AWS": APP_ROLE},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"kms:EncryptionContext:purpose": "vector"}},
                },
            ],
        }
        policy_path.write_text(json.dumps(policy, indent=2) + "\n")
        sym_policy = create("sym-custom-policy", "--policy", str(policy_path))
        keys["sym-custom-policy"]["policy_file"] = self.rel(policy_path)

        # Blobs and messages under the first material, then rotate twice.
        small = self.plaintext("small", 100)
        empty = self.plaintext("empty", 0)
        multi = self.plaintext("multiframe", 1000)
        direct = self.plaintext("direct", 4096)
        keys["sym-rotated"]["materials"] = [self.describe(cli, sym)["CurrentKeyMaterialId"]]
        blob_dir = self.out / "blobs"
        msg_dir = self.out / "messages"
        blob_dir.mkdir()
        msg_dir.mkdir()

        def blob(name: str, key: str, source: Path, context: dict[str, str], **more: Any) -> None:
            target = blob_dir / f"{name}.blob"
            ctx = [a for k, v in context.items() for a in ("-c", f"{k}={v}")]
            cli("encrypt", "--direct", "-k", key, *ctx, "-o", str(target), str(source))
            exp["blobs"].append(
                {
                    "file": self.rel(target),
                    "plaintext": source.stem,
                    "context": context,
                    "key_id": key,
                    **more,
                }
            )

        def message(
            name: str, keys_: list[str], source: Path, context: dict[str, str], *opts: str
        ) -> None:
            target = msg_dir / f"{name}.kms"
            ctx = [a for k, v in context.items() for a in ("-c", f"{k}={v}")]
            ks = [a for k in keys_ for a in ("-k", k)]
            cli("encrypt", *ks, *ctx, *opts, "-o", str(target), str(source))
            header = cli.json("inspect", str(target))
            exp["messages"].append(
                {
                    "file": self.rel(target),
                    "plaintext": source.stem,
                    "context": context,
                    "key_ids": keys_,
                    "options": list(opts),
                    "inspect": header,
                }
            )

        blob("sym-material-1", sym, small, {"purpose": "vector", "n": "1"}, material=0)
        blob("sym-material-1-no-context", sym, direct, {}, material=0)
        message("sym-material-1", [sym], small, {"purpose": "vector"})
        cli("key", "rotate", sym)
        keys["sym-rotated"]["materials"].append(self.describe(cli, sym)["CurrentKeyMaterialId"])
        blob("sym-material-2", sym, small, {"purpose": "vector", "n": "2"}, material=1)
        message("sym-material-2", [sym], small, {"purpose": "vector"})
        cli("key", "rotate", sym)
        keys["sym-rotated"]["materials"].append(self.describe(cli, sym)["CurrentKeyMaterialId"])
        blob("sym-material-3", sym, small, {"purpose": "vector", "n": "3"}, material=2)

        # Messages of both suites, several data keys, contexts, empty and multi-frame.
        ctx = {"purpose": "vector", "department": "format-freeze", "unicode": "ü€😀"}
        message("default-suite-3-keys", [sym, sym2, sym_policy], small, ctx)
        message(
            "signed-suite-2-keys",
            [sym2, sym],
            small,
            ctx,
            "--algorithm",
            "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        )
        message("empty", [sym], empty, {})
        message(
            "empty-signed",
            [sym],
            empty,
            {"purpose": "vector"},
            "--algorithm",
            "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        )
        message("multiframe", [sym, sym2], multi, {"purpose": "vector"}, "--frame-size", "128")
        message(
            "multiframe-signed",
            [sym],
            multi,
            {"purpose": "vector"},
            "--frame-size",
            "256",
            "--algorithm",
            "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
        )
        message("custom-policy", [sym_policy], small, {"purpose": "vector"})

        # Multi-Region key and a replica.
        mrk = create("mrk-primary", "--multi-region", alias="alias/vector-mrk")
        replica = cli.json(
            "key",
            "replicate",
            mrk,
            "--replica-region",
            REPLICA_REGION,
            "--description",
            "vector mrk-replica",
        )
        keys["mrk-replica"] = {"key_id": mrk, "region": REPLICA_REGION}
        keys["mrk-replica"]["arn"] = replica["ReplicaKeyMetadata"]["Arn"]
        blob("mrk", mrk, small, {"purpose": "vector"}, decrypt_regions=[REGION, REPLICA_REGION])
        message("mrk", [mrk], small, {"purpose": "vector"})

        # Imported (EXTERNAL) key material, wrapped with RSAES_OAEP_SHA_256 by `cryptography`.
        ext = create("imported", "--origin", "EXTERNAL", alias="alias/vector-imported")
        self.import_material(cli, ext, work)
        keys["imported"]["materials"] = [self.describe(cli, ext)["CurrentKeyMaterialId"]]
        blob("imported", ext, small, {"purpose": "vector"})
        message("imported", [ext], small, {"purpose": "vector"})

        # Data keys.
        dk_dir = self.out / "datakeys"
        dk_dir.mkdir()
        dk_blob = dk_dir / "sym.blob"
        dk_plain = work / "dk.bin"
        cli(
            "datakey",
            "generate",
            "-k",
            sym,
            "-c",
            "purpose=datakey",
            "--ciphertext-out",
            str(dk_blob),
            "--plaintext-out",
            str(dk_plain),
        )
        exp["datakeys"].append(
            {
                "file": self.rel(dk_blob),
                "context": {"purpose": "datakey"},
                "key_id": sym,
                "plaintext_hex": dk_plain.read_bytes().hex(),
            }
        )

        # Asymmetric keys.
        pub_dir = self.out / "public-keys"
        pub_dir.mkdir()
        sig_dir = self.out / "signatures"
        sig_dir.mkdir()
        to_sign = self.plaintext("to-sign", 300)
        asym = [
            ("rsa-encrypt", "RSA_2048", "ENCRYPT_DECRYPT", []),
            (
                "rsa-sign",
                "RSA_3072",
                "SIGN_VERIFY",
                [
                    "RSASSA_PKCS1_V1_5_SHA_256",
                    "RSASSA_PSS_SHA_384",
                ],
            ),
            ("ecc-p256-sign", "ECC_NIST_P256", "SIGN_VERIFY", ["ECDSA_SHA_256"]),
            ("ecc-p384-sign", "ECC_NIST_P384", "SIGN_VERIFY", ["ECDSA_SHA_384"]),
            ("ecc-secp256k1-sign", "ECC_SECG_P256K1", "SIGN_VERIFY", ["ECDSA_SHA_256"]),
            ("ecc-p256-agree", "ECC_NIST_P256", "KEY_AGREEMENT", []),
            ("ed25519-sign", "ECC_NIST_EDWARDS25519", "SIGN_VERIFY", ["ED25519_SHA_512"]),
            ("ml-dsa-44-sign", "ML_DSA_44", "SIGN_VERIFY", ["ML_DSA_SHAKE_256"]),
        ]
        for name, spec, usage, algorithms in asym:
            key_id = create(name, "--key-spec", spec, "--key-usage", usage)
            keys[name]["key_spec"] = spec
            pub = pub_dir / f"{name}.der"
            cli("key", "public-key", key_id, "-o", str(pub))
            exp["public_keys"].append({"file": self.rel(pub), "key_id": key_id, "key_spec": spec})
            for algorithm in algorithms:
                sig = sig_dir / f"{name}.{algorithm}.sig"
                cli("sign", str(to_sign), "-k", key_id, "--algorithm", algorithm, "-o", str(sig))
                exp["signatures"].append(
                    {
                        "file": self.rel(sig),
                        "message": "to-sign",
                        "key_id": key_id,
                        "algorithm": algorithm,
                        "public_key": self.rel(pub),
                        "deterministic": algorithm.startswith(("RSASSA_PKCS1", "ED25519")),
                    }
                )

        # RSA direct encryption (raw RSAES-OAEP ciphertext).
        rsa_dir = self.out / "rsa"
        rsa_dir.mkdir()
        for algorithm in ("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"):
            target = rsa_dir / f"rsa-encrypt.{algorithm}.bin"
            cli(
                "encrypt",
                "--direct",
                "-k",
                keys["rsa-encrypt"]["key_id"],
                "--encryption-algorithm",
                algorithm,
                "-o",
                str(target),
                str(small),
            )
            exp["rsa_ciphertexts"].append(
                {
                    "file": self.rel(target),
                    "plaintext": "small",
                    "key_id": keys["rsa-encrypt"]["key_id"],
                    "algorithm": algorithm,
                }
            )

        # ECDH: a fixed peer (its private key is test data too) and the agreed secret.
        self.ecdh(cli, keys["ecc-p256-agree"]["key_id"], exp)

        # HMAC keys: MACs are deterministic, so the value itself is expected.
        mac_dir = self.out / "macs"
        mac_dir.mkdir()
        for name, spec, algorithm in (
            ("hmac-256", "HMAC_256", "HMAC_SHA_256"),
            ("hmac-512", "HMAC_512", "HMAC_SHA_512"),
        ):
            key_id = create(name, "--key-spec", spec, "--key-usage", "GENERATE_VERIFY_MAC")
            keys[name]["key_spec"] = spec
            target = mac_dir / f"{name}.mac"
            cli("mac", "generate", str(to_sign), "-k", key_id, "-o", str(target))
            exp["macs"].append(
                {
                    "file": self.rel(target),
                    "message": "to-sign",
                    "key_id": key_id,
                    "algorithm": algorithm,
                }
            )

        # Grants, an identity policy, an access key, tags, a disabled key.
        grant = cli.json(
            "policy",
            "grant",
            "create",
            sym,
            "--grantee",
            APP_ROLE,
            "--operations",
            "Decrypt,Encrypt,GenerateDataKey",
            "--name",
            "vector-grant",
            "--context-subset",
            "purpose=vector",
        )
        exp["grants"].append(
            {
                "key_id": sym,
                "grant_id": grant["GrantId"],
                "grantee": APP_ROLE,
                "name": "vector-grant",
                "operations": ["Decrypt", "Encrypt", "GenerateDataKey"],
                "constraints": {"EncryptionContextSubset": {"purpose": "vector"}},
            }
        )
        grant2 = cli.json(
            "policy",
            "grant",
            "create",
            sym2,
            "--grantee",
            AUDITOR_ROLE,
            "--operations",
            "DescribeKey",
            "--retiring",
            APP_ROLE,
        )
        exp["grants"].append(
            {
                "key_id": sym2,
                "grant_id": grant2["GrantId"],
                "grantee": AUDITOR_ROLE,
                "retiring": APP_ROLE,
                "operations": ["DescribeKey"],
            }
        )
        identity = self.out / "policies" / "identity-policy.json"
        identity_doc = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{sym2}",
                }
            ],
        }
        identity.write_text(json.dumps(identity_doc, indent=2) + "\n")
        cli("policy", "identity", "put", AUDITOR_ROLE, "vector-identity", str(identity))
        exp["identity_policies"] = [
            {"principal": AUDITOR_ROLE, "name": "vector-identity", "file": self.rel(identity)}
        ]
        access = cli.json("principal", "access-key", "create", APP_ROLE)["AccessKey"]
        exp["access_keys"] = [
            {
                "access_key_id": access["AccessKeyId"],
                "secret_access_key": access["SecretAccessKey"],
                "principal": APP_ROLE,
            }
        ]
        cli("key", "tag", sym2, "owner=vectors", "cost-center=42")
        cli("key", "untag", sym, "env")
        keys["sym-rotated"]["tags"] = {"team": "vectors"}
        keys["sym-second"]["tags"] = {"owner": "vectors", "cost-center": "42"}
        cli("key", "update-description", sym2, "vector sym-second (updated)")
        message("disabled-key", [sym_disabled], small, {"purpose": "vector"})
        cli("key", "disable", sym_disabled)

        # What each key must look like afterwards.
        for info in keys.values():
            meta = self.describe(cli, info["key_id"], info["region"])
            info["metadata"] = {
                k: meta[k]
                for k in (
                    "KeyId",
                    "Arn",
                    "AWSAccountId",
                    "Description",
                    "KeyUsage",
                    "KeyState",
                    "Enabled",
                    "Origin",
                    "KeyManager",
                    "KeySpec",
                    "MultiRegion",
                    "CreationDate",
                    "EncryptionAlgorithms",
                    "SigningAlgorithms",
                    "MacAlgorithms",
                    "KeyAgreementAlgorithms",
                    "CurrentKeyMaterialId",
                    "ExpirationModel",
                    "MultiRegionConfiguration",
                )
                if k in meta
            }
            info["tags"] = (
                {
                    t["TagKey"]: t["TagValue"]
                    for t in cli.json("key", "tags", info["key_id"])["Tags"]
                }
                if info["region"] == REGION
                else info.get("tags", {})
            )
        exp["rotations"] = {
            name: [
                {k: r[k] for k in ("KeyMaterialId", "RotationType", "RotationDate")}
                for r in cli.json("key", "rotation", "list", keys[name]["key_id"])["Rotations"]
            ]
            for name in ("sym-rotated",)
        }
        exp["rotation_status"] = {
            "sym-rotation-enabled": cli.json("key", "rotation", "status", sym_rotation_on),
        }
        exp["policy"] = {"sym-custom-policy": cli.json("policy", "get", sym_policy)}
        exp["key_list"] = cli.json("key", "list")
        exp["alias_list"] = cli.json("alias", "list")

        # Audit trail: as it is now (tests' own commands append after it).
        audit = cli.json("audit")["Records"]
        exp["audit"] = {
            "records": len(audit),
            "events": [[r["eventName"], r["eventID"]] for r in audit],
        }
        cli("audit", "--verify")
        cli("keyring", "verify")

        # A backup archive of the whole keyring.
        backup_dir = self.out / "backup"
        backup_dir.mkdir()
        archive = backup_dir / "keyfile.kmsbackup"
        cli("keyring", "backup", str(archive))
        exp["backup"] = {"file": self.rel(archive)}
        shutil.rmtree(work)

    def import_material(self, cli: Cli, key_id: str, work: Path) -> None:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        params = work / "import"
        params.mkdir()
        cli("key", "import-parameters", key_id, "--out-dir", str(params))
        public = serialization.load_der_public_key((params / "PublicKey.bin").read_bytes())
        assert isinstance(public, rsa.RSAPublicKey)
        material = os.urandom(32)
        wrapped = public.encrypt(
            material,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
        (params / "material.bin").write_bytes(wrapped)
        cli(
            "key",
            "import-material",
            key_id,
            "--material",
            str(params / "material.bin"),
            "--token",
            str(params / "ImportToken.bin"),
            "--no-expiry",
        )

    def ecdh(self, cli: Cli, key_id: str, exp: dict[str, Any]) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        peer = ec.generate_private_key(ec.SECP256R1())
        folder = self.out / "ecdh"
        folder.mkdir()
        peer_private = folder / "peer-private.pem"
        peer_private.write_bytes(
            peer.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        peer_public = folder / "peer-public.pem"
        peer_public.write_bytes(
            peer.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        secret = cli.json("key", "derive-shared-secret", key_id, "--public-key", str(peer_public))
        exp["shared_secrets"].append(
            {
                "key_id": key_id,
                "peer_public_key": self.rel(peer_public),
                "peer_private_key": self.rel(peer_private),
                "shared_secret_hex": base64.b64decode(secret["SharedSecret"]).hex(),
            }
        )

    # ---------------------------------------------------------------- passphrase keyring
    def passphrase_keyring(self) -> None:
        top = self.out / "passphrase"
        home = top / "keyring"
        top.mkdir()
        passphrase_file = top / "passphrase.txt"
        passphrase_file.write_text(PASSPHRASE + "\n")
        env = base_env(home)
        env["KMSCLI_PASSPHRASE_FILE"] = str(passphrase_file)
        env["KMSCLI_ROOT_KEY_FILE"] = str(top / "no-root-key-file")
        cli = Cli(env, self.out)
        cli("keyring", "init", "--passphrase-file", str(passphrase_file), "--account-id", ACCOUNT)
        exp: dict[str, Any] = {
            "home": self.rel(home),
            "passphrase_file": self.rel(passphrase_file),
            "protection": "passphrase",
            "account_id": ACCOUNT,
            "keys": {},
            "aliases": {"alias/vector-pass": ""},
            "messages": [],
            "blobs": [],
            "macs": [],
        }
        self.expected["keyrings"]["passphrase"] = exp
        sym = (
            cli(
                "key",
                "create",
                "--description",
                "vector pass-sym",
                "--alias",
                "alias/vector-pass",
                "--tag",
                "mode=passphrase",
            )
            .decode()
            .strip()
        )
        exp["aliases"]["alias/vector-pass"] = sym
        small = self.out / "plaintext" / "small.bin"
        multi = self.out / "plaintext" / "multiframe.bin"
        folder = self.out / "passphrase-files"
        folder.mkdir()
        materials = [self.describe(cli, sym)["CurrentKeyMaterialId"]]
        target = folder / "material-1.blob"
        cli("encrypt", "--direct", "-k", sym, "-c", "purpose=pass", "-o", str(target), str(small))
        exp["blobs"].append(
            {
                "file": self.rel(target),
                "plaintext": "small",
                "context": {"purpose": "pass"},
                "key_id": sym,
                "material": 0,
            }
        )
        cli("key", "rotate", sym)
        materials.append(self.describe(cli, sym)["CurrentKeyMaterialId"])
        target = folder / "material-2.blob"
        cli("encrypt", "--direct", "-k", sym, "-o", str(target), str(small))
        exp["blobs"].append(
            {
                "file": self.rel(target),
                "plaintext": "small",
                "context": {},
                "key_id": sym,
                "material": 1,
            }
        )
        target = folder / "signed-multiframe.kms"
        cli(
            "encrypt",
            "-k",
            sym,
            "-c",
            "purpose=pass",
            "--frame-size",
            "128",
            "--algorithm",
            "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384",
            "-o",
            str(target),
            str(multi),
        )
        exp["messages"].append(
            {
                "file": self.rel(target),
                "plaintext": "multiframe",
                "context": {"purpose": "pass"},
                "key_ids": [sym],
            }
        )
        hmac_key = (
            cli(
                "key",
                "create",
                "--key-spec",
                "HMAC_384",
                "--key-usage",
                "GENERATE_VERIFY_MAC",
                "--description",
                "vector pass-hmac",
            )
            .decode()
            .strip()
        )
        target = folder / "hmac-384.mac"
        cli("mac", "generate", str(small), "-k", hmac_key, "-o", str(target))
        exp["macs"].append(
            {
                "file": self.rel(target),
                "message": "small",
                "key_id": hmac_key,
                "algorithm": "HMAC_SHA_384",
            }
        )
        for name, key_id in (("pass-sym", sym), ("pass-hmac", hmac_key)):
            meta = self.describe(cli, key_id)
            exp["keys"][name] = {
                "key_id": key_id,
                "region": REGION,
                "metadata": {
                    k: meta[k]
                    for k in (
                        "KeyId",
                        "Arn",
                        "KeySpec",
                        "KeyUsage",
                        "KeyState",
                        "CurrentKeyMaterialId",
                        "CreationDate",
                    )
                    if k in meta
                },
            }
        exp["keys"]["pass-sym"]["materials"] = materials
        audit = cli.json("audit")["Records"]
        exp["audit"] = {
            "records": len(audit),
            "events": [[r["eventName"], r["eventID"]] for r in audit],
        }
        cli("audit", "--verify")
        cli("keyring", "verify")
        archive = self.out / "backup" / "passphrase.kmsbackup"
        cli("keyring", "backup", str(archive))
        exp["backup"] = {"file": self.rel(archive)}

    def finish(self) -> None:
        files: dict[str, str] = {}
        for path in sorted(self.out.rglob("*")):
            if path.is_file():
                files[self.rel(path)] = sha256_file(path)
            elif path.is_dir() and not any(path.iterdir()):
                raise SystemExit(f"{path} is an empty directory: git would not keep it")
        self.expected["files"] = files
        (self.out / "expected.json").write_text(
            json.dumps(self.expected, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        )


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python tests/vectors/make_vectors.py OUTDIR")
    out = Path(sys.argv[1]).resolve()
    out.mkdir(parents=True)
    maker = Maker(out)
    maker.keyfile_keyring()
    maker.passphrase_keyring()
    maker.finish()
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total} bytes)")


if __name__ == "__main__":
    main()
