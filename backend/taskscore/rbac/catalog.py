"""The permission catalog and the built-in roles. Permissions are `resource.action`; a role is a
bundle of them. Built-in roles nest: viewer ⊂ member ⊂ admin ⊂ owner."""

from __future__ import annotations

import hashlib

PERMISSIONS: dict[str, str] = {
    "task.read": "See tasks, their scores and the scoring models",
    "task.create": "Submit tasks",
    "task.rescore": "Re-score tasks with the active scoring version",
    "scoring.manage": "Create, publish and activate scoring versions",
    "members.read": "See the members, invitations and roles",
    "members.manage": "Invite, remove and change the role of members; manage custom roles",
    "apikeys.read": "See the org's API keys",
    "apikeys.manage": "Create and revoke API keys",
    "billing.read": "See the plan, usage and invoices",
    "billing.manage": "Change the plan and payment details",
    "audit.read": "Read the audit log",
    "org.owner": "Act as an owner: grant the owner role, remove owners",
}

VIEWER = frozenset({"task.read", "members.read", "billing.read"})
MEMBER = VIEWER | {"task.create"}
ADMIN = MEMBER | {
    "task.rescore",
    "scoring.manage",
    "members.manage",
    "apikeys.read",
    "apikeys.manage",
    "audit.read",
}
OWNER = frozenset(PERMISSIONS)

BUILTIN_ROLES: dict[str, tuple[str, frozenset[str]]] = {
    "owner": ("Owner", OWNER),
    "admin": ("Admin", ADMIN),
    "member": ("Member", MEMBER),
    "viewer": ("Viewer", VIEWER),
}

# Changes with the catalog, so a deploy that changes built-in permissions starts a fresh cache
# namespace instead of serving permission sets computed by the previous code.
CATALOG_VERSION = hashlib.sha256(
    repr(sorted((k, sorted(v[1])) for k, v in BUILTIN_ROLES.items())).encode()
).hexdigest()[:8]


def unknown_permissions(permissions: list[str] | set[str] | frozenset[str]) -> list[str]:
    return sorted(set(permissions) - set(PERMISSIONS))
