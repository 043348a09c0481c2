"""The permission catalog and the built-in roles. Permissions are `resource.action`, named by the
`Perm` enum so that the compiler checks every use (`@requires(Perm.TASK_READ)`); a role is a
bundle of them. Built-in roles nest: viewer ⊂ member ⊂ admin ⊂ owner."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum


class Perm(StrEnum):
    TASK_READ = "task.read"
    TASK_CREATE = "task.create"
    TASK_RESCORE = "task.rescore"
    SCORE_REVIEW = "score.review"
    SCORING_MANAGE = "scoring.manage"
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"
    APIKEYS_READ = "apikeys.read"
    APIKEYS_MANAGE = "apikeys.manage"
    BILLING_READ = "billing.read"
    BILLING_MANAGE = "billing.manage"
    AUDIT_READ = "audit.read"
    ORG_OWNER = "org.owner"


PERMISSIONS: dict[Perm, str] = {
    Perm.TASK_READ: "See tasks, their scores and the scoring models",
    Perm.TASK_CREATE: "Submit tasks",
    Perm.TASK_RESCORE: "Re-score tasks with the active scoring version",
    Perm.SCORE_REVIEW: "Override a task's score or a criterion's value with a reason; import "
    "calibration labels",
    Perm.SCORING_MANAGE: "Create, publish and activate scoring versions",
    Perm.MEMBERS_READ: "See the members, invitations and roles",
    Perm.MEMBERS_MANAGE: "Invite, remove and change the role of members; manage custom roles",
    Perm.APIKEYS_READ: "See the org's API keys",
    Perm.APIKEYS_MANAGE: "Create and revoke API keys",
    Perm.BILLING_READ: "See the plan, usage and invoices",
    Perm.BILLING_MANAGE: "Change the plan and payment details",
    Perm.AUDIT_READ: "Read the audit log",
    Perm.ORG_OWNER: "Act as an owner: grant the owner role, remove owners, require two-factor "
    "authentication",
}
assert set(PERMISSIONS) == set(Perm), "every permission has a description"

VIEWER = frozenset({Perm.TASK_READ, Perm.MEMBERS_READ, Perm.BILLING_READ})
MEMBER = VIEWER | {Perm.TASK_CREATE}
ADMIN = MEMBER | {
    Perm.TASK_RESCORE,
    Perm.SCORE_REVIEW,
    Perm.SCORING_MANAGE,
    Perm.MEMBERS_MANAGE,
    Perm.APIKEYS_READ,
    Perm.APIKEYS_MANAGE,
    Perm.AUDIT_READ,
}
OWNER = frozenset(Perm)

# The permissions that hand out access or money. A role holding any of them counts as an owner's
# or an admin's where an org requires two-factor authentication of owners and admins (the built-in
# owner and admin, and custom roles alike: a custom "co-admin" must not escape the rule).
ADMINISTRATIVE = frozenset(
    {Perm.MEMBERS_MANAGE, Perm.APIKEYS_MANAGE, Perm.BILLING_MANAGE, Perm.ORG_OWNER}
)


def is_administrative(permissions: Iterable[str]) -> bool:
    """Whether a role with these permissions is an owner's or an admin's (see ADMINISTRATIVE)."""
    return not ADMINISTRATIVE.isdisjoint(permissions)


BUILTIN_ROLES: dict[str, tuple[str, frozenset[Perm]]] = {
    "owner": ("Owner", OWNER),
    "admin": ("Admin", ADMIN),
    "member": ("Member", MEMBER),
    "viewer": ("Viewer", VIEWER),
}

# Changes with the catalog, so a deploy that changes built-in permissions starts a fresh cache
# namespace instead of serving permission sets computed by the previous code.
CATALOG_VERSION = hashlib.sha256(
    repr(sorted((k, sorted(str(p) for p in v[1])) for k, v in BUILTIN_ROLES.items())).encode()
).hexdigest()[:8]


def unknown_permissions(permissions: list[str] | set[str] | frozenset[str]) -> list[str]:
    return sorted(set(permissions) - set(Perm))
