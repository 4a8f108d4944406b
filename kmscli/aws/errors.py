"""AWS's and botocore's failures as kmscli errors, with the documented exit statuses.

Owns the translation of a botocore `ClientError` (AWS's exception name and message) into the
`kmscli.errors` class of the same name, or, for names kmscli has no class for, into the class
whose exit status fits; and of botocore's own failures (no credentials, no endpoint, retries
exhausted) into a clear error with a hint, never a traceback. Must not retry (the client does)
or import botocore before a failure needs it.
"""

from __future__ import annotations

import kmscli.errors as error_classes
from kmscli.errors import (
    AccessDeniedException,
    AlreadyExistsException,
    BackendCredentialsError,
    BackendUnavailableError,
    KmsError,
    KMSInternalException,
    KMSInvalidStateException,
    NotFoundException,
    UnsupportedOperationException,
    ValidationException,
)

# AWS exception names kmscli has no class for, by the class whose exit status they share.
_SHARES_STATUS_WITH: dict[str, type[KmsError]] = {
    # the caller's credentials were refused: access denied (5)
    "UnrecognizedClientException": AccessDeniedException,
    "InvalidClientTokenId": AccessDeniedException,
    "InvalidSignatureException": AccessDeniedException,
    "SignatureDoesNotMatch": AccessDeniedException,
    "IncompleteSignature": AccessDeniedException,
    "MissingAuthenticationToken": AccessDeniedException,
    "ExpiredTokenException": AccessDeniedException,
    "ExpiredToken": AccessDeniedException,
    "AccessDenied": AccessDeniedException,
    # the service is busy or unreachable after the client's retries: I/O (10)
    "ThrottlingException": BackendUnavailableError,
    "Throttling": BackendUnavailableError,
    "ThrottledException": BackendUnavailableError,
    "TooManyRequestsException": BackendUnavailableError,
    "RequestLimitExceeded": BackendUnavailableError,
    "ServiceUnavailable": BackendUnavailableError,
    "ServiceUnavailableException": BackendUnavailableError,
    "DependencyTimeoutException": BackendUnavailableError,
    "RequestTimeout": BackendUnavailableError,
    "RequestTimeoutException": BackendUnavailableError,
    "InternalFailure": KMSInternalException,
    # the key or its key store cannot be used now: the key's state (6)
    "KeyUnavailableException": KMSInvalidStateException,
    "CustomKeyStoreInvalidStateException": KMSInvalidStateException,
    "CloudHsmClusterNotActiveException": KMSInvalidStateException,
    "XksProxyUriUnreachableException": KMSInvalidStateException,
    "XksProxyInvalidResponseException": KMSInvalidStateException,
    "XksProxyIncorrectAuthenticationCredentialException": KMSInvalidStateException,
    # custom key store resources: not found (3), in use (4), invalid (2)
    "CustomKeyStoreNotFoundException": NotFoundException,
    "CloudHsmClusterNotFoundException": NotFoundException,
    "XksKeyNotFoundException": NotFoundException,
    "XksProxyVpcEndpointServiceNotFoundException": NotFoundException,
    "CustomKeyStoreNameInUseException": AlreadyExistsException,
    "CloudHsmClusterInUseException": AlreadyExistsException,
    "XksKeyAlreadyInUseException": AlreadyExistsException,
    "XksProxyUriEndpointInUseException": AlreadyExistsException,
    "XksProxyUriInUseException": AlreadyExistsException,
    "XksProxyVpcEndpointServiceInUseException": AlreadyExistsException,
    "CustomKeyStoreHasCMKsException": ValidationException,
    "CloudHsmClusterInvalidConfigurationException": ValidationException,
    "CloudHsmClusterNotRelatedException": ValidationException,
    "IncorrectTrustAnchorException": ValidationException,
    "XksKeyInvalidConfigurationException": ValidationException,
    "XksProxyInvalidConfigurationException": ValidationException,
    "XksProxyVpcEndpointServiceInvalidConfigurationException": ValidationException,
    "DryRunOperationException": UnsupportedOperationException,
    "SerializationException": ValidationException,
    "InvalidParameterValue": ValidationException,
    "MissingParameter": ValidationException,
}

_CREDENTIAL_HINTS = (
    "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run 'aws configure'",
    "kmscli uses the standard AWS credential chain (environment, config files, SSO, roles)",
)


def error_class(code: str) -> type[KmsError]:
    """The kmscli error class for an AWS exception name."""
    known = getattr(error_classes, code, None)
    if isinstance(known, type) and issubclass(known, KmsError) and known.code == code:
        return known
    if code in _SHARES_STATUS_WITH:
        return _SHARES_STATUS_WITH[code]
    return KMSInternalException if code.endswith("InternalException") else ValidationException


def from_client_error(code: str, message: str, *, http_status: int | None = None) -> KmsError:
    """The kmscli error for AWS's answer `code: message`; the code is shown as AWS sent it.

    An answer with no AWS error in it (an HTTP status only, say a proxy's HTML page) is
    reported by its status, without its body."""
    if code.isascii() and code.isdigit() and len(code) <= 3:
        status = int(code)
        cls_ = BackendUnavailableError if status >= 500 else ValidationException
        return cls_(
            f"the KMS endpoint answered HTTP {status} without an AWS error",
            hints=["check --endpoint-url (AWS_ENDPOINT_URL_KMS) and the service's health"],
        )
    cls = error_class(code)
    if cls is ValidationException and http_status is not None and http_status >= 500:
        cls = BackendUnavailableError
    hints: list[str] = []
    if cls is BackendUnavailableError:
        hints.append("AWS KMS kept refusing after kmscli's retries; try again later")
    elif cls is AccessDeniedException and code != "AccessDeniedException":
        hints.extend(_CREDENTIAL_HINTS[:1])
    error = cls(message or code, hints=hints)
    error.code = code
    return error


def translate(failure: Exception) -> KmsError | None:
    """The kmscli error for a botocore failure, or None if `failure` is not one."""
    from botocore import exceptions as boto

    if isinstance(failure, boto.ClientError):
        info = failure.response.get("Error", {})
        status = failure.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return from_client_error(
            str(info.get("Code") or "ValidationException"),
            str(info.get("Message") or ""),
            http_status=status if isinstance(status, int) else None,
        )
    if isinstance(failure, boto.NoCredentialsError | boto.PartialCredentialsError):
        return BackendCredentialsError(
            f"no AWS credentials for the aws backend: {failure}", hints=_CREDENTIAL_HINTS
        )
    if isinstance(failure, boto.ProfileNotFound):
        return BackendCredentialsError(str(failure), hints=["see 'aws configure list-profiles'"])
    if isinstance(failure, boto.NoRegionError):
        return ValidationException("no region for the aws backend", hints=["give --region NAME"])
    if isinstance(failure, boto.ParamValidationError):
        return ValidationException(str(failure).replace("\n", " "))
    if isinstance(failure, boto.EndpointConnectionError | boto.ConnectionError):
        return BackendUnavailableError(
            f"cannot reach AWS KMS: {failure}",
            hints=["check the network, --region and --endpoint-url (AWS_ENDPOINT_URL_KMS)"],
        )
    if isinstance(failure, boto.ReadTimeoutError | boto.ConnectTimeoutError):
        return BackendUnavailableError(f"AWS KMS did not answer in time: {failure}")
    if isinstance(failure, boto.BotoCoreError):
        return KMSInternalException(f"AWS client failure: {failure}")
    return None
