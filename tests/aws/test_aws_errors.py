"""AWS's and botocore's failures become kmscli's errors, with the documented exit statuses."""

from __future__ import annotations

import botocore.session
import pytest
from botocore import exceptions as boto

from kmscli.aws.errors import from_client_error, translate
from kmscli.errors import KmsError

DOCUMENTED = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
MODEL = botocore.session.get_session().get_service_model("kms")
KMS_ERRORS = sorted(
    {e.name for o in MODEL.operation_names for e in MODEL.operation_model(o).error_shapes}
)


@pytest.mark.parametrize("code", KMS_ERRORS)
def test_every_kms_exception_keeps_its_name_and_has_a_documented_status(code: str) -> None:
    error = from_client_error(code, "the message")
    assert error.code == code
    assert error.message == "the message"
    assert error.exit_status in DOCUMENTED


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("NotFoundException", 3),
        ("AlreadyExistsException", 4),
        ("AccessDeniedException", 5),
        ("UnrecognizedClientException", 5),
        ("ExpiredTokenException", 5),
        ("DisabledException", 6),
        ("KMSInvalidStateException", 6),
        ("KeyUnavailableException", 6),
        ("InvalidCiphertextException", 7),
        ("IncorrectKeyException", 7),
        ("KMSInvalidSignatureException", 7),
        ("ValidationException", 2),
        ("LimitExceededException", 2),
        ("ThrottlingException", 10),
        ("DependencyTimeoutException", 10),
        ("KMSInternalException", 1),
        ("SomethingNewException", 2),
    ],
)
def test_exit_statuses(code: str, status: int) -> None:
    assert from_client_error(code, "m").exit_status == status


def test_an_answer_without_an_aws_error_is_reported_by_its_status() -> None:
    error = from_client_error("502", "<html>Bad Gateway</html>")
    assert error.exit_status == 10
    assert "HTTP 502" in error.message and "html" not in error.message


def _client_error(code: str, status: int = 400) -> boto.ClientError:
    return boto.ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Decrypt",
    )


@pytest.mark.parametrize(
    ("failure", "status", "code"),
    [
        (_client_error("NotFoundException"), 3, "NotFoundException"),
        (boto.NoCredentialsError(), 9, "BackendCredentialsError"),
        (boto.PartialCredentialsError(provider="env", cred_var="X"), 9, "BackendCredentialsError"),
        (boto.ProfileNotFound(profile="nope"), 9, "BackendCredentialsError"),
        (boto.EndpointConnectionError(endpoint_url="http://x"), 10, "BackendUnavailableError"),
        (boto.ReadTimeoutError(endpoint_url="http://x"), 10, "BackendUnavailableError"),
        (boto.NoRegionError(), 2, "ValidationException"),
        (boto.ParamValidationError(report="bad"), 2, "ValidationException"),
    ],
)
def test_botocore_failures(failure: Exception, status: int, code: str) -> None:
    error = translate(failure)
    assert isinstance(error, KmsError)
    assert (error.exit_status, error.code) == (status, code)


def test_missing_credentials_come_with_a_hint() -> None:
    error = translate(boto.NoCredentialsError())
    assert error is not None
    assert any("AWS_PROFILE" in hint for hint in error.hints)


def test_other_exceptions_are_not_translated() -> None:
    assert translate(ValueError("ours")) is None
