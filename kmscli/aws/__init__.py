"""The `aws` backend: the same KMS operations and data keys, answered by AWS KMS over its API.

`service.AwsKmsService` mirrors the local `kmscli.kms.service.KmsService` method for method (the
CLI calls either), `provider.AwsKeyProvider` is the envelope layer's `KeyProvider`, `client`
builds the botocore client (credentials, region, endpoint, retries), and `errors` turns AWS's
and botocore's failures into kmscli's errors and exit statuses.

This package is the only importer of botocore and boto3, imported only when `--backend aws` is
chosen; it never touches the local keyring.
"""
