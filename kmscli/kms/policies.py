"""The key policy KMS writes for an AWS managed key (the default key policy is in kmscli.policy).

Owns its exact document (kms-behaviour.md §9). Parsing and evaluating policies is
`kmscli.policy`'s job.
"""

from __future__ import annotations

import json


def aws_managed_key_policy(account_id: str, region: str, service: str = "kmscli") -> str:
    """The policy of an AWS managed key, shaped like `aws/ebs`'s: use only through the service.

    Statement 1 lets every principal of the account use the key when the call comes through the
    owning service (kms:ViaService); statement 2 lets the account read the key's metadata.
    """
    document = {
        "Version": "2012-10-17",
        "Id": f"auto-{service}-1",
        "Statement": [
            {
                "Sid": f"Allow access through {service} for all principals in the account "
                "that are authorized to use it",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:CallerAccount": account_id,
                        "kms:ViaService": f"{service}.{region}.amazonaws.com",
                    }
                },
            },
            {
                "Sid": "Allow direct access to key metadata to the account",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                "Resource": "*",
            },
        ],
    }
    return json.dumps(document, indent=2)
