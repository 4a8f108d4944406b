"""Pure policy documents and their evaluation with AWS semantics.

Modules, each with one job:
- `document`: parse and validate key and identity policies; the default key policy;
- `principals`: caller principals and Principal/NotPrincipal matching;
- `conditions`: condition operators and their evaluation;
- `matching`: wildcards and policy variables;
- `actions`: the KMS permission names, cross-account and grant operations;
- `evaluate`: the decision for one request, AccessDenied messages, the lockout check;
- `lint`: warnings for risky but valid policies.

Nothing here does I/O, reads the clock or prints; it imports only the standard library and
`kmscli.errors`.
"""

from kmscli.policy.actions import CROSS_ACCOUNT_ACTIONS, GRANT_OPERATIONS, KMS_ACTIONS
from kmscli.policy.document import (
    PolicyDocument,
    Statement,
    default_key_policy,
    parse_identity_policy,
    parse_key_policy,
)
from kmscli.policy.evaluate import (
    Decision,
    GrantView,
    Reason,
    Request,
    access_denied_message,
    evaluate,
    lockout_check,
)
from kmscli.policy.lint import lint_policy
from kmscli.policy.principals import Principal

__all__ = [
    "CROSS_ACCOUNT_ACTIONS",
    "GRANT_OPERATIONS",
    "KMS_ACTIONS",
    "Decision",
    "GrantView",
    "PolicyDocument",
    "Principal",
    "Reason",
    "Request",
    "Statement",
    "access_denied_message",
    "default_key_policy",
    "evaluate",
    "lint_policy",
    "lockout_check",
    "parse_identity_policy",
    "parse_key_policy",
]
