"""The ESDK algorithm suites (esdk-format.md §1.1) and the commitment policies that gate them.

Owns: the table of every valid ESDK suite ID with its properties, lookups by ID and by name, and
`CommitmentPolicy`. Must not: do any cryptography or I/O. Unknown IDs (including the S3EC and DBE
IDs of the shared registry) are not ESDK suites and are rejected.
"""

from __future__ import annotations

import enum
from typing import Final

from kmscli.crypto.framing import Curve, Kdf
from kmscli.errors import FormatError, ValidationException


class AlgorithmSuite:
    """One suite of the table below; there is one object per suite, so `is` and `==` agree.

    (A plain class: cheaper to create at import than a NamedTuple or a dataclass.)
    """

    __slots__ = (
        "committing",
        "id",
        "iv_length",
        "kdf",
        "key_length",
        "message_format_version",
        "name",
        "signature",
        "tag_length",
    )

    def __init__(
        self,
        *,
        id: int,
        name: str,
        message_format_version: int,
        key_length: int,  # bytes of the AES key; also the required length of the plaintext data key
        kdf: Kdf | None,  # None for the committing suites, which always use HKDF-SHA512
        committing: bool,
        signature: Curve | None,  # ECDSA P-256 with SHA-256 or P-384 with SHA-384; None: unsigned
        iv_length: int = 12,
        tag_length: int = 16,
    ) -> None:
        self.id: Final = id
        self.name: Final = name
        self.message_format_version: Final = message_format_version
        self.key_length: Final = key_length
        self.kdf: Final = kdf
        self.committing: Final = committing
        self.signature: Final = signature
        self.iv_length: Final = iv_length
        self.tag_length: Final = tag_length

    @property
    def suite_data_length(self) -> int:
        return 32 if self.committing else 0

    @property
    def signed(self) -> bool:
        return self.signature is not None

    @property
    def kdf_name(self) -> str:
        return "hkdf-sha512" if self.committing else str(self.kdf)

    @property
    def id_hex(self) -> str:
        return f"0x{self.id:04X}"

    def __str__(self) -> str:
        return f"{self.name} ({self.id_hex})"


def _suite(
    suite_id: int, name: str, bits: int, kdf: Kdf | None, signature: Curve | None = None
) -> AlgorithmSuite:
    committing = kdf is None
    return AlgorithmSuite(
        id=suite_id,
        name=name,
        message_format_version=2 if committing else 1,
        key_length=bits // 8,
        kdf=kdf,
        committing=committing,
        signature=signature,
    )


_SUITES: Final = (
    _suite(0x0014, "AES_128_GCM_IV12_TAG16", 128, "identity"),
    _suite(0x0046, "AES_192_GCM_IV12_TAG16", 192, "identity"),
    _suite(0x0078, "AES_256_GCM_IV12_TAG16", 256, "identity"),
    _suite(0x0114, "AES_128_GCM_IV12_TAG16_HKDF_SHA256", 128, "hkdf-sha256"),
    _suite(0x0146, "AES_192_GCM_IV12_TAG16_HKDF_SHA256", 192, "hkdf-sha256"),
    _suite(0x0178, "AES_256_GCM_IV12_TAG16_HKDF_SHA256", 256, "hkdf-sha256"),
    _suite(0x0214, "AES_128_GCM_IV12_TAG16_HKDF_SHA256_ECDSA_P256", 128, "hkdf-sha256", "P-256"),
    _suite(0x0346, "AES_192_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384", 192, "hkdf-sha384", "P-384"),
    _suite(0x0378, "AES_256_GCM_IV12_TAG16_HKDF_SHA384_ECDSA_P384", 256, "hkdf-sha384", "P-384"),
    _suite(0x0478, "AES_256_GCM_HKDF_SHA512_COMMIT_KEY", 256, None),
    _suite(0x0578, "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384", 256, None, "P-384"),
)

ALL_SUITES: Final[tuple[AlgorithmSuite, ...]] = _SUITES
_BY_ID: Final = {suite.id: suite for suite in _SUITES}
_BY_NAME: Final = {suite.name: suite for suite in _SUITES}
# The spec spells the no-KDF suites with a _NO_KDF suffix and every suite with an ALG_ prefix.
_BY_NAME.update({f"{s.name}_NO_KDF": s for s in _SUITES if s.kdf == "identity"})
_BY_NAME.update({f"ALG_{name}": s for name, s in list(_BY_NAME.items())})

DEFAULT_SUITE: Final = _BY_ID[0x0478]
SIGNED_SUITE: Final = _BY_ID[0x0578]
ENCRYPT_SUITES: Final = (DEFAULT_SUITE, SIGNED_SUITE)


def suite_by_id(suite_id: int) -> AlgorithmSuite:
    """The ESDK suite with this ID; FormatError for any other (the ID came from a message)."""
    try:
        return _BY_ID[suite_id]
    except KeyError:
        raise FormatError(f"unknown algorithm suite 0x{suite_id:04X}") from None


def suite_by_name(name: str) -> AlgorithmSuite:
    """The suite named by its Python ESDK `Algorithm` name or spec name (any case), or by its hex
    ID such as `0x0478`.

    Raises ValidationException (it came from the user).
    """
    text = name.strip()
    suite = _BY_NAME.get(text.upper())
    if suite is None and text.lower().startswith("0x"):
        try:
            suite = _BY_ID.get(int(text, 16))
        except ValueError:
            suite = None
    if suite is None:
        known = ", ".join(s.name for s in _SUITES)
        raise ValidationException(f"unknown algorithm suite {name!r}; known suites: {known}")
    return suite


class CommitmentPolicy(enum.Enum):
    """Which suites a client may write and read (esdk-format.md §1.1)."""

    FORBID_ENCRYPT_ALLOW_DECRYPT = "forbid-encrypt-allow-decrypt"
    REQUIRE_ENCRYPT_ALLOW_DECRYPT = "require-encrypt-allow-decrypt"
    REQUIRE_ENCRYPT_REQUIRE_DECRYPT = "require-encrypt-require-decrypt"

    def allows_decrypt(self, suite: AlgorithmSuite) -> bool:
        return suite.committing or self is not CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT

    def allows_encrypt(self, suite: AlgorithmSuite) -> bool:
        return suite.committing != (self is CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)
