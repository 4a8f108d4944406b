"""Warnings for risky but valid policies.

Owns `lint_policy`, which flags patterns that are legal yet usually mistakes:
- Principal `*` in an Allow with no Condition (anyone in any account, given their IAM allows);
- `kms:*` or `*` (or a NotAction) allowed to a principal other than an account principal;
- NotPrincipal with Allow (grants everyone not listed);
- action patterns that match no KMS permission (usually typos: AWS accepts them silently);
- key-policy statements without Action or Resource, which AWS accepts and ignores.

Pure: returns strings, never raises for a parsed document and never prints.
"""

from __future__ import annotations

from kmscli.policy.actions import KMS_ACTIONS
from kmscli.policy.document import PolicyDocument, Statement
from kmscli.policy.matching import action_match


def lint_policy(doc: PolicyDocument) -> list[str]:
    """One warning line per risky pattern, in statement order."""
    warnings: list[str] = []
    for st in doc.statements:
        warnings.extend(f"{st.location}: {w}" for w in _statement_warnings(doc, st))
    return warnings


def _statement_warnings(doc: PolicyDocument, st: Statement) -> list[str]:
    found: list[str] = []
    if doc.kind == "key" and st.ignored:
        found.append("has no Action or no Resource; AWS accepts it but it never applies.")
    for pattern in st.actions or st.not_actions or ():
        if (
            pattern != "*"
            and pattern.lower().startswith("kms:")
            and not any(action_match(pattern, action) for action in KMS_ACTIONS)
        ):
            found.append(f'action "{pattern}" matches no KMS permission.')
    if st.effect != "Allow":
        return found
    if st.not_principal is not None:
        found.append(
            "NotPrincipal with Allow grants the permissions to every principal not listed, "
            "in every account."
        )
    principal = st.principal
    if principal is not None and principal.any and not st.conditions:
        found.append(
            'Principal "*" without a Condition lets any principal of any AWS account use the '
            "key (its own IAM policies permitting); scope it with kms:CallerAccount or "
            "aws:PrincipalOrgID."
        )
    everything = st.not_actions is not None or any(
        a == "*" or a.lower() == "kms:*" for a in st.actions or ()
    )
    names_others = st.not_principal is not None or (
        principal is not None
        and (principal.any or bool(principal.principals) or bool(principal.services))
    )
    if everything and names_others:
        found.append(
            "grants all KMS permissions (kms:*, * or NotAction) to principals other than the "
            "account root; key administrators and users normally need only the permissions "
            "of their role."
        )
    return found
