"""The one error hierarchy of kmscli, named after AWS KMS exceptions, each with its exit status.

Core code raises these and never prints or exits; `kmscli.cli.main` turns them into the
`kmscli: error: <Code>: <message>` line and the documented exit status. The exit statuses are a
public contract (README, kmscli(1) EXIT STATUS): change none of them.

Messages never contain key material, plaintext or passphrases.
"""

from __future__ import annotations

from collections.abc import Sequence

EXIT_STATUSES = {
    0: "Success.",
    1: "Internal error: a bug in kmscli. It says so and asks for a report; KMSCLI_DEBUG=1 "
    "adds a traceback.",
    2: "Usage or invalid input.",
    3: "Not found.",
    4: "Already exists, or a conflict (an existing output file too).",
    5: "Access denied by policy.",
    6: "The key's state forbids the operation.",
    7: "Integrity: the input is tampered with or truncated, or the key or the encryption "
    "context is wrong.",
    8: "Not a message or a ciphertext blob, or an unsupported format version or algorithm suite.",
    9: "The keyring is unusable: missing (only key create and encrypt create one), locked "
    "(a passphrase is needed, or it is wrong), corrupt, accessible by group or others, or "
    "written by a newer kmscli.",
    10: "I/O error on input or output: a missing file, a permission, a full disk.",
    130: "Interrupted.",
}
"""Every exit status kmscli has, and what it means (kmscli(1) EXIT STATUS is made from it).
Each error class below carries one of them as `exit_status`."""


class KmsError(Exception):
    """Base of every error kmscli reports to the user.

    `code` is the AWS exception name (or a kmscli name for local failures such as a corrupt
    keyring) and `exit_status` the documented exit status.
    """

    exit_status: int = 1
    code: str = ""

    def __init__(self, message: str = "", *, hints: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = cls.__name__


class KMSInternalException(KmsError):
    """A bug in kmscli: it says so and asks for a report."""

    exit_status = 1


# -- 2: usage or invalid input -------------------------------------------------------------------


class ValidationException(KmsError):
    exit_status = 2


class MalformedPolicyDocumentException(KmsError):
    exit_status = 2


class InvalidAliasNameException(KmsError):
    exit_status = 2


class InvalidArnException(KmsError):
    exit_status = 2


class InvalidKeyUsageException(KmsError):
    exit_status = 2


class UnsupportedOperationException(KmsError):
    exit_status = 2


class LimitExceededException(KmsError):
    exit_status = 2


class TagException(KmsError):
    exit_status = 2


class InvalidGrantTokenException(KmsError):
    exit_status = 2


class InvalidGrantIdException(KmsError):
    exit_status = 2


class InvalidMarkerException(KmsError):
    exit_status = 2


class UsageError(KmsError):
    """A command line that cannot be carried out as written (kmscli's own, not AWS's)."""

    exit_status = 2


# -- 3: not found --------------------------------------------------------------------------------


class NotFoundException(KmsError):
    exit_status = 3


# -- 4: already exists / conflict ----------------------------------------------------------------


class AlreadyExistsException(KmsError):
    exit_status = 4


class ConflictException(KmsError):
    exit_status = 4


# -- 5: access denied ----------------------------------------------------------------------------


class AccessDeniedException(KmsError):
    exit_status = 5


class NotAuthorizedException(KmsError):
    """AWS's answer to an alias in the reserved `alias/aws/` namespace."""

    exit_status = 5


# -- 6: the key's state forbids it ---------------------------------------------------------------


class DisabledException(KmsError):
    exit_status = 6


class KMSInvalidStateException(KmsError):
    exit_status = 6


class ExpiredImportTokenException(KmsError):
    exit_status = 6


# -- 7: integrity --------------------------------------------------------------------------------


class InvalidCiphertextException(KmsError):
    exit_status = 7


class IncorrectKeyException(KmsError):
    exit_status = 7


class KMSInvalidSignatureException(KmsError):
    """AWS's message is empty; `key_arn` and `algorithm` (when known) let the CLI say more."""

    exit_status = 7
    key_arn: str = ""
    algorithm: str = ""


class KMSInvalidMacException(KmsError):
    """AWS's message is empty; `key_arn` and `algorithm` (when known) let the CLI say more."""

    exit_status = 7
    key_arn: str = ""
    algorithm: str = ""


class InvalidImportTokenException(KmsError):
    exit_status = 7


class IncorrectKeyMaterialException(KmsError):
    exit_status = 7


class AuditLogIntegrityError(KmsError):
    """`kmscli audit --verify` found an edited, removed, reordered or cut-off record."""

    exit_status = 7


# -- 8: not a message or blob, unsupported version or suite --------------------------------------


class FormatError(KmsError):
    exit_status = 8


# -- 9: keyring unusable -------------------------------------------------------------------------


class KeyringError(KmsError):
    """The keyring cannot be used: locked, corrupt, unsafe permissions or unknown schema."""

    exit_status = 9


class KeyringLockedError(KeyringError):
    """A passphrase is needed and none was given, or it is wrong."""


class KeyringMissingError(KeyringError):
    """There is no keyring where --home (KMSCLI_HOME) points, and the command creates none."""


class KeyringCorruptError(KeyringError):
    """A keyring file failed its authentication check or does not parse."""


class KeyringPermissionError(KeyringError):
    """A keyring or root key file is readable by group or others."""


class KeyringVersionError(KeyringError):
    """The keyring was written by a newer kmscli (unknown schema version)."""


class BackendCredentialsError(KeyringError):
    """The aws backend has no credentials (or no such AWS profile): like a locked keyring."""


# -- 10: I/O -------------------------------------------------------------------------------------


class InputOutputError(KmsError):
    """Missing file, permission denied, disk full on input or output."""

    exit_status = 10


class BackendUnavailableError(InputOutputError):
    """AWS KMS could not be reached, timed out, or kept throttling after the retries."""


# -- 130: interrupted ----------------------------------------------------------------------------


class Interrupted(KmsError):
    exit_status = 130
