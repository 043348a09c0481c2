"""Which built-in role may do what. The RBAC capability replaces this table with roles stored
per org and a cached check; endpoints already call `permission_require` with a name."""

from __future__ import annotations

from taskscore.core.errors import PermissionDenied
from taskscore.orgs.models import Role
from taskscore.orgs.principals import Principal

_VIEWER = frozenset({"task.read"})
_MEMBER = _VIEWER | {"task.create"}
_ADMIN = _MEMBER | {"task.rescore", "scoring.manage"}
_OWNER = _ADMIN

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: _VIEWER,
    Role.MEMBER: _MEMBER,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}


def permission_require(principal: Principal, permission: str) -> None:
    if permission not in ROLE_PERMISSIONS.get(principal.role, frozenset()):
        raise PermissionDenied(
            detail=f"Your role '{principal.role}' lacks the permission '{permission}'.",
            permission=permission,
        )
