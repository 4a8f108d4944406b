"""Identity (IAM) policies of principals, kept in the keyring: put, get, list, delete.

Owns the IAM side of the emulation: inline policies attached to an IAM user or role
(PutUserPolicy/PutRolePolicy and friends), stored as records of kind "identity-policies" named
"<principal ARN>|<policy name>" (a role without its path, as its sessions carry none), which
`kmscli.kms.authorization` reads for every evaluation. A session, a federated user, a root user
or a service cannot hold one, as in IAM.

Who may manage them is decided as IAM decides: the request is the IAM action
(iam:PutUserPolicy, iam:GetRolePolicy, iam:ListUserPolicies, iam:DeleteRolePolicy, ...) on the
user's or role's ARN, allowed for the root user of the principal's account and for principals of
that account whose own identity policies allow it; never across accounts. It goes through the
same evaluator and audit trail as every KMS operation. No printing, no environment.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kmscli.errors import NotFoundException, ValidationException
from kmscli.kms import audit
from kmscli.kms.authorization import IDENTITY_POLICIES, identity_policy_record, policy_owner
from kmscli.kms.validation import constraint_error
from kmscli.policy import Principal, parse_identity_policy

if TYPE_CHECKING:
    from kmscli.kms.service import KmsService

MAX_POLICY_NAME = 128
_POLICY_NAME = re.compile(r"^[\w+=,.@-]+$")


def _target(principal_arn: str) -> Principal:
    principal = Principal.parse(principal_arn)
    if principal.type not in ("user", "role"):
        what = {
            "root": "the account root user",
            "assumed-role": "an assumed-role session (attach the policy to its role)",
            "federated-user": "a federated user",
            "service": "a service principal",
        }[principal.type]
        raise ValidationException(
            f"identity policies attach to IAM users and roles; {principal_arn} is {what}"
        )
    return principal


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= MAX_POLICY_NAME:
        raise constraint_error(
            name, "policyName", f"Member must have length between 1 and {MAX_POLICY_NAME}"
        )
    if not _POLICY_NAME.match(name):
        raise constraint_error(
            name, "policyName", "Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )


def _action(verb: str, target: Principal) -> str:
    kind = "User" if target.type == "user" else "Role"
    noun = "Policies" if verb == "List" else "Policy"
    return f"iam:{verb}{kind}{noun}"


def _authorize(service: KmsService, view: Any, verb: str, target: Principal) -> None:
    service._authorizer().authorize_iam(view, _action(verb, target), target.arn, target.account)


def _missing(target: Principal, name: str) -> NotFoundException:
    kind = "user" if target.type == "user" else "role"
    return NotFoundException(f"The {kind} policy with name {name} cannot be found.")


def _owner_member(target: Principal) -> dict[str, str]:
    return {"UserName" if target.type == "user" else "RoleName": target.name}


@audit.operation("PutUserPolicy", source=audit.IAM_SOURCE)
def put_identity_policy(
    service: KmsService, principal: str, policy_name: str, policy_document: str
) -> dict[str, Any]:
    """Attach (or replace) the inline policy `policy_name` of a user or role."""
    target = _target(principal)
    _check_name(policy_name)
    parse_identity_policy(policy_document, name=policy_name)
    with service.keyring.write() as tx:
        _authorize(service, tx, "Put", target)
        record = identity_policy_record(policy_owner(target), policy_name)
        tx.put(IDENTITY_POLICIES, record, policy_document.encode())
    return {}


@audit.operation("GetUserPolicy", source=audit.IAM_SOURCE)
def get_identity_policy(service: KmsService, principal: str, policy_name: str) -> dict[str, Any]:
    target = _target(principal)
    _check_name(policy_name)
    with service.keyring.read() as view:
        _authorize(service, view, "Get", target)
        raw = view.get(IDENTITY_POLICIES, identity_policy_record(policy_owner(target), policy_name))
    if raw is None:
        raise _missing(target, policy_name)
    return {**_owner_member(target), "PolicyName": policy_name, "PolicyDocument": raw.decode()}


@audit.operation("ListUserPolicies", source=audit.IAM_SOURCE)
def list_identity_policies(service: KmsService, principal: str) -> dict[str, Any]:
    target = _target(principal)
    prefix = identity_policy_record(policy_owner(target), "")
    with service.keyring.read() as view:
        _authorize(service, view, "List", target)
        names = [name[len(prefix) :] for name in view.list(IDENTITY_POLICIES, prefix=prefix)]
    return {"PolicyNames": sorted(names), "IsTruncated": False}


@audit.operation("DeleteUserPolicy", source=audit.IAM_SOURCE)
def delete_identity_policy(service: KmsService, principal: str, policy_name: str) -> dict[str, Any]:
    target = _target(principal)
    _check_name(policy_name)
    with service.keyring.write() as tx:
        _authorize(service, tx, "Delete", target)
        record = identity_policy_record(policy_owner(target), policy_name)
        if tx.get(IDENTITY_POLICIES, record) is None:
            raise _missing(target, policy_name)
        tx.delete(IDENTITY_POLICIES, record)
    return {}
