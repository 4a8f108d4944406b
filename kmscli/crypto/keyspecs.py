"""The AWS KMS key specs, key usages and algorithm names as data (kms-behaviour.md §8, §3).

Owns: which usages each `KeySpec` allows, the algorithm lists DescribeKey and GetPublicKey show
for each usage, the hash behind each signing algorithm and the message types it accepts, the RSA
plaintext limits, the KeyPairSpecs of GenerateDataKeyPair, and the lookups that raise the
AWS-worded error when a name does not fit. Must not: import `cryptography` (this module is plain
data, cheap enough for DescribeKey and the CLI's choice lists), hold key material or know what a
KMS key record is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from kmscli.errors import InvalidKeyUsageException, ValidationException

# -- key usages ----------------------------------------------------------------------------------

ENCRYPT_DECRYPT: Final = "ENCRYPT_DECRYPT"
SIGN_VERIFY: Final = "SIGN_VERIFY"
KEY_AGREEMENT: Final = "KEY_AGREEMENT"
GENERATE_VERIFY_MAC: Final = "GENERATE_VERIFY_MAC"
KEY_USAGES: Final = (ENCRYPT_DECRYPT, SIGN_VERIFY, GENERATE_VERIFY_MAC, KEY_AGREEMENT)

# -- Sign/Verify message types -------------------------------------------------------------------

RAW: Final = "RAW"
DIGEST: Final = "DIGEST"
EXTERNAL_MU: Final = "EXTERNAL_MU"
MESSAGE_TYPES: Final = (RAW, DIGEST, EXTERNAL_MU)
EXTERNAL_MU_BYTES: Final = 64

# -- key families (how the crypto modules dispatch) ----------------------------------------------

SYMMETRIC: Final = "symmetric"
HMAC: Final = "hmac"
RSA: Final = "rsa"
ECC: Final = "ecc"
ED25519: Final = "ed25519"
ML_DSA: Final = "ml-dsa"

# -- algorithm names -----------------------------------------------------------------------------

SYMMETRIC_DEFAULT: Final = "SYMMETRIC_DEFAULT"
RSAES_OAEP_SHA_1: Final = "RSAES_OAEP_SHA_1"
RSAES_OAEP_SHA_256: Final = "RSAES_OAEP_SHA_256"
ECDH: Final = "ECDH"
ED25519_SHA_512: Final = "ED25519_SHA_512"
ED25519_PH_SHA_512: Final = "ED25519_PH_SHA_512"
ML_DSA_SHAKE_256: Final = "ML_DSA_SHAKE_256"

_RSA_ENCRYPTION: Final = (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256)
_RSA_SIGNING: Final = (
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
)


@dataclass(frozen=True)
class SigningAlgorithm:
    """One SigningAlgorithmSpec: its scheme, its hash and the MessageTypes it accepts.

    `digest_bytes` is the length a DIGEST (or EXTERNAL_MU) message must have; 0 when the
    algorithm takes no precomputed value.
    """

    name: str
    scheme: str  # "rsa-pss" | "rsa-pkcs1" | "ecdsa" | "ed25519" | "ed25519ph" | "ml-dsa"
    hash_name: str  # "SHA_256" | "SHA_384" | "SHA_512" | "SHAKE_256"
    digest_bytes: int
    message_types: tuple[str, ...]


def _signing(name: str, scheme: str, hash_name: str, types: tuple[str, ...]) -> SigningAlgorithm:
    sizes = {"SHA_256": 32, "SHA_384": 48, "SHA_512": 64, "SHAKE_256": EXTERNAL_MU_BYTES}
    return SigningAlgorithm(name, scheme, hash_name, sizes[hash_name], types)


SIGNING_ALGORITHMS: Final[Mapping[str, SigningAlgorithm]] = MappingProxyType(
    {
        algorithm.name: algorithm
        for algorithm in (
            *(
                _signing(f"RSASSA_PSS_SHA_{bits}", "rsa-pss", f"SHA_{bits}", (RAW, DIGEST))
                for bits in (256, 384, 512)
            ),
            *(
                _signing(f"RSASSA_PKCS1_V1_5_SHA_{bits}", "rsa-pkcs1", f"SHA_{bits}", (RAW, DIGEST))
                for bits in (256, 384, 512)
            ),
            *(
                _signing(f"ECDSA_SHA_{bits}", "ecdsa", f"SHA_{bits}", (RAW, DIGEST))
                for bits in (256, 384, 512)
            ),
            _signing(ED25519_SHA_512, "ed25519", "SHA_512", (RAW,)),
            _signing(ED25519_PH_SHA_512, "ed25519ph", "SHA_512", (DIGEST,)),
            _signing(ML_DSA_SHAKE_256, "ml-dsa", "SHAKE_256", (RAW, EXTERNAL_MU)),
        )
    }
)

MAC_ALGORITHMS: Final[Mapping[str, str]] = MappingProxyType(
    {f"HMAC_SHA_{bits}": f"SHA_{bits}" for bits in (224, 256, 384, 512)}
)
ENCRYPTION_ALGORITHMS: Final = (SYMMETRIC_DEFAULT, *_RSA_ENCRYPTION)


@dataclass(frozen=True)
class KeySpec:
    """One KeySpec: its family, the KeyUsages it allows and its algorithms per usage."""

    name: str
    family: str
    usages: tuple[str, ...]
    encryption_algorithms: tuple[str, ...] = ()
    signing_algorithms: tuple[str, ...] = ()
    mac_algorithms: tuple[str, ...] = ()
    key_agreement_algorithms: tuple[str, ...] = ()

    def algorithms(self, usage: str) -> dict[str, list[str]]:
        """The algorithm member DescribeKey/GetPublicKey show for a key of this spec and usage.

        Exactly one of EncryptionAlgorithms, SigningAlgorithms, MacAlgorithms or
        KeyAgreementAlgorithms; empty when the usage does not fit the spec.
        """
        member = {
            ENCRYPT_DECRYPT: ("EncryptionAlgorithms", self.encryption_algorithms),
            SIGN_VERIFY: ("SigningAlgorithms", self.signing_algorithms),
            GENERATE_VERIFY_MAC: ("MacAlgorithms", self.mac_algorithms),
            KEY_AGREEMENT: ("KeyAgreementAlgorithms", self.key_agreement_algorithms),
        }.get(usage)
        if member is None or usage not in self.usages:
            return {}
        return {member[0]: list(member[1])}


def _rsa(bits: int) -> KeySpec:
    return KeySpec(
        f"RSA_{bits}",
        RSA,
        (ENCRYPT_DECRYPT, SIGN_VERIFY),
        encryption_algorithms=_RSA_ENCRYPTION,
        signing_algorithms=_RSA_SIGNING,
    )


def _nist(name: str, bits: int) -> KeySpec:
    return KeySpec(
        name,
        ECC,
        (SIGN_VERIFY, KEY_AGREEMENT),
        signing_algorithms=(f"ECDSA_SHA_{bits}",),
        key_agreement_algorithms=(ECDH,),
    )


def _hmac(bits: int) -> KeySpec:
    return KeySpec(
        f"HMAC_{bits}", HMAC, (GENERATE_VERIFY_MAC,), mac_algorithms=(f"HMAC_SHA_{bits}",)
    )


def _ml_dsa(level: int) -> KeySpec:
    return KeySpec(
        f"ML_DSA_{level}", ML_DSA, (SIGN_VERIFY,), signing_algorithms=(ML_DSA_SHAKE_256,)
    )


KEY_SPECS: Final[Mapping[str, KeySpec]] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            KeySpec(
                SYMMETRIC_DEFAULT,
                SYMMETRIC,
                (ENCRYPT_DECRYPT,),
                encryption_algorithms=(SYMMETRIC_DEFAULT,),
            ),
            *(_rsa(bits) for bits in (2048, 3072, 4096)),
            _nist("ECC_NIST_P256", 256),
            _nist("ECC_NIST_P384", 384),
            _nist("ECC_NIST_P521", 512),
            KeySpec("ECC_SECG_P256K1", ECC, (SIGN_VERIFY,), signing_algorithms=("ECDSA_SHA_256",)),
            KeySpec(
                "ECC_NIST_EDWARDS25519",
                ED25519,
                (SIGN_VERIFY,),
                signing_algorithms=(ED25519_SHA_512, ED25519_PH_SHA_512),
            ),
            *(_ml_dsa(level) for level in (44, 65, 87)),
            *(_hmac(bits) for bits in (224, 256, 384, 512)),
        )
    }
)

KEY_PAIR_SPECS: Final = (
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "ECC_NIST_EDWARDS25519",
)

# Encrypt with RSA: the largest plaintext per (KeySpec, EncryptionAlgorithm), as AWS states it
# (k - 2·hLen - 2 for RSA-OAEP with a k-byte modulus).
RSA_PLAINTEXT_LIMITS: Final[Mapping[tuple[str, str], int]] = MappingProxyType(
    {
        ("RSA_2048", RSAES_OAEP_SHA_1): 214,
        ("RSA_2048", RSAES_OAEP_SHA_256): 190,
        ("RSA_3072", RSAES_OAEP_SHA_1): 342,
        ("RSA_3072", RSAES_OAEP_SHA_256): 318,
        ("RSA_4096", RSAES_OAEP_SHA_1): 470,
        ("RSA_4096", RSAES_OAEP_SHA_256): 446,
    }
)

# -- lookups that answer with AWS's words --------------------------------------------------------


def enum_error(value: str, member: str, allowed: Iterable[str]) -> ValidationException:
    """AWS's generic answer to a value outside an enum (`member` in AWS's camelCase)."""
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def key_spec(name: str) -> KeySpec:
    """The KeySpec called `name`; ValidationException (AWS's enum wording) for any other."""
    spec = KEY_SPECS.get(name)
    if spec is None:
        raise enum_error(name, "keySpec", KEY_SPECS)
    return spec


def check_usage(spec_name: str, usage: str | None) -> str:
    """The KeyUsage CreateKey records for `spec_name` given `usage` (None = not given).

    Symmetric keys default to ENCRYPT_DECRYPT; every other spec needs an explicit, compatible
    usage (AWS-recorded messages).
    """
    spec = key_spec(spec_name)
    if usage is None:
        if spec.family != SYMMETRIC:
            raise ValidationException(
                "You must specify a KeyUsage value for all KMS keys except for symmetric "
                "encryption keys."
            )
        return ENCRYPT_DECRYPT
    if usage not in KEY_USAGES:
        raise enum_error(usage, "keyUsage", KEY_USAGES)
    if usage not in spec.usages:
        raise ValidationException(f"KeyUsage {usage} is not compatible with KeySpec {spec.name}")
    return usage


def incompatible_algorithm(algorithm: str, spec_name: str) -> InvalidKeyUsageException:
    """AWS's answer to an algorithm the key spec does not support."""
    return InvalidKeyUsageException(
        f"Algorithm {algorithm} is incompatible with key spec {spec_name}."
    )


def signing_algorithm(spec_name: str, algorithm: str) -> SigningAlgorithm:
    """The SigningAlgorithm `algorithm`, which must be one `spec_name` supports."""
    spec = key_spec(spec_name)
    if algorithm not in SIGNING_ALGORITHMS:
        raise enum_error(algorithm, "signingAlgorithm", SIGNING_ALGORITHMS)
    if algorithm not in spec.signing_algorithms:
        raise incompatible_algorithm(algorithm, spec.name)
    return SIGNING_ALGORITHMS[algorithm]


def check_message(spec_name: str, algorithm: SigningAlgorithm, message: bytes, kind: str) -> None:
    """Is `message` of MessageType `kind` acceptable for `algorithm` on a `spec_name` key?

    Wording as AWS answers (ML-DSA and Ed25519 cases as emulators record them, inferred).
    """
    if kind not in MESSAGE_TYPES:
        raise enum_error(kind, "messageType", MESSAGE_TYPES)
    if kind not in algorithm.message_types:
        subject = f"algorithm {algorithm.name}"
        if algorithm.scheme not in ("ed25519", "ed25519ph"):
            subject = f"key spec {spec_name}"
        raise ValidationException(f"Message type {kind} is incompatible with {subject}.")
    if kind == DIGEST and len(message) != algorithm.digest_bytes:
        raise ValidationException(f"Digest is invalid length for algorithm {algorithm.name}.")
    if kind == EXTERNAL_MU and len(message) != EXTERNAL_MU_BYTES:
        raise ValidationException(f"External Mu is invalid length for algorithm {algorithm.name}.")


def mac_hash(spec_name: str, algorithm: str) -> str:
    """The hash ("SHA_256", ...) of MacAlgorithm `algorithm`, which `spec_name` must support."""
    spec = key_spec(spec_name)
    if algorithm not in MAC_ALGORITHMS:
        raise enum_error(algorithm, "macAlgorithm", MAC_ALGORITHMS)
    if algorithm not in spec.mac_algorithms:
        raise incompatible_algorithm(algorithm, spec.name)
    return MAC_ALGORITHMS[algorithm]


def key_agreement_algorithm(spec_name: str, algorithm: str) -> str:
    """`algorithm`, if it is a KeyAgreementAlgorithm `spec_name` supports."""
    spec = key_spec(spec_name)
    if algorithm != ECDH:
        raise enum_error(algorithm, "keyAgreementAlgorithm", (ECDH,))
    if algorithm not in spec.key_agreement_algorithms:
        raise incompatible_algorithm(algorithm, spec.name)
    return algorithm


def rsa_plaintext_limit(spec_name: str, algorithm: str) -> int:
    """The largest plaintext Encrypt takes for this RSA key spec and EncryptionAlgorithm."""
    spec = key_spec(spec_name)
    if algorithm not in ENCRYPTION_ALGORITHMS:
        raise enum_error(algorithm, "encryptionAlgorithm", ENCRYPTION_ALGORITHMS)
    if algorithm not in spec.encryption_algorithms or spec.family != RSA:
        raise incompatible_algorithm(algorithm, spec.name)
    return RSA_PLAINTEXT_LIMITS[(spec.name, algorithm)]
